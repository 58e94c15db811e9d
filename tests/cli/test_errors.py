"""Exit codes are chosen in one place (``importer.errors``), as the contract's table says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from importer import errors
from importer.bsg.errors import Stopped
from importer.errors import BsgImportError, Fatal, exit_for

from ..helpers import invoke_cli, ukrainian_mobiles, write_contacts_csv

#: The contract's exit code of every fatal error of the tool (cli-contract.md, Exit codes).
CONTRACT: dict[type[Fatal], int] = {
    errors.InputError: 2,
    errors.InputChanged: 2,
    errors.UsageError: 2,
    errors.AlreadyRunning: 2,
    errors.JournalError: 2,
    errors.ApiError: 2,
    errors.JournalStopped: 1,
    errors.ResultsNotWritten: 1,
    errors.AuthError: 3,
    errors.UnreachableError: 3,
    errors.Interrupted: 130,
    KeyboardInterrupt: 130,
    Stopped: 130,
}
KEY = {"BSG_API_KEY": "live_sandbox"}


def _subclasses(cls: type[BsgImportError]) -> set[type[BsgImportError]]:
    return {c for sub in cls.__subclasses__() for c in {sub, *_subclasses(sub)}}


def test_every_fatal_error_ends_with_its_contract_exit_code() -> None:
    assert _subclasses(BsgImportError) <= set(CONTRACT), "a new error needs its exit code here"
    for cls, code in CONTRACT.items():
        ending = exit_for(cls("what went wrong") if cls is not Stopped else cls())
        assert ending.code == code, cls.__name__
        assert ending.line.startswith("Error: ")
    assert exit_for(errors.AuthError("BSG refused the API key")).line == (
        "Error: BSG refused the API key"
    )


def test_a_summary_exits_0_or_1_and_an_inbox_with_its_gravest_file() -> None:
    assert errors.rows_exit_code(False) == 0 and errors.rows_exit_code(True) == 1
    assert errors.batch_exit_code([]) == 0
    assert errors.batch_exit_code([0, 1, 2]) == 2 and errors.batch_exit_code([1, 130, 3]) == 130


@pytest.mark.parametrize(
    ("case", "code"),
    [("no phone column", 2), ("key refused", 3), ("unreachable", 3), ("some rows invalid", 1)],
)
def test_the_inbox_and_the_command_end_a_file_with_the_same_code(
    tmp_path: Path, server: Any, case: str, code: int
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    file = inbox / "contacts.csv"
    if case == "no phone column":
        file.write_text("Name,City\nTaras,Kyiv\n", encoding="utf-8")
    else:
        write_contacts_csv(file, ukrainian_mobiles(3))
    if case == "some rows invalid":
        with file.open("a", encoding="utf-8") as handle:
            handle.write("12345,Nobody,Lviv\n")
    env = {"BSG_API_KEY": "live_wrong"} if case == "key refused" else KEY
    url = "http://127.0.0.1:9" if case == "unreachable" else server.url
    common = ["--list", "Promo", "--base-url", url, "--patience", "1"]
    common += ["--journal-dir", str(tmp_path / "journals")]
    alone = invoke_cli(file, *common, "--output", tmp_path / "alone.results.xlsx", env=env)
    filed = invoke_cli("inbox", inbox, *common, "--settle-seconds", "0", env=env)
    assert alone.code == filed.code == code, (alone.stderr, filed.stderr)
    assert f"contacts.csv: exit {code}" in filed.last_line
    if code > 1:  # the same line as the command's, before the inbox files it
        assert _timeless(alone.last_line) in map(_timeless, filed.stderr.splitlines())


def _timeless(line: str) -> str:
    """A line without the seconds waited (the run's patience, spent a second apart)."""
    return re.sub(r"\d+ s\b", "N s", line)
