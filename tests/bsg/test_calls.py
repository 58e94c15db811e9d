"""Calling BSG through the real command against a real sandbox server: bearers that expire,
refusals before and during sending, creates whose answer was lost, and Ctrl-C at the login."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.bsg.bearer import Bearer
from importer.sandbox import Faults, Sandbox, serve

from ..conftest import sheet_rows
from ..helpers import Ran, phones_in, run_cli, state_of, ukrainian_mobiles, write_contacts_csv

KEY = {"BSG_API_KEY": "live_sandbox"}


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, Any]]:
    sandbox = Sandbox()
    with serve(sandbox) as server:
        yield sandbox, server


def run_import(server: Any, source: Path, *extra: str | Path) -> Ran:
    journals = source.parent / f"journals-{source.stem}"
    return run_cli(
        source, "--list", "Promo", "--base-url", server.url, "--journal-dir", journals, *extra,
        env=KEY,
    )  # fmt: skip


def import_with(
    served: tuple[Sandbox, Any], faults: Faults, source: Path, *extra: str
) -> tuple[Sandbox, Ran]:
    """The sandbox (with these faults) and the command's run importing ``source`` into it."""
    sandbox, server = served
    sandbox.faults = faults
    return sandbox, run_import(server, source, *extra)


def lost_answers(endpoint: str) -> Faults:
    """Every request to ``endpoint`` is carried out, and then its answer is a 500."""
    return Faults(commit_then_fail_rate=1.0, fault_endpoint=endpoint)


def three(folder: Path) -> Path:
    return write_contacts_csv(folder / "c.csv", ukrainian_mobiles(3))


def calls_to(sandbox: Sandbox, method: str, path: str) -> Counter[int]:
    """The sandbox's answers to one endpoint, by status (as its handler answered: a
    commit-then-fail is logged 201, though the client heard 500)."""
    log = state_of(sandbox)["log"]
    return Counter(e["status"] for e in log if e["method"] == method and e["path"] == path)


def test_a_bearer_used_up_after_50_requests_at_32_in_flight_is_renewed(
    tmp_path: Path, served: tuple[Sandbox, Any]
) -> None:
    phones = ukrainian_mobiles(1500)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    sandbox, ran = import_with(served, Faults(token_expiry_every=50), source, "--concurrency", "32")
    assert ran.code == 0, ran.stderr
    assert "refused the API key" not in ran.stderr
    assert Counter(r["status"] for r in sheet_rows(tmp_path / "c.results.xlsx")) == {
        "created": 1500
    }
    assert sorted(phones_in(sandbox)) == sorted(phones)
    log = state_of(sandbox)["log"]
    logins = calls_to(sandbox, "POST", "/api/auth/login")[200]
    uses = sum(1 for e in log if e["path"] != "/api/auth/login" and e["status"] != 401)
    assert logins == -(-uses // 50)  # a login per bearer used up, however many saw it refused


def test_a_key_revoked_during_the_run_stops_it_with_results_and_exit_3(
    tmp_path: Path, served: tuple[Sandbox, Any]
) -> None:
    sandbox = served[0]
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(2000))

    def revoke() -> None:
        while len(state_of(sandbox)["contacts"]) < 100:
            time.sleep(0.01)
        with sandbox.account.lock:
            del sandbox.account.keys["live_sandbox"]

    revoker = threading.Thread(target=revoke)
    revoker.start()
    faults = Faults(token_expiry_every=50, latency=0.01)
    _, ran = import_with(served, faults, source, "--concurrency", "8")
    revoker.join()
    assert ran.code == 3, ran.stderr
    assert "Traceback" not in ran.stderr
    assert ran.last_line == "Error: BSG refused the API key; check BSG_API_KEY (or --api-key)"
    rows = sheet_rows(tmp_path / "c.results.xlsx")
    book = phones_in(sandbox)
    assert len(rows) == 2000 and len(book) < 2000
    assert {r["status"] for r in rows} == {"created", "failed"}
    assert all(book[r["phone_normalized"]] == r["contact_id"] for r in rows if r["contact_id"])
    assert sum(1 for r in rows if r["status"] == "created") == len(book)
    unsent = ("not sent yet", "being sent when the import was interrupted")  # maybe sent
    assert all(r["error"].startswith(unsent) for r in rows if r["status"] == "failed")


def test_a_short_lived_bearer_is_refreshed_before_it_expires(
    tmp_path: Path, served: tuple[Sandbox, Any]
) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(300))
    short_lived = Faults(token_ttl=2, latency=0.03)
    # at least 300 / 4 * 0.03 = 2.25 s: longer than a bearer lives
    sandbox, ran = import_with(served, short_lived, source, "--concurrency", "4")
    assert ran.code == 0, ran.stderr
    assert calls_to(sandbox, "POST", "/api/auth/refresh")[200] >= 1
    assert len(phones_in(sandbox)) == 300


def test_ctrl_c_while_the_login_is_retried_exits_130(
    tmp_path: Path, served: tuple[Sandbox, Any]
) -> None:
    sandbox, server = served
    sandbox.faults = Faults(error_rate=1.0, fault_endpoint="POST /api/auth/login")
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(5))
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", source, "--list", "Promo", "--base-url", server.url,
         "--journal-dir", tmp_path / "j"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**_env(), **KEY},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while sum(calls_to(sandbox, "POST", "/api/auth/login").values()) < 2:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("Error: interrupted while trying to reach")


@pytest.mark.parametrize(
    ("endpoint", "refused"),
    [
        ("GET /api/contacts/fields", "read the account's custom fields"),
        ("GET /api/groups/search", "search for the list 'Promo'"),
        ("POST /api/groups", "create the list 'Promo'"),
    ],
)
def test_a_403_before_sending_stops_with_a_message_and_exit_3(
    tmp_path: Path, served: tuple[Sandbox, Any], endpoint: str, refused: str
) -> None:
    forbidden = Faults(forbidden_rate=1.0, fault_endpoint=endpoint)
    sandbox, ran = import_with(served, forbidden, three(tmp_path))
    assert ran.code == 3, ran.stderr
    assert "Traceback" not in ran.stderr
    assert ran.last_line.startswith(f"Error: BSG refused to {refused} (403: ")
    assert "the API key may not do this" in ran.last_line
    assert not state_of(sandbox)["contacts"]


def test_a_403_on_a_row_fails_that_row_with_the_reason(
    tmp_path: Path, served: tuple[Sandbox, Any]
) -> None:
    forbidden = Faults(forbidden_rate=1.0, fault_endpoint="POST /api/contacts")
    _, ran = import_with(served, forbidden, three(tmp_path))
    assert ran.code == 1, ran.stderr
    rows = sheet_rows(tmp_path / "c.results.xlsx")
    assert [r["status"] for r in rows] == ["failed"] * 3
    assert {r["error"] for r in rows} == {"BSG refused it: This action is unauthorized. (403)"}


def test_a_lost_field_create_answer_ends_with_the_field_used(
    tmp_path: Path, served: tuple[Sandbox, Any]
) -> None:
    source = tmp_path / "c.csv"
    phones = ukrainian_mobiles(3)
    source.write_text("Phone,Email\n" + "".join(f"+{p},a{p}@example.com\n" for p in phones))
    lost = lost_answers("POST /api/contacts/fields")
    sandbox, ran = import_with(served, lost, source, "--create-fields")
    assert ran.code == 0, ran.stderr
    assert calls_to(sandbox, "POST", "/api/contacts/fields") == {201: 1, 422: 1}
    email = [f for f in state_of(sandbox)["fields"] if f["name"] == "Email"]
    assert len(email) == 1
    values = {c["phone"]: c["fields"] for c in state_of(sandbox)["contacts"]}
    assert values == {p: {email[0]["id"]: f"a{p}@example.com"} for p in phones}


def test_a_lost_list_create_answer_ends_with_the_list_reused(
    tmp_path: Path, served: tuple[Sandbox, Any]
) -> None:
    sandbox, ran = import_with(served, lost_answers("POST /api/groups"), three(tmp_path))
    assert ran.code == 0, ran.stderr
    assert calls_to(sandbox, "POST", "/api/groups") == {201: 1, 422: 1}
    groups = state_of(sandbox)["groups"]
    assert [g["name"] for g in groups] == ["Promo"]
    assert all(c["groups"] == [groups[0]["id"]] for c in state_of(sandbox)["contacts"])
    assert f"Promo (#{groups[0]['id']}): 3 created" in ran.last_line


def test_a_lost_contact_create_answer_reports_the_contact_created_once(
    tmp_path: Path, served: tuple[Sandbox, Any]
) -> None:
    phones = ukrainian_mobiles(5)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    sandbox, ran = import_with(served, lost_answers("POST /api/contacts"), source)
    assert ran.code == 0, ran.stderr
    rows = sheet_rows(tmp_path / "c.results.xlsx")
    book = phones_in(sandbox)
    assert [(r["status"], r["contact_id"]) for r in rows] == [("created", book[p]) for p in phones]
    assert state_of(sandbox)["creates_per_phone"] == {str(p): 2 for p in phones}


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("BSG_")}


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(claims)}.signature"


@pytest.mark.parametrize(
    ("lifetime", "renewed_before"),
    [(3600, 60.0), (100, 20.0), (-5, None), (None, None)],
)
def test_a_bearer_is_renewed_before_its_exp(
    lifetime: int | None, renewed_before: float | None
) -> None:
    now = time.time()
    claims = {"exp": int(now) + lifetime} if lifetime is not None else {"sub": "account"}
    bearer = Bearer.of(_jwt(claims))
    if renewed_before is None:
        assert bearer.renew_at is None and not bearer.due()
    else:
        assert bearer.renew_at == pytest.approx(claims["exp"] - renewed_before, abs=1)
        assert not bearer.due()
    assert "signature" not in repr(bearer)  # the token never shows in a repr or a traceback
