"""HLR status: the sandbox's check lifecycle, --wait-hlr, hlr-refresh by page, the Summary.

The waits run the real command against the sandbox as a real server; Ctrl-C is a real SIGINT.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from importer.sandbox import HlrModel
from importer.sandbox.hlr import SHARES, final_status, stuck
from importer.settings import resolve

from ..helpers import (
    ROOT,
    SAMPLE_XLSX,
    Ran,
    run_cli,
    state_of,
    ukrainian_mobiles,
    write_contacts_csv,
)
from .test_followup import as_dicts, sandbox_contacts, sheets, summary_parts

KEY = {"BSG_API_KEY": "live_sandbox"}
FINAL = {status for status, _ in SHARES}


def login(client: httpx.Client) -> dict[str, str]:
    bearer = client.post("/api/auth/login", json={"api_key": "live_sandbox"}).json()["bearer"]
    return {"Authorization": f"Bearer {bearer}"}


# -- the sandbox ---------------------------------------------------------------------------


def test_the_sandbox_check_starts_null_or_sent_and_ends_in_a_final_status(server: Any) -> None:
    phone, other, never = ukrainian_mobiles(3, start=900)
    with httpx.Client(base_url=server.url) as client:
        auth = login(client)

        def switch(**model: Any) -> httpx.Response:
            return client.post("/_sandbox/hlr", json=model)

        def read(contact_id: int) -> dict[str, Any]:
            answer = client.get(f"/api/contacts/{contact_id}", headers=auth)
            return dict(answer.json()["data"])

        assert switch(at_creation="sent", delay=3600).status_code == 200
        made = client.post("/api/contacts", json={"phone": phone}, headers=auth).json()["data"]
        assert (made["hlr_status"], made["hlr_last_check"]) == ("sent", None)
        again = read(made["id"])
        assert (again["hlr_status"], again["hlr_last_check"]) == ("sent", None)

        assert switch(at_creation="null", delay=0).status_code == 200  # checks end at once
        plain = client.post("/api/contacts", json={"phone": other}, headers=auth).json()["data"]
        assert (plain["hlr_status"], plain["hlr_last_check"]) == (None, None)  # just created
        done = read(plain["id"])
        assert done["hlr_status"] == final_status(other) in FINAL
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", done["hlr_last_check"])
        assert done["hlr_last_check"][:10] == done["created_at"][:10]
        assert read(made["id"])["hlr_status"] == "sent"  # its check ends in an hour
        page = client.get("/api/contacts", params={"page[limit]": "500"}, headers=auth)
        assert {c["id"]: c["hlr_status"] for c in page.json()["data"]} == {
            made["id"]: "sent",
            plain["id"]: final_status(other),
        }

        assert switch(delay=0, never=1.0).status_code == 200  # no check ever finishes
        stalled = client.post("/api/contacts", json={"phone": never}, headers=auth).json()["data"]
        assert read(stalled["id"])["hlr_status"] is None
        assert read(plain["id"]) == done  # a finished check stays as it was

        refused = switch(at_creation="maybe")
        assert refused.status_code == 422
        assert switch(colour="red").status_code == 422
        assert client.get("/_sandbox/state").json()["hlr"] == {
            "at_creation": "null",
            "delay": 0,
            "never": 1.0,
        }


def test_final_statuses_are_fixed_by_the_phone_in_plausible_shares() -> None:
    phones = ukrainian_mobiles(4000)
    shares = Counter(final_status(p) for p in phones)
    for status, share in SHARES:
        assert abs(shares[status] / len(phones) - share) < 0.02, (status, shares)
    assert [final_status(p) for p in phones[:50]] == [final_status(p) for p in phones[:50]]
    never = sum(stuck(p, 0.25) for p in phones) / len(phones)
    assert 0.23 < never < 0.27
    assert not any(stuck(p, 0.0) for p in phones) and all(stuck(p, 1.0) for p in phones)


def test_the_sandbox_command_takes_the_hlr_options(tmp_path: Path) -> None:
    ran = run_cli("sandbox", "--hlr-at-creation", "maybe")
    assert ran.code == 2 and "'maybe' is not one of 'null', 'sent'" in ran.stderr
    helped = run_cli("sandbox", "--help")
    for option in ("--hlr-at-creation", "--hlr-delay", "--hlr-never"):
        assert option in helped.stdout


def test_wait_hlr_in_the_config_file_and_on_the_command_line(tmp_path: Path) -> None:
    base = {"file": tmp_path / "c.csv", "list_name": "Promo"}
    assert resolve(base, {}, {}).wait_hlr is None
    assert resolve(base, {"wait_hlr": True}, {}).wait_hlr == 120.0
    assert resolve(base, {"wait_hlr": 30}, {}).wait_hlr == 30.0
    assert resolve(base, {"wait_hlr": False}, {}).wait_hlr is None
    assert resolve({**base, "wait_hlr": 5.0}, {"wait_hlr": 30}, {}).wait_hlr == 5.0


# -- --wait-hlr ----------------------------------------------------------------------------


def import_args(tmp_path: Path, server: Any, phones: list[int], *extra: str) -> list[Any]:
    """An import of phones, the first written twice (a duplicate row at the end)."""
    source = write_contacts_csv(tmp_path / "c.csv", [*phones, phones[0]])
    return [
        source, "--list", "Promo", "--base-url", server.url, "--output", tmp_path / "c.xlsx",
        "--journal-dir", tmp_path / "journals", "--log-file", tmp_path / "run.log", *extra,
    ]  # fmt: skip


def chart_categories(path: Path, title: str) -> str:
    """The cell range a chart of the workbook takes its categories from."""
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            xml = book.read(name).decode()
            if name.startswith("xl/charts/") and title in xml:
                return re.findall(r"<c:cat>.*?<c:f>(.*?)</c:f>", xml, re.DOTALL)[0]
    raise AssertionError(f"no chart {title!r}")


def test_wait_hlr_until_every_final_status_has_arrived(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    sandbox.account.hlr = HlrModel(at_creation="sent", delay=1.0)
    phones = ukrainian_mobiles(40)

    ran = run_cli(*import_args(tmp_path, server, phones, "--wait-hlr=60"), env=KEY)

    assert ran.code == 0, ran.stderr
    assert "40 created, 0 existing, 1 duplicate" in ran.last_line
    rows = as_dicts(sheets(tmp_path / "c.xlsx")["Results"])
    contacts = {c["phone"]: c for c in sandbox_contacts(sandbox).values()}
    for row in rows:
        contact = contacts[row["phone_normalized"]]
        assert row["hlr_status"] == final_status(row["phone_normalized"]) == contact["hlr_status"]
        assert row["hlr_last_check"] == contact["hlr_last_check"] is not None
    assert rows[-1]["status"] == "duplicate" and rows[-1]["hlr_status"] == rows[0]["hlr_status"]

    summary = summary_parts(sheets(tmp_path / "c.xlsx")["Summary"])
    expected = Counter(final_status(p) for p in phones)  # each contact once
    assert summary["hlr_status"] == dict(expected)
    checked, active = len(phones), expected["active"]
    assert summary["facts"]["Reachable"] == (
        f"{active / checked:.0%} of the numbers checked ({active} of {checked} active)"
    )
    categories = chart_categories(tmp_path / "c.xlsx", "Contacts per HLR status")
    first, last = (int(n) for n in re.findall(r"\$A\$(\d+)", categories))
    table = sheets(tmp_path / "c.xlsx")["Summary"][first - 1 : last]
    assert {row[0] for row in table} == set(expected)

    log = (tmp_path / "run.log").read_text(encoding="utf-8")
    assert "waiting for HLR: 40 of 40" in log
    calls = state_of(sandbox)["log"]
    last_create = max(i for i, e in enumerate(calls) if e["method"] == "POST" and
                      e["path"] == "/api/contacts")  # fmt: skip
    reads = {(e["method"], e["path"]) for e in calls[last_create + 1 :]}
    assert reads == {("GET", "/api/contacts")}  # pages of the list, never one contact at a time


@pytest.mark.parametrize("at_creation", ["sent", "null"])
def test_wait_hlr_gives_up_on_the_checks_that_never_finish(
    tmp_path: Path, server: Any, sandbox: Any, at_creation: str
) -> None:
    sandbox.account.hlr = HlrModel(at_creation=at_creation, delay=0, never=0.3)  # type: ignore[arg-type]
    phones = ukrainian_mobiles(30, start=100)
    never = {p for p in phones if stuck(p, 0.3)}
    assert 0 < len(never) < len(phones)

    ran = run_cli(*import_args(tmp_path, server, phones, "--wait-hlr", "2"), env=KEY)

    assert ran.code == 0, ran.stderr
    rows = as_dicts(sheets(tmp_path / "c.xlsx")["Results"])
    initial = "sent" if at_creation == "sent" else None
    for row in rows:
        phone = row["phone_normalized"]
        if phone in never:
            assert (row["hlr_status"], row["hlr_last_check"]) == (initial, None)
        else:
            assert row["hlr_status"] == final_status(phone) and row["hlr_last_check"]
    summary = summary_parts(sheets(tmp_path / "c.xlsx")["Summary"])
    assert summary["hlr_status"]["pending"] == len(never)
    assert sum(summary["hlr_status"].values()) == len(phones)
    assert f"; {len(never)} more not checked yet" in summary["facts"]["Reachable"]
    assert any(
        f"HLR: {len(never)} numbers not checked yet at the end of the wait" in note
        for note in summary["notes"]
    )


def test_ctrl_c_while_waiting_writes_the_results_with_what_arrived(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    sandbox.account.hlr = HlrModel(delay=0, never=0.5)
    phones = ukrainian_mobiles(30, start=200)
    never = {p for p in phones if stuck(p, 0.5)}
    args = import_args(tmp_path, server, phones, "--wait-hlr=600")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BSG_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**environment, **KEY},
    )  # fmt: skip
    log = tmp_path / "run.log"
    deadline = time.monotonic() + 60
    while "waiting for HLR" not in (log.read_text() if log.exists() else ""):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)

    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)

    ran = Ran(process.returncode, "", stderr)
    assert ran.code == 130, stderr
    assert ran.last_line == (
        "Error: interrupted after the last row was sent: every row is in the results"
    )
    book = sheets(tmp_path / "c.xlsx")
    rows = as_dicts(book["Results"])
    assert [r["status"] for r in rows] == ["created"] * len(phones) + ["duplicate"]
    for row in rows:
        phone = row["phone_normalized"]
        expected = None if phone in never else final_status(phone)
        assert row["hlr_status"] == expected
    summary = summary_parts(book["Summary"])
    assert summary["hlr_status"]["pending"] == len(never)
    assert any("when the wait was stopped" in note for note in summary["notes"])


# -- hlr-refresh by page -------------------------------------------------------------------


def imported_with_final_hlr(tmp_path: Path, server: Any, sandbox: Any, phones: list[int]) -> Path:
    """Import phones into list Promo, whose HLR checks end at once; the results' path."""
    sandbox.account.hlr = HlrModel(delay=0)
    results = tmp_path / "c.xlsx"
    source = write_contacts_csv(tmp_path / "c.csv", phones, extra=False)
    ran = run_cli(source, "--list", "Promo", "--base-url", server.url, "--output", results,
                  "--journal-dir", tmp_path / "journals", env=KEY)  # fmt: skip
    assert ran.code == 0, ran.stderr
    return results


def test_hlr_refresh_reads_a_page_of_the_list_at_a_time(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    phones = ukrainian_mobiles(1100, start=1000)
    results = imported_with_final_hlr(tmp_path, server, sandbox, phones)
    # Since the import: someone added 30 contacts of their own to the list, took one of the
    # import's contacts out of it and deleted another.
    ids = {c["phone"]: i for i, c in sandbox_contacts(sandbox).items()}
    moved, deleted = ids[phones[10]], ids[phones[20]]
    with sandbox.account.lock:
        account = sandbox.account
        promo = next(g.id for g in account.groups.values() if g.name == "Promo")
        for phone in ukrainian_mobiles(30, start=5000):
            account.add_contact(phone, [promo], {})
        account.contacts[moved].groups = []
        account.remove_contact(deleted)
    log_at = len(state_of(sandbox)["log"])

    refreshed = run_cli("hlr-refresh", results, "--base-url", server.url, env=KEY)

    assert refreshed.code == 0, refreshed.stderr
    assert "1099 contacts refreshed, 1 no longer exist, 0 could not be fetched" in (
        refreshed.last_line
    )
    calls = [(e["method"], e["path"], e["status"]) for e in state_of(sandbox)["log"][log_at:]]
    assert sorted(calls) == sorted([
        ("POST", "/api/auth/login", 200),
        *[("GET", "/api/contacts", 200)] * 3,  # 1,129 contacts in the list: 3 pages of 500
        ("GET", f"/api/contacts/{moved}", 200),
        ("GET", f"/api/contacts/{deleted}", 422),
    ])  # fmt: skip
    rows = as_dicts(sheets(results)["Results"])
    for row in rows:
        expected = None if row["contact_id"] == deleted else final_status(row["phone_normalized"])
        assert row["hlr_status"] == expected


def test_hlr_refresh_of_a_few_contacts_in_a_big_list_reads_them_one_by_one(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    phones = ukrainian_mobiles(3, start=3000)
    results = imported_with_final_hlr(tmp_path, server, sandbox, phones)
    ids = sorted(sandbox_contacts(sandbox))
    with sandbox.account.lock:  # the list was small; now it holds 2,000 contacts more
        account = sandbox.account
        promo = next(g.id for g in account.groups.values() if g.name == "Promo")
        account.contacts[ids[0]].groups = []  # and one of ours has left it
        for phone in ukrainian_mobiles(2000, start=6000):
            account.add_contact(phone, [promo], {})
    log_at = len(state_of(sandbox)["log"])

    refreshed = run_cli("hlr-refresh", results, "--base-url", server.url, env=KEY)

    assert refreshed.code == 0, refreshed.stderr
    calls = [(e["method"], e["path"]) for e in state_of(sandbox)["log"][log_at:]]
    # The first page holds two of the three; reading four more pages for the third would
    # cost more than asking for it.
    assert sorted(calls) == sorted([
        ("POST", "/api/auth/login"), ("GET", "/api/contacts"), ("GET", f"/api/contacts/{ids[0]}"),
    ])  # fmt: skip
    rows = as_dicts(sheets(results)["Results"])
    assert [r["hlr_status"] for r in rows] == [final_status(p) for p in phones]


def test_make_run_shows_a_final_hlr_status_on_every_created_row(tmp_path: Path) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    [command] = [line for line in makefile if "--sandbox" in line and "--list" in line]
    assert "--wait-hlr" in command.split()
    output = tmp_path / "sample.results.xlsx"
    ran = run_cli(SAMPLE_XLSX, "--list", "Promo", "--default-region", "UA", "--sandbox",
                  "--wait-hlr", "--output", output)  # fmt: skip
    assert ran.code == 1, ran.stderr  # two rows of the sample are invalid
    book = sheets(output)
    rows = as_dicts(book["Results"])
    with_contact = [r for r in rows if r["status"] in ("created", "duplicate")]
    assert len(with_contact) == 46
    assert all(r["hlr_status"] in FINAL and r["hlr_last_check"] for r in with_contact)
    reachable = summary_parts(book["Summary"])["facts"]["Reachable"]
    assert f"the Summary says `{reachable}`" in (ROOT / "README.md").read_text()


def test_running_the_import_again_waits_for_what_was_still_pending(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    sandbox.account.hlr = HlrModel(delay=2.0)
    phones = ukrainian_mobiles(12, start=400)
    args = import_args(tmp_path, server, phones)

    first = run_cli(*args, "--wait-hlr=0", env=KEY)  # one look, before any check has ended

    assert first.code == 0, first.stderr
    rows = as_dicts(sheets(tmp_path / "c.xlsx")["Results"])
    assert {r["hlr_status"] for r in rows} == {None}
    assert summary_parts(sheets(tmp_path / "c.xlsx")["Summary"])["hlr_status"] == {"pending": 12}
    creates = state_of(sandbox)["creates_per_phone"]
    assert len(creates) == 12 and set(creates.values()) == {1}

    again = run_cli(*args, "--wait-hlr=60", env=KEY)  # resumes: nothing to send, only to wait

    assert again.code == 0, again.stderr
    assert state_of(sandbox)["creates_per_phone"] == creates
    rows = as_dicts(sheets(tmp_path / "c.xlsx")["Results"])
    assert [r["hlr_status"] for r in rows] == [final_status(p) for p in [*phones, phones[0]]]
    summary = summary_parts(sheets(tmp_path / "c.xlsx")["Summary"])
    assert summary["hlr_status"] == dict(Counter(final_status(p) for p in phones))
