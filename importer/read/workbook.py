"""Workbooks: .xlsx/.xlsm through python-calamine, .xls through xlrd, .ods through odfpy."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models import Cell

#: Whole numbers up to this are exact in a double, which is all Excel stores.
EXACT_INT_LIMIT = 2**53

Grid = list[tuple[int, list[Cell]]]


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet read whole: its name and its non-empty rows with their numbers."""

    name: str
    rows: Grid
    merged: tuple[tuple[int, int, int, int], ...] = ()  # (row0, col0, row1, col1), 0-based


def read_sheet(path: Path, kind: str, wanted: str | None) -> Sheet:
    """Read the sheet the user named, or the first that holds data."""
    names, load = _opener(kind)(path)
    if wanted is not None:
        return load(_pick(path, names, wanted))
    for name in names:
        sheet = load(name)
        if sheet.rows:
            return sheet
    return load(names[0]) if names else Sheet("", [])


def _pick(path: Path, names: Sequence[str], wanted: str) -> str:
    exact = [n for n in names if n == wanted]
    loose = [n for n in names if n.strip().casefold() == wanted.strip().casefold()]
    if exact or loose:
        return (exact or loose)[0]
    if wanted.isdigit() and 1 <= int(wanted) <= len(names):
        return names[int(wanted) - 1]
    listed = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names, start=1))
    raise InputError(f"{path}: no sheet {wanted!r}; the workbook has {listed}")


Opener = Callable[[Path], tuple[list[str], Callable[[str], Sheet]]]


def _opener(kind: str) -> Opener:
    return {"xlsx": _open_calamine, "xls": _open_xls, "ods": _open_ods}[kind]


def exact(value: Any) -> Cell:
    """A spreadsheet value as the tool keeps it: whole floats become ints, blanks None."""
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < EXACT_INT_LIMIT:
            return int(value)
        return value
    if isinstance(value, str):
        return value if value else None
    if value is None or isinstance(value, int | bool | dt.date | dt.time):
        return value
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _non_empty(rows: Any) -> Grid:
    grid: Grid = []
    for number, row in enumerate(rows, start=1):
        cells = [exact(v) for v in row]
        if any(c is not None and not (isinstance(c, str) and not c.strip()) for c in cells):
            grid.append((number, cells))
    return grid


def _open_calamine(path: Path) -> tuple[list[str], Callable[[str], Sheet]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own untyped errors
        raise InputError(f"{path}: can't open the workbook ({exc}); is it damaged?") from exc

    def load(name: str) -> Sheet:
        try:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            merged = tuple(
                (start[0], start[1], end[0], end[1])
                for start, end in sheet.merged_cell_ranges or ()
            )
        except Exception as exc:
            raise InputError(f"{path}, sheet {name!r}: can't read it ({exc})") from exc
        return Sheet(name, _non_empty(rows), merged)

    names = [m.name for m in book.sheets_metadata if str(m.typ).endswith("WorkSheet")]
    return names, load


def _open_xls(path: Path) -> tuple[list[str], Callable[[str], Sheet]]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise InputError(
                f"{path}: the workbook is password-protected; save a copy without a password"
            ) from exc
        raise InputError(f"{path}: can't read this .xls file ({exc})") from exc

    def value(cell: Any) -> Cell:
        if cell.ctype == xlrd.XL_CELL_DATE:
            moment: dt.datetime = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
            return moment.date() if moment.time() == dt.time() else moment
        if cell.ctype == xlrd.XL_CELL_BOOLEAN:
            return bool(cell.value)
        if cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        result: Cell = exact(cell.value)
        return result

    def load(name: str) -> Sheet:
        sheet = book.sheet_by_name(name)
        rows = ([value(c) for c in sheet.row(r)] for r in range(sheet.nrows))
        merged = tuple((r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in sheet.merged_cells)
        return Sheet(name, _non_empty(rows), merged)

    return list(book.sheet_names()), load


def _open_ods(path: Path) -> tuple[list[str], Callable[[str], Sheet]]:
    import pandas as pd

    try:
        frames: dict[str, Any] = pd.read_excel(
            path, sheet_name=None, header=None, dtype=object, engine="odf", na_filter=False
        )
    except Exception as exc:  # odfpy and pandas raise many kinds
        raise InputError(f"{path}: can't read this .ods file ({exc})") from exc

    def load(name: str) -> Sheet:
        rows = (
            [None if isinstance(v, str) and v == "" else v for v in row]
            for row in frames[name].itertuples(index=False, name=None)
        )
        return Sheet(name, _non_empty(rows))

    return list(frames), load
