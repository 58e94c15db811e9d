"""Read stage: a file of any supported kind -> a Table (header, columns, rows as a stream)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path

from ..errors import InputError
from ..models import Cell
from . import text, workbook
from .sniff import file_kind
from .table import Table, build_table

__all__ = ["Table", "open_table"]


def open_table(path: Path, *, sheet: str | None = None, phone_column: str | None = None) -> Table:
    """Open a spreadsheet or delimited text file as a Table of contacts."""
    kind = file_kind(path)
    if kind == "text":
        if sheet is not None:
            raise InputError(f"{path}: --sheet applies to workbooks; this is a text file")
        fmt = text.detect_format(path)
        return build_table(
            path,
            None,
            partial(text.read_rows, path, fmt),
            phone_column=phone_column,
            notes=[f"read as {_delimiter_name(fmt.delimiter)}-separated {fmt.encoding} text"],
        )
    found = workbook.read_sheet(path, kind, sheet)
    if not found.rows:
        raise InputError(f"{path}, sheet {found.name!r}: the sheet is empty")
    return build_table(
        path,
        found.name,
        partial(_replay, found.rows),
        phone_column=phone_column,
        merged=found.merged,
        notes=[f"sheet {found.name!r} used"],
    )


def _replay(rows: Sequence[tuple[int, list[Cell]]]) -> Iterable[tuple[int, list[Cell]]]:
    return rows


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[delimiter]
