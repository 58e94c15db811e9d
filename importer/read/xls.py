"""The legacy .xls reader (BIFF, Excel 97-2003), through xlrd.

xlrd gives a formula's cached value, numbers as floats, dates as numbers with a date format
(turned here into date, datetime or time), and merged ranges (with formatting_info).
Error cells (``#N/A``) are read as empty, as the .xlsx reader does.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models import Cell
from .limits import Limits
from .workbook import Row, Sheet, exact, non_blank, sheet_where

XL_CELL_TEXT, XL_CELL_NUMBER, XL_CELL_DATE, XL_CELL_BOOLEAN = 1, 2, 3, 4


def open_xls(path: Path, limits: Limits) -> XlsBook:
    """Open the workbook; sheets are parsed when loaded."""
    import xlrd

    try:
        book = xlrd.open_workbook(
            str(path), on_demand=True, formatting_info=True, ragged_rows=True, logfile=io.StringIO()
        )
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise InputError(
                f"{path}: the workbook is password-protected; open it, remove the password "
                "and save a copy"
            ) from exc
        raise _damaged(path, exc) from exc
    except Exception as exc:  # xlrd is untyped and raises anything on a damaged file
        raise _damaged(path, exc) from exc
    return XlsBook(path, book, limits)


def _damaged(path: Path, exc: BaseException) -> InputError:
    return InputError(
        f"{path}: can't read this .xls file ({str(exc) or type(exc).__name__}); open it in Excel "
        "and save it as .xlsx"
    )


class XlsBook:
    """An open .xls workbook."""

    def __init__(self, path: Path, book: Any, limits: Limits) -> None:
        self._path, self._book, self._limits = path, book, limits
        self.names: list[str] = list(book.sheet_names())
        visibility = getattr(book, "_sheet_visibility", [])
        self.hidden = {n for n, v in zip(self.names, visibility, strict=False) if v}

    def load(self, name: str) -> Sheet:
        """Parse one sheet."""
        where = sheet_where(self._path, name)
        try:
            sheet = self._book.sheet_by_name(name)
        except Exception as exc:  # as in open_xls
            raise InputError(f"{where}: can't read it ({exc}); is the file damaged?") from exc
        self._limits.check_extent(where, sheet.nrows, max(sheet.ncols, 1))
        merged = tuple((r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in sheet.merged_cells)
        return Sheet(name, lambda: self._rows(sheet), merged)

    def close(self) -> None:
        """Let go of the file; parsed sheets stay readable."""
        self._book.release_resources()

    def _rows(self, sheet: Any) -> Iterator[Row]:
        for index in range(sheet.nrows):
            cells = [self._value(c) for c in sheet.row(index)]
            if non_blank(cells):
                yield index + 1, cells

    def _value(self, cell: Any) -> Cell:
        if cell.ctype in (XL_CELL_TEXT, XL_CELL_NUMBER):
            return exact(cell.value)
        if cell.ctype == XL_CELL_DATE:
            return _date(cell.value, self._book.datemode)
        if cell.ctype == XL_CELL_BOOLEAN:
            return bool(cell.value)
        return None  # empty, blank, or an error such as #N/A


def _date(value: float, datemode: int) -> Cell:
    """An Excel date number: a date at midnight, a time below 1, else a datetime."""
    import xlrd

    try:
        moment: dt.datetime = xlrd.xldate.xldate_as_datetime(value, datemode)
    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
        return exact(value)
    if 0 <= value < 1:
        return moment.time()
    return moment.date() if moment.time() == dt.time() else moment
