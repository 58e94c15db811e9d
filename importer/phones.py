"""Phones: a cell -> international digits, or why it is no phone number.

``+`` or ``00`` starts an international number. Digits alone are read under a region (the
row's own country, else ``--default-region``) as that region's number: national, or its
country code followed by a national number, as libphonenumber's parse for that region reads
them. They are never re-read as another country's number: a region's number is one of its
calling code (under US, a Canadian number dialled as from the US), and anything else is
invalid in that region's terms. Without a region, digits alone are international.

Whatever libphonenumber does not then call *valid* is invalid: a number that is merely
*possible* (right length, unknown range) would be stored by BSG and then fail every send,
so it is refused here where the user can still fix it.

A cell may hold more than one number: joined by ``' ::: '`` (Google Contacts), ``', '`` or
``'; '`` (CRMs) or line breaks, each valid, it gives its first and a note naming the others.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, ValidationResult

from .models import Cell, cell_text, is_blank

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
#: Too few digits for a whole number, in any region (the area code may be missing).
_TOO_SHORT = (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY)
#: Why digits are no number of a region, said of that region's number.
_NOT_POSSIBLE_IN_REGION = {
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong number of digits",
}
NEEDS_PREFIX = "an international number needs + or 00"


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
        if reason in _TOO_SHORT:
            return f"{written!r} is too short to be a phone number"
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
