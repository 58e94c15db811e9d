"""Which column holds each row's country: one whose header names a country and whose cells do.

Shops and CRMs export customers of many countries in one file, and say where each one is:
Shopify's ``Default Address Country Code``, WooCommerce's ``billing_country``, HubSpot's
``Country/Region``, Salesforce's ``Mailing Country``. A column whose header names a country is
the rows' country column when most of its filled cells name one (a column of calling codes,
``+44``, is not). Of several (billing and shipping), the one whose header shares the phone
column's prefix wins (``billing_phone`` -> ``billing_country``), else the first. Every row of
the file is counted as the survey reads it, so the notes say how many rows the column decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ..errors import InputError
from ..models import Cell, cell_text, column_letter, is_blank, name_key
from ..regions import RegionColumn, country_of, has_phone_numbers
from .header import PHONE_WORDS

#: --region-column none: no column gives the rows' region.
NO_COLUMN = "none"
COUNTRY_WORD = "country"
#: Headers that name a country in other words, compared with name_key().
COUNTRY_HEADERS = frozenset({"land", "pays", "pais", "país", "страна", "країна", "nation"})
#: Only the first columns whose header names a country are counted (a hostile file may have
#: 16,000 of them).
MAX_CANDIDATES = 16
#: Cells that name no country, quoted in a note.
EXAMPLES = 3


@dataclass
class _Candidate:
    """What the rows hold in one column whose header names a country."""

    index: int  # of the cell in the file's rows
    header: str
    named: int = 0
    empty: int = 0
    unknown: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, cell: Cell) -> None:
        if is_blank(cell):
            self.empty += 1
        elif _names_country(cell):
            self.named += 1
        else:
            self.unknown += 1
            text = cell_text(cell).strip()
            if len(self.examples) < EXAMPLES and text not in self.examples:
                self.examples.append(text)

    @property
    def holds_countries(self) -> bool:
        return self.named > 0 and self.named >= self.unknown


@lru_cache(maxsize=4096)
def _names_country(cell: Cell) -> bool:
    code = country_of(cell)
    return code is not None and has_phone_numbers(code)


def is_country_header(name: str) -> bool:
    """True for a header that names a country: ``Country Code``, ``billing_country``, ``Land``."""
    key = name_key(name)
    return COUNTRY_WORD in key or key in COUNTRY_HEADERS


class Tally:
    """Counts, row by row, what the country columns hold; then picks the rows' one.

    ``wanted``: --region-column (None: detect; ``none``: no column).
    """

    def __init__(self, header: Sequence[str], wanted: str | None) -> None:
        self.wanted = wanted
        self.candidates = [_Candidate(i, h) for i, h in _watched(header, wanted)]

    def add(self, cells: Sequence[Cell]) -> None:
        """Count one data row."""
        for candidate in self.candidates:
            candidate.add(cells[candidate.index] if candidate.index < len(cells) else None)

    def choose(
        self, where: str, keep: Sequence[int], names: Sequence[str], phone: str, region: str | None
    ) -> tuple[RegionColumn | None, list[str]]:
        """The rows' country column among ``names`` (the table's columns, at ``keep`` in the
        file's rows), and notes on it; ``phone``: the phone column's name; ``region``:
        --default-region."""
        if self.wanted is not None and self.wanted.casefold() == NO_COLUMN:
            return None, []
        found = [c for c in self.candidates if c.index in keep]
        if self.wanted is not None:
            if not found:
                raise InputError(
                    f"{where}: no column is headed {self.wanted!r}; its columns are "
                    f"{', '.join(map(repr, names))}: check --region-column"
                )
            column = self._column(found[0], keep, names)
            return column, [_used(found[0], column.name, region, " (--region-column)")]
        usable = [c for c in found if c.holds_countries]
        notes = [_not_countries(c) for c in found if c.unknown and not c.holds_countries]
        if not usable:
            return None, notes
        chosen, why = _by_prefix(usable, phone)
        column = self._column(chosen, keep, names)
        others = ", ".join(repr(names[keep.index(c.index)]) for c in usable if c is not chosen)
        choice = f" ({why}; other country columns: {others}; choose with --region-column)"
        return column, [_used(chosen, column.name, region, choice if others else ""), *notes]

    @staticmethod
    def _column(chosen: _Candidate, keep: Sequence[int], names: Sequence[str]) -> RegionColumn:
        at = keep.index(chosen.index)
        return RegionColumn(at, names[at])


def _watched(header: Sequence[str], wanted: str | None) -> list[tuple[int, str]]:
    """The columns to count: the one --region-column names, or those naming a country."""
    texts = [str(h or "").strip() for h in header]
    if wanted is not None:
        if wanted.casefold() == NO_COLUMN:
            return []
        key = name_key(wanted)
        named = [i for i, t in enumerate(texts) if t and name_key(t) == key]
        lettered = [i for i, t in enumerate(texts) if not t and column_letter(i) == _letter(wanted)]
        return [(i, texts[i]) for i in (named or lettered)[:1]]
    return [(i, t) for i, t in enumerate(texts) if is_country_header(t)][:MAX_CANDIDATES]


def _letter(name: str) -> str:
    """``C`` of ``Column C``, the name of a column without a header; else ""."""
    return name[len("Column ") :] if name.startswith("Column ") else ""


def _by_prefix(usable: list[_Candidate], phone: str) -> tuple[_Candidate, str]:
    """The column whose header shares the phone column's prefix, else the first."""
    prefix = _phone_prefix(name_key(phone))
    sharing = [c for c in usable if _country_prefix(name_key(c.header)) == prefix]
    if sharing:
        return sharing[0], "it shares the phone column's prefix"
    return usable[0], "it is the first"


def _phone_prefix(key: str) -> str:
    """``billing`` of ``billingphone``: what comes before the first phone word."""
    found = [key.find(word) for word in PHONE_WORDS if word in key]
    return key[: min(found)] if found else key


def _country_prefix(key: str) -> str:
    at = key.find(COUNTRY_WORD)
    return key[:at] if at >= 0 else ""


def _used(chosen: _Candidate, name: str, region: str | None, choice: str) -> str:
    """The note on the column used (``choice``: why this one): how many rows it decided,
    and what served the rest."""
    rows = "row" if chosen.named == 1 else "rows"
    said = [f"{chosen.named:,} {rows} read under the country they name"]
    if chosen.empty:
        served = f"under --default-region {region}" if region else "without a region"
        said.append(f"{chosen.empty:,} with it empty {served}")
    if chosen.unknown:
        shown = ", ".join(map(repr, chosen.examples))
        said.append(f"{chosen.unknown:,} naming no country ({shown}; see their error)")
    return (
        f"each row's country is in column {name!r}{choice}: {', '.join(said)}. "
        "--region-column none reads every row under --default-region"
    )


def _not_countries(candidate: _Candidate) -> str:
    shown = ", ".join(map(repr, candidate.examples))
    return (
        f"column {candidate.header!r} names no country in most rows ({shown}); not used as the "
        f"rows' country (--region-column {candidate.header!r} uses it)"
    )
