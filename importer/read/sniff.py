"""What a file really is, from its first bytes, whatever its extension says."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import InputError

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
SUFFIXES = TEXT_SUFFIXES | WORKBOOK_SUFFIXES


def file_kind(path: Path) -> str:
    """One of "text", "xlsx", "xls", "ods"; refuses what can't be read, saying what it is."""
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(sorted(SUFFIXES))}"
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(2048)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a folder, not a file") from exc
    except OSError as exc:
        raise InputError(f"{path}: can't open it ({exc.strerror})") from exc
    if not head.strip():
        raise InputError(f"{path}: the file is empty")
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(path)
    if head.startswith(OLE2_MAGIC):
        return _ole_kind(path, head)
    return _text_kind(path, head)


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: the workbook is damaged ({exc}); open and re-save it") from exc
    if "xl/workbook.xml" in names:
        return "xlsx"
    if b"opendocument.spreadsheet" in mimetype:
        return "ods"
    if "word/document.xml" in names:
        raise InputError(f"{path}: is a Word document, not a spreadsheet")
    raise InputError(f"{path}: is a zip archive, not a spreadsheet")


def _ole_kind(path: Path, head: bytes) -> str:
    with path.open("rb") as handle:
        content = handle.read(1 << 20)
    if "EncryptionInfo".encode("utf-16-le") in content:
        raise InputError(
            f"{path}: the workbook is password-protected; save a copy without a password"
        )
    return "xls"


def _text_kind(path: Path, head: bytes) -> str:
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")):
        raise InputError(
            f"{path}: is a web page (HTML) saved with a spreadsheet's name, not a real "
            "spreadsheet; open it in Excel and save it as .xlsx or CSV"
        )
    if lowered.startswith(b"<?xml"):
        raise InputError(
            f"{path}: is an XML file (perhaps 'XML Spreadsheet 2003'), not a real "
            "spreadsheet; open it in Excel and save it as .xlsx or CSV"
        )
    if b"\x00" in head and not _utf16(head):
        raise InputError(f"{path}: is a binary file, not a spreadsheet or CSV")
    return "text"


def _utf16(head: bytes) -> bool:
    return head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(0) > len(head) // 4
