"""Report stage: outcomes -> the results workbook (Results, Errors, Summary) or a CSV.

Written with xlsxwriter in constant-memory mode, row by row, to a temporary file
that is renamed into place: a results file is either whole or absent. Every text
cell is written as a string, and one that a spreadsheet could take for a formula
is marked as text (Excel's quote prefix), so nothing in it is ever evaluated.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.exceptions

from .models import (
    FINAL_HLR,
    PENDING_HLR,
    PROBLEM_STATUSES,
    RESULT_COLUMNS,
    Cell,
    RowOutcome,
    Status,
    cell_text,
)

EXCEL_MAX_ROWS = 1_048_576
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
WIDTH_SAMPLE_ROWS = 200
TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"
MAX_WIDTH = 60
#: Problem rows ReportInfo keeps for a completion notice.
FIRST_ERRORS = 10

Result = tuple[Sequence[Cell], RowOutcome]


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


def formula_safe(text: str) -> bool:
    """True when a spreadsheet would never take this text for a formula."""
    return not text.startswith(FORMULA_STARTS)


def write_report(
    path: Path, columns: Sequence[str], results: Iterable[Result], info: ReportInfo
) -> ReportInfo:
    """Write the results (an .xlsx workbook, or a .csv of Results) and return the counts.

    OSError when they can't be written; no temporary file of it is left either way.
    """
    counted = _counting(results, info)
    with _atomic(path) as temporary:
        if path.suffix.lower() == ".csv":
            _write_csv(temporary, columns, counted)
        else:
            with tempfile.TemporaryDirectory(prefix=".bsg-import-", dir=path.parent) as parts:
                _Workbook(temporary, columns, Path(parts)).write(counted, info)
    return info


def _counting(results: Iterable[Result], info: ReportInfo) -> Iterator[Result]:
    for cells, outcome in results:
        info.counts[outcome.status.value] += 1
        if outcome.contact_id is not None and outcome.status is not Status.DUPLICATE:
            info.hlr_counts[hlr_group(outcome.hlr_status)] += 1
        if outcome.status in PROBLEM_STATUSES and len(info.first_errors) < FIRST_ERRORS:
            info.first_errors.append((outcome.source_row, outcome.error))
        yield cells, outcome


def hlr_group(status: str | None) -> str:
    """How the Summary counts a contact's HLR status: final, or pending (``sent``, none)."""
    return status if status in FINAL_HLR else PENDING_HLR


def reachable(hlr_counts: Counter[str]) -> str:
    """The share of reachable numbers (HLR ``active``) among those checked, in words."""
    checked = sum(hlr_counts[s] for s in FINAL_HLR)
    pending = hlr_counts[PENDING_HLR]
    if not checked:
        return f"not known yet: no HLR check has finished ({pending:,} pending)" if pending else ""
    active = hlr_counts["active"]
    words = f"{active / checked:.0%} of the numbers checked ({active:,} of {checked:,} active)"
    return f"{words}; {pending:,} more not checked yet" if pending else words


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


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


def _write_csv(path: Path, columns: Sequence[str], results: Iterable[Result]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([_csv_text(c) for c in (*columns, *RESULT_COLUMNS)])
        for cells, outcome in results:
            values = [*cells, *result_values(outcome)]
            writer.writerow([_csv_text(v) for v in values])


def _csv_text(value: Any) -> str:
    text = "" if value is None else value if isinstance(value, str) else cell_text(value)
    return text if formula_safe(text) else "'" + text


class _Workbook:
    """The results workbook, written in one pass over the results."""

    def __init__(self, path: Path, columns: Sequence[str], parts: Path) -> None:
        self.book = xlsxwriter.Workbook(
            str(path),
            {
                "tmpdir": str(parts),  # its sheets' parts: removed with the folder
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "default_date_format": "yyyy-mm-dd",
            },
        )
        self.columns = list(columns)
        self.formats = _Formats(self.book)

    def write(self, results: Iterable[Result], info: ReportInfo) -> None:
        """Write the workbook; OSError (a fresh one, holding no frame) when it can't be."""
        failure: OSError | None = None
        with _quiet_leftovers():
            try:
                self._write(results, info)
            except xlsxwriter.exceptions.XlsxWriterException as error:
                failure = _fresh(error.__context__, str(error))
            except OSError as error:
                failure = _fresh(error, str(error))
            finally:
                if not self.book.fileclosed:
                    with contextlib.suppress(Exception):  # already failing: keep that error
                        self.book.close()
            if failure is not None:
                gc.collect()  # the half-written zip, in a cycle with its frames
        if failure is not None:
            raise failure

    def _write(self, results: Iterable[Result], info: ReportInfo) -> None:
        results_sheet = self._sheet("Results", [*self.columns, *RESULT_COLUMNS])
        errors_sheet = self._sheet("Errors", [*self.columns, "error"])
        widths = _Widths([*self.columns, *RESULT_COLUMNS])
        written = errors = 0
        for cells, outcome in results:
            written += 1
            values = [*cells, *result_values(outcome)]
            widths.see(values, written)
            self._row(results_sheet, written, values, outcome.status)
            if outcome.status in (Status.INVALID, Status.FAILED):
                errors += 1
                self._row(errors_sheet, errors, [*cells, outcome.error], None)
        widths.apply(results_sheet, self.formats)
        _Widths([*self.columns, "error"]).apply(errors_sheet, self.formats)
        self._finish(results_sheet, written, len(self.columns) + len(RESULT_COLUMNS))
        self._finish(errors_sheet, errors, len(self.columns) + 1)
        info.finished = info.finished or dt.datetime.now().astimezone()
        _summary(self.book, info, self.formats)
        for name, header, rows in info.extra_sheets:
            self._table_sheet(name, header, rows)
        self.book.close()

    def _table_sheet(self, name: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        sheet = self._sheet(name, header)
        widths = _Widths(header)
        for number, values in enumerate(rows, start=1):
            widths.see(values, number)
            for col, value in enumerate(values):
                self.formats.write(sheet, number, col, value)
        widths.apply(sheet, self.formats)
        self._finish(sheet, len(rows), len(header))

    def _sheet(self, name: str, header: Sequence[str]) -> Any:
        sheet = self.book.add_worksheet(name)
        for col, text in enumerate(header):
            sheet.write_string(0, col, text, self.formats.header)
        sheet.freeze_panes(1, 0)
        return sheet

    def _row(self, sheet: Any, row: int, values: Sequence[Any], status: Status | None) -> None:
        status_col = len(self.columns) + RESULT_COLUMNS.index("status")
        for col, value in enumerate(values):
            if status is not None and col == status_col:
                sheet.write_string(row, col, value, self.formats.status[status])
            else:
                self.formats.write(sheet, row, col, value)

    def _finish(self, sheet: Any, rows: int, width: int) -> None:
        sheet.autofilter(0, 0, max(rows, 1), width - 1)


def _fresh(error: BaseException | None, text: str) -> OSError:
    """An OSError saying what ``error`` said, without its traceback (whose frames hold the
    half-written zip file open)."""
    if isinstance(error, OSError):
        return OSError(error.errno, error.strerror or text, error.filename)
    return OSError(text)


@contextmanager
def _quiet_leftovers() -> Iterator[None]:
    """A zip file xlsxwriter left open on a full disk fails again when it is collected;
    that second failure (an OSError in ``__del__``) is the first one again: not printed."""
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, OSError):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


class _Formats:
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


class _Widths:
    """Column widths from the header and the first rows."""

    def __init__(self, header: Sequence[str]) -> None:
        self.widths = [len(h) + 4 for h in header]

    def see(self, values: Sequence[Any], row: int) -> None:
        if row > WIDTH_SAMPLE_ROWS:
            return
        for col, value in enumerate(values):
            text = "" if value is None else cell_text(value)
            self.widths[col] = max(self.widths[col], min(len(text) + 2, MAX_WIDTH))

    def apply(self, sheet: Any, formats: _Formats) -> None:
        for col, width in enumerate(self.widths):
            sheet.set_column(col, col, width)


def _summary(book: Any, info: ReportInfo, formats: _Formats) -> None:
    sheet = book.add_worksheet("Summary")
    bold = book.add_format({"bold": True})
    facts: list[tuple[str, Any]] = [
        ("List", info.list_name),
        ("List ID", info.list_id),
        ("Input file", info.input_name),
        ("Sheet", info.sheet or ""),
        ("Started", info.started.strftime(TIME_FORMAT)),
        ("Finished", info.finished.strftime(TIME_FORMAT) if info.finished else ""),
        ("Rows", sum(info.counts.values())),
        ("Reachable", reachable(info.hlr_counts)),
    ]
    for row, (label, value) in enumerate(facts):
        sheet.write_string(row, 0, label, bold)
        formats.write(sheet, row, 1, value)
    status_at = len(facts) + 1
    statuses = [(s.value, info.counts.get(s.value, 0)) for s in Status]
    _table(sheet, status_at, ("status", "rows"), statuses, bold)
    hlr_at = status_at + len(statuses) + 2
    order = [*FINAL_HLR, PENDING_HLR]
    hlr = [(s, info.hlr_counts[s]) for s in order if info.hlr_counts[s]] or [("(none yet)", 0)]
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
