"""Import every spreadsheet that landed in a folder, then file it under done/ or failed/.

What a nightly cron job calls. Files are taken oldest first; one whose size or
modification time changes while we look is still being written and is left for
the next run. A file whose import ran (exit 0 or 1) goes to ``done/`` with its
results workbook; one that could not be imported (exit 2) goes to ``failed/``
with a ``.error.txt`` saying why. When BSG refuses the key or can't be reached
(exit 3), or the run is interrupted (130), the file stays where it is and no
further file is tried: the next run picks them up. A file that changed while it was
imported (exit 2) stays where it is too, and the next file is tried.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import FATAL, Ending, InputError, exit_for
from ..pin import CHANGED
from ..read.sniff import SUFFIXES
from ..settings import results_name

SETTLE_S = 2.0


@dataclass(frozen=True)
class FiledImport:
    """What happened to one file of the inbox."""

    file: Path
    exit_code: int
    message: str
    moved_to: Path | None = None


#: Imports one file with its results at the given path: (exit code, message).
ImportOne = Callable[[Path, Path], tuple[int, str]]


def waiting_files(folder: Path, *, settle_s: float = SETTLE_S) -> tuple[list[Path], list[Path]]:
    """The spreadsheets ready to import, oldest first, and those still being written."""
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    candidates = sorted(_spreadsheets(folder), key=lambda p: p.stat().st_mtime_ns)
    before = {p: _signature(p) for p in candidates}
    if candidates and settle_s:
        time.sleep(settle_s)
    ready = [p for p in candidates if p.exists() and _signature(p) == before[p]]
    busy = [p for p in candidates if p not in ready and p.exists()]
    return ready, busy


def _spreadsheets(folder: Path) -> Iterator[Path]:
    for path in folder.iterdir():
        name = path.name.lower()
        if (
            path.is_file()
            and not name.startswith(".")
            and path.suffix.lower() in SUFFIXES
            and ".results." not in name
        ):
            yield path


def _signature(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def run_inbox(
    folder: Path, import_one: ImportOne, *, settle_s: float = SETTLE_S
) -> list[FiledImport]:
    """Import every ready file and file it; stop early on exit 3 or 130."""
    ready, busy = waiting_files(folder, settle_s=settle_s)
    filed = [FiledImport(p, 0, "still being written; left for the next run") for p in busy]
    for file in ready:
        # The results go where they will stay, so that the summary line names that place.
        destination = _free_name(_subfolder(folder, "done") / file.name)
        results = destination.with_name(results_name(destination))
        try:
            ending = Ending(*import_one(file, results))
        except FATAL as error:
            if isinstance(error, KeyboardInterrupt):
                raise
            ending = exit_for(error)
        code, message = ending.code, ending.message
        if CHANGED in message:  # still being written after all: the next run takes it as it is
            filed.append(FiledImport(file, code, message))
            continue
        if ending.ends_the_batch:
            results.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                destination.parent.rmdir()  # done/ made for nothing
            filed.append(FiledImport(file, code, message))
            break
        if not ending.imported:
            destination = _free_name(_subfolder(folder, "failed") / file.name)
            destination.with_name(f"{destination.name}.error.txt").write_text(
                message + "\n", encoding="utf-8"
            )
            if results.exists():
                results.rename(destination.with_name(results.name))
        file.rename(destination)
        filed.append(FiledImport(file, code, message, destination))
    return filed


def _subfolder(folder: Path, name: str) -> Path:
    path = folder / name
    path.mkdir(exist_ok=True)
    return path


def _free_name(path: Path) -> Path:
    """``path``, or the same name with a timestamp when a file of that name is there."""
    if not path.exists():
        return path
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return path.with_name(f"{path.stem}-{stamp}{path.suffix}")
