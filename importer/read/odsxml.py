"""content.xml of an .ods, event by event: sheets, rows and cells with their true positions."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import InputError
from ..models import Cell, column_letter, is_blank
from .limits import Limits
from .workbook import Merged, Row, exact, sheet_where

TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0 "
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0 "
CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0 "
#: LibreOffice's widest sheet; a value beyond it is not from a real spreadsheet.
MAX_COLUMNS = 16384
#: Merged ranges kept per sheet (they only name header columns).
MAX_MERGES = 10_000
_DURATION = re.compile(r"P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?")

Attributes = dict[str, str]


@dataclass
class OdsSheet:
    """One table of the document: its rows that hold values, and its merged ranges."""

    rows: list[Row] = field(default_factory=list)
    merged: list[Merged] = field(default_factory=list)


class OdsContent:
    """An expat handler: feed it content.xml, then read ``sheets`` and ``hidden``."""

    def __init__(self, path: str, limits: Limits) -> None:
        self.sheets: dict[str, OdsSheet] = {}
        self.hidden: set[str] = set()
        self._path, self._limits = path, limits
        self._hidden_styles: set[str] = set()
        self._style: str | None = None
        self._sheet: OdsSheet | None = None
        self._where = path
        self._nested = self._ignored = self._stored = 0
        self._row: list[Cell] | None = None
        self._row_number = self._repeat = self._column = 0
        self._cell: Attributes | None = None
        self._covered = False
        self._paragraphs: list[list[str]] = []
        self._starts: dict[str, Callable[[Attributes], None]] = {
            STYLE + "style": self._start_style,
            STYLE + "table-properties": self._start_table_properties,
            TABLE + "table": self._start_table,
            TABLE + "table-row": self._start_row,
            TABLE + "table-cell": self._start_cell,
            TABLE + "covered-table-cell": self._start_covered,
            TEXT + "p": self._start_paragraph,
            TEXT + "h": self._start_paragraph,
            TEXT + "s": self._spaces,
            TEXT + "tab": lambda _: self.text("\t"),
            TEXT + "line-break": lambda _: self.text("\n"),
            OFFICE + "annotation": self._start_ignored,
        }
        self._ends: dict[str, Callable[[], None]] = {
            TABLE + "table": self._end_table,
            TABLE + "table-row": self._end_row,
            TABLE + "table-cell": self._end_cell,
            TABLE + "covered-table-cell": self._end_cell,
            OFFICE + "annotation": self._end_ignored,
        }

    def start(self, name: str, attributes: Attributes) -> None:
        """An element opens."""
        handler = self._starts.get(name)
        if handler is not None:
            handler(attributes)

    def end(self, name: str) -> None:
        """An element closes."""
        handler = self._ends.get(name)
        if handler is not None:
            handler()

    def text(self, data: str) -> None:
        """Characters: kept when they belong to a paragraph of a cell."""
        if self._cell is not None and self._paragraphs and not self._ignored:
            self._paragraphs[-1].append(data)

    def _start_style(self, attributes: Attributes) -> None:
        family = attributes.get(STYLE + "family")
        self._style = attributes.get(STYLE + "name") if family == "table" else None

    def _start_table_properties(self, attributes: Attributes) -> None:
        if self._style and attributes.get(TABLE + "display") == "false":
            self._hidden_styles.add(self._style)

    def _start_table(self, attributes: Attributes) -> None:
        if self._sheet is not None:
            self._nested += 1
            return
        name = attributes.get(TABLE + "name") or f"Sheet{len(self.sheets) + 1}"
        while name in self.sheets:
            name += " (2)"
        self._sheet = self.sheets[name] = OdsSheet()
        self._where, self._row_number = sheet_where(self._path, name), 0
        if attributes.get(TABLE + "style-name") in self._hidden_styles:
            self.hidden.add(name)

    def _end_table(self) -> None:
        if self._nested:
            self._nested -= 1
        else:
            self._sheet = None

    def _start_row(self, attributes: Attributes) -> None:
        if self._sheet is not None and not self._nested:
            self._row, self._column = [], 0
            self._repeat = _count(attributes.get(TABLE + "number-rows-repeated"))

    def _end_row(self) -> None:
        row, sheet = self._row, self._sheet
        if row is None or sheet is None or self._nested:
            return
        if row:
            self._store(sheet, row)
        self._row_number += self._repeat
        self._row = None

    def _store(self, sheet: OdsSheet, row: list[Cell]) -> None:
        last = self._row_number + self._repeat
        self._limits.check_rows(self._where, last)
        self._stored += len(row) + self._repeat
        self._limits.check_cells(self._where, self._stored)
        sheet.rows.extend((number, row) for number in range(self._row_number + 1, last + 1))

    def _start_cell(self, attributes: Attributes) -> None:
        if self._row is not None and not self._nested:
            self._cell, self._covered, self._paragraphs = attributes, False, []

    def _start_covered(self, attributes: Attributes) -> None:
        self._start_cell(attributes)
        self._covered = self._cell is not None

    def _end_cell(self) -> None:
        cell, row = self._cell, self._row
        if cell is None or row is None or self._nested:
            return
        repeat = _count(cell.get(TABLE + "number-columns-repeated"))
        self._merge(cell)
        value = None if self._covered else cell_value(cell, self._paragraphs)
        if not is_blank(value):
            self._place(row, value, repeat)
        self._column += repeat
        self._cell = None

    def _place(self, row: list[Cell], value: Cell, repeat: int) -> None:
        if self._column + repeat > MAX_COLUMNS:
            raise InputError(
                f"{self._where}, row {self._row_number + 1}: values reach past column "
                f"{column_letter(MAX_COLUMNS - 1)}, wider than any spreadsheet; "
                "this file was not saved by a spreadsheet program. Ask for it again"
            )
        row.extend([None] * (self._column - len(row)))
        row.extend([value] * repeat)

    def _merge(self, cell: Attributes) -> None:
        across = _count(cell.get(TABLE + "number-columns-spanned"))
        down = _count(cell.get(TABLE + "number-rows-spanned"))
        sheet = self._sheet
        if (across > 1 or down > 1) and sheet is not None and len(sheet.merged) < MAX_MERGES:
            top, left = self._row_number, self._column
            sheet.merged.append((top, left, top + down - 1, left + across - 1))

    def _start_paragraph(self, _: Attributes) -> None:
        if self._cell is not None and not self._ignored:
            self._paragraphs.append([])

    def _spaces(self, attributes: Attributes) -> None:
        self.text(" " * min(_count(attributes.get(TEXT + "c")), 1000))

    def _start_ignored(self, _: Attributes) -> None:
        self._ignored += 1

    def _end_ignored(self) -> None:
        self._ignored -= 1


def _count(value: str | None) -> int:
    """A repeat or span count: at least 1; absurd ones stay absurd, for the limits to refuse."""
    if not value or not value.strip().isdigit():
        return 1
    return max(1, int(value)) if len(value) <= 12 else 10**12


def cell_value(cell: Attributes, paragraphs: list[list[str]]) -> Cell:
    """A cell's value by its office:value-type; its text when the value can't be read."""
    text = "\n".join("".join(p) for p in paragraphs)
    if cell.get(CALCEXT + "value-type") == "error":
        return None
    kind = cell.get(OFFICE + "value-type")
    if kind in ("float", "percentage", "currency"):
        value = _number(cell.get(OFFICE + "value"))
    elif kind == "date":
        value = _date(cell.get(OFFICE + "date-value", ""))
    elif kind == "time":
        value = _time(cell.get(OFFICE + "time-value", ""))
    elif kind == "boolean":
        value = cell.get(OFFICE + "boolean-value", "").strip().lower() in ("true", "1")
    else:
        value = cell.get(OFFICE + "string-value") if kind == "string" else None
    return exact(text) if value is None else value


def _number(raw: str | None) -> Cell:
    try:
        number = float(raw or "")
    except ValueError:
        return None
    return exact(number) if math.isfinite(number) else None


def _date(raw: str) -> Cell:
    try:
        moment = dt.datetime.fromisoformat(raw.strip()).replace(tzinfo=None)
    except ValueError:
        return None
    if "T" not in raw or moment.time() == dt.time():
        return moment.date()
    return moment


def _time(raw: str) -> Cell:
    match = _DURATION.fullmatch(raw.strip())
    if not match or not raw.strip():
        return None
    days, hours, minutes, seconds = (float(g or 0) for g in match.groups())
    try:
        total = dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        return None
    if total >= dt.timedelta(days=1):
        return None
    return (dt.datetime.min + total).time()
