"""Completion notices, through the real command, to a real webhook on loopback."""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from importer import ImportSummary, Interrupted, Settings, import_frame, run_import
from importer.runs.notify import masked, notice
from importer.web import create_app

from ..helpers import SAMPLE_XLSX, run_cli
from ..web_helpers import finished, page_config, send_file

KEY = "live_sandbox"
SAMPLE_PHONES = re.compile(r"\d{7,}")


class Receiver:
    """A webhook on a loopback port: records each POST, answers the given statuses in turn
    (the last one from then on)."""

    def __init__(self, *answers: int) -> None:
        self.answers = list(answers or (200,))
        self.posts: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((dict(self.headers), body))
                status = (
                    receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/SECRET"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self) -> list[Any]:
        return [json.loads(body) for _, body in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def _down_url() -> str:
    """A loopback URL where nothing listens: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def _sample(tmp_path: Path) -> Path:
    source = tmp_path / "contacts.xlsx"
    shutil.copy(SAMPLE_XLSX, source)
    return source


def _import(source: Path, server: Any, *flags: str | Path) -> Any:
    return run_cli(source, "--list", "Promo", "--default-region", "UA", "--base-url", server.url,
                   "--no-resume", *flags, env={"BSG_API_KEY": KEY})  # fmt: skip


def test_the_summary_is_posted_as_json_without_values_or_key(
    tmp_path: Path, server: Any, receiver: Receiver
) -> None:
    ran = _import(_sample(tmp_path), server, "--notify-url", receiver.url)
    assert ran.code == 1, ran.stderr
    assert "Warning" not in ran.stderr and ran.last_line.startswith("Promo (#")
    [(headers, raw)] = receiver.posts
    [notice] = receiver.bodies()
    assert headers["Content-Type"] == "application/json"
    assert notice["list_name"] == "Promo" and notice["exit_code"] == 1
    assert notice["counts"]["created"] == 45 and notice["counts"]["invalid"] == 2
    assert notice["output"] == str(tmp_path / "contacts.results.xlsx")
    assert notice["file"] == "contacts.xlsx" and notice["elapsed_s"] > 0
    assert notice["text"] == f"bsg-import: {ran.last_line} (exit 1)"
    assert notice["errors"] == [
        {"row": 15, "reason": "'…' is too short to be a phone number"},
        {"row": 37, "reason": "'…' is not a phone number"},
    ]
    assert "12345" not in raw.decode() and "not known" not in raw.decode()
    assert KEY not in raw.decode() and KEY not in json.dumps(headers)
    assert "Authorization" not in headers


def test_slack_format_sends_the_same_as_a_chat_message(
    tmp_path: Path, server: Any, receiver: Receiver
) -> None:
    ran = _import(_sample(tmp_path), server, "--notify-url", receiver.url,
                  "--notify-format", "slack")  # fmt: skip
    assert ran.code == 1, ran.stderr
    [message] = receiver.bodies()
    assert message == {
        "text": f"bsg-import: {ran.last_line} (exit 1)\n"
        "row 15: '…' is too short to be a phone number\n"
        "row 37: '…' is not a phone number"
    }


def test_a_receiver_that_is_down_changes_no_exit_code(tmp_path: Path, server: Any) -> None:
    url = _down_url()
    ran = _import(_sample(tmp_path), server, "--notify-url", url, "--log-file", tmp_path / "log")
    assert ran.code == 1
    warning = "Warning: completion notice not delivered to http://127.0.0.1: no answer"
    assert warning in ran.stderr
    assert ran.last_line.startswith("Promo (#")  # the summary is still the last line
    assert "/hook" not in ran.stderr  # a webhook's path is its secret
    assert warning in (tmp_path / "log").read_text(encoding="utf-8")


def test_a_notice_answered_500_is_tried_again(tmp_path: Path, server: Any) -> None:
    flaky = Receiver(500, 200)
    try:
        ran = _import(_sample(tmp_path), server, "--notify-url", flaky.url)
    finally:
        flaky.close()
    assert ran.code == 1 and "Warning" not in ran.stderr
    first, second = flaky.bodies()
    assert first == second and first["exit_code"] == 1


def test_a_run_that_fails_is_notified_with_its_error(
    tmp_path: Path, server: Any, receiver: Receiver
) -> None:
    source = tmp_path / "c.csv"
    source.write_text("380501234567,Kyiv\n380671234567,Lviv\n", encoding="utf-8")
    ran = _import(source, server, "--notify-url", receiver.url)
    assert ran.code == 2
    [notice] = receiver.bodies()
    assert notice["exit_code"] == 2 and notice["counts"] == {} and notice["output"] is None
    assert notice["error"].startswith(f"{source}: no header row")
    assert "380501234567" not in json.dumps(notice)
    refused = run_cli(_sample(tmp_path), "--list", "Promo", "--base-url", server.url,
                      "--notify-url", receiver.url, env={"BSG_API_KEY": "live_wrong"})  # fmt: skip
    assert refused.code == 3
    assert receiver.bodies()[1]["exit_code"] == 3


def test_inbox_notifies_each_file_from_the_config_file(
    tmp_path: Path, server: Any, receiver: Receiver
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE_XLSX, inbox / "Promo.xlsx")
    (inbox / "Empty.csv").write_text("Phone\n", encoding="utf-8")
    config = tmp_path / "nightly.toml"
    config.write_text(f'notify-url = "{receiver.url}"\nnotify-format = "slack"\n')
    ran = run_cli("inbox", inbox, "--list-from-filename", "--default-region", "UA",
                  "--base-url", server.url, "--config", config, "--settle-seconds", "0",
                  env={"BSG_API_KEY": KEY})  # fmt: skip
    assert ran.code == 1, ran.stderr
    texts = sorted(body["text"].splitlines()[0] for body in receiver.bodies())
    assert len(texts) == 2
    assert texts[0].startswith("bsg-import: Empty (#") and texts[0].endswith("(exit 0)")
    assert texts[1].startswith("bsg-import: Promo (#") and texts[1].endswith("(exit 1)")


def test_a_notify_url_that_is_not_http_is_refused_before_the_run(tmp_path: Path) -> None:
    ran = run_cli(_sample(tmp_path), "--list", "Promo", "--sandbox",
                  "--notify-url", "ftp://example.com/hook")  # fmt: skip
    assert ran.code == 2
    assert (
        ran.last_line == "Error: --notify-url 'ftp://example.com' is not an http:// or https:// URL"
    )


def test_reasons_are_masked() -> None:
    assert masked("Birthday: 'abc' is not a date") == "Birthday: '…' is not a date"
    assert masked(
        "the cell holds 2 phone numbers (050 123 45 67, 067 123 45 67); put one per row"
    ) == ("the cell holds 2 phone numbers (…, …); put one per row")
    assert masked("same phone as row 12") == "same phone as row 12"
    assert not SAMPLE_PHONES.search(masked("BSG refused: phone 380501234567 is blocked"))


def test_an_interrupted_run_is_notified_with_what_it_did() -> None:
    unsent = ((4, "not sent yet: the import was interrupted"),)
    counts = {"created": 3, "failed": 2}
    summary = ImportSummary("Promo", 7, counts, "c.results.xlsx", 1.5, first_errors=unsent)
    stopped = notice(
        Interrupted("interrupted", summary), list_name="Promo", file="c.csv", elapsed_s=2.0
    )
    assert stopped["exit_code"] == 130 and stopped["counts"] == {"created": 3, "failed": 2}
    assert stopped["errors"] == [{"row": 4, "reason": "not sent yet: the import was interrupted"}]
    assert stopped["output"] == "c.results.xlsx" and stopped["error"] == "interrupted"


def test_import_frame_sends_the_notice_too(tmp_path: Path, receiver: Receiver) -> None:
    frame = pd.DataFrame({"Phone": ["+380501234567", "12345"]})
    result = import_frame(frame, list_name="Promo", output=tmp_path / "r.csv", sandbox=True,
                          default_region="UA", notify_url=receiver.url)  # fmt: skip
    [sent] = receiver.bodies()
    assert sent["file"] == "DataFrame" and sent["exit_code"] == result.summary.exit_code == 1
    assert sent["errors"] == [{"row": 3, "reason": "'…' is too short to be a phone number"}]


def test_a_notify_format_that_is_not_known_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('notify-url = "https://example.com/hook"\nnotify-format = "teams"\n')
    ran = run_cli(_sample(tmp_path), "--list", "Promo", "--sandbox", "--config", config)
    assert ran.code == 2
    assert "notify-format = 'teams' is not 'json' or 'slack'" in ran.last_line


def test_run_import_sends_the_notice_itself(
    tmp_path: Path, server: Any, receiver: Receiver
) -> None:
    settings = Settings(file=_sample(tmp_path), list_name="Promo", base_url=server.url,
                        api_key=KEY, default_region="UA", journal_dir=tmp_path / "journals",
                        notify_url=receiver.url)  # fmt: skip
    summary = run_import(settings)
    [sent] = receiver.bodies()
    assert sent["list_name"] == "Promo" and sent["file"] == "contacts.xlsx"
    assert sent["exit_code"] == summary.exit_code == 1
    assert sent["counts"] == summary.counts and sent["counts"]["created"] == 45
    assert sent["output"] == summary.output


def test_the_page_import_sends_the_notice_and_its_check_none(
    tmp_path: Path, server: Any, receiver: Receiver
) -> None:
    app = create_app(page_config(tmp_path, server, base={"notify_url": receiver.url}))
    try:
        client = app.test_client()
        file_url, csrf = send_file(client, _sample(tmp_path))
        form = {"csrf": csrf, "list_name": "Promo", "default_region": "UA"}
        checked = client.post(file_url, data={**form, "action": "check"}).headers["Location"]
        assert finished(client, checked)["state"] == "done"
        assert receiver.posts == []  # a check imports nothing
        imported = client.post(file_url, data={**form, "action": "import"}).headers["Location"]
        assert finished(client, imported)["state"] == "done"
    finally:
        app.extensions["bsg_import"].jobs.stop_all()
    [sent] = receiver.bodies()
    assert sent["list_name"] == "Promo" and sent["file"] == "contacts.xlsx"
    assert sent["exit_code"] == 1 and sent["counts"]["created"] == 45
