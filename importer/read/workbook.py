"""Workbooks of any format: which sheet to read, and cell values as the tool keeps them.

Each format has its module (``xlsx``: .xlsx/.xlsm through python-calamine, ``xls``: .xls
through xlrd, ``ods``: .ods streamed with expat); each opens a :class:`Book`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import InputError
from ..models import Cell, is_blank

#: Whole numbers up to this are exact in a double, which is all Excel stores.
EXACT_INT_LIMIT = 2**53

#: One row as read: its number as the user sees it (from 1) and its cells from column A.
Row = tuple[int, list[Cell]]
Merged = tuple[int, int, int, int]  # (row0, col0, row1, col1), 0-based, inclusive


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name, a fresh pass over its non-blank rows, its merged ranges."""

    name: str
    rows: Callable[[], Iterator[Row]]
    merged: tuple[Merged, ...] = ()

    def has_data(self) -> bool:
        """True when any cell of the sheet holds a value."""
        return next(self.rows(), None) is not None


class Book(Protocol):
    """An open workbook: its worksheets' names, which are hidden, and a way to read one."""

    @property
    def names(self) -> list[str]:
        """Every worksheet's name, in workbook order."""

    @property
    def hidden(self) -> set[str]:
        """The names of the hidden sheets."""

    def load(self, name: str) -> Sheet:
        """Read one worksheet."""

    def close(self) -> None:
        """Let go of the file; sheets already loaded stay readable."""


def read_sheet(
    path: Path, book: Book, wanted: str | None, usable: Callable[[Sheet], bool]
) -> tuple[Sheet, str]:
    """The sheet the user named, else the first usable one (visible sheets first), else the
    first that holds data; and a note saying which."""
    try:
        names = book.names
        if not names:
            raise InputError(f"{path}: the workbook has no worksheets")
        if wanted is not None:
            sheet = book.load(pick(path, names, wanted))
            return sheet, f"sheet {sheet.name!r} used"
        return _first_usable(path, book, names, usable)
    finally:
        book.close()


def _first_usable(
    path: Path, book: Book, names: list[str], usable: Callable[[Sheet], bool]
) -> tuple[Sheet, str]:
    order = [n for n in names if n not in book.hidden] + [n for n in names if n in book.hidden]
    with_data: Sheet | None = None
    for name in order:
        sheet = book.load(name)
        if sheet.has_data():
            if usable(sheet):
                return sheet, _note(sheet.name, names)
            with_data = with_data or sheet
    if with_data is None:
        listed = ", ".join(map(repr, names))
        raise InputError(f"{path}: every sheet is empty ({listed}); is it the right file?")
    return with_data, _note(with_data.name, names)


def _note(name: str, names: Sequence[str]) -> str:
    if len(names) == 1:
        return f"sheet {name!r} used"
    listed = ", ".join(map(repr, names))
    return f"sheet {name!r} used, of {listed} (choose another with --sheet)"


def pick(path: Path, names: Sequence[str], wanted: str) -> str:
    """The sheet --sheet means: its exact name, its name in any case, or its 1-based number."""
    exact = [n for n in names if n == wanted]
    loose = [n for n in names if n.strip().casefold() == wanted.strip().casefold()]
    if exact or loose:
        return (exact or loose)[0]
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(names):
        return names[int(wanted) - 1]
    listed = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names, start=1))
    raise InputError(
        f"{path}: no sheet {wanted!r}; the workbook has {listed}. "
        "Give --sheet one of these names or numbers"
    )


def exact(value: Any) -> Cell:
    """A spreadsheet value as the tool keeps it: whole floats become ints, blanks None."""
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < EXACT_INT_LIMIT:
            return int(value)
        return value
    if isinstance(value, str):
        return value or None
    if value is None or isinstance(value, int | dt.date | dt.time):
        return value
    return str(value)


def non_blank(cells: Sequence[Cell]) -> bool:
    """True when any cell holds a value."""
    return not all(is_blank(c) for c in cells)


def sheet_where(path: Path | str, name: str) -> str:
    """The file and sheet, for messages."""
    return f"{path}, sheet {name!r}"
