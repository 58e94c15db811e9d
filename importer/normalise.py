"""Normalise stage: phones to international integers, field values to their types, duplicates.

Phone rule (the contract's "Reading the file"): ``+`` or ``00`` starts an international
number. Digits alone are read, under a region (the row's own country, else
``--default-region``), as that region's number: national, or its country code followed by
a national number, as libphonenumber's parse for that region reads them. They are never
re-read as another country's number: a region's number is one of its calling code (under
US, a Canadian number dialled as from the US), and anything else is invalid in that
region's terms. Without a region, digits alone are international.

Whatever libphonenumber does not then call *valid* is invalid: a number that is merely
*possible* (right length, unknown range) would be stored by BSG and then fail every send,
so it is refused here where the user can still fix it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, ValidationResult

from .models import Cell, FieldColumn, PreparedRow, SourceRow, Status, cell_text, is_blank
from .regions import RegionColumn, country_of, has_phone_numbers, region_name
from .settings import BadValues, DateOrder

if hasattr(phonenumbers, "enable_pattern_cache"):  # phonenumbers >= 9: ~30% faster
    phonenumbers.enable_pattern_cache()

_SCIENTIFIC = re.compile(r"^\s*[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+\s*$")
#: Between the numbers of one cell: Google's " ::: ", a CRM's ", " or "; ", a line break.
_LIST_SEPARATORS = re.compile(r"\s*:::\s*|\s*[,;]\s*|\s*[\r\n]+\s*")
#: Joins that may also sit inside one number (030/1234567): never read as a list, but a cell
#: that is no number as a whole and is valid numbers on each side is told apart.
_OTHER_SEPARATORS = re.compile(r"\s*(?:/|\||\bor\b|\bи\b|\bта\b)\s*", re.IGNORECASE)
#: Cells that stand for "no phone": a placeholder, not a number that is wrong.
PLACEHOLDERS = frozenset({"-", "\u2014", "\u2013", "n/a", "none"})
#: A part of a cell with fewer digits is no number of its own (an extension, a word).
_NUMBER_DIGITS = 6
_DIGIT = re.compile(r"\d")
#: A number column saved as text by a program that thought it a float: 380671112233.0.
#: The digits are all there; only the ".0" is added.
_FLOAT_TEXT = re.compile(r"^(\+?\d{6,})\.0+$")
_TEL_PREFIX = re.compile(r"^\s*tel:", re.IGNORECASE)
_LEADING_00 = re.compile(r"^\s*00(?=[\s(]*[1-9])")
#: A country code in brackets, with its "+" or "00" inside them: (+44) 7400…, (00 380) 50….
_BRACKETED_CODE = re.compile(r"^\s*\(\s*(?:\+|00)\s*([1-9][\d\s]*)\)")
#: What comes before the number itself, as libphonenumber skips it ("Tel. ", "(").
_BEFORE_NUMBER = re.compile(r"^[^\d+\uff0b]*")
_NOT_POSSIBLE = {
    ValidationResult.TOO_SHORT: "is too short to be a phone number",
    ValidationResult.TOO_LONG: "is too long to be a phone number",
    ValidationResult.INVALID_COUNTRY_CODE: "starts with a country code that doesn't exist",
    ValidationResult.INVALID_LENGTH: "has the wrong number of digits for its country",
}
#: The same, said of a region's number.
_NOT_POSSIBLE_IN_REGION = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too short: is the area code missing?",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong number of digits",
}
NEEDS_PREFIX = "an international number needs + or 00"
EXCEL_SERIAL_LIMIT = 2958465  # 9999-12-31
EXCEL_EPOCH = dt.date(1899, 12, 30)


class PhoneError(ValueError):
    """Why a phone cell is not a phone number, in words a marketing person understands."""


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone as international digits, and a note on the cell (the other numbers in it)."""

    number: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class Region:
    """The region digits alone are read under, and where it comes from.

    ``code`` None: digits alone are international, unless ``unknown`` says why the row's
    region is not known (then they are invalid, never guessed).
    """

    code: str | None
    source: str = ""  # "billing_country", for messages; "" for --default-region
    unknown: str = ""


def normalise_phone(cell: Cell, region: str | Region | None) -> int:
    """The phone as international digits (the first of a cell's numbers), or PhoneError
    saying what is wrong with it."""
    return read_phone(cell, region).number


def read_phone(cell: Cell, region: str | Region | None) -> Phone:
    """The phone of a cell, with a note naming the other numbers the cell holds."""
    where = region if isinstance(region, Region) else Region(region)
    if is_no_phone(cell):
        raise PhoneError("no phone number")
    if isinstance(cell, (bool, dt.date | dt.time)):
        raise PhoneError(f"{cell_text(cell)!r} is not a phone number")
    if isinstance(cell, float):
        raise PhoneError(f"the phone cell holds a fraction ({cell_text(cell)}), not a phone number")
    text = _cell_phone_text(cell)
    parts = _numbers_in(_LIST_SEPARATORS, text)
    if len(parts) < 2:
        return Phone(_one_number(text, where))
    try:
        numbers = [_one_number(part, where) for part in parts]
    except PhoneError as problem:
        raise PhoneError(
            f"the cell holds {len(parts)} numbers and not each is a valid one: {problem}"
        ) from None
    others = ", ".join(parts[1:])
    return Phone(numbers[0], f"the cell also holds {others} (only its first number is imported)")


def is_no_phone(cell: Cell) -> bool:
    """True for an empty phone cell, or one that holds a placeholder (``-``, ``n/a``)."""
    if is_blank(cell):
        return True
    return isinstance(cell, str) and _cell_phone_text(cell).casefold() in PLACEHOLDERS


def _cell_phone_text(cell: Cell) -> str:
    """The cell's text, without the text marker ``'`` (Excel's, and this tool's CSV)."""
    return cell_text(cell).replace("\u00a0", " ").strip().removeprefix("'").strip()


def _numbers_in(separators: re.Pattern[str], text: str) -> list[str]:
    """The parts of ``text`` between ``separators`` that hold enough digits to be numbers."""
    return [p for p in separators.split(text) if len(_DIGIT.findall(p)) >= _NUMBER_DIGITS]


def _one_number(text: str, region: Region) -> int:
    _refuse_damaged(text)
    try:
        number = _parse(_FLOAT_TEXT.sub(r"\1", text), region)
    except PhoneError:
        _refuse_joined(text, region)
        raise
    # Not country_code + national_number: that int drops an Italian-style leading 0.
    return int(phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:])


def _refuse_damaged(text: str) -> None:
    if _SCIENTIFIC.match(text):
        raise PhoneError(
            f"{text!r} is in scientific notation: Excel rounded the number and its last "
            "digits are lost. Format the phone column as Text in the original file "
            "(or re-export it with phones as text) and import again"
        )
    if not _DIGIT.search(text):
        raise PhoneError(f"{text!r} is not a phone number")


def _refuse_joined(text: str, region: Region) -> None:
    """A cell that is no number as a whole, but valid numbers joined by ``/`` or "or"."""
    parts = _numbers_in(_OTHER_SEPARATORS, text)
    if len(parts) < 2:
        return
    try:
        for part in parts:
            _parse(part, region)
    except PhoneError:
        return
    raise PhoneError(f"the cell holds {len(parts)} phone numbers ({text}); put one per row")


def _parse(written: str, region: Region) -> PhoneNumber:
    text = _TEL_PREFIX.sub("", written)
    text = _BRACKETED_CODE.sub(lambda code: "+" + code.group(1).strip() + " ", text)
    text = _LEADING_00.sub("+", text)
    if _BEFORE_NUMBER.sub("", text).startswith(("+", "\uff0b")):
        return _international(text, written)
    if region.unknown:
        raise PhoneError(
            f"{written!r} has no country code, and {region.unknown}: write the country as its "
            "ISO code (AT) or English name, or the number with + or 00"
        )
    if region.code is None:
        return _international("+" + text, written)
    return _national(text, written, region)


def _international(text: str, written: str) -> PhoneNumber:
    try:
        number = phonenumbers.parse(text, None)
    except NumberParseException:
        raise PhoneError(_unparsable(written)) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(_why_invalid(number, written))
    return number


def _national(text: str, written: str, region: Region) -> PhoneNumber:
    """``region``'s number as libphonenumber's parse for it reads the digits; else, when they
    start with its country code, that code followed by a national number; never another
    calling code's."""
    assert region.code is not None
    code = phonenumbers.country_code_for_region(region.code)
    candidates: list[tuple[str, str | None]] = [(text, region.code)]
    if "".join(_DIGIT.findall(text)).startswith(str(code)):
        candidates.append(("+" + _BEFORE_NUMBER.sub("", text), None))
    first: PhoneNumber | None = None
    for candidate, candidate_region in candidates:
        try:
            number = phonenumbers.parse(candidate, candidate_region)
        except NumberParseException:
            continue
        if number.country_code != code:
            continue  # another country's international prefix (011 44… under US)
        if phonenumbers.is_valid_number(number):
            return number
        first = first or number
    raise PhoneError(_not_in_region(written, region, first))


def _not_in_region(written: str, region: Region, number: PhoneNumber | None) -> str:
    """Why digits are no number of ``region``, in that region's terms."""
    details = []
    if number is not None:
        reason = phonenumbers.is_possible_number_with_reason(number)
        details.append(_NOT_POSSIBLE_IN_REGION.get(reason, ""))
    if region.source:
        details.append(f"the region of the row's {region.source}")
    said = "; ".join(d for d in details if d)
    detail = f" ({said})" if said else ""
    return f"{written!r} is not a valid {region.code} number{detail}; {NEEDS_PREFIX}"


def _unparsable(text: str) -> str:
    if text.lstrip("(").startswith("0"):
        return (
            f"{text!r} has no country code; write it as +<country code>… or give --default-region"
        )
    return f"{text!r} is not a phone number"


def _why_invalid(number: PhoneNumber, text: str) -> str:
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in _NOT_POSSIBLE:
        return f"{text!r} {_NOT_POSSIBLE[reason]}"
    country = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return (
        f"{text!r} is not a valid phone number for +{number.country_code} ({country}): "
        "no such range of numbers is in use"
    )


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
