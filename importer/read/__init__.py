"""Read stage: a file of any supported kind -> a Table (header, columns, rows as a stream).

open_table
├── sniff      what the file really is, whatever its extension says
├── text       .csv/.tsv/.txt: encoding and delimiter, rows streamed
├── workbook   which sheet; cell values       ├── xlsx  python-calamine
│                                             ├── xls   xlrd
│                                             └── ods   expat (odsxml)
├── zipguard   zip bombs, DTDs, sheet extents, before any .xlsx/.ods parser runs
├── xmlscan    zipguard's scanners of raw worksheet XML (cell extents, declared strings)
├── limits     how big a file may be
└── table      the header row (header), column names, the phone column

dataframe      a pandas DataFrame -> a Table, for import_frame (no file to open)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..errors import InputError
from . import text
from .header import find_header
from .limits import MAX_ROWS, MAX_UNPACKED_BYTES, Limits
from .ods import open_ods
from .sniff import KIND_NAMES, PROMISED, file_kind
from .table import Table, build_table
from .workbook import Book, Sheet, read_sheet, sheet_where
from .xls import open_xls
from .xlsx import open_xlsx

__all__ = ["Detected", "Table", "detect", "open_table", "phone_columns"]

_OPENERS: dict[str, Callable[[Path, Limits], Book]] = {
    "xlsx": open_xlsx,
    "xls": open_xls,
    "ods": open_ods,
}


def open_table(
    path: Path,
    *,
    sheet: str | None = None,
    phone_column: str | Sequence[str] | None = None,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    max_rows: int = MAX_ROWS,
    region: str | None = None,
    region_column: str | None = None,
) -> Table:
    """Open a spreadsheet or delimited text file as a Table of contacts.

    ``phone_column``: the phone columns in the order a row looks for its number (default:
    the one the header and cells show); ``region``: --default-region, to tell which column
    holds valid numbers; ``region_column``: the column of each row's country (None:
    detected; ``none``: no column).

    Raises InputError, naming the file (and sheet, row, column) and what to do, for a file
    that can't be read: missing, damaged, protected, hostile, too large, or without a
    header or a phone column.
    """
    limits = Limits(max_unpacked_bytes=max_unpacked_bytes, max_rows=max_rows)
    phones = phone_columns(phone_column)
    kind = file_kind(path)
    notes = _kind_notes(path, kind)
    if kind == "text":
        return _text_table(path, sheet, phones, limits, notes, region, region_column)
    book: Book = _OPENERS[kind](path, limits)
    found, note = read_sheet(path, book, sheet, partial(_has_header, path, phones))
    return build_table(
        path,
        found.name,
        found.rows,
        phone_column=phones,
        merged=found.merged,
        notes=[*notes, note],
        limits=limits,
        region=region,
        region_column=region_column,
    )


def phone_columns(named: str | Sequence[str] | None) -> tuple[str, ...]:
    """--phone-column as a tuple of names: none, one, or several in order."""
    if named is None:
        return ()
    return (named,) if isinstance(named, str) else tuple(named)


@dataclass(frozen=True)
class Detected:
    """What a file is, as the reader sees it before choosing a sheet."""

    kind: str  # a key of KIND_NAMES: text, xlsx, xls or ods
    encoding: str | None = None  # text only
    delimiter: str | None = None  # text only, in words: comma, semicolon, tab, pipe
    sheets: tuple[str, ...] = ()  # workbooks only, visible ones first

    @property
    def kind_name(self) -> str:
        """The kind in words: "an .xlsx workbook"."""
        return KIND_NAMES[self.kind]


def detect(path: Path, *, max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> Detected:
    """The file's kind and, for text, encoding and delimiter; for a workbook, its sheets.

    The same guards as open_table run first (a zip bomb is refused here too).
    """
    kind = file_kind(path)
    if kind == "text":
        fmt = text.detect_format(path)
        return Detected(kind, fmt.encoding, _delimiter_name(fmt.delimiter))
    book = _OPENERS[kind](path, Limits(max_unpacked_bytes=max_unpacked_bytes))
    try:
        names, hidden = book.names, book.hidden
    finally:
        book.close()
    ordered = [n for n in names if n not in hidden] + [n for n in names if n in hidden]
    return Detected(kind, sheets=tuple(ordered))


def _text_table(
    path: Path,
    sheet: str | None,
    phone_column: tuple[str, ...],
    limits: Limits,
    notes: list[str],
    region: str | None,
    region_column: str | None,
) -> Table:
    if sheet is not None:
        raise InputError(f"{path}: --sheet applies to workbooks; this is a text file. Drop it")
    fmt = text.detect_format(path)
    described = f"read as {_delimiter_name(fmt.delimiter)}-separated {fmt.encoding} text"
    return build_table(
        path,
        None,
        partial(text.read_rows, path, fmt),
        phone_column=phone_column,
        notes=[*notes, described],
        limits=limits,
        region=region,
        region_column=region_column,
    )


def _has_header(path: Path, phone_column: tuple[str, ...], sheet: Sheet) -> bool:
    """True when the sheet has a header row naming a phone column."""
    try:
        find_header(sheet_where(path, sheet.name), sheet.rows, phone_column)
    except InputError:
        return False
    return True


def _kind_notes(path: Path, kind: str) -> list[str]:
    promised = PROMISED.get(path.suffix.lower())
    if promised is None or promised == kind:
        return []
    return [f"{path.name} is {KIND_NAMES[kind]} despite its name; read as such"]


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[delimiter]
