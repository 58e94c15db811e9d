"""`hlr-refresh` and `undo`: commands that start from a results workbook, against a real server."""

from __future__ import annotations

import os
import pty
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import openpyxl

from importer.sandbox import HlrModel
from importer.sandbox.hlr import seen

from ..helpers import (
    SAMPLE_XLSX,
    Ran,
    phones_in,
    run_cli,
    state_of,
    ukrainian_mobiles,
    write_contacts_csv,
)

KEY = {"BSG_API_KEY": "live_sandbox"}
HLR = ("hlr_status", "hlr_last_check")
UNDO_HEADER = ("source_row", "phone_normalized", "contact_id", "action", "result", "error")
STATE_KEYS = ("groups", "fields", "contacts")


def journal_flags(tmp_path: Path) -> list[str]:
    return ["--journal-dir", str(tmp_path / "journals")]


def import_file(
    tmp_path: Path, server: Any, source: Path, list_name: str, output: Path, *extra: str
) -> Ran:
    return run_cli(
        source, "--list", list_name, "--base-url", server.url, "--output", output,
        *extra, *journal_flags(tmp_path), env=KEY,
    )  # fmt: skip


def sheets(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet of a workbook as rows of values, read with openpyxl."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    finally:
        book.close()


def as_dicts(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def summary_parts(rows: list[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    """The Summary sheet: its facts, its rows per status and its rows per hlr_status."""
    parts: dict[str, dict[str, Any]] = {"facts": {}, "status": {}, "hlr_status": {}}
    part = "facts"
    for row in rows:
        label = row[0] if row else None
        if label in ("status", "hlr_status"):
            part = str(label)
        elif label == "Notes":
            part = "notes"
            parts[part] = {}
        elif label is not None:
            parts[part][str(label)] = row[1] if len(row) > 1 else None
    return parts


def sandbox_contacts(sandbox: Any) -> dict[int, dict[str, Any]]:
    """id -> phone, lists and HLR status (as BSG would answer it now), from the sandbox."""
    with sandbox.account.lock:
        return {
            c.id: {
                "phone": c.phone,
                "groups": list(c.groups),
                **dict(zip(HLR, seen(c, time.time()), strict=True)),
            }
            for c in sandbox.account.contacts.values()
        }


def book_state(sandbox: Any) -> dict[str, Any]:
    state = state_of(sandbox)
    return {key: state[key] for key in STATE_KEYS}


def as_someone_else(server: Any, method: str, path: str, **kwargs: Any) -> None:
    """Someone working in BSG changes a contact through the API, behind the tool's back."""
    with httpx.Client(base_url=server.url) as client:
        login = client.post("/api/auth/login", json={"api_key": "live_sandbox"})
        headers = {"Authorization": f"Bearer {login.json()['bearer']}"}
        answer = client.request(method, path, headers=headers, **kwargs)
        assert answer.status_code < 300, answer.text


# -- hlr-refresh ---------------------------------------------------------------------------


def test_hlr_refresh_rewrites_hlr_and_summary_and_nothing_else(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    # Olena's phone is in the contact book (in another list) before the sample is imported.
    # The sandbox's HLR checks finish at once: any read after a contact's creation has one.
    sandbox.account.hlr = HlrModel(delay=0)
    olena = 380502345678
    first = import_file(
        tmp_path, server, write_contacts_csv(tmp_path / "o.csv", [olena]), "Other",
        tmp_path / "o.results.xlsx",
    )  # fmt: skip
    assert first.code == 0, first.stderr
    results = tmp_path / "results.xlsx"
    ran = import_file(tmp_path, server, SAMPLE_XLSX, "Promo", results, "--default-region", "UA")
    assert ran.code == 1, ran.stderr  # two invalid rows
    before = sheets(results)
    old_rows = as_dicts(before["Results"])
    by_phone = {r["phone_normalized"]: r for r in old_rows if r["status"] != "duplicate"}
    created = [r for r in old_rows if r["status"] == "created"]
    invalid = [r for r in old_rows if r["status"] == "invalid"]
    duplicate = [r for r in old_rows if r["status"] == "duplicate"]
    assert len(created) == 44 and len(invalid) == 2 and len(duplicate) == 1
    assert by_phone[olena]["status"] == "existing" and by_phone[olena]["hlr_status"]
    # Just created: BSG has no HLR result for them yet.
    assert all(r["hlr_status"] is None and r["hlr_last_check"] is None for r in created)
    old_summary = summary_parts(before["Summary"])
    assert old_summary["hlr_status"] == {by_phone[olena]["hlr_status"]: 1, "pending": 44}

    # Meanwhile the HLR checks finish; one result is set by hand to prove it is BSG's answer
    # that lands in the workbook, and one contact is deleted.
    changed_existing = next(s for s in ("absent", "failed") if s != by_phone[olena]["hlr_status"])
    first_created, gone = created[0], created[1]
    with sandbox.account.lock:
        contacts = sandbox.account.contacts
        contacts[by_phone[olena]["contact_id"]].hlr_status = changed_existing
        contacts[by_phone[olena]["contact_id"]].hlr_last_check = "2026-01-02 03:04:05"
        contacts[first_created["contact_id"]].hlr_status = "active"
        contacts[first_created["contact_id"]].hlr_last_check = "2026-01-03 04:05:06"
        sandbox.account.remove_contact(gone["contact_id"])
    log_before = len(state_of(sandbox)["log"])
    book_before = book_state(sandbox)

    refreshed = run_cli("hlr-refresh", results, "--base-url", server.url, env=KEY)

    assert refreshed.code == 0, refreshed.stderr
    assert "44 contacts refreshed, 1 no longer exist, 0 could not be fetched" in (
        refreshed.last_line
    ), refreshed.last_line
    after = sheets(results)
    assert list(after) == list(before) == ["Results", "Errors", "Summary"]
    assert after["Results"][0] == before["Results"][0]
    assert after["Errors"] == before["Errors"]
    now = sandbox_contacts(sandbox)
    new_rows = as_dicts(after["Results"])
    assert len(new_rows) == len(old_rows)
    for old, new in zip(old_rows, new_rows, strict=True):
        # Every column but the two HLR ones is exactly as it was, cell type included.
        keep = [k for k in old if k not in HLR]
        assert [(old[k], type(old[k])) for k in keep] == [(new[k], type(new[k])) for k in keep]
        if old["contact_id"] is None or old["contact_id"] == gone["contact_id"]:
            assert new == old  # invalid rows, and the contact that no longer exists
        else:
            contact = now[new["contact_id"]]
            assert contact["hlr_status"] is not None  # the check has finished
            assert (new["hlr_status"], new["hlr_last_check"]) == (
                contact["hlr_status"],
                contact["hlr_last_check"],
            )
    refreshed_by_row = {r["source_row"]: r for r in new_rows}
    olena_row = refreshed_by_row[by_phone[olena]["source_row"]]
    assert (olena_row["hlr_status"], olena_row["hlr_last_check"]) == (
        changed_existing,
        "2026-01-02 03:04:05",
    )
    mine = refreshed_by_row[first_created["source_row"]]
    assert (mine["hlr_status"], mine["hlr_last_check"]) == ("active", "2026-01-03 04:05:06")
    assert refreshed_by_row[gone["source_row"]]["hlr_status"] is None
    assert all(refreshed_by_row[r["source_row"]] == r for r in invalid)
    # A duplicate row names its first row's contact, and now shows that contact's result.
    [dup] = duplicate
    original = by_phone[dup["phone_normalized"]]
    assert dup["contact_id"] == original["contact_id"]
    assert (
        refreshed_by_row[dup["source_row"]]["hlr_status"]
        == (refreshed_by_row[original["source_row"]]["hlr_status"])
    )

    summary = summary_parts(after["Summary"])
    facts = {k: v for k, v in summary["facts"].items() if k != "Reachable"}
    assert facts == {k: v for k, v in old_summary["facts"].items() if k != "Reachable"}
    assert summary["status"] == old_summary["status"]
    assert summary.get("notes") == old_summary.get("notes")
    # One count per contact: the duplicate row shows its contact's status but is not counted
    # again; the contact that is gone keeps no status, and counts as pending.
    dup_row = refreshed_by_row[dup["source_row"]]
    per_contact = Counter(
        r["hlr_status"] or "pending"
        for r in new_rows
        if r["contact_id"] and r["status"] != "duplicate"
    )
    assert summary["hlr_status"] == dict(per_contact)
    assert sum(per_contact.values()) == 45 and per_contact["pending"] == 1
    assert dup_row["hlr_status"] in per_contact
    checked = 44
    active = per_contact["active"]
    assert summary["facts"]["Reachable"] == (
        f"{active / checked:.0%} of the numbers checked ({active} of {checked} active); "
        "1 more not checked yet"
    )
    for status, count in sorted(per_contact.items()):
        assert f"{count} {status}" in refreshed.last_line

    # It only read, a page of the list at a time: one page holds the whole list; the contact
    # that is no longer in it was asked for on its own. Nothing was written to BSG.
    calls = state_of(sandbox)["log"][log_before:]
    assert [(e["method"], e["path"]) for e in calls] == [
        ("POST", "/api/auth/login"),
        ("GET", "/api/contacts"),
        ("GET", f"/api/contacts/{gone['contact_id']}"),
    ]
    assert book_state(sandbox) == book_before


def test_hlr_refresh_rides_out_transient_errors(tmp_path: Path, server: Any, sandbox: Any) -> None:
    sandbox.account.hlr = HlrModel(delay=0)
    phones = ukrainian_mobiles(8)
    results = tmp_path / "c.results.xlsx"
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    assert import_file(tmp_path, server, source, "Promo", results).code == 0
    before = as_dicts(sheets(results)["Results"])
    assert all(r["hlr_status"] is None for r in before)
    faults = {"error_rate": 0.5, "seed": 1}  # the first two reads of the page are 5xx
    switched = httpx.post(f"{server.url}/_sandbox/faults", json=faults)
    assert switched.status_code == 200, switched.text
    log_before = len(state_of(sandbox)["log"])

    ran = run_cli("hlr-refresh", results, "--base-url", server.url, "--concurrency", "1", env=KEY)

    assert ran.code == 0, ran.stderr
    assert "8 contacts refreshed, 0 no longer exist, 0 could not be fetched" in ran.last_line
    calls = state_of(sandbox)["log"][log_before:]
    assert [(e["path"], e["status"] >= 500) for e in calls if e["method"] == "GET"] == [
        ("/api/contacts", True),
        ("/api/contacts", True),
        ("/api/contacts", False),
    ]
    now = sandbox_contacts(sandbox)
    after = as_dicts(sheets(results)["Results"])
    for old, new in zip(before, after, strict=True):
        assert {k: v for k, v in new.items() if k not in HLR} == {
            k: v for k, v in old.items() if k not in HLR
        }
        contact = now[new["contact_id"]]
        assert new["hlr_status"] == contact["hlr_status"] is not None
        assert new["hlr_last_check"] == contact["hlr_last_check"]


def test_hlr_refresh_refuses_a_workbook_it_did_not_write(tmp_path: Path, server: Any) -> None:
    other = tmp_path / "other.xlsx"
    book = openpyxl.Workbook()
    book.save(other)
    ran = run_cli("hlr-refresh", other, "--base-url", server.url, env=KEY)
    assert ran.code == 2 and "not a results workbook of bsg-import" in ran.last_line
    assert sheets(other) == {"Sheet": []}


# -- undo ----------------------------------------------------------------------------------


def test_undo_takes_back_exactly_what_the_import_did(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    # The HLR checks finish at once, so that the contacts compared below stay as they are.
    sandbox.account.hlr = HlrModel(delay=0)
    phones = ukrainian_mobiles(8)
    kept, bystander, moved, deleted = phones[0], phones[5], phones[4], phones[6]
    # Before the import: `kept` and `deleted` are in the contact book (list Other), and
    # `bystander` is in Promo.
    out = tmp_path / "before"
    assert import_file(
        tmp_path, server, write_contacts_csv(tmp_path / "o.csv", [kept, deleted]), "Other",
        out / "o.xlsx",
    ).code == 0  # fmt: skip
    assert import_file(
        tmp_path, server, write_contacts_csv(tmp_path / "p.csv", [bystander]), "Promo",
        out / "p.xlsx",
    ).code == 0  # fmt: skip
    source = tmp_path / "c.csv"
    lines = [kept, phones[1], phones[2], "12345", phones[1], phones[3], moved, deleted]
    source.write_text("Phone,City\n" + "".join(f"+{p},Kyiv\n" for p in lines), encoding="utf-8")
    results = tmp_path / "c.results.xlsx"
    ran = import_file(tmp_path, server, source, "Promo", results)
    assert ran.code == 1, ran.stderr
    assert "4 created, 2 existing, 1 duplicate, 1 invalid" in ran.last_line
    imported = sheets(results)
    rows = {r["source_row"]: r for r in as_dicts(imported["Results"])}
    assert [rows[n]["status"] for n in range(2, 10)] == [
        "existing", "created", "created", "invalid", "duplicate", "created", "created", "existing",
    ]  # fmt: skip
    state = state_of(sandbox)
    lists = {g["name"]: g["id"] for g in state["groups"]}
    ids = phones_in(sandbox)
    assert sandbox_contacts(sandbox)[ids[kept]]["groups"] == [lists["Other"], lists["Promo"]]

    # Since the import someone gave one created contact another phone (it is no longer the
    # contact the import made), and deleted one of the existing contacts.
    new_phone = ukrainian_mobiles(1, start=500)[0]
    as_someone_else(server, "PUT", f"/api/contacts/{ids[moved]}", json={"phone": new_phone})
    as_someone_else(server, "DELETE", f"/api/contacts/{ids[deleted]}")
    untouched = book_state(sandbox)
    log_at = len(state_of(sandbox)["log"])
    plan = (
        f"delete 4 contacts that this import created, and remove 2 contacts that already "
        f"existed from list 'Promo' (#{lists['Promo']}); nothing else is touched"
    )
    base = ["undo", results, "--base-url", server.url]

    # --dry-run: the plan, and nothing else (not even a login).
    dry = run_cli(*base, "--dry-run", env=KEY)
    assert dry.code == 0, dry.stderr
    assert plan in dry.stderr
    assert book_state(sandbox) == untouched and len(state_of(sandbox)["log"]) == log_at
    assert sheets(results) == imported

    # No --yes and no terminal to ask on: refused, with the way out named.
    refused = run_cli(*base, env=KEY, stdin=subprocess.DEVNULL)
    assert refused.code == 2, refused.stderr
    assert plan in refused.stderr and "add --yes" in refused.last_line
    assert book_state(sandbox) == untouched and len(state_of(sandbox)["log"]) == log_at
    assert sheets(results) == imported

    # On a terminal it asks; answering no changes nothing.
    leader, follower = pty.openpty()
    try:
        os.write(leader, b"n\n")
        declined = run_cli(*base, env=KEY, stdin=follower)
    finally:
        os.close(follower)
        os.close(leader)
    assert declined.code == 0, declined.stderr
    assert "Go ahead? [y/N]: Nothing was changed.\n" in declined.stderr
    assert book_state(sandbox) == untouched and len(state_of(sandbox)["log"]) == log_at
    assert sheets(results) == imported

    done = run_cli(*base, "--yes", env=KEY)

    assert done.code == 0, done.stderr
    assert done.last_line == (
        f"{results}: undo 1 already gone, 4 done, 1 left alone; see its Undo sheet"
    )
    now = sandbox_contacts(sandbox)
    # The contacts it created are gone; the one whose phone changed is not.
    assert {c["phone"] for c in now.values()} == {kept, bystander, new_phone}
    assert untouched_contact(untouched, ids[moved]) == {
        "phone": new_phone,
        "groups": now[ids[moved]]["groups"],
    }
    assert now[ids[moved]]["groups"] == [lists["Promo"]]
    # The existing contact left Promo but stays in the book and in its other list, even
    # though another existing contact of the same detach batch had been deleted meanwhile.
    assert now[ids[kept]]["groups"] == [lists["Other"]]
    # The contact that was in Promo before the import stays there.
    assert now[ids[bystander]]["groups"] == [lists["Promo"]]
    after_state = book_state(sandbox)
    assert after_state["groups"] == untouched["groups"]
    assert after_state["fields"] == untouched["fields"]
    writes = [
        (e["method"], e["path"])
        for e in state_of(sandbox)["log"][log_at:]
        if e["method"] != "GET" and e["path"] not in ("/api/auth/login", "/api/groups/detach")
    ]
    assert sorted(writes) == sorted(("DELETE", f"/api/contacts/{ids[p]}") for p in phones[1:4])

    undone = sheets(results)
    assert list(undone) == ["Results", "Errors", "Summary", "Undo"]
    assert {k: undone[k] for k in ("Results", "Errors")} == {
        k: imported[k] for k in ("Results", "Errors")
    }
    assert summary_parts(undone["Summary"]) == summary_parts(imported["Summary"])
    assert undone["Undo"][0] == UNDO_HEADER
    outcome = {row[0]: row for row in undone["Undo"][1:]}
    assert len(outcome) == len(undone["Undo"]) - 1 == 6
    assert outcome[3] == (3, phones[1], ids[phones[1]], "deleted", "done", None)
    assert outcome[4] == (4, phones[2], ids[phones[2]], "deleted", "done", None)
    assert outcome[7] == (7, phones[3], ids[phones[3]], "deleted", "done", None)
    assert outcome[8][:5] == (8, moved, ids[moved], "deleted", "left alone")
    assert f"now has phone {new_phone}" in outcome[8][5]
    assert outcome[2] == (2, kept, ids[kept], "detached", "done", None)
    assert outcome[9] == (9, deleted, ids[deleted], "detached", "already gone", None)

    # Run again: nothing left to delete, and nothing else is touched.
    again = run_cli(*base, "--yes", env=KEY)
    assert again.code == 0, again.stderr
    assert sandbox_contacts(sandbox) == now
    rerun = {row[0]: row[4] for row in sheets(results)["Undo"][1:]}
    assert rerun == {2: "done", 3: "already gone", 4: "already gone", 7: "already gone",
                     8: "left alone", 9: "already gone"}  # fmt: skip


def untouched_contact(state: dict[str, Any], contact_id: int) -> dict[str, Any]:
    [contact] = [c for c in state["contacts"] if c["id"] == contact_id]
    return {"phone": contact["phone"], "groups": contact["groups"]}


def test_undo_leaves_in_the_list_a_contact_that_was_there_before(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    phones = ukrainian_mobiles(3, start=500)
    with sandbox.account.lock:
        promo = sandbox.account.add_group("Promo", None, False)
        before = sandbox.account.add_contact(phones[0], [promo.id], {})
    results = tmp_path / "c.results.xlsx"
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    assert import_file(tmp_path, server, source, "Promo", results).code == 0
    rows = as_dicts(sheets(results)["Results"])
    assert [r["status"] for r in rows] == ["existing", "created", "created"]
    assert rows[0]["error"] == "was already in the list before this import"
    ran = run_cli("undo", results, "--yes", "--base-url", server.url, env=KEY)
    assert ran.code == 0, ran.stderr
    contacts = {c["phone"]: c for c in state_of(sandbox)["contacts"]}
    assert set(contacts) == {phones[0]}
    assert contacts[phones[0]]["groups"] == [promo.id] and contacts[phones[0]]["id"] == before.id
