"""Normalise stage: phones to international integers (phones.py), field values to their
types, duplicates; in worker processes for large files."""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from .models import Cell, FieldColumn, PreparedRow, SourceRow, Status, cell_text, is_blank
from .phones import Phone, PhoneError, Region, is_no_phone, read_phone
from .regions import RegionColumn, country_of, has_phone_numbers, region_name
from .settings import BadValues, DateOrder

EXCEL_SERIAL_LIMIT = 2958465  # 9999-12-31
EXCEL_EPOCH = dt.date(1899, 12, 30)


class ValueProblem(ValueError):
    """A custom field value that doesn't fit its field's type."""


def normalise_value(cell: Cell, kind: str, date_order: DateOrder) -> str | None:
    """The value to send for a field of this type; None for an empty cell."""
    if is_blank(cell):
        return None
    if kind == "number":
        return _number(cell)
    if kind == "date":
        return _date(cell, date_order).isoformat()
    return cell_text(cell).strip()


_NUMBER = re.compile(r"^[+-]?(\d+|\d{1,3}(?:[ \u00a0\u202f']\d{3})+)(?:[.,](\d+))?$")


def _number(cell: Cell) -> str:
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return cell_text(cell)
    text = cell_text(cell).strip()
    match = _NUMBER.match(text)
    if not match:
        raise ValueProblem(f"{text!r} is not a number")
    whole = re.sub(r"[ \u00a0\u202f']", "", text.split(",")[0].split(".")[0])
    return whole + (f".{match.group(2)}" if match.group(2) else "")


_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_YEAR_LAST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_NAMED_MONTH = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y")


def _date(cell: Cell, date_order: DateOrder) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return _excel_serial(cell)
    text = cell_text(cell).strip()
    if re.fullmatch(r"\d{1,7}(\.\d+)?", text):
        return _excel_serial(float(text))
    day = text.split(" ")[0] if re.match(r"^\d", text) and ":" in text else text
    found = _numeric_date(day, date_order)
    if found is not None:
        return found
    for fmt in _NAMED_MONTH if not day[:1].isdigit() or " " in day else ():
        try:
            return dt.datetime.strptime(day, fmt).date()
        except ValueError:
            continue
    other: DateOrder = "mdy" if date_order == "dmy" else "dmy"
    hint = f"; read {date_order} (see --date-order {other})" if _numeric_date(day, other) else ""
    raise ValueProblem(f"{text!r} is not a date{hint}")


def _numeric_date(text: str, date_order: DateOrder) -> dt.date | None:
    """2026-11-22, 2026/11/22, or 22.11.2026 / 11/22/2026 as ``date_order`` says."""
    if match := _YEAR_FIRST.fullmatch(text):
        year, month, day = map(int, match.groups())
    elif match := _YEAR_LAST.fullmatch(text):
        first, second, year = map(int, match.groups())
        day, month = (first, second) if date_order == "dmy" else (second, first)
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _excel_serial(value: float) -> dt.date:
    if not 1 <= value <= EXCEL_SERIAL_LIMIT or value != int(value):
        raise ValueProblem(f"{cell_text(value)!r} is not a date")
    return EXCEL_EPOCH + dt.timedelta(days=int(value))


class Normaliser:
    """Turns one SourceRow into a PreparedRow: invalid, or ready to send. Holds no state."""

    def __init__(
        self,
        phone_index: int | Sequence[int],
        field_columns: Sequence[FieldColumn],
        *,
        region: str | None,
        region_column: RegionColumn | None = None,
        date_order: DateOrder = "dmy",
        bad_values: BadValues = "reject",
    ) -> None:
        #: The phone columns in the order a row looks for its number (--phone-column, repeated).
        self.phone_indexes = (phone_index,) if isinstance(phone_index, int) else tuple(phone_index)
        self.phone_index = self.phone_indexes[0]
        self.field_columns = tuple(field_columns)
        self.region = region
        #: The column of each row's country; its empty cells take ``region``.
        self.region_column = region_column
        self.date_order: DateOrder = date_order
        self.bad_values = bad_values

    def prepare(self, row: SourceRow) -> PreparedRow:
        """Check the phone and the field values of one row."""
        region = self._region(row)
        try:
            phone = self._phone(row, region)
        except PhoneError as problem:
            return PreparedRow(row.number, None, status=Status.INVALID, error=str(problem))
        fields, problems = self._fields(row)
        if problems and self.bad_values == "reject":
            return PreparedRow(
                row.number, phone.number, status=Status.INVALID, error="; ".join(problems)
            )
        notes = [region.unknown, phone.note, *(f"{p} (left out)" for p in problems)]
        error = "; ".join(n for n in notes if n)
        return PreparedRow(row.number, phone.number, fields=fields, error=error)

    def _region(self, row: SourceRow) -> Region:
        """The region of the row's digits alone: its country cell's, else --default-region."""
        if self.region_column is None:
            return Region(self.region)
        column = self.region_column.name
        cell = row.cells[self.region_column.index]
        if is_blank(cell):
            return Region(self.region)
        code = country_of(cell)
        named = f"{column} {cell_text(cell).strip()!r}"
        if code is None:
            return Region(None, column, f"{named} names no country")
        if not has_phone_numbers(code):
            return Region(None, column, f"{named}: {region_name(code)} has no phone numbers")
        return Region(code, column)

    def _phone(self, row: SourceRow, region: Region) -> Phone:
        """The first phone column that holds a valid number; else why the first that holds
        anything is not one."""
        problem: PhoneError | None = None
        for index in self.phone_indexes:
            cell = row.cells[index]
            if len(self.phone_indexes) > 1 and is_no_phone(cell):
                continue
            try:
                return read_phone(cell, region)
            except PhoneError as error:
                problem = problem or error
        raise problem or PhoneError("no phone number")

    def prepare_all(self, rows: Sequence[SourceRow]) -> list[PreparedRow]:
        """prepare() for a chunk of rows: the unit of work of a worker process."""
        return [self.prepare(row) for row in rows]

    def _fields(self, row: SourceRow) -> tuple[tuple[tuple[int, str], ...], list[str]]:
        values: list[tuple[int, str]] = []
        problems: list[str] = []
        for column in self.field_columns:
            try:
                value = normalise_value(row.cells[column.index], column.field.type, self.date_order)
            except ValueProblem as problem:
                problems.append(f"{column.column}: {problem}")
                continue
            if value is not None:
                values.append((column.field.id, value))
        return tuple(values), problems


class Duplicates:
    """Remembers the first row of every phone ready to send; later rows are duplicates."""

    def __init__(self) -> None:
        self.first_row: dict[int, int] = {}

    def mark(self, row: PreparedRow) -> PreparedRow:
        """The row itself, or a duplicate of the first row with its phone."""
        if row.status is not None or row.phone is None:
            return row
        first = self.first_row.setdefault(row.phone, row.source_row)
        if first == row.source_row:
            return row
        return PreparedRow(
            row.source_row,
            row.phone,
            status=Status.DUPLICATE,
            error=f"same phone as row {first}",
            duplicate_of=first,
        )


def prepare_rows(
    chunks: Iterable[Sequence[SourceRow]], normaliser: Normaliser, *, workers: int = 0
) -> Iterator[tuple[Sequence[SourceRow], list[PreparedRow]]]:
    """Normalise chunks of rows in order, in ``workers`` processes (0: in this one).

    At most two chunks per worker are read ahead, so memory stays flat.
    """
    duplicates = Duplicates()
    if not workers:
        for chunk in chunks:
            yield chunk, [duplicates.mark(normaliser.prepare(r)) for r in chunk]
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        ahead: deque[tuple[Sequence[SourceRow], Future[list[PreparedRow]]]] = deque()
        for chunk in chunks:
            ahead.append((chunk, pool.submit(normaliser.prepare_all, chunk)))
            if len(ahead) > 2 * workers:
                done, future = ahead.popleft()
                yield done, [duplicates.mark(r) for r in future.result()]
        while ahead:
            done, future = ahead.popleft()
            yield done, [duplicates.mark(r) for r in future.result()]
