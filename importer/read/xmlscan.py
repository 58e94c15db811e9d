"""Scanners over a worksheet's raw XML, fed a chunk at a time: where its valued cells reach
(``CellScan`` when every cell says where it is, ``CellWalk`` when cells are placed by their
order) and how many strings a shared-strings table declares (``StringsScan``).

Regular expressions over bytes, fast enough for a gigabyte; a tag cut by a chunk's end
waits for the next chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(slots=True)
class Extent:
    """The last row and column (1-based) of a worksheet that hold a value."""

    rows: int = 0
    columns: int = 0

    def grow(self, row: int, column: int) -> None:
        """Take in one cell's position."""
        self.rows, self.columns = max(self.rows, row), max(self.columns, column)


# The cell scanners: regular expressions over raw XML, fast enough for a gigabyte.
_CELL = rb"<(?:\w+:)?c"
_R = rb"""(?=[\s/>])[^>]*?\sr\s*=\s*["']"""
_ANY_CELL = re.compile(_CELL + rb"[\s/>]")
_PLACED_CELL = re.compile(_CELL + _R + rb"[A-Za-z]{1,4}\d{1,9}[\"']")
#: A cell that can hold a value: not self-closing (<c r="B2" s="1"/> is formatting only).
_VALUED_COLUMN = re.compile(_CELL + _R + rb"([A-Za-z]{1,4})\d{1,9}[\"'][^>]*(?<!/)>")
_VALUED_ROW = re.compile(_CELL + _R + rb"[A-Za-z]{1,4}(\d{1,9})[\"'][^>]*(?<!/)>")
_ROW_OR_CELL = re.compile(rb"<(?:\w+:)?(row|c)([\s/][^>]*)?>")
_ATTR_R = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]*)(\d*)["']""")


#: A shared-strings table's start tag; the rest of a start tag, to the > that closes it
#: (a quoted value may hold < and >, which calamine's XML reader allows); the count of
#: strings the tag declares, past any leading zeros.
_SST_START = re.compile(rb"<(?:[\w.-]+:)?sst[\s/>]")
_TAG_REST = re.compile(rb"""(?:[^"'>]++|"[^"]*+"|'[^']*+')*+>""")  # possessive: no backtracking
_UNIQUE_COUNT = re.compile(rb"""\suniqueCount\s*=\s*["']\+?0*(\d{1,30})""")
#: A start tag longer than this is not from a spreadsheet program.
MAX_TAG_BYTES = 1 << 16


def column_number(letters: bytes) -> int:
    """A column's letters as a 1-based number: A -> 1, XFD -> 16384."""
    number = 0
    for byte in letters.upper():
        number = number * 26 + byte - 64
    return number


class CellScan:
    """Where a worksheet's valued cells reach, when every cell says where it is."""

    def __init__(self) -> None:
        self._carry = b""
        self._extent = Extent()
        self._letters: set[bytes] = set()
        self.positioned = True

    def feed(self, chunk: bytes) -> None:
        """Take the next piece of the part's XML."""
        data = self._carry + chunk
        cut = data.rfind(b">") + 1
        data, self._carry = data[:cut], data[cut:]
        if len(_ANY_CELL.findall(data)) != len(_PLACED_CELL.findall(data)):
            self.positioned = False
        rows = _VALUED_ROW.findall(data)
        if rows:
            self._extent.grow(max(map(int, rows)), 0)
        self._letters.update(_VALUED_COLUMN.findall(data))

    def result(self) -> Extent:
        """The extent of every cell seen."""
        columns = max(map(column_number, self._letters), default=0)
        return Extent(self._extent.rows, columns)


class StringsScan:
    """The most strings any shared-strings tag (``<sst uniqueCount=...>``) of a part declares."""

    def __init__(self) -> None:
        self._carry = b""
        self.declared = 0
        self.endless = False

    def feed(self, chunk: bytes) -> None:
        """Take the next piece of the part; a tag cut by the chunk's end waits for the next."""
        data = self._carry + chunk
        cut = data.rfind(b"<")
        if b"sst" in data:  # a plain search first: the regexes would cost 10% of the scan
            cut = min(cut, self._tags(data))
        self._carry = data[cut:] if cut >= 0 else b""
        if len(self._carry) > MAX_TAG_BYTES:
            self.endless = self.endless or bool(_SST_START.match(self._carry))
            self._carry = b""

    def _tags(self, data: bytes) -> int:
        """Take in every whole <sst> tag; return where an unfinished one starts, else the end."""
        at = 0
        while found := _SST_START.search(data, at):
            tag = _TAG_REST.match(data, found.end() - 1)
            if tag is None:
                return found.start()
            counts = _UNIQUE_COUNT.findall(data, found.start(), tag.end())
            self.declared = max([self.declared, *map(int, counts)])
            at = tag.end()
        return len(data)


class CellWalk:
    """The same, for cells placed by their order: each row and cell after the one before."""

    def __init__(self) -> None:
        self._carry = b""
        self._row = self._column = 0
        self.extent = Extent()

    def feed(self, chunk: bytes) -> None:
        """Take the next piece of the part's XML."""
        data = self._carry + chunk
        cut = data.rfind(b">") + 1
        data, self._carry = data[:cut], data[cut:]
        for match in _ROW_OR_CELL.finditer(data):
            self._tag(match.group(1), match.group(2) or b"")

    def _tag(self, name: bytes, attributes: bytes) -> None:
        found = _ATTR_R.search(attributes)
        letters, digits = found.groups() if found else (b"", b"")
        if name == b"row":
            self._row = _number(digits, self._row + 1)
            self._column = 0
            return
        self._row = _number(digits, self._row)
        self._column = column_number(letters) if letters else self._column + 1
        if not attributes.rstrip().endswith(b"/"):
            self.extent.grow(self._row, self._column)


def _number(digits: bytes, default: int) -> int:
    if not digits:
        return default
    return int(digits) if len(digits) <= 12 else 10**12
