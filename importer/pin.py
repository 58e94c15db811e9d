"""The input pinned: its content hash and size when the import began, checked as it is read.

A file rewritten, appended to or replaced while it is imported would mix two files in one
import; the run stops at the rows it read before the change instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputChanged, InputError

CHANGED = "the file changed while it was being imported"


@dataclass(frozen=True)
class Pin:
    """What the input was when the import began."""

    path: Path
    sha256: str
    size: int
    stamp: tuple[int, int, int]  # (size, modification time in ns, inode)

    @classmethod
    def take(cls, path: Path) -> Pin:
        """Hash the file; InputChanged when it changes while it is hashed."""
        before = _stamp(path)
        try:
            with path.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as error:
            raise InputError(f"{path}: {error.strerror or error}") from error
        pin = cls(path, digest, before[0], before)
        pin.check()
        return pin

    def changed(self) -> bool:
        """True when the file is no longer as it was pinned (or is gone)."""
        try:
            return _stamp(self.path) != self.stamp
        except InputError:
            return True

    def check(self) -> None:
        """InputChanged when the file changed since it was pinned."""
        if self.changed():
            raise InputChanged(f"{self.path}: {CHANGED}; nothing was imported")

    def facts(self) -> dict[str, object]:
        """What the journal keeps of the input."""
        return {"input_sha256": self.sha256, "input_size": self.size}


def _stamp(path: Path) -> tuple[int, int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError as error:
        raise InputError(f"{path}: no such file") from error
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from error
    return stat.st_size, stat.st_mtime_ns, stat.st_ino
