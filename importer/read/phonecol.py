"""Which column is the phone: of those whose header names a phone, one whose cells are phones.

A label or type column (Google's ``Phone 1 - Label`` = ``Mobile``) names a phone but holds
words: a column with no phone-like cell (seven digits or more) is not a phone column while
another has some, nor is a column of words while another has none (a file whose phones are
all empty: "no phone number", not "'Mobile' is not a phone number"). Among the rest, a
mobile one (``Mobile``, ``Cell``, ``Handy``, Russian ``моб``) wins when it holds about as
many valid numbers as the best; else the one with the most valid numbers, then the most
phone-like cells, then the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers

from ..errors import InputError
from ..models import Cell, cell_text, is_blank, name_key
from ..regions import country_of
from .header import PHONE_HEADERS, is_phone_word
from .regioncol import COUNTRY_HEADERS, COUNTRY_WORD, NO_COLUMN
from .regioncol import MAX_CANDIDATES as MAX_COUNTRY_COLUMNS

#: The data rows whose cells decide the phone column...
SAMPLE_ROWS = 500
#: ...among the first of the columns that name a phone (a hostile file may have 16,000).
MAX_CANDIDATES = 64
#: The other phone columns the note names.
NAMED_OTHERS = 8
#: A mobile column wins with at least this share of the best column's valid numbers.
ABOUT_AS_MANY = 0.8
MOBILE_WORDS = ("mobil", "cell", "handy", "моб", "celular", "gsm")
_DIGIT = re.compile(r"\d")


@dataclass
class _Column:
    """What the sample says of one candidate column."""

    index: int
    mobile: bool
    valid: int = 0
    phone_like: int = 0
    words: int = 0  # cells without a digit: "Mobile", "Work"


def candidates(names: Sequence[str]) -> list[int]:
    """The columns whose header names a phone: exact names first, then phone words."""
    keys = [name_key(n) for n in names]
    exact = [i for i, k in enumerate(keys) if k in PHONE_HEADERS]
    loose = [i for i, k in enumerate(keys) if is_phone_word(k) and k not in PHONE_HEADERS]
    return (exact + loose)[:MAX_CANDIDATES]


def named(where: str, names: Sequence[str], wanted: Sequence[str]) -> list[int]:
    """The columns ``--phone-column`` names, in its order; InputError for one not there."""
    keys = [name_key(n) for n in names]
    missing = [w for w in wanted if name_key(w) not in keys]
    if missing:
        raise InputError(
            f"{where}: no column is headed {' or '.join(map(repr, missing))}; its columns are "
            f"{', '.join(map(repr, names))}: check --phone-column"
        )
    return list(dict.fromkeys(keys.index(name_key(w)) for w in wanted))


def choose(
    names: Sequence[str],
    columns: Sequence[int],
    rows: Sequence[Sequence[Cell]],
    region: str | None,
    region_column: str | None = None,
) -> tuple[int, list[str]]:
    """The phone column among ``columns`` (indexes into ``names``), and a note naming the
    other phone columns. ``rows``: the first data rows' cells, in the order of ``names``;
    each row's numbers are weighed under its country (as ``row_regions`` reads it)."""
    stats = [_Column(i, any(w in name_key(names[i]) for w in MOBILE_WORDS)) for i in columns]
    for cells, where in zip(rows, row_regions(names, rows, region, region_column), strict=True):
        for column in stats:
            _count(column, cells[column.index] if column.index < len(cells) else None, where)
    holding = [c for c in stats if c.phone_like] or [c for c in stats if not c.words] or stats
    best = max(c.valid for c in holding)
    mobiles = [c for c in holding if c.mobile and c.valid >= ABOUT_AS_MANY * best]
    pool = mobiles or holding
    chosen = max(pool, key=lambda c: (c.valid, c.phone_like, -stats.index(c)))
    others = [repr(names[c.index]) for c in holding if c is not chosen and c.phone_like]
    shown = ", ".join(others[:NAMED_OTHERS]) + (
        f" and {len(others) - NAMED_OTHERS} more" if len(others) > NAMED_OTHERS else ""
    )
    note = (
        f"phone column {names[chosen.index]!r} used; other phone columns: {shown} "
        "(choose with --phone-column, more than once for a fallback)"
    )
    return chosen.index, [note] if others else []


def row_regions(
    names: Sequence[str], rows: Iterable[Sequence[Cell]], region: str | None, named: str | None
) -> list[str | None]:
    """Each row's region for weighing its numbers: the first country its country columns
    name (--region-column's, else those whose header names a country), else ``region``.
    A rough reading: read/regioncol.py decides each row's country for the import."""
    keys = [name_key(n) for n in names]
    if named is not None:
        wanted = name_key(named)
        countries = [] if wanted == NO_COLUMN else [i for i, k in enumerate(keys) if k == wanted]
    else:
        countries = [i for i, k in enumerate(keys) if COUNTRY_WORD in k or k in COUNTRY_HEADERS]
    countries = countries[:MAX_COUNTRY_COLUMNS]
    return [next(filter(None, (_country(cells, i) for i in countries)), region) for cells in rows]


def _country(cells: Sequence[Cell], index: int) -> str | None:
    return country_of(cells[index]) if index < len(cells) else None


def _count(column: _Column, cell: Cell, region: str | None) -> None:
    if is_blank(cell):
        return
    text = cell_text(cell).strip().lstrip("'")
    digits = len(_DIGIT.findall(text))
    column.words += not digits
    if digits < 7:
        return
    column.phone_like += 1
    column.valid += is_valid(text, region)


def is_valid(text: str, region: str | None) -> bool:
    """A rough verdict for choosing a column: valid as written with ``+``/``00``, else as
    ``region``'s number (the normaliser's own rules decide each row)."""
    international = text.startswith(("+", "00"))
    try:
        if international:
            number = phonenumbers.parse("+" + text.removeprefix("00").lstrip("+"), None)
        elif region:
            number = phonenumbers.parse(text, region)
        else:
            return False
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))
