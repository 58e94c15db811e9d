"""Which row is the header: a row of names, with phone numbers under a phone column.

Title rows, a logo row and blank rows often sit above the header. A row qualifies when one
of its cells is a phone header ("Phone", "Mobile", "Телефон"...) or contains a phone word
("Home phone", "Phone 1 - Value"). A row that itself holds a phone number is data, even
when one of its cells holds a phone word (a Google export's ``Phone 1 - Label`` =
``Mobile``). Among the qualifying rows, the first with phone-like values (seven digits or
more) under one of those cells wins, the last of them when several sit above the same
data (a title "Phones" over the header "Phone"); else the first that names a phone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from itertools import islice

from ..errors import InputError
from ..models import Cell, cell_text, name_key

#: Header names that mean "the phone", compared with name_key().
PHONE_HEADERS = frozenset(
    name_key(n)
    for n in (
        "phone", "phones", "phone number", "phone no", "mobile", "mobile phone", "mobile number",
        "msisdn", "number", "tel", "tel.", "telephone", "cell", "cell phone", "cellphone", "gsm",
        "телефон", "тел", "моб", "мобильный", "мобільний", "номер", "номер телефона",
        "номер телефону", "telefon", "telefono", "teléfono", "téléphone", "handy", "celular",
    )
)  # fmt: skip
PHONE_WORDS = ("phone", "mobile", "msisdn", "tel", "телефон", "mobil", "номер", "cell")
#: The header is looked for among the first rows that hold anything...
HEADER_SEARCH_ROWS = 50
#: ...and phone-like values among the rows under it.
LOOK_UNDER_ROWS = 20
_DIGIT = re.compile(r"\d")

#: A source of rows: calling it starts a fresh pass over (row number, cells).
Grid = Callable[[], Iterable[tuple[int, Sequence[Cell]]]]
Texts = tuple[int, list[str]]


def find_header(where: str, grid: Grid, phone_column: Sequence[str] = ()) -> Texts:
    """The header row's number and its cells as text."""
    rows = _first_rows(grid)
    if not rows:
        raise InputError(f"{where}: is empty: no cell holds anything. Is it the right file?")
    wanted = {name_key(c) for c in phone_column}
    tests: list[Callable[[str], bool]] = (
        [wanted.__contains__] if wanted else [PHONE_HEADERS.__contains__, is_phone_word]
    )
    found = _with_numbers_under(rows, tests) or _first_named(rows, tests)
    if found is None:
        raise _no_header(where, rows[0], phone_column)
    return found


def _first_rows(grid: Grid) -> list[Texts]:
    texts = ((n, [cell_text(c).strip() for c in cells]) for n, cells in grid())
    return list(islice((t for t in texts if any(t[1])), HEADER_SEARCH_ROWS + LOOK_UNDER_ROWS))


def _named(texts: list[str], tests: Sequence[Callable[[str], bool]]) -> list[int]:
    """The cells that name a phone column by any of ``tests``; none in a row of data (one
    with a phone-like value that is not itself a phone header's hint: "Phone (0501234567)")."""
    if any(_phone_like(texts, i) and not is_phone_word(name_key(t)) for i, t in enumerate(texts)):
        return []
    keys = [name_key(t) if len(t.split()) <= 4 else "" for t in texts]
    return [i for i, key in enumerate(keys) if key and any(test(key) for test in tests)]


def _with_numbers_under(rows: list[Texts], tests: Sequence[Callable[[str], bool]]) -> Texts | None:
    """The candidate nearest above the first phone-like values under its phone cells."""
    chosen: tuple[int, int] | None = None  # (candidate's index, index of its first data row)
    for index, (_, texts) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if chosen is not None and index >= chosen[1]:
            break
        columns = _named(texts, tests)
        under = rows[index + 1 : index + 1 + LOOK_UNDER_ROWS]
        data = next(
            (n for n, r in enumerate(under) if any(_phone_like(r[1], i) for i in columns)), None
        )
        if columns and data is not None:
            chosen = (index, index + 1 + data)
    return rows[chosen[0]] if chosen is not None else None


def _first_named(rows: list[Texts], tests: Sequence[Callable[[str], bool]]) -> Texts | None:
    """With no phone numbers under any candidate: the first row that names a phone column
    (the header is above the data, whose label cells may say "Mobile" too)."""
    return next((r for r in rows[:HEADER_SEARCH_ROWS] if _named(r[1], tests)), None)


def _phone_like(texts: list[str], index: int) -> bool:
    return index < len(texts) and len(_DIGIT.findall(texts[index])) >= 7


def is_phone_word(key: str) -> bool:
    """True for a name_key() that contains a phone word: "homephone", "mobilenr"."""
    return bool(key) and any(word in key for word in PHONE_WORDS)


def _no_header(where: str, first: Texts, phone_column: Sequence[str]) -> InputError:
    number, texts = first
    shown = ", ".join(repr(t) for t in texts if t)
    if phone_column:
        named = " or ".join(map(repr, phone_column))
        return InputError(
            f"{where}: no column is headed {named} (row {number} reads {shown}); "
            "check --phone-column"
        )
    if any(len(_DIGIT.findall(t)) >= 7 for t in texts):
        return InputError(
            f"{where}: no header row: row {number} already holds data ({shown}); "
            "add a first row with column names, one of them 'Phone'"
        )
    return InputError(
        f"{where}: no phone column; the header on row {number} has {shown}. "
        "Name the column with --phone-column"
    )
