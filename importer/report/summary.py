"""The Summary sheet: the run's facts, the counts per status and per HLR status with a chart
of each, and the notes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..models import FINAL_HLR, PENDING_HLR
from ..tally import Tally
from .cells import Formats
from .info import TIME_FORMAT, ReportInfo


def reachable(hlr_counts: Counter[str]) -> str:
    """The share of reachable numbers (HLR ``active``) among those checked, in words."""
    checked = sum(hlr_counts[s] for s in FINAL_HLR)
    pending = hlr_counts[PENDING_HLR]
    if not checked:
        return f"not known yet: no HLR check has finished ({pending:,} pending)" if pending else ""
    active = hlr_counts["active"]
    words = f"{active / checked:.0%} of the numbers checked ({active:,} of {checked:,} active)"
    return f"{words}; {pending:,} more not checked yet" if pending else words


def write_summary(book: Any, info: ReportInfo, counted: Tally, formats: Formats) -> None:
    """Add the Summary sheet to ``book``: the facts of ``info``, the counts of ``counted``."""
    sheet = book.add_worksheet("Summary")
    bold = book.add_format({"bold": True})
    facts: list[tuple[str, Any]] = [
        ("List", info.list_name),
        ("List ID", info.list_id),
        ("Input file", info.input_name),
        ("Sheet", info.sheet or ""),
        ("Started", info.started.strftime(TIME_FORMAT)),
        ("Finished", info.finished.strftime(TIME_FORMAT) if info.finished else ""),
        ("Rows", counted.rows),
        ("Reachable", reachable(counted.hlr_counts)),
    ]
    for row, (label, value) in enumerate(facts):
        sheet.write_string(row, 0, label, bold)
        formats.write(sheet, row, 1, value)
    status_at = len(facts) + 1
    statuses = list(counted.by_status().items())
    _table(sheet, status_at, ("status", "rows"), statuses, bold)
    hlr_at = status_at + len(statuses) + 2
    order = [*FINAL_HLR, PENDING_HLR]
    hlr_counts = counted.hlr_counts
    hlr = [(s, hlr_counts[s]) for s in order if hlr_counts[s]] or [("(none yet)", 0)]
    _table(sheet, hlr_at, ("hlr_status", "contacts"), hlr, bold)
    notes_at = hlr_at + len(hlr) + 2
    if info.notes:
        sheet.write_string(notes_at, 0, "Notes", bold)
    for offset, note in enumerate(info.notes, start=1):
        formats.write(sheet, notes_at + offset, 0, note)
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 40)
    _chart(book, sheet, "Rows per status", status_at, len(statuses), "D2")
    _chart(book, sheet, "Contacts per HLR status", hlr_at, len(hlr), "D20")


def _table(
    sheet: Any, top: int, header: tuple[str, str], rows: Sequence[tuple[str, int]], bold: Any
) -> None:
    sheet.write_string(top, 0, header[0], bold)
    sheet.write_string(top, 1, header[1], bold)
    for offset, (name, count) in enumerate(rows, start=1):
        sheet.write_string(top + offset, 0, name)
        sheet.write_number(top + offset, 1, count)


def _chart(book: Any, sheet: Any, title: str, top: int, count: int, anchor: str) -> None:
    chart = book.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": title,
            "categories": ["Summary", top + 1, 0, top + count, 0],
            "values": ["Summary", top + 1, 1, top + count, 1],
            "data_labels": {"value": True},
        }
    )
    chart.set_title({"name": title})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})
    sheet.insert_chart(anchor, chart)
