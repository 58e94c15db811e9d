"""One lock per import for the whole machine, wherever its journal is kept.

The lock is named by the journal's own key (the input's content, the list, the API root)
and lives in the user's runtime folder, or a private folder in the system's temporary
folder, so that runs with other ``--journal-dir``s or other ``HOME``s still exclude each
other.
"""

from __future__ import annotations

import os
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock
import platformdirs

from .errors import AlreadyRunning, Interrupted

APP = "bsg-import"


def lock_folders() -> list[Path]:
    """Where import locks may live, best first: the user's runtime folder, then a folder
    of this user's in the system's temporary folder."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        runtime = platformdirs.user_runtime_path(APP)
    private = Path(tempfile.gettempdir()) / f"{APP}-{os.getuid()}"
    return [runtime / "locks", private / "locks"]


def lock_folder() -> Path:
    """The first folder of ``lock_folders`` that is ours and that we can write in."""
    for folder in lock_folders():
        if _usable(folder):
            return folder
    raise AlreadyRunning(
        "no folder to keep the import's lock in: "
        + ", ".join(str(f) for f in lock_folders())
        + " can't be created or are not this user's"
    )


def _usable(folder: Path) -> bool:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        owner = folder.stat().st_uid
    except OSError:
        return False
    return owner == os.getuid() and os.access(folder, os.W_OK | os.X_OK)


@contextmanager
def import_lock(
    key: str,
    what: str,
    *,
    wait: bool,
    stop: threading.Event | None = None,
    hint: str = "wait for it, or use --if-running wait",
) -> Iterator[None]:
    """Hold the lock of import ``key``; AlreadyRunning (or a wait) when another run has it.

    ``what`` names the import for the message ("importing FILE into list 'NAME'").
    """
    lock = filelock.FileLock(lock_folder() / f"{key}.lock")
    while True:
        try:
            lock.acquire(timeout=1 if wait else 0)
            break
        except filelock.Timeout:
            if not wait:
                raise AlreadyRunning(f"another bsg-import is already {what}; {hint}") from None
            if stop is not None and stop.is_set():
                raise Interrupted("stopped while waiting for the other run") from None
    try:
        yield
    finally:
        lock.release()
