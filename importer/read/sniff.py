"""What a file really is, from its content, whatever its extension says."""

from __future__ import annotations

import codecs
import io
import mmap
import zipfile
from pathlib import Path

from ..errors import InputError
from .zipguard import ZIP_ERRORS, damaged, open_zip

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
SUFFIXES = TEXT_SUFFIXES | WORKBOOK_SUFFIXES
#: The kind each extension promises, to tell the user when the content says otherwise.
PROMISED = {**dict.fromkeys(TEXT_SUFFIXES, "text"), ".xlsx": "xlsx", ".xlsm": "xlsx"}
PROMISED |= {".xls": "xls", ".ods": "ods"}
KIND_NAMES = {"text": "delimited text", "xlsx": "an .xlsx workbook", "xls": "an .xls workbook"}
KIND_NAMES |= {"ods": "an .ods workbook"}
_BINARY = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"PK\x05\x06": "an empty zip archive",
    b"{\\rtf": "a rich-text (RTF) document",
}
_SAVE_AS = "open it in Excel or LibreOffice and save it as .xlsx or CSV"


def file_kind(path: Path) -> str:
    """One of "text", "xlsx", "xls", "ods"; refuses what can't be read, saying what it is."""
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(sorted(SUFFIXES))}"
        )
    head = _head(path)
    if not head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n"):
        raise InputError(f"{path}: the file is empty")
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(path)
    if head.startswith(OLE2_MAGIC):
        return _ole_kind(path)
    for magic, what in _BINARY.items():
        if head.startswith(magic):
            raise InputError(f"{path}: is {what}, not a spreadsheet; {_SAVE_AS}")
    return _text_kind(path, head)


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(4096)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file; check the name and the folder") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a folder, not a file") from exc
    except OSError as exc:
        raise InputError(f"{path}: can't open it ({exc.strerror}); check its permissions") from exc


def _zip_kind(path: Path) -> str:
    with open_zip(path) as archive:
        names = {name.lower() for name in archive.namelist()}
        mimetype = _small_member(path, archive, "mimetype") if "mimetype" in names else b""
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "opendocument.spreadsheet" in mimetype.decode("ascii", "replace"):
        return "ods"
    if not mimetype and "content.xml" in names:
        return "ods"
    raise InputError(f"{path}: is {_zip_what(names, mimetype)}, not a spreadsheet; {_SAVE_AS}")


def _small_member(path: Path, archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        with archive.open(name) as member:
            return member.read(256)
    except (*ZIP_ERRORS, NotImplementedError, RuntimeError) as exc:
        raise damaged(path, exc) from exc


def _zip_what(names: set[str], mimetype: bytes) -> str:
    if "xl/workbook.bin" in names:
        return "an Excel binary workbook (.xlsb)"
    if b"opendocument.text" in mimetype:
        return "a text document (.odt)"
    if b"opendocument" in mimetype:
        return "an OpenDocument file of another kind"
    if "word/document.xml" in names:
        return "a Word document"
    if "ppt/presentation.xml" in names:
        return "a PowerPoint presentation"
    if "index/document.iwa" in names:
        return "an Apple Numbers file"
    return "a zip archive holding no workbook"


def _ole_kind(path: Path) -> str:
    streams = ole_streams(path)
    if streams & {"workbook", "book"}:
        return "xls"
    if streams & {"encryptioninfo", "encryptedpackage"}:
        raise InputError(
            f"{path}: the workbook is password-protected; open it, remove the password "
            "(File > Info > Protect Workbook) and save a copy"
        )
    if "worddocument" in streams:
        raise InputError(f"{path}: is a Word document, not a spreadsheet; {_SAVE_AS}")
    if "powerpoint document" in streams:
        raise InputError(f"{path}: is a PowerPoint presentation, not a spreadsheet")
    raise InputError(f"{path}: is an Office file that holds no workbook; {_SAVE_AS}")


def ole_streams(path: Path) -> set[str]:
    """The names (lower case) of the streams in an OLE2 compound file (.xls, .doc, ...)."""
    from xlrd.compdoc import CompDoc

    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mem:
        try:
            directory = CompDoc(mem, logfile=io.StringIO()).dirlist
        except Exception as exc:  # xlrd is untyped and raises anything on a damaged file
            raise damaged(path, exc) from exc
        return {str(node.name).lower() for node in directory}


def _text_kind(path: Path, head: bytes) -> str:
    lowered = _as_ascii(head).lstrip(b" \t\r\n").lower()
    if lowered.startswith(b"<"):
        raise InputError(f"{path}: is {_markup_what(lowered)}, not a real spreadsheet; {_SAVE_AS}")
    if lowered.startswith(b"mime-version:"):
        raise InputError(f"{path}: is a web archive (.mht), not a real spreadsheet; {_SAVE_AS}")
    if b"\x00" in head and not _utf16(head):
        raise InputError(f"{path}: is a binary file, not a spreadsheet or CSV; {_SAVE_AS}")
    return "text"


def _markup_what(lowered: bytes) -> str:
    if any(tag in lowered for tag in (b"<html", b"<table", b"<body", b"<!doctype html")):
        return "a web page (HTML) saved with a spreadsheet's name"
    if b"urn:schemas-microsoft-com:office:spreadsheet" in lowered or b"<workbook" in lowered:
        return "an 'XML Spreadsheet 2003' file"
    return "an XML or HTML file"


def _as_ascii(head: bytes) -> bytes:
    """The head as ASCII bytes, decoding UTF-16 first, for looking at its first characters."""
    if _utf16(head):
        bom = head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        text = head.decode("utf-16" if bom else _utf16_order(head), "ignore")
        return text.encode("ascii", "ignore")
    return head.removeprefix(codecs.BOM_UTF8)


def _utf16(head: bytes) -> bool:
    return head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(0) > len(head) // 4


def _utf16_order(head: bytes) -> str:
    return "utf-16-le" if head[1::2].count(0) > head[::2].count(0) else "utf-16-be"
