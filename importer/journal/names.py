"""Which journal is an import's: named after the file's content, the list and the service."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def import_key(file_hash: str, list_name: str, api_root: str) -> str:
    """The journal's name for one import: which file, into which list, on which service."""
    text = json.dumps([file_hash, list_name, api_root.rstrip("/")])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
