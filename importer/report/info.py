"""What the results are written from besides the rows: the facts of the Summary sheet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..models import Cell, RowOutcome

#: One row of the results: the input's cells, and the outcome.
Result = tuple[Sequence[Cell], RowOutcome]
TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"


@dataclass
class ReportInfo:
    """What the Summary sheet tells besides the counts (which are the rows' own: a Tally)."""

    input_name: str
    sheet: str | None
    list_name: str
    list_id: int | None
    started: dt.datetime
    finished: dt.datetime | None = None
    notes: Sequence[str] = ()
    #: Further sheets after Summary (such as undo's), as (name, header, rows).
    extra_sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]] = ()
