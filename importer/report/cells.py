"""One result cell: the one place that picks its type and format, and keeps text text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..models import RowOutcome, Status

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
STATUS_COLOURS = {
    Status.CREATED: "#C6EFCE",
    Status.EXISTING: "#DDEBF7",
    Status.DUPLICATE: "#EDEDED",
    Status.INVALID: "#FFC7CE",
    Status.FAILED: "#F4B084",
    Status.SKIPPED: "#FFF2CC",
    Status.VALIDATED: "#E2EFDA",
}


def formula_safe(text: str) -> bool:
    """True when a spreadsheet would never take this text for a formula."""
    return not text.startswith(FORMULA_STARTS)


def result_values(outcome: RowOutcome) -> list[Any]:
    """The seven result columns of one row."""
    return [
        outcome.source_row,
        outcome.phone,
        outcome.status.value,
        outcome.contact_id,
        outcome.hlr_status,
        outcome.hlr_last_check,
        outcome.error,
    ]


class Formats:
    """The cell formats of one workbook, and the one place that picks a cell's type."""

    def __init__(self, book: Any) -> None:
        self.header = book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
        self.whole = book.add_format({"num_format": "0"})
        self.text = book.add_format({"quote_prefix": True})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.time = book.add_format({"num_format": "hh:mm:ss"})
        self.status = {s: book.add_format({"bg_color": c}) for s, c in STATUS_COLOURS.items()}

    def write(self, sheet: Any, row: int, col: int, value: Any) -> None:
        if value is None or value == "":
            return
        if isinstance(value, str):
            fmt = None if formula_safe(value) else self.text
            sheet.write_string(row, col, value, fmt)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, int):
            sheet.write_number(row, col, value, self.whole)
        elif isinstance(value, float):
            sheet.write_number(row, col, value)
        elif isinstance(value, dt.datetime):
            sheet.write_datetime(row, col, value.replace(tzinfo=None), self.moment)
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, col, value, self.date)
        elif isinstance(value, dt.time):
            sheet.write_datetime(row, col, value, self.time)
        else:
            sheet.write_string(row, col, str(value))
