"""Which row is the header: the first that names a phone column with phone numbers under it.

Title rows, a logo row and blank rows often sit above the header. A row qualifies when one
of its cells is a phone header ("Phone", "Mobile", "Телефон"...) or, failing any, contains a
phone word ("Home phone"); among the qualifying rows the first with a phone-like value
(seven digits or more) under that cell wins, else simply the first.
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


def find_header(where: str, grid: Grid, phone_column: str | None) -> Texts:
    """The header row's number and its cells as text."""
    rows = _first_rows(grid)
    if not rows:
        raise InputError(f"{where}: is empty: no cell holds anything. Is it the right file?")
    wanted = name_key(phone_column) if phone_column else None
    tests: list[Callable[[str], bool]] = (
        [lambda key: key == wanted] if wanted else [PHONE_HEADERS.__contains__, is_phone_word]
    )
    for test in tests:
        found = _best(rows, test)
        if found is not None:
            return found
    raise _no_header(where, rows[0], phone_column)


def _first_rows(grid: Grid) -> list[Texts]:
    texts = ((n, [cell_text(c).strip() for c in cells]) for n, cells in grid())
    return list(islice((t for t in texts if any(t[1])), HEADER_SEARCH_ROWS + LOOK_UNDER_ROWS))


def _best(rows: list[Texts], test: Callable[[str], bool]) -> Texts | None:
    first = None
    for index, (number, texts) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = [i for i, t in enumerate(texts) if len(t.split()) <= 4 and test(name_key(t))]
        if not columns:
            continue
        first = first or (number, texts)
        under = rows[index + 1 : index + 1 + LOOK_UNDER_ROWS]
        if any(_phone_like(r[1], i) for r in under for i in columns):
            return number, texts
    return first


def _phone_like(texts: list[str], index: int) -> bool:
    return index < len(texts) and len(_DIGIT.findall(texts[index])) >= 7


def is_phone_word(key: str) -> bool:
    """True for a name_key() that contains a phone word: "homephone", "mobilenr"."""
    return bool(key) and any(word in key for word in PHONE_WORDS)


def _no_header(where: str, first: Texts, phone_column: str | None) -> InputError:
    number, texts = first
    shown = ", ".join(repr(t) for t in texts if t)
    if phone_column:
        return InputError(
            f"{where}: no column is headed {phone_column!r} (row {number} reads {shown}); "
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
