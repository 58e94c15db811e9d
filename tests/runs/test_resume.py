"""Stopped at any instant (Ctrl-C, SIGTERM, kill -9), an import resumes to the same end.

The command runs as a real subprocess against the sandbox on a loopback port;
each test ends by resuming and checking that every phone was sent to create
exactly once, and that the results equal those of an uninterrupted run.
"""

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

import pytest

from importer.sandbox import Faults, Sandbox, serve

from ..conftest import sheet_rows
from ..helpers import phones_in, run_cli, state_of, ukrainian_mobiles, write_contacts_csv

ROWS = 2000


@pytest.fixture
def slow_server() -> Iterator[tuple[Sandbox, Any]]:
    sandbox = Sandbox(Faults(latency=0.005))
    with serve(sandbox) as server:
        yield sandbox, server


def start(source: Path, server: Any, tmp_path: Path) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BSG_")}
    environment["BSG_API_KEY"] = "live_sandbox"
    return subprocess.Popen(
        [sys.executable, "-m", "importer", *map(str, command(source, server, tmp_path))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def command(source: Path, server: Any, tmp_path: Path) -> list[str | Path]:
    return [source, "--list", "Promo", "--base-url", server.url, "--concurrency", "8",
            "--journal-dir", tmp_path / "journals"]  # fmt: skip


def wait_for_contacts(sandbox: Sandbox, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while len(sandbox.account.contacts) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)


def finish(source: Path, sandbox: Sandbox, server: Any, tmp_path: Path) -> list[dict[str, Any]]:
    """Resume to the end, then check what an uninterrupted run would have left."""
    ran = run_cli(*command(source, server, tmp_path), env={"BSG_API_KEY": "live_sandbox"})
    assert ran.code == 0, ran.stderr
    rows = sheet_rows(source.with_name(f"{source.stem}.results.xlsx"))
    assert [r["status"] for r in rows] == ["created"] * ROWS
    book = phones_in(sandbox)
    assert {r["phone_normalized"]: r["contact_id"] for r in rows} == book
    creates = Counter(state_of(sandbox)["creates_per_phone"])
    assert set(creates.values()) == {1}, "a phone was sent to create twice"
    return rows


def test_ctrl_c_writes_results_exits_130_and_resumes(
    tmp_path: Path, slow_server: tuple[Sandbox, Any]
) -> None:
    sandbox, server = slow_server
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(ROWS))
    process = start(source, server, tmp_path)
    wait_for_contacts(sandbox, 400, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    partial = sheet_rows(tmp_path / "c.results.xlsx")
    statuses = Counter(r["status"] for r in partial)
    assert statuses["created"] >= 400 and set(statuses) <= {"created", "failed"}
    assert all("interrupted" in r["error"] for r in partial if r["status"] == "failed")
    finish(source, sandbox, server, tmp_path)


def test_sigterm_is_a_ctrl_c(tmp_path: Path, slow_server: tuple[Sandbox, Any]) -> None:
    sandbox, server = slow_server
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(ROWS))
    process = start(source, server, tmp_path)
    wait_for_contacts(sandbox, 300, process)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 130
    finish(source, sandbox, server, tmp_path)


def test_second_ctrl_c_quits_at_once_and_the_journal_holds(
    tmp_path: Path, slow_server: tuple[Sandbox, Any]
) -> None:
    sandbox, server = slow_server
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(ROWS))
    process = start(source, server, tmp_path)
    wait_for_contacts(sandbox, 500, process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=10)
    assert process.returncode == 130
    finish(source, sandbox, server, tmp_path)


@pytest.mark.parametrize("kills", [(150,), (300, 900, 1500)])
def test_kill_9_at_any_moment_then_resume(
    tmp_path: Path, slow_server: tuple[Sandbox, Any], kills: tuple[int, ...]
) -> None:
    sandbox, server = slow_server
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(ROWS))
    for count in kills:
        process = start(source, server, tmp_path)
        wait_for_contacts(sandbox, count, process)
        process.kill()
        process.communicate(timeout=10)
        assert process.returncode == -signal.SIGKILL
    finish(source, sandbox, server, tmp_path)
