"""A pandas DataFrame as a Table, so that import_frame runs the same stages as a file.

The frame's column labels are the header, on row 1, and its n-th row (from 0) is row n + 2,
as in a sheet that ``frame.to_excel(index=False)`` writes. Cells are what the workbook readers
give for the same values: whole numbers as ints (every digit of an int64 or Int64 phone),
datetimes as datetimes, NaN, NA, NaT and None as empty cells.

A float can't tell which digits it lost. A whole float phone of 12 digits or more with 6
significant digits at most is what Excel's General format shows as ``3.80501E+11`` and what a
CSV of it gives any reader: it is handed on as that text, so the normaliser reports it as it
reports that text in a file (scientific notation, digits lost).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..models import Cell
from .limits import DEFAULT_LIMITS, Limits
from .table import Table, build_table
from .workbook import EXACT_INT_LIMIT, Row, exact

#: The name messages and the Summary give a frame, which has no file name.
FRAME_NAME = "DataFrame"
#: The frame's first row is row 2: the header is row 1.
FIRST_ROW = 2
#: Excel's General format shows a number this long in scientific notation, 6 digits kept.
SCIENTIFIC_FROM_DIGITS = 12
SCIENTIFIC_KEEPS_DIGITS = 6
#: pandas' name for a column whose header cell was empty ("Unnamed: 2").
_UNNAMED = re.compile(r"^Unnamed: \d+(?:_level_\d+)?$")


def frame_table(
    frame: pd.DataFrame,
    *,
    phone_column: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
    region: str | None = None,
    region_column: str | None = None,
) -> Table:
    """The frame as a Table (InputError when it has no phone column, as a file would)."""
    header = [_label(label) for label in frame.columns]
    table = build_table(
        Path(FRAME_NAME),
        None,
        partial(_rows, frame, header, ()),
        phone_column=phone_column,
        limits=limits,
        known_header=(1, header),
        region=region,
        region_column=region_column,
    )
    phones = tuple(table.keep[i] for i in table.phone_indexes)
    rows = partial(_rows, frame, header, phones)
    return replace(table, grid=rows, content_hash=partial(_content_hash, rows))


def _label(label: Any) -> str:
    """A column label as header text; pandas' "Unnamed: 2" is an empty header cell."""
    if label is None or (isinstance(label, float) and math.isnan(label)):
        return ""
    text = " ".join(map(str, label)) if isinstance(label, tuple) else str(label)
    return "" if _UNNAMED.match(text) else text.strip()


def _rows(frame: pd.DataFrame, header: list[str], phones: tuple[int, ...]) -> Iterator[Row]:
    yield 1, list(header)
    values = frame.itertuples(index=False, name=None)
    for number, row in enumerate(values, start=FIRST_ROW):
        cells = [cell(value) for value in row]
        for phone_at in phones:
            cells[phone_at] = phone_cell(row[phone_at])
        yield number, cells


def cell(value: Any) -> Cell:
    """A frame's value as the workbook readers give the same value in a cell."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return exact(value)


def phone_cell(value: Any) -> Cell:
    """A phone: a float that lost its last digits becomes the text Excel showed for it."""
    if isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float) and _rounded(value):
        mantissa, exponent = f"{value:.{SCIENTIFIC_KEEPS_DIGITS - 1}E}".split("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"
    return cell(value)


def _rounded(value: float) -> bool:
    if not math.isfinite(value) or not value.is_integer():
        return False
    digits = f"{abs(value):.0f}"
    shown_scientific = len(digits) >= SCIENTIFIC_FROM_DIGITS
    return abs(value) >= EXACT_INT_LIMIT or (
        shown_scientific and len(digits.rstrip("0")) <= SCIENTIFIC_KEEPS_DIGITS
    )


def _content_hash(rows: partial[Iterator[Row]]) -> str:
    """SHA-256 of the header and every cell as read: the journal's key for the frame."""
    digest = hashlib.sha256()
    for number, cells in rows():
        digest.update(repr((number, cells)).encode())
    return digest.hexdigest()
