"""The journal is the record of what happened and of what did not (issue 23), through the
real command against the sandbox on a loopback port: undo writes into it, the input is
pinned, a create that may have been carried out is settled by lookup, a damaged journal is
refused, and one lock per import holds for the whole machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from importer.sandbox import Faults, Sandbox, serve
from importer.sandbox.faults import Decision

from ..conftest import sheet_rows
from ..helpers import phones_in, run_cli, state_of, ukrainian_mobiles, write_contacts_csv

KEY = {"BSG_API_KEY": "live_sandbox"}


@pytest.fixture
def slow() -> Iterator[tuple[Sandbox, Any]]:
    """A sandbox whose every answer takes 10 ms, so that a run lasts."""
    sandbox = Sandbox(Faults(latency=0.01))
    with serve(sandbox) as server:
        yield sandbox, server


def import_args(source: Path, server: Any, journals: Path, *extra: str | Path) -> list[Any]:
    return [source, "--list", "Promo", "--base-url", server.url, "--journal-dir", journals,
            *extra]  # fmt: skip


def start(*args: Any, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BSG_")}
    environment.update({**KEY, **(env or {})})
    return subprocess.Popen(
        [sys.executable, "-m", "importer", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def wait_for_contacts(sandbox: Sandbox, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while len(sandbox.account.contacts) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)


def creates(sandbox: Sandbox) -> Counter[int]:
    return Counter(state_of(sandbox)["creates_per_phone"])


def create_requests(sandbox: Sandbox) -> int:
    log = state_of(sandbox)["log"]
    return sum(1 for e in log if e["method"] == "POST" and e["path"] == "/api/contacts")


# -- 1. undo is part of the record -----------------------------------------------------------


def test_a_run_after_undo_says_undone_and_creates_again_only_when_asked(
    tmp_path: Path, server: Any, sandbox: Sandbox
) -> None:
    phones = ukrainian_mobiles(50)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    journals = tmp_path / "journals"
    results = tmp_path / "c.results.xlsx"
    first = run_cli(*import_args(source, server, journals), env=KEY)
    assert first.code == 0 and "50 created" in first.last_line, first.stderr

    undo = run_cli("undo", results, "--yes", "--base-url", server.url,
                   "--journal-dir", journals, env=KEY)  # fmt: skip
    assert undo.code == 0, undo.stderr
    assert "from the import's journal" in undo.stderr
    assert undo.last_line == f"{results}: undo 50 done; see its Undo sheet"
    assert phones_in(sandbox) == {}

    again = run_cli(*import_args(source, server, journals), env=KEY)
    assert again.code == 0, again.stderr
    assert "0 created, 0 existing, 0 duplicate, 0 invalid, 0 failed, 50 skipped" in again.last_line
    rows = sheet_rows(results)
    assert [r["source_row"] for r in rows] == list(range(2, 52))
    assert {r["status"] for r in rows} == {"skipped"}
    assert all(r["error"].startswith("undone: `bsg-import undo` deleted") for r in rows)
    assert all("--redo-undone" in r["error"] for r in rows)
    notes = [r[0] for r in openpyxl.load_workbook(results)["Summary"].iter_rows(values_only=True)]
    assert any(str(n).startswith("50 rows were undone") for n in notes)
    assert phones_in(sandbox) == {} and set(creates(sandbox).values()) == {1}

    redo = run_cli(*import_args(source, server, journals, "--redo-undone"), env=KEY)
    assert redo.code == 0 and "50 created" in redo.last_line, redo.stderr
    rows = sheet_rows(results)
    assert {r["status"] for r in rows} == {"created"}
    book = phones_in(sandbox)
    assert {r["phone_normalized"]: r["contact_id"] for r in rows} == book
    assert set(book) == set(phones)


def test_undo_after_kill_9_works_from_the_journal_named_as_the_import_was_run(
    tmp_path: Path, slow: tuple[Sandbox, Any]
) -> None:
    sandbox, server = slow
    phones = ukrainian_mobiles(600)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    journals = tmp_path / "journals"
    results = tmp_path / "c.results.xlsx"
    process = start(*import_args(source, server, journals, "--concurrency", "4"))
    wait_for_contacts(sandbox, 100, process)
    process.kill()
    process.communicate(timeout=30)
    assert not results.exists()

    # Without the journal there is nothing to go on, and the way to name the import is said.
    elsewhere = run_cli("undo", results, "--yes", "--base-url", server.url,
                        "--journal-dir", tmp_path / "other", env=KEY)  # fmt: skip
    assert elsewhere.code == 2
    assert "bsg-import undo INPUT_FILE --list NAME" in elsewhere.last_line
    # With it, the results' name finds the journal (it knows where they were to go).
    shown = run_cli("undo", results, "--dry-run", "--base-url", server.url,
                    "--journal-dir", journals, env=KEY)  # fmt: skip
    assert shown.code == 0 and "from the import's journal" in shown.stderr, shown.stderr

    undo = run_cli("undo", source, "--list", "Promo", "--yes", "--base-url", server.url,
                   "--journal-dir", journals, env=KEY)  # fmt: skip
    assert undo.code == 0, undo.stderr
    undone = {row[1] for row in sheet_rows_of(results, "Undo") if row[4] == "done"}
    assert len(undone) >= 90  # what the journal knew to be created, no more
    left = set(phones_in(sandbox))
    assert not undone & left
    assert len(left) <= 8  # at most the creates in flight at the kill, unrecorded

    again = run_cli(*import_args(source, server, journals), env=KEY)
    assert again.code == 0, again.stderr
    rows = sheet_rows(results)
    assert [r["source_row"] for r in rows] == list(range(2, 602))
    status = {r["phone_normalized"]: r["status"] for r in rows}
    assert {p for p, s in status.items() if s == "skipped"} == undone
    assert set(status.values()) == {"skipped", "created"}
    book = phones_in(sandbox)
    assert {r["phone_normalized"]: r["contact_id"] for r in rows if r["status"] == "created"} == (
        book
    )
    assert set(creates(sandbox).values()) == {1}, "a phone was sent to create twice"


def sheet_rows_of(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book[sheet].iter_rows(values_only=True))[1:]
    finally:
        book.close()


# -- 3. "created by us" is a fact ------------------------------------------------------------


def lose_creates(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each phone's first create is carried out and its answer lost (the connection dropped
    after it); every later attempt is dropped before it is carried out."""
    seen: set[bytes] = set()

    def decide(signature: tuple[Any, ...]) -> Decision:
        method, path, data = signature[:3]
        if method != "POST" or not str(path).startswith("/api/contacts?"):
            return Decision()
        if data in seen:
            return Decision(before="drop")
        seen.add(data)
        return Decision(after="drop")

    monkeypatch.setattr(sandbox.app.plan, "decide", decide)


def import_with_creates_lost(
    phones: list[int], tmp_path: Path, lost_by: tuple[Sandbox, Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, Path]:
    """Import ``phones`` with every create's answer lost: (source, journals, results)."""
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    journals = tmp_path / "journals"
    results = tmp_path / "c.results.xlsx"
    sandbox, server = lost_by
    lose_creates(sandbox, monkeypatch)
    lost = run_cli(*import_args(source, server, journals, "--patience", "2"), env=KEY)
    assert lost.code == 1, lost.stderr
    rows = sheet_rows(results)
    assert [r["status"] for r in rows] == ["failed"] * len(phones)
    assert all("it may have been created even so" in r["error"] for r in rows)
    assert set(phones_in(sandbox)) == set(phones)
    return source, journals, results


def test_a_create_whose_answer_was_lost_is_ours_on_the_next_run(
    tmp_path: Path, server: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    phones = ukrainian_mobiles(5, start=900)
    source, journals, results = import_with_creates_lost(
        phones, tmp_path, (sandbox, server), monkeypatch
    )

    monkeypatch.undo()
    again = run_cli(*import_args(source, server, journals), env=KEY)
    assert again.code == 0, again.stderr
    assert "5 created, 0 existing" in again.last_line
    rows = sheet_rows(results)
    assert [r["status"] for r in rows] == ["created"] * 5
    assert [r["error"] for r in rows] == [None] * 5
    book = phones_in(sandbox)
    assert {r["phone_normalized"]: r["contact_id"] for r in rows} == book
    assert set(creates(sandbox).values()) == {1}

    # And undo takes them back: they are this import's.
    undo = run_cli("undo", results, "--yes", "--base-url", server.url,
                   "--journal-dir", journals, env=KEY)  # fmt: skip
    assert undo.code == 0 and "undo 5 done" in undo.last_line, undo.stderr
    assert phones_in(sandbox) == {}


def test_a_create_the_import_of_a_file_lost_is_settled_by_its_import_once_it_changed(
    tmp_path: Path, server: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's new content is a new import; it looks up the phones the old one may have
    created, takes them for its own, and its undo takes them back."""
    phones = ukrainian_mobiles(5, start=950)
    source, journals, results = import_with_creates_lost(
        phones, tmp_path, (sandbox, server), monkeypatch
    )

    monkeypatch.undo()
    more = ukrainian_mobiles(2, start=990)
    write_contacts_csv(source, phones + more)
    again = run_cli(*import_args(source, server, journals), env=KEY)
    assert again.code == 0, again.stderr
    assert "7 created, 0 existing" in again.last_line
    rows = sheet_rows(results)
    assert [r["status"] for r in rows] == ["created"] * 7
    for row in rows[:5]:
        assert "the earlier import of this file, before it changed, was sending it" in row["error"]
    assert [r["error"] for r in rows[5:]] == [None] * 2
    assert {r["phone_normalized"]: r["contact_id"] for r in rows} == phones_in(sandbox)
    assert set(creates(sandbox).values()) == {1}

    undo = run_cli("undo", results, "--yes", "--base-url", server.url,
                   "--journal-dir", journals, env=KEY)  # fmt: skip
    assert undo.code == 0 and "undo 7 done" in undo.last_line, undo.stderr
    assert phones_in(sandbox) == {}


def _damage(path: Path, how: str) -> None:
    if how == "empty":
        path.write_bytes(b"")
    elif how == "half":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(b"\x13garbage, not a database " * 400)


@pytest.mark.parametrize("how", ["empty", "half", "garbage"])
def test_a_damaged_journal_is_refused_with_its_path_and_nothing_is_sent(
    tmp_path: Path, server: Any, sandbox: Sandbox, how: str
) -> None:
    phones = ukrainian_mobiles(300, start=2000)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    journals = tmp_path / "journals"
    first = run_cli(*import_args(source, server, journals), env=KEY)
    assert first.code == 0, first.stderr
    [journal] = journals.glob("*.sqlite")
    _damage(journal, how)
    sent = len(state_of(sandbox)["log"])

    refused = run_cli(*import_args(source, server, journals), env=KEY)
    assert refused.code == 2, refused.stderr
    assert refused.last_line.startswith(f"Error: the journal {journal} can't be read (")
    assert "--no-resume" in refused.last_line and "Traceback" not in refused.stderr
    assert len(state_of(sandbox)["log"]) == sent  # not even a login
    assert [r["status"] for r in sheet_rows(tmp_path / "c.results.xlsx")] == ["created"] * 300

    over = run_cli(*import_args(source, server, journals, "--no-resume"), env=KEY)
    assert over.code == 0 and "300 existing" in over.last_line, over.stderr
    assert set(phones_in(sandbox)) == set(phones)


# -- 6. one lock per import, wherever the journal is ----------------------------------------


@pytest.mark.parametrize("runtime", ["shared runtime folder", "no runtime folder"])
def test_runs_with_other_journal_folders_and_homes_exclude_each_other(
    tmp_path: Path, slow: tuple[Sandbox, Any], runtime: str
) -> None:
    sandbox, server = slow
    phones = ukrainian_mobiles(300, start=3000)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    shared = {"XDG_RUNTIME_DIR": str(tmp_path / "run")} if runtime.startswith("shared") else {}
    if shared:
        (tmp_path / "run").mkdir(mode=0o700)

    def home(name: str) -> dict[str, str]:
        return {"HOME": str(tmp_path / name), "XDG_DATA_HOME": str(tmp_path / name / "data"),
                **shared}  # fmt: skip

    first = start(*import_args(source, server, tmp_path / "j1", "--rate", "25"),
                  env=home("a"))  # fmt: skip
    wait_for_contacts(sandbox, 20, first)
    second = run_cli(*import_args(source, server, tmp_path / "j2"), env={**KEY, **home("b")})
    # Without --journal-dir the journal is in the other HOME's data folder.
    third = run_cli(source, "--list", "Promo", "--base-url", server.url,
                    env={**KEY, **home("c")})  # fmt: skip
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    for refused in (second, third):
        assert refused.code == 2, refused.stderr
        assert "another bsg-import is already importing" in refused.last_line
    assert len(phones_in(sandbox)) == 300
    assert set(creates(sandbox).values()) == {1}


# -- 2. the input is pinned ------------------------------------------------------------------


def test_an_input_rewritten_mid_run_stops_it_and_its_rerun_is_a_new_import(
    tmp_path: Path, slow: tuple[Sandbox, Any]
) -> None:
    sandbox, server = slow
    old = ukrainian_mobiles(3000, start=5000)
    source = write_contacts_csv(tmp_path / "c.csv", old)
    journals = tmp_path / "journals"
    results = tmp_path / "c.results.xlsx"
    process = start(*import_args(source, server, journals, "--concurrency", "4"))
    wait_for_contacts(sandbox, 300, process)
    new = old[:2200] + ukrainian_mobiles(800, start=20_000)
    write_contacts_csv(source, new)  # in place, as an export overwriting its file
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr
    assert "the file changed while it was being imported" in stderr
    assert "Traceback" not in stderr
    rows = sheet_rows(results)
    read = len(rows)
    assert read in (1000, 2000) and [r["source_row"] for r in rows] == list(range(2, read + 2))
    assert [r["phone_normalized"] for r in rows] == old[:read]
    assert {r["status"] for r in rows} <= {"created", "failed"}
    created = {r["phone_normalized"]: r["contact_id"] for r in rows if r["status"] == "created"}
    book = phones_in(sandbox)
    assert created.items() <= book.items()
    maybe = {r["phone_normalized"] for r in rows if "may have been created" in (r["error"] or "")}
    assert set(book) - set(created) <= maybe  # unanswered when it stopped: said so
    unsent = {r["phone_normalized"] for r in rows if (r["error"] or "").startswith("not sent")}
    assert not unsent & set(book)
    again = "run the same command again to import the file as it is now (a new import)"
    for row in rows:  # a rerun is a new import, not a resume
        assert "resume" not in (row["error"] or "")
        assert row["phone_normalized"] not in unsent or row["error"].endswith(again)
    notes = [r[0] for r in openpyxl.load_workbook(results)["Summary"].iter_rows(values_only=True)]
    assert any(str(n).startswith("the file changed while") and again in str(n) for n in notes)
    assert not any("resume" in str(n) for n in notes)

    rerun = run_cli(*import_args(source, server, journals), env=KEY)
    assert rerun.code == 0, rerun.stderr
    rows = sheet_rows(results)
    assert [r["phone_normalized"] for r in rows] == new
    assert {r["status"] for r in rows} == {"created", "existing"}
    for row in rows:
        if row["phone_normalized"] in created:
            assert row["status"] == "existing"
            assert "created by the earlier import of this file, before it changed" in row["error"]
            assert "already in the list" not in row["error"]
        else:
            assert row["status"] == "created"
            sending = "was sending it when it stopped" in (row["error"] or "")
            assert sending == (row["phone_normalized"] in maybe)
    notes = [r[0] for r in openpyxl.load_workbook(results)["Summary"].iter_rows(values_only=True)]
    assert any(
        "this file changed since it was imported into list 'Promo'" in str(n)
        and f"{len(created):,} of its rows were in that import" in str(n)
        for n in notes
    )
    assert len(phones_in(sandbox)) == len(set(new))
    assert set(creates(sandbox).values()) == {1}


# -- 7. hlr-refresh and signals --------------------------------------------------------------


def test_hlr_refresh_checks_each_rows_phone_skips_blank_rows_refuses_fractional_ids(
    tmp_path: Path, server: Any, sandbox: Sandbox
) -> None:
    phones = ukrainian_mobiles(3, start=40_000)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    results = tmp_path / "c.results.xlsx"
    assert run_cli(*import_args(source, server, tmp_path / "j"), env=KEY).code == 0
    ids = phones_in(sandbox)
    book = openpyxl.load_workbook(results)
    sheet = book["Results"]
    header = [c.value for c in sheet[1]]
    id_col = header.index("contact_id") + 1
    hlr_col = header.index("hlr_status") + 1
    # Row 2 now names row 3's contact, with an HLR status of its own; a blank row between.
    sheet.cell(2, id_col).value = ids[phones[1]]
    sheet.cell(2, hlr_col).value = "mine"
    sheet.insert_rows(3)
    book.save(results)
    ran = run_cli("hlr-refresh", results, "--base-url", server.url, env=KEY)
    assert ran.code == 1, ran.stderr
    assert "2 contacts refreshed" in ran.last_line
    assert "1 have another phone than their row (left as they were)" in ran.last_line
    rows = sheet_rows(results)
    assert [r["source_row"] for r in rows] == [2, 3, 4]
    assert rows[0]["contact_id"] == ids[phones[1]] and rows[0]["hlr_status"] == "mine"
    assert rows[1]["hlr_status"] != "mine"

    book = openpyxl.load_workbook(results)
    book["Results"].cell(3, id_col).value = ids[phones[1]] + 0.5  # source_row 3
    book.save(results)
    refused = run_cli("hlr-refresh", results, "--base-url", server.url, env=KEY)
    assert refused.code == 2
    assert refused.last_line == (
        f"Error: {results}, sheet 'Results', row for source_row 3: contact_id "
        f"{ids[phones[1]] + 0.5} is not a whole number"
    )


def test_sighup_stops_like_sigterm_with_the_results_written(
    tmp_path: Path, slow: tuple[Sandbox, Any]
) -> None:
    sandbox, server = slow
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(600, start=50_000))
    journals = tmp_path / "journals"
    process = start(*import_args(source, server, journals, "--concurrency", "4"))
    wait_for_contacts(sandbox, 50, process)
    process.send_signal(signal.SIGHUP)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    rows = sheet_rows(tmp_path / "c.results.xlsx")
    assert [r["source_row"] for r in rows] == list(range(2, 602))
    assert {r["status"] for r in rows} == {"created", "failed"}
    assert all("interrupted" in r["error"] for r in rows if r["status"] == "failed")
    again = run_cli(*import_args(source, server, journals), env=KEY)
    assert again.code == 0 and "600 created" in again.last_line, again.stderr
    assert set(creates(sandbox).values()) == {1}


def test_a_stop_waits_for_the_answers_on_their_way_and_says_what_was_not_sent(
    tmp_path: Path,
) -> None:
    """Answers take 0.3 s: at Ctrl-C, the requests that left are answered and recorded;
    the rows whose requests had not left say "not sent", not "may have been created"."""
    sandbox = Sandbox(Faults(latency=0.3))
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(300, start=60_000))
    with serve(sandbox) as server:
        process = start(*import_args(source, server, tmp_path / "j", "--concurrency", "8"))
        wait_for_contacts(sandbox, 20, process)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    rows = sheet_rows(tmp_path / "c.results.xlsx")
    created = {r["phone_normalized"]: r["contact_id"] for r in rows if r["status"] == "created"}
    assert created == phones_in(sandbox)
    failed = [r["error"] for r in rows if r["status"] != "created"]
    assert failed and all(e.startswith("not sent yet: the import was interrupted") for e in failed)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_while_the_command_loads_exits_130(
    tmp_path: Path, server: Any, sandbox: Sandbox, signum: int
) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(5))
    process = start(*import_args(source, server, tmp_path / "j"))
    time.sleep(0.3)  # Python is up (a few ms), the tool's modules take a second to load
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert state_of(sandbox)["contacts"] == []


def test_undo_while_the_import_runs_is_refused(tmp_path: Path, slow: tuple[Sandbox, Any]) -> None:
    sandbox, server = slow
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(300, start=60_000))
    journals = tmp_path / "journals"
    process = start(*import_args(source, server, journals, "--rate", "25"))
    wait_for_contacts(sandbox, 10, process)
    refused = run_cli("undo", tmp_path / "c.results.xlsx", "--yes", "--base-url", server.url,
                      "--journal-dir", journals, env=KEY)  # fmt: skip
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert refused.code == 2, refused.stderr
    assert "another bsg-import is already working on this import" in refused.last_line
    assert "undo it once that run has ended" in refused.last_line
    assert len(phones_in(sandbox)) == 300


def test_the_inbox_leaves_a_file_that_changed_while_it_was_imported(
    tmp_path: Path, slow: tuple[Sandbox, Any]
) -> None:
    sandbox, server = slow
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    old = ukrainian_mobiles(3000, start=70_000)
    source = write_contacts_csv(inbox / "c.csv", old)
    process = start("inbox", inbox, "--list", "Promo", "--settle-seconds", "0",
                    "--base-url", server.url, "--journal-dir", tmp_path / "journals",
                    "--concurrency", "4")  # fmt: skip
    wait_for_contacts(sandbox, 300, process)
    write_contacts_csv(source, old[:100])
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr
    assert "the file changed while it was being imported" in stderr
    assert "c.csv: exit 2, left in place" in stderr and "Traceback" not in stderr
    assert source.is_file() and not (inbox / "failed").exists()
    rows = sheet_rows(inbox / "done" / "c.results.xlsx")
    assert [r["phone_normalized"] for r in rows] == old[: len(rows)]
    created = {r["phone_normalized"]: r["contact_id"] for r in rows if r["status"] == "created"}
    book = phones_in(sandbox)
    assert created.items() <= book.items()
    maybe = {r["phone_normalized"] for r in rows if "may have been created" in (r["error"] or "")}
    assert set(book) - set(created) <= maybe  # in flight when it stopped: maybe sent
