"""Report stage: outcomes -> the results workbook (Results, Errors, Summary) or a CSV.

Written with xlsxwriter in constant-memory mode, row by row, to a temporary file
that is renamed into place: a results file is either whole or absent. Every text
cell is written as a string, and one that a spreadsheet could take for a formula
is marked as text (Excel's quote prefix), so nothing in it is ever evaluated.

``workbook`` writes the sheets, ``summary`` the Summary sheet, ``cells`` picks each cell's
type and format; a CSV of Results is written here.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..models import RESULT_COLUMNS, cell_text
from ..tally import Tally
from .cells import FORMULA_STARTS, formula_safe, result_values
from .info import TIME_FORMAT, ReportInfo, Result
from .summary import reachable
from .workbook import Workbook

__all__ = [
    "EXCEL_MAX_ROWS",
    "FORMULA_STARTS",
    "TIME_FORMAT",
    "ReportInfo",
    "Result",
    "formula_safe",
    "reachable",
    "result_values",
    "write_report",
]

EXCEL_MAX_ROWS = 1_048_576


def write_report(
    path: Path, columns: Sequence[str], results: Iterable[Result], info: ReportInfo
) -> Tally:
    """Write the results (an .xlsx workbook, or a .csv of Results); return the counts of
    the rows written, counted as they were written (the Summary sheet states them).

    OSError when they can't be written; no temporary file of it is left either way.
    """
    counted = Tally()
    rows = counted.counting(results)
    with _atomic(path) as temporary:
        if path.suffix.lower() == ".csv":
            _write_csv(temporary, columns, rows)
        else:
            with tempfile.TemporaryDirectory(prefix=".bsg-import-", dir=path.parent) as parts:
                Workbook(temporary, columns, Path(parts)).write(rows, info, counted)
    return counted


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
