"""The folders an import writes in: checked before the first request, and a second place
for the results when their own folder refuses them after everything was sent."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import platformdirs

from .errors import JournalError, ResultsNotWritten, UsageError

#: Room the results take, roughly: the input's size and this much a row.
RESULTS_BYTES_PER_ROW = 120
#: Room the journal takes, roughly: twice the input and this much a row (WAL included).
JOURNAL_BYTES_PER_ROW = 400
MB = 1 << 20


def results_room(input_size: int, rows: int) -> int:
    """Bytes the results are expected to take."""
    return input_size + rows * RESULTS_BYTES_PER_ROW + MB // 4


def journal_room(input_size: int, rows: int) -> int:
    """Bytes the journal is expected to take, with its write-ahead log (SQLite lets it grow
    to 1,000 pages, 4 MB, before it is written back)."""
    return 2 * input_size + rows * JOURNAL_BYTES_PER_ROW + 4 * MB


def check_output(output: Path, room: int) -> None:
    """UsageError unless the results can be written at ``output``."""
    if output.is_dir():
        raise UsageError(
            f"--output {output} is a folder; name a file in it (such as "
            f"{output / 'results.xlsx'}), or use --output-dir {output}"
        )
    problem = folder_problem(output.parent, room)
    if problem:
        raise UsageError(
            f"the results can't be written to {output}: {problem}; nothing was sent. "
            "Choose another place with --output or --output-dir"
        )


def check_journal_folder(folder: Path, room: int) -> None:
    """JournalError unless journals can be written in ``folder``."""
    problem = folder_problem(folder, room)
    if problem:
        raise JournalError(
            f"the journal can't be kept in {folder}: {problem}; nothing was sent. "
            "Choose another folder with --journal-dir"
        )


def folder_problem(folder: Path, room: int) -> str:
    """Why a file of ``room`` bytes can't be written in ``folder``, or ''."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".bsg-import-check-", dir=folder)
    except OSError as error:
        return _words(error)
    os.close(handle)
    Path(name).unlink(missing_ok=True)
    free = shutil.disk_usage(folder).free
    if free < room:
        return f"{_size(free)} free, and they need about {_size(room)}"
    return ""


def fallback_folders(output: Path, input_file: Path | None) -> list[Path]:
    """Where results go when their own folder refuses them: beside the input, then the
    user's data folder."""
    folders = [input_file.parent] if input_file is not None else []
    folders.append(platformdirs.user_data_path("bsg-import") / "results")
    return [f for f in folders if f.resolve() != output.parent.resolve()]


def write_somewhere(
    output: Path, input_file: Path | None, write: Callable[[Path], None]
) -> tuple[Path, str]:
    """``write(path)`` at ``output``, else at the fallback places; where it went, and a
    warning when that was not ``output``. ResultsNotWritten when nowhere took them."""
    tried: list[str] = []
    for path in _places(output, input_file):
        try:
            write(path)
        except OSError as error:
            tried.append(f"{path} ({_words(error)})")
            continue
        if path == output:
            return path, ""
        return path, (
            f"the results could not be written to {tried[0]}; they were written to {path}"
        )
    raise ResultsNotWritten(
        "the results could not be written: " + "; ".join(tried) + ". Every row's outcome is "
        "in the journal: run the same command again once there is room to write them"
    )


def _places(output: Path, input_file: Path | None) -> Iterator[Path]:
    yield output
    for folder in fallback_folders(output, input_file):
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
        yield folder / output.name


def _words(error: OSError) -> str:
    text = error.strerror or str(error)
    return f"{text}: {error.filename}" if error.filename else text


def _size(count: int) -> str:
    return f"{count / MB:.1f} MB" if count >= MB else f"{max(count, 0) // 1024} KB"
