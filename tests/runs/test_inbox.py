"""`bsg-import inbox DIR`, end to end through the real command line against a real server."""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path
from typing import Any

import openpyxl

from ..conftest import sheet_rows
from ..helpers import (
    invoke_cli,
    phones_in,
    run_cli,
    state_of,
    ukrainian_mobiles,
    write_contacts_csv,
)

KEY = {"BSG_API_KEY": "live_sandbox"}
HOUR = 3600


def journal_flags(tmp_path: Path) -> list[str]:
    return ["--journal-dir", str(tmp_path / "journals")]


def write_contacts_xlsx(path: Path, phones: list[int | str]) -> Path:
    """A workbook: Phone (a number cell, or text as given), First Name."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Phone", "First Name"])
    for n, phone in enumerate(phones):
        sheet.append([phone, f"Name {n}"])
    book.save(path)
    return path


def aged(path: Path, hours_ago: float) -> Path:
    """Give ``path`` a modification time ``hours_ago`` in the past."""
    moment = time.time() - hours_ago * HOUR
    os.utime(path, (moment, moment))
    return path


def test_every_file_imported_oldest_first_and_filed(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    phones = ukrainian_mobiles(12)
    # Names sort the other way round from their ages: the order must come from mtimes.
    aged(write_contacts_csv(inbox / "Zeta Oldest.csv", phones[0:4]), 5)
    # One row of the workbook is invalid: exit 1, and still filed under done/.
    aged(write_contacts_xlsx(inbox / "Mid Workbook.xlsx", [*phones[4:6], "12345", *phones[6:8]]), 3)
    aged(write_contacts_csv(inbox / "Alpha Newest.csv", phones[8:12]), 1)
    bad = inbox / "names.csv"
    bad.write_text("Name,City\nTaras,Kyiv\n", encoding="utf-8")
    aged(bad, 4)
    expected = {
        "Zeta Oldest": phones[0:4],
        "Mid Workbook": phones[4:8],
        "Alpha Newest": phones[8:12],
    }

    ran = run_cli(
        "inbox",
        inbox,
        "--list-from-filename",
        "--settle-seconds",
        "0",
        "--base-url",
        server.url,
        *journal_flags(tmp_path),
        env=KEY,
    )

    assert ran.code == 2, ran.stderr  # the worst of 0, 2, 1, 0
    # Nothing is left in the inbox itself: no input, no hidden results, no temporary file.
    assert sorted(p.name for p in inbox.iterdir()) == ["done", "failed"]
    done = inbox / "done"
    assert sorted(p.name for p in done.iterdir()) == sorted(
        [
            "Zeta Oldest.csv",
            "Zeta Oldest.results.xlsx",
            "Mid Workbook.xlsx",
            "Mid Workbook.results.xlsx",
            "Alpha Newest.csv",
            "Alpha Newest.results.xlsx",
        ]
    )
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir()) == ["names.csv", "names.csv.error.txt"]
    assert (failed / "names.csv").read_text(encoding="utf-8") == "Name,City\nTaras,Kyiv\n"
    why = (failed / "names.csv.error.txt").read_text(encoding="utf-8")
    assert "no phone column" in why and "'Name', 'City'" in why, why
    filed = [
        "Zeta Oldest.csv: exit 0 -> done/",
        "names.csv: exit 2 -> failed/",
        "Mid Workbook.xlsx: exit 1 -> done/",
        "Alpha Newest.csv: exit 0 -> done/",
    ]
    assert [line for line in ran.stderr.splitlines() if ": exit " in line] == filed
    # Each summary line names the results where they stay, not a temporary place.
    assert f"-> {inbox / 'done' / 'Zeta Oldest.results.xlsx'}" in ran.stderr

    # Each file's contacts went into the list named after the file, and only those.
    state = state_of(sandbox)
    lists = {g["name"]: g["id"] for g in state["groups"]}
    assert sorted(lists) == sorted(expected)
    in_book = phones_in(sandbox)
    assert sorted(in_book) == sorted(phones)
    by_id = {c["id"]: c for c in state["contacts"]}
    ids_per_file: dict[str, list[int]] = {}
    for stem, wanted in expected.items():
        rows = sheet_rows(done / f"{stem}.results.xlsx")
        invalid = [r for r in rows if r["status"] == "invalid"]
        assert len(invalid) == (1 if stem == "Mid Workbook" else 0)
        rows = [r for r in rows if r["status"] != "invalid"]
        assert [r["phone_normalized"] for r in rows] == wanted
        assert [r["status"] for r in rows] == ["created"] * len(wanted)
        assert {r["phone_normalized"]: r["contact_id"] for r in rows} == {
            p: in_book[p] for p in wanted
        }
        assert all(by_id[r["contact_id"]]["groups"] == [lists[stem]] for r in rows)
        facts = _summary_facts(done / f"{stem}.results.xlsx")
        assert facts["List"] == stem and facts["List ID"] == lists[stem]
        ids_per_file[stem] = [r["contact_id"] for r in rows]

    # Oldest first: every contact of an older file was created before any of a newer one,
    # and so were the lists.
    order = ["Zeta Oldest", "Mid Workbook", "Alpha Newest"]
    for older, newer in itertools.pairwise(order):
        assert max(ids_per_file[older]) < min(ids_per_file[newer])
        assert lists[older] < lists[newer]
    # The request log agrees: no request for a newer file's phone before an older file's last.
    sent = [e["phone"] for e in state["log"] if e["path"] == "/api/contacts" and e["phone"]]
    at = {stem: [i for i, p in enumerate(sent) if p in expected[stem]] for stem in order}
    for older, newer in itertools.pairwise(order):
        assert max(at[older]) < min(at[newer])


def _summary_facts(path: Path) -> dict[str, Any]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(book["Summary"].iter_rows(values_only=True))
    finally:
        book.close()
    return {str(r[0]): r[1] for r in rows[:7]}


def test_a_file_still_being_written_is_left_for_the_next_run(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    phones = ukrainian_mobiles(300)
    ready = aged(write_contacts_csv(inbox / "ready.csv", phones[:3]), 2)
    growing = write_contacts_csv(inbox / "growing.csv", phones[3:4])
    more = iter(phones[4:])
    stop = threading.Event()

    def keep_writing() -> None:
        # A slow upload: the file grows every few hundredths of a second until the run ends.
        with growing.open("a", encoding="utf-8", newline="") as handle:
            while not stop.wait(0.03):
                phone = next(more, None)
                if phone is None:
                    return
                handle.write(f"+{phone},Late,Kyiv\r\n")
                handle.flush()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        args = ["inbox", inbox, "--list", "Promo", "--base-url", server.url]
        ran = run_cli(*args, "--settle-seconds", "0.4", *journal_flags(tmp_path), env=KEY)
    finally:
        stop.set()
        writer.join()
    assert next(more, None) is not None, "the writer ran out of rows before the run ended"

    assert ran.code == 0, ran.stderr
    assert not ready.exists() and (inbox / "done" / "ready.csv").exists()
    assert (inbox / "done" / "ready.results.xlsx").exists()
    # The growing file stays where it was, untouched by the import, with no results beside it.
    assert growing.exists()
    assert sorted(p.name for p in inbox.iterdir()) == ["done", "growing.csv"]
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [
        "ready.csv",
        "ready.results.xlsx",
    ]
    assert sorted(phones_in(sandbox)) == sorted(phones[:3])
    assert "growing.csv" in ran.stderr and "growing.csv: exit 0 -> " not in ran.stderr

    # Next night the upload has finished: the file is taken now.
    written = [int(line.split(",")[0]) for line in growing.read_text().splitlines()[1:]]
    again = run_cli(
        "inbox",
        inbox,
        "--list",
        "Promo",
        "--base-url",
        server.url,
        "--settle-seconds",
        "0.05",
        *journal_flags(tmp_path),
        env=KEY,
    )
    assert again.code == 0, again.stderr
    assert sorted(p.name for p in inbox.iterdir()) == ["done"]
    rows = sheet_rows(inbox / "done" / "growing.results.xlsx")
    assert [r["phone_normalized"] for r in rows] == written
    assert [r["status"] for r in rows] == ["created"] * len(written)
    assert sorted(phones_in(sandbox)) == sorted(phones[:3] + written)


def test_refused_key_leaves_every_file_for_the_next_run(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    phones = ukrainian_mobiles(4)
    first = aged(write_contacts_csv(inbox / "first.csv", phones[:2]), 2)
    second = aged(write_contacts_csv(inbox / "second.csv", phones[2:]), 1)
    ran = invoke_cli(
        "inbox", inbox, "--list", "Promo", "--settle-seconds", "0", "--base-url", server.url,
        *journal_flags(tmp_path), env={"BSG_API_KEY": "live_wrong"},
    )  # fmt: skip
    assert ran.code == 3, ran.stderr
    assert "refused the API key" in ran.stderr
    # The first file stays put (no results left behind) and the second is not even tried.
    assert sorted(p.name for p in inbox.iterdir()) == ["first.csv", "second.csv"]
    assert first.exists() and second.exists()
    assert [line for line in ran.stderr.splitlines() if ": exit " in line] == [
        "first.csv: exit 3, left in place: "
        "BSG refused the API key; check BSG_API_KEY (or --api-key)"
    ]
    assert phones_in(sandbox) == {}


def test_empty_inbox_exits_0_and_says_so(tmp_path: Path, server: Any, sandbox: Any) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # Results and hidden files are not spreadsheets waiting to be imported.
    (inbox / "old.results.xlsx").write_bytes(b"")
    (inbox / ".partial.csv").write_text("Phone\n+380501234567\n", encoding="utf-8")
    before = len(state_of(sandbox)["log"])
    ran = invoke_cli(
        "inbox", inbox, "--list", "Promo", "--base-url", server.url, *journal_flags(tmp_path),
        env=KEY,
    )  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert ran.last_line == f"{inbox}: nothing to import"
    assert sorted(p.name for p in inbox.iterdir()) == [".partial.csv", "old.results.xlsx"]
    assert state_of(sandbox)["log"][before:] == []


def test_inbox_needs_a_list(tmp_path: Path, server: Any) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_contacts_csv(inbox / "c.csv", ukrainian_mobiles(2))
    ran = invoke_cli("inbox", inbox, "--base-url", server.url, env=KEY)
    assert ran.code == 2 and "--list NAME or --list-from-filename" in ran.stderr
    assert (inbox / "c.csv").exists() and not (inbox / "done").exists()
