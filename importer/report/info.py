"""What the results are written from besides the rows: the facts of the Summary sheet."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models import Cell, RowOutcome

#: One row of the results: the input's cells, and the outcome.
Result = tuple[Sequence[Cell], RowOutcome]
TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"


@dataclass
class ReportInfo:
    """What the Summary sheet tells besides the counts."""

    input_name: str
    sheet: str | None
    list_name: str
    list_id: int | None
    started: dt.datetime
    finished: dt.datetime | None = None
    notes: Sequence[str] = ()
    counts: Counter[str] = field(default_factory=Counter)
    hlr_counts: Counter[str] = field(default_factory=Counter)
    #: The first invalid or failed rows as (source_row, error), for completion notices.
    first_errors: list[tuple[int, str]] = field(default_factory=list)
    #: Further sheets after Summary (such as undo's), as (name, header, rows).
    extra_sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]] = ()
