"""Uploaded files: each in its own private folder, under a name that can't leave it.

The browser's file name is only ever shown (made safe); the file is stored as
``<private folder>/<safe name>``, and the folder is deleted once its import is done.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..errors import InputError

#: The extensions the command reads (the reader checks the content whatever the name says).
EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods")
CHUNK = 1 << 16
_UNSAFE = re.compile(r"[^\w .()\-]+")


@dataclass
class Upload:
    """One uploaded file and the choices made for it on the page."""

    id: str
    folder: Path
    path: Path
    choices: dict[str, object] = field(default_factory=dict)
    proposed_region: str | None = None  # the region the page chose from the file's numbers
    region_asked: bool = False  # whether the file was asked for its region (once)

    @property
    def name(self) -> str:
        """The name shown on the page (never a server path)."""
        return self.path.name

    def delete(self) -> None:
        """Remove the file and its private folder."""
        shutil.rmtree(self.folder, ignore_errors=True)


def safe_name(name: str) -> str:
    """The browser's file name, reduced to one harmless path component with its extension."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "")
    stem, dot, extension = last.rpartition(".")
    suffix = f".{extension.lower()}" if dot else ""
    if suffix not in EXTENSIONS:
        shown = _plain(last) or "the file"
        raise InputError(f"{shown}: not a spreadsheet this tool reads ({', '.join(EXTENSIONS)})")
    return f"{(_plain(stem) or 'upload')[:80]}{suffix}"


def _plain(text: str) -> str:
    """Letters of any script, digits, spaces and ``._()-``; no leading dot, no separator."""
    return _UNSAFE.sub("_", text).strip(" ._")


def save_upload(stream: IO[bytes], name: str, root: Path, max_bytes: int) -> Upload:
    """Copy ``stream`` into a new private folder under ``root``; refuse more than max_bytes."""
    stored = safe_name(name)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=root))  # mode 0700
    path = folder / stored
    written = 0
    with path.open("xb") as out:
        for block in iter(lambda: stream.read(CHUNK), b""):
            written += len(block)
            if written > max_bytes:
                out.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise InputError(
                    f"{stored}: larger than the upload limit of {max_bytes >> 20} MB; save it "
                    "as CSV, or split it into smaller files, and drop each here"
                )
            out.write(block)
    return Upload(secrets.token_urlsafe(12), folder, path)
