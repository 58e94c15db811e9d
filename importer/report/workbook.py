"""The results workbook (Results, Errors, Summary and any further sheets), written in one
pass over the rows with xlsxwriter in constant-memory mode."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.exceptions

from ..models import RESULT_COLUMNS, Status, cell_text
from ..tally import Tally
from .cells import Formats, result_values
from .info import ReportInfo, Result
from .summary import write_summary

WIDTH_SAMPLE_ROWS = 200
MAX_WIDTH = 60


class Workbook:
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
        self.formats = Formats(self.book)

    def write(self, results: Iterable[Result], info: ReportInfo, counted: Tally) -> None:
        """Write the workbook; OSError (a fresh one, holding no frame) when it can't be.

        ``counted`` counts ``results`` as they pass: whole once the Summary is written."""
        failure: OSError | None = None
        with _quiet_leftovers():
            try:
                self._write(results, info, counted)
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

    def _write(self, results: Iterable[Result], info: ReportInfo, counted: Tally) -> None:
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
        write_summary(self.book, info, counted, self.formats)
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

    def apply(self, sheet: Any, formats: Formats) -> None:
        for col, width in enumerate(self.widths):
            sheet.set_column(col, col, width)
