"""The key and the bearer never appear in anything the tool writes, on any path.

Every command and failure path runs with a known key against a real server; then every
byte they wrote (stdout, stderr, logs, results workbooks unpacked, journals, inbox files)
is searched for the key, for the wrong key given once, and for every bearer issued.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.sandbox import Faults, Sandbox, serve

from ..helpers import Ran, run_cli, state_of, ukrainian_mobiles, write_contacts_csv

KEY = f"live_{secrets.token_hex(16)}"
WRONG_KEY = f"live_{secrets.token_hex(16)}"


@pytest.fixture
def keyed() -> Iterator[tuple[Sandbox, Any]]:
    sandbox = Sandbox(Faults(seed=7), keys={KEY: "live"})
    with serve(sandbox) as server:
        yield sandbox, server


def test_no_secret_in_any_output(tmp_path: Path, keyed: tuple[Sandbox, Any]) -> None:
    sandbox, server = keyed
    work = tmp_path / "work"
    work.mkdir()
    source = write_contacts_csv(work / "c.csv", ukrainian_mobiles(40))
    bad = work / "bad.csv"
    bad.write_text("Phone,Name\n+380501234567,a\nnot a phone,b\n", encoding="utf-8")
    common = ["--base-url", server.url, "--journal-dir", work / "journals"]
    env = {"BSG_API_KEY": KEY, "XDG_DATA_HOME": str(work / "data")}
    log = ["--log-file", work / "run.log"]
    runs: list[Ran] = [
        run_cli(source, "--list", "Promo", *common, *log, env=env),
        run_cli(bad, "--list", "Promo", *common, "--log-format", "json", "--log-file",
                work / "run.jsonl", "--json", env=env),
        run_cli(bad, "--list", "Flag", *common, "--api-key", KEY, "--no-resume"),
        run_cli(source, "--list", "Config", "--config", _config(tmp_path, server.url),
                "--journal-dir", work / "journals"),
        run_cli(source, "--list", "Promo", "--dry-run", "--output", work / "dry.xlsx",
                *common, env=env),
        run_cli(source, "--list", "Promo", *common, *log, env={"BSG_API_KEY": WRONG_KEY}),
        run_cli(source, "--list", "Promo", "--base-url", "http://bsg.example.com", env=env),
        run_cli(source, "--list", "Promo", "--base-url", "http://127.0.0.1:9", "--patience",
                "0.5", *log, env=env),
    ]  # fmt: skip
    sandbox.faults = Faults(error_rate=0.2, malformed_rate=0.1, token_expiry_every=7, seed=3)
    runs += [
        run_cli(source, "--list", "Faulty", *common, "--no-resume", "--output",
                work / "faulty.xlsx", *log, env=env),
        run_cli("hlr-refresh", work / "c.results.xlsx", *common, *log, env=env),
        run_cli("undo", work / "faulty.xlsx", "--dry-run", *common, env=env),
        run_cli("undo", work / "faulty.xlsx", "--yes", *common, *log, env=env),
        run_cli("undo", work / "c.results.xlsx", *common, env=env),  # no terminal, no --yes
    ]  # fmt: skip
    sandbox.faults = Faults(latency=0.2)
    slow = write_contacts_csv(work / "slow.csv", ukrainian_mobiles(2000, start=1000))
    runs.append(_interrupted(sandbox, slow, "--list", "Slow", *common, "--no-resume", "--output",
                             work / "slow.xlsx", *log, env=env))  # fmt: skip
    sandbox.faults = Faults()
    inbox = work / "inbox"
    inbox.mkdir()
    write_contacts_csv(inbox / "nightly.csv", ukrainian_mobiles(5, start=100))
    (inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    runs.append(run_cli("inbox", inbox, "--list", "Inbox", "--settle-seconds", "0", *common,
                        *log, env=env))  # fmt: skip

    assert {run.code for run in runs} >= {0, 1, 2, 3, 130}, [r.code for r in runs]
    with sandbox.account.lock:
        bearers = list(sandbox.account.tokens)
    assert len(bearers) >= 5  # the live ones; expired ones are forgotten by the sandbox
    needles = [KEY, WRONG_KEY, *bearers, *(bearer.split(".")[-1] for bearer in bearers)]
    written = [("stdout", r.stdout.encode()) for r in runs]
    written += [("stderr", r.stderr.encode()) for r in runs]
    written += list(_every_byte(work))
    assert len(written) > 2 * len(runs) + 10
    for where, data in written:
        for needle in needles:
            assert needle.encode() not in data, f"a secret is in {where}"


def _config(folder: Path, url: str) -> Path:
    path = folder / "config.toml"
    path.write_text(f'api-key = "{KEY}"\nbase-url = "{url}"\n', encoding="utf-8")
    path.chmod(0o644)  # readable by others: the warning must not quote the key
    return path


def _interrupted(sandbox: Sandbox, *args: str | Path, env: dict[str, str]) -> Ran:
    """A run stopped by Ctrl-C once it is sending (once the sandbox holds a few contacts)."""
    before = len(state_of(sandbox)["contacts"])
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env},
    )
    deadline = time.monotonic() + 60
    while len(state_of(sandbox)["contacts"]) < before + 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return Ran(process.returncode, out.decode(), err.decode())


def _every_byte(folder: Path) -> Iterator[tuple[str, bytes]]:
    """Every file under ``folder``, and every member of every zip (workbooks)."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield str(path), data
        if zipfile.is_zipfile(path) and path.suffix == ".xlsx" and data[:2] == b"PK":
            try:
                with zipfile.ZipFile(path) as archive:
                    for member in archive.namelist():
                        yield f"{path}!{member}", archive.read(member)
            except zipfile.BadZipFile:
                continue
