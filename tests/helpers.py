"""Helpers for end-to-end tests: run the real command, make files, read the sandbox."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_XLSX = ROOT / "sample_data" / "contacts.xlsx"
SAMPLE_CSV = ROOT / "sample_data" / "contacts.csv"


@dataclass
class Ran:
    """A finished run of the command."""

    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def run_cli(
    *args: str | Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    stdin: int | None = None,
) -> Ran:
    """Run ``bsg-import ARGS`` as a real subprocess (python -m importer).

    ``stdin``: the child's standard input (a pipe, /dev/null or a terminal); default ours.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BSG_")}
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "importer", *map(str, args)],
        stdin=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def invoke_cli(*args: str | Path, env: dict[str, str] | None = None) -> Ran:
    """Run ``bsg-import ARGS`` in this process with click's CliRunner: for a test of what the
    person sees and the exit code, with no need for a real process (signals, another
    process's lock, a death). The stop signals' handlers are put back afterwards."""
    from click.testing import CliRunner

    from importer.cli import main
    from importer.startup import STOP_SIGNALS

    handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    try:
        result = CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return Ran(result.exit_code, result.stdout, result.stderr)


def ukrainian_mobiles(count: int, start: int = 0) -> list[int]:
    """``count`` distinct valid Ukrainian mobile numbers as integers."""
    operators = (50, 63, 66, 67, 68, 73, 93, 95, 96, 97, 98, 99)
    numbers = []
    for n in range(start, start + count):
        number = int(f"380{operators[n % len(operators)]}{(n * 7919 + 1234567) % 10**7:07d}")
        assert phonenumbers.is_valid_number(phonenumbers.parse(f"+{number}"))
        numbers.append(number)
    assert len(set(numbers)) == count
    return numbers


def write_contacts_csv(path: Path, phones: list[int], *, extra: bool = True) -> Path:
    """A clean CSV: Phone (written +380 …), First Name, City."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Phone", "First Name", "City"] if extra else ["Phone"])
        for n, phone in enumerate(phones):
            text = f"+{phone}"
            writer.writerow([text, f"Name {n}", "Kyiv"] if extra else [text])
    return path


def state_of(sandbox: Any) -> dict[str, Any]:
    """The sandbox account as plain data."""
    with sandbox.account.lock:
        return dict(sandbox.account.snapshot())


def phones_in(sandbox: Any) -> dict[int, int]:
    """phone -> contact id, and each phone exactly once."""
    contacts = state_of(sandbox)["contacts"]
    mapping = {c["phone"]: c["id"] for c in contacts}
    assert len(mapping) == len(contacts)
    return mapping
