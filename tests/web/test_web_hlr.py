"""The wait for HLR results on the page: the mapping page's control through Settings and a
profile (used by the command too), the wait shown while it runs, the reachable share after."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from importer.models import FINAL_HLR
from importer.profiles import load_profile, profile_path
from importer.sandbox import HlrModel
from importer.settings import resolve
from importer.web import create_app

from ..conftest import sheet_rows
from ..helpers import SAMPLE_XLSX, run_cli, ukrainian_mobiles, write_contacts_csv
from ..web_helpers import finished, page_config, send_file

KEY = {"BSG_API_KEY": "live_sandbox"}
TICK = re.compile(r'<input type="checkbox" name="wait_hlr"[^>]*>')
SECONDS = re.compile(r'name="wait_hlr_s"[^>]*value="([^"]*)"')


def wait_control(client: FlaskClient, file_url: str) -> tuple[bool, str]:
    """(is "Wait for HLR results" ticked, the seconds shown) on the mapping page."""
    page = client.get(file_url).get_data(as_text=True)
    tick, seconds = TICK.search(page), SECONDS.search(page)
    assert tick and seconds, "no HLR wait on the mapping page"
    return "checked" in tick.group(0), seconds.group(1)


def test_the_wait_reaches_settings_and_a_profile_that_the_command_honours(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    sandbox.account.hlr = HlrModel(delay=1.0)
    app = create_app(page_config(tmp_path, server, profile_dir=None))
    client, state = app.test_client(), app.extensions["bsg_import"]
    source = write_contacts_csv(tmp_path / "leads.csv", ukrainian_mobiles(20))
    file_url, csrf = send_file(client, source)
    assert wait_control(client, file_url) == (False, "120")  # off, as the command's default

    form = {"csrf": csrf, "list_name": "Leads", "wait_hlr": "on", "wait_hlr_s": "45",
            "action": "save", "profile_name": "Leads with HLR"}  # fmt: skip
    client.post(file_url, data=form)
    assert wait_control(client, file_url) == (True, "45")
    [stored] = state.uploads.values()
    assert state.settings({**stored.choices, "file": stored.path}).wait_hlr == 45.0
    assert "wait-hlr = 45.0" in profile_path("Leads with HLR").read_text(encoding="utf-8")
    assert load_profile("Leads with HLR").values["wait_hlr"] == 45.0

    # The command runs the profile on the next file, and waits as the page would have.
    later = write_contacts_csv(tmp_path / "more leads.csv", ukrainian_mobiles(10, start=20))
    output = tmp_path / "more.results.xlsx"
    ran = run_cli(later, "--profile", "Leads with HLR", "--base-url", server.url, "--output",
                  output, "--journal-dir", tmp_path / "cli", "--json", env=KEY)  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert json.loads(ran.stdout)["counts"]["created"] == 10
    assert all(r["hlr_status"] in FINAL_HLR for r in sheet_rows(output))


def test_unticked_the_wait_is_off_even_when_the_config_file_asks_for_one(
    tmp_path: Path, server: Any
) -> None:
    app = create_app(page_config(tmp_path, server, base={"wait_hlr": 60.0}))
    client, state = app.test_client(), app.extensions["bsg_import"]
    file_url, csrf = send_file(client, SAMPLE_XLSX)
    assert wait_control(client, file_url) == (True, "60")  # the page shows what will happen

    form = {"csrf": csrf, "list_name": "Promo", "action": "save", "profile_name": "No wait"}
    client.post(file_url, data=form)
    assert wait_control(client, file_url) == (False, "120")
    [stored] = state.uploads.values()
    assert state.settings({**stored.choices, "file": stored.path}).wait_hlr is None
    folder = tmp_path / "profiles"
    assert "wait-hlr = false" in profile_path("No wait", folder).read_text(encoding="utf-8")
    profile = load_profile("No wait", folder).values
    flags = {"file": "x.csv", "list": "Promo"}
    assert resolve(flags, {"wait-hlr": True}, {}, profile).wait_hlr is None

    form = {"csrf": csrf, "list_name": "Promo", "wait_hlr": "on", "wait_hlr_s": "soon"}
    shown = client.post(file_url, data=form, follow_redirects=True).get_data(as_text=True)
    assert "wait for HLR results: &#39;soon&#39; is not a number of seconds" in shown


def test_an_import_that_waits_says_so_then_shows_the_share_of_reachable_numbers(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    sandbox.account.hlr = HlrModel(delay=1.5)
    client = create_app(page_config(tmp_path, server)).test_client()
    file_url, csrf = send_file(client, SAMPLE_XLSX)
    form = {"csrf": csrf, "list_name": "Promo", "default_region": "UA", "wait_hlr": "on",
            "wait_hlr_s": "60", "action": "import"}  # fmt: skip
    job_url = client.post(file_url, data=form).headers["Location"]
    seen: list[dict[str, Any]] = []
    assert finished(client, job_url, seen)["state"] == "done"

    waits = [s for s in seen if s["hlr_waiting"]]
    assert waits and all(re.fullmatch(r"waiting for HLR: \d+ of 45", s["hlr_waiting"])
                         for s in waits)  # fmt: skip
    assert not any(s["waiting"] for s in waits)  # waiting for the checks, not for BSG
    with client.get(job_url + "/results.xlsx") as download:
        (tmp_path / "results.xlsx").write_bytes(download.data)
    created = [r for r in sheet_rows(tmp_path / "results.xlsx") if r["Status"] == "created"]
    assert len(created) == 45 and all(r["Reachable (HLR)"] in FINAL_HLR for r in created)
    active = sum(r["Reachable (HLR)"] == "active" for r in created)
    page = client.get(job_url).get_data(as_text=True)
    reachable = f"{active / 45:.0%} of the numbers checked ({active} of 45 active)"
    assert f"<th>Reachable</th><td>{reachable}</td>" in page
    assert "pending" not in page and 'id="hlr-waiting" class="badge info" hidden' in page


def test_stop_while_waiting_keeps_the_statuses_that_arrived(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    sandbox.account.hlr = HlrModel(delay=0, never=0.5)  # half the checks never finish
    client = create_app(page_config(tmp_path, server)).test_client()
    file_url, csrf = send_file(client, SAMPLE_XLSX)
    form = {"csrf": csrf, "list_name": "Promo", "default_region": "UA", "wait_hlr": "on",
            "wait_hlr_s": "600", "action": "import"}  # fmt: skip
    job_url = client.post(file_url, data=form).headers["Location"]
    deadline = time.monotonic() + 60
    while not client.get(job_url + "/status").get_json()["hlr_waiting"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    client.post(job_url + "/stop", data={"csrf": csrf})  # what Ctrl-C does
    assert finished(client, job_url)["state"] == "stopped"

    page = client.get(job_url).get_data(as_text=True)
    assert "Stopped while waiting for HLR results: every row was sent" in page
    with client.get(job_url + "/results.xlsx") as download:
        (tmp_path / "results.xlsx").write_bytes(download.data)
    created = [r for r in sheet_rows(tmp_path / "results.xlsx") if r["Status"] == "created"]
    pending = [r for r in created if r["Reachable (HLR)"] not in FINAL_HLR]
    assert len(created) == 45 and 0 < len(pending) < 45
    assert f"{len(pending)} more not checked yet" in page
