"""Countries as phone regions: what a country cell names, and the column a row's region is in.

A cell names a country by its ISO 3166 code (alpha-2 or alpha-3) or its English name, in any
case (``at``, ``AUT``, ``Austria``, ``Republic of Austria``, ``the Netherlands``). The names
are pycountry's (ISO's short, official and common names) and libphonenumber's English ones
(``South Korea``, ``Russia``); nothing is guessed from a part of a name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers
import pycountry
from phonenumbers.geocoder import country_name_for_number

from .models import Cell, cell_text, is_blank

#: Codes ISO 3166 reserves for a country besides its own: the UK is GB.
RESERVED_CODES = {"uk": "GB"}
_SPACES = re.compile(r"[\s\-_,()]+")
_DROPPED = re.compile(r"[.'\u2019]")


@dataclass(frozen=True, slots=True)
class RegionColumn:
    """The input column that holds each row's country: its index among the table's columns."""

    index: int
    name: str


def country_key(text: str) -> str:
    """A country's name or code as compared: case, accents, spaces, dots and a leading
    "the" ignored."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    words = _SPACES.sub(" ", _DROPPED.sub("", plain.casefold())).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


@cache
def _countries() -> dict[str, str]:
    """Every code and English name a country is known by -> its ISO alpha-2 code."""
    known = dict(RESERVED_CODES)
    for country in pycountry.countries:
        for attribute in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                known.setdefault(country_key(value), country.alpha_2)
    for region in phonenumbers.SUPPORTED_REGIONS:  # XK (Kosovo) is no ISO code, yet in use
        known.setdefault(country_key(region), region)
        name = _phone_name(region)
        if name:
            known.setdefault(country_key(name), region)
    return known


def _phone_name(region: str) -> str:
    """libphonenumber's English name of the region (of its example number), or ""."""
    example = phonenumbers.example_number(region)
    return country_name_for_number(example, "en") if example is not None else ""


def country_of(cell: Cell) -> str | None:
    """The ISO alpha-2 code of the country the cell names; None when it names none."""
    if is_blank(cell) or not isinstance(cell, str):
        return None
    return _code_for(cell_text(cell))


@lru_cache(maxsize=4096)
def _code_for(text: str) -> str | None:
    """A country column holds few distinct texts: each is looked up once."""
    return _countries().get(country_key(text))


def has_phone_numbers(region: str) -> bool:
    """True when the region has a numbering plan of its own (Antarctica has none)."""
    return region in phonenumbers.SUPPORTED_REGIONS


def region_name(region: str) -> str:
    """The region in words for messages: ``AT (Austria)``."""
    country = pycountry.countries.get(alpha_2=region)
    name = country.name if country is not None else _phone_name(region)
    return f"{region} ({name})" if name else region
