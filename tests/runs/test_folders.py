"""The folders an import writes in (issue 23, item 5), through the real command: checked
before the first request, a results write that fails after everything was sent goes beside
the input, a journal that fills up stops the run in words, and no temporary file outlives
the run. Full and read-only folders are small tmpfs mounts (root, as in CI); where mounting
is not allowed those tests are skipped, saying why."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.sandbox import Faults, Sandbox, serve

from ..conftest import sheet_rows
from ..helpers import phones_in, run_cli, state_of, ukrainian_mobiles, write_contacts_csv

KEY = {"BSG_API_KEY": "live_sandbox"}
Mount = Callable[..., Path]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Mount]:
    """mount(name, size_kb, read_only=False): a tmpfs of that size under tmp_path."""
    mounted: list[Path] = []

    def mount(name: str, size_kb: int, *, read_only: bool = False) -> Path:
        if os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("a small tmpfs needs root and mount(8); this test fills a disk")
        path = tmp_path / name
        path.mkdir()
        options = f"size={size_kb}k" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                              capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode:
            pytest.skip(f"mounting a tmpfs is not allowed here: {done.stderr.strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the file system of ``folder`` but ``leave`` bytes."""
    filler = folder / "filler"
    block = b"\0" * 4096
    with filler.open("ab", buffering=0) as handle:
        while shutil.disk_usage(folder).free > leave + len(block):
            try:
                handle.write(block)
            except OSError:
                break
    return filler


@pytest.fixture
def slow() -> Iterator[tuple[Sandbox, Any]]:
    sandbox = Sandbox(Faults(latency=0.01))
    with serve(sandbox) as server:
        yield sandbox, server


def args(source: Path, server: Any, tmp_path: Path, *extra: str | Path) -> list[Any]:
    return [source, "--list", "Promo", "--base-url", server.url,
            "--journal-dir", tmp_path / "journals", *extra]  # fmt: skip


def start(*arguments: Any) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BSG_")}
    environment.update(KEY)
    return subprocess.Popen(
        [sys.executable, "-m", "importer", *map(str, arguments)],
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


def our_temporary_files() -> set[str]:
    """Files of ours in the system's temporary folder (xlsxwriter's parts were 'tmp…')."""
    folder = Path(tempfile.gettempdir())
    return {p.name for p in folder.iterdir() if p.is_file() and p.name.startswith("tmp")}


def test_output_an_existing_folder_is_refused_before_anything_is_sent(
    tmp_path: Path, server: Any, sandbox: Sandbox
) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(20))
    folder = tmp_path / "out"
    folder.mkdir()
    ran = run_cli(*args(source, server, tmp_path, "--output", folder), env=KEY)
    assert ran.code == 2, ran.stderr
    assert ran.last_line == (
        f"Error: --output {folder} is a folder; name a file in it (such as "
        f"{folder / 'results.xlsx'}), or use --output-dir {folder}"
    )
    assert "Traceback" not in ran.stderr
    assert state_of(sandbox)["log"] == []  # not even a login
    assert list(folder.iterdir()) == []


def test_a_read_only_results_folder_is_refused_before_anything_is_sent(
    tmp_path: Path, server: Any, sandbox: Sandbox, small_disk: Mount
) -> None:
    folder = small_disk("ro", 1024, read_only=True)
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(20))
    ran = run_cli(*args(source, server, tmp_path, "--output-dir", folder), env=KEY)
    assert ran.code == 2, ran.stderr
    assert ran.last_line.startswith(
        f"Error: the results can't be written to {folder / 'c.results.xlsx'}: Read-only file system"
    )
    assert "nothing was sent" in ran.last_line and "Traceback" not in ran.stderr
    assert state_of(sandbox)["log"] == []


def test_a_results_folder_without_room_is_refused_before_anything_is_sent(
    tmp_path: Path, server: Any, sandbox: Sandbox, small_disk: Mount
) -> None:
    folder = small_disk("full", 1024)
    fill(folder, leave=64 * 1024)
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(2000))
    ran = run_cli(*args(source, server, tmp_path, "--output-dir", folder), env=KEY)
    assert ran.code == 2, ran.stderr
    assert f"the results can't be written to {folder / 'c.results.xlsx'}: " in ran.last_line
    assert "free, and they need about" in ran.last_line
    assert state_of(sandbox)["log"] == []
    assert sorted(p.name for p in folder.iterdir()) == ["filler"]


def test_a_journal_folder_without_room_is_refused_before_anything_is_sent(
    tmp_path: Path, server: Any, sandbox: Sandbox, small_disk: Mount
) -> None:
    journals = small_disk("journals", 4096)
    fill(journals, leave=1024 * 1024)
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(2000))
    ran = run_cli(source, "--list", "Promo", "--base-url", server.url,
                  "--journal-dir", journals, env=KEY)  # fmt: skip
    assert ran.code == 2, ran.stderr
    assert ran.last_line.startswith(f"Error: the journal can't be kept in {journals}: ")
    assert "--journal-dir" in ran.last_line and "Traceback" not in ran.stderr
    assert state_of(sandbox)["log"] == []


def test_results_that_no_longer_fit_go_beside_the_input_and_leave_no_temporary_file(
    tmp_path: Path, slow: tuple[Sandbox, Any], small_disk: Mount
) -> None:
    sandbox, server = slow
    folder = small_disk("out", 1024)
    phones = ukrainian_mobiles(600, start=7000)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    before = our_temporary_files()
    process = start(*args(source, server, tmp_path, "--output-dir", folder, "--concurrency", "4"))
    wait_for_contacts(sandbox, 50, process)
    fill(folder)  # the disk fills up while the rows are sent
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    beside = tmp_path / "c.results.xlsx"
    assert (
        f"Warning: the results could not be written to {folder / 'c.results.xlsx'} "
        f"(No space left on device"
    ) in stderr
    assert f"they were written to {beside}" in stderr
    assert stderr.rstrip().endswith(f"-> {beside}") and "Traceback" not in stderr
    rows = sheet_rows(beside)
    assert [r["source_row"] for r in rows] == list(range(2, 602))
    assert {r["status"] for r in rows} == {"created"}
    assert {r["phone_normalized"]: r["contact_id"] for r in rows} == phones_in(sandbox)
    assert set(Counter(state_of(sandbox)["creates_per_phone"]).values()) == {1}
    assert sorted(p.name for p in folder.iterdir()) == ["filler"]
    assert our_temporary_files() <= before


def test_a_journal_folder_that_fills_up_stops_the_run_in_words_and_the_rerun_sends_none_twice(
    tmp_path: Path, slow: tuple[Sandbox, Any], small_disk: Mount
) -> None:
    sandbox, server = slow
    journals = small_disk("journals", 8192)
    phones = ukrainian_mobiles(1500, start=9000)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    command = [source, "--list", "Promo", "--base-url", server.url, "--journal-dir", journals,
               "--concurrency", "4"]  # fmt: skip
    process = start(*command)
    wait_for_contacts(sandbox, 100, process)
    filler = fill(journals)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    [journal] = journals.glob("*.sqlite")
    last = [line for line in stderr.splitlines() if line.strip()][-1]
    assert last.startswith(f"Error: the journal {journal} could not be written: ")
    assert "disk is full" in last and "The import stopped there" in last
    rows = sheet_rows(tmp_path / "c.results.xlsx")
    assert [r["source_row"] for r in rows] == list(range(2, 2 + len(rows)))
    assert {r["status"] for r in rows} <= {"created", "failed"}
    recorded = {r["phone_normalized"] for r in rows if r["status"] == "created"}
    assert recorded <= set(phones_in(sandbox))

    filler.unlink()
    again = run_cli(*command, env=KEY)
    assert again.code == 0, again.stderr
    assert "1500 created, 0 existing" in again.last_line
    rows = sheet_rows(tmp_path / "c.results.xlsx")
    assert [r["source_row"] for r in rows] == list(range(2, 1502))
    assert {r["phone_normalized"]: r["contact_id"] for r in rows} == phones_in(sandbox)
    assert set(Counter(state_of(sandbox)["creates_per_phone"]).values()) == {1}
