"""The workbooks the page hands out: the results with header names in words, and the
rows to fix.

The results workbook on disk keeps the command's column names (``source_row``,
``phone_normalized``…, as the contract says), so History's Undo and Refresh HLR and the
command read it as ever; the download renames them (``models.RESULT_WORDS``), which
the command reads too, and shows each phone with its ``+``.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from ..models import RESULT_COLUMNS, RESULT_WORDS, Status
from ..runs.results_book import read_results_book

PHONE = RESULT_COLUMNS.index("phone_normalized")


def results_in_words(path: Path) -> io.BytesIO:
    """The results workbook with its result columns named in words."""
    book = openpyxl.load_workbook(path)
    if "Results" in book.sheetnames:
        _name_in_words(book["Results"])
    return _saved(book)


def _name_in_words(sheet: Worksheet) -> None:
    header = [cell.value for cell in sheet[1]]
    if tuple(header[-len(RESULT_COLUMNS) :]) != RESULT_COLUMNS:
        return
    first = len(header) - len(RESULT_COLUMNS) + 1  # openpyxl counts columns from 1
    for offset, name in enumerate(RESULT_WORDS):
        sheet.cell(1, first + offset).value = name
    column = first + PHONE
    for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
        if isinstance(cell.value, int) and not isinstance(cell.value, bool):
            cell.value = f"+{cell.value}"  # text: a leading + is never a formula here


def errors_to_fix(path: Path) -> io.BytesIO:
    """The invalid and failed rows: their row number, their cells, and the problem."""
    results = read_results_book(path)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Errors"
    sheet.append(["Row", *results.columns, "Problem"])
    for cells, outcome in results.rows:
        if outcome.status in (Status.INVALID, Status.FAILED):
            sheet.append([outcome.source_row, *cells, outcome.error])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":  # a cell that reads like a formula stays text
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    return _saved(book)


def _saved(book: openpyxl.Workbook) -> io.BytesIO:
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out
