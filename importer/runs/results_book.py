"""A results workbook read back: what undo and hlr-refresh start from, and what the page
shows of a past import. ``read_results_book`` takes only a workbook bsg-import wrote
(InputError for anything else); ``journal_book`` builds the same from an import's journal,
for an import that never wrote one (killed) or wrote it elsewhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import openpyxl

from ..errors import InputError
from ..journal import Journal
from ..models import RESULT_COLUMNS, Cell, RowOutcome, Status, column_letter
from ..read.table import tool_block
from ..report import TIME_FORMAT, ReportInfo, write_report
from ..tally import Tally


@dataclass
class ResultsBook:
    """A results workbook read back: its columns, rows and Summary."""

    path: Path
    columns: list[str]
    rows: list[tuple[tuple[Cell, ...], RowOutcome]]
    info: ReportInfo
    extra: dict[str, tuple[list[str], list[list[Any]]]] = field(default_factory=dict)

    def save(self) -> Tally:
        """Write the workbook again, in place; the counts of its rows as they are now."""
        extra = [(name, h, r) for name, (h, r) in self.extra.items()]
        info = replace(self.info, extra_sheets=extra)
        return write_report(self.path, self.columns, self.rows, info)


def read_results_book(path: Path) -> ResultsBook:
    """Read a workbook bsg-import wrote; InputError for anything else."""
    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except Exception as exc:  # openpyxl raises many kinds for a file it can't read
        raise InputError(f"{path}: not a results workbook of bsg-import ({exc})") from exc
    try:
        if not {"Results", "Summary"} <= set(book.sheetnames):
            raise InputError(f"{path}: not a results workbook of bsg-import (no Results sheet)")
        columns, rows = _results(path, list(book["Results"].iter_rows(values_only=True)))
        info = _summary(list(book["Summary"].iter_rows(values_only=True)))
        known = {"Results", "Errors", "Summary"}
        extra = {n: _table(book[n]) for n in book.sheetnames if n not in known}
    finally:
        book.close()
    return ResultsBook(path, columns, rows, info, extra)


def _results(path: Path, table: list[tuple[Any, ...]]) -> tuple[list[str], list[Any]]:
    header = [str(h) if h is not None else "" for h in table[0]] if table else []
    block = tool_block(header)  # as the reader finds it: the seven ending the header
    if len(block) != len(RESULT_COLUMNS):
        raise InputError(f"{path}: the Results sheet lacks bsg-import's result columns")
    width = block.start
    rows = []
    for values in table[1:]:
        if all(v is None or v == "" for v in values):
            continue  # a blank row (a person's edit, or Excel's own): not a row of the import
        _nothing_after(path, values, block.stop)
        padded = list(values) + [None] * max(0, block.stop - len(values))
        cells = tuple(_cell(v) for v in padded[:width])
        rows.append((cells, _outcome(path, padded[width : block.stop])))
    return header[:width], rows


def _nothing_after(path: Path, values: tuple[Any, ...], stop: int) -> None:
    """A value past the result columns would be lost when the workbook is written again."""
    extra = next((i for i in range(stop, len(values)) if values[i] not in (None, "")), None)
    if extra is not None:
        raise InputError(
            f"{path}, sheet 'Results', column {column_letter(extra)}: holds values after the "
            "result columns, which would be lost; move them before 'source_row'"
        )


def _cell(value: Any) -> Cell:
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    return value  # type: ignore[no-any-return]


def _outcome(path: Path, values: list[Any]) -> RowOutcome:
    source_row, phone, status, contact_id, hlr, checked, error = values
    try:
        return RowOutcome(
            int(source_row),
            Status(status),
            int(str(phone).lstrip("+")) if phone not in (None, "") else None,
            _whole(contact_id, "contact_id") if contact_id not in (None, "") else None,
            hlr or None,
            str(checked) if checked else None,
            error or "",
        )
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{path}, sheet 'Results', row for source_row {source_row}: {exc}"
        ) from exc


def _whole(value: Any, column: str) -> int:
    """A whole number as the workbook holds it (12, 12.0, "12"); ValueError otherwise."""
    number = float(value) if isinstance(value, float | str) else value
    if isinstance(number, float) and not number.is_integer():
        raise ValueError(f"{column} {value} is not a whole number")
    return int(number)


def _summary(table: list[tuple[Any, ...]]) -> ReportInfo:
    facts = {str(r[0]): r[1] for r in table if r and r[0] is not None and len(r) > 1}
    notes_at = next((i for i, r in enumerate(table) if r and r[0] == "Notes"), None)
    notes = [str(r[0]) for r in table[notes_at + 1 :] if r and r[0]] if notes_at is not None else []
    return ReportInfo(
        input_name=str(facts.get("Input file") or ""),
        sheet=str(facts["Sheet"]) if facts.get("Sheet") else None,
        list_name=str(facts.get("List") or ""),
        list_id=int(facts["List ID"]) if facts.get("List ID") else None,
        started=_moment(facts.get("Started")) or dt.datetime.now().astimezone(),
        finished=_moment(facts.get("Finished")),
        notes=notes,
    )


def _moment(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(str(value), TIME_FORMAT)
    except ValueError:
        return None


def _table(sheet: Any) -> tuple[list[str], list[list[Any]]]:
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return ([str(h) for h in rows[0]], rows[1:]) if rows else ([], [])


def journal_book(journal: Journal, path: Path) -> ResultsBook:
    """The import's rows as its journal has them (what undo acts on), as a workbook to be
    written at ``path``: for an import that never wrote one (killed), or wrote it elsewhere."""
    meta = {k: journal.get_meta(k) for k in ("file", "sheet", "list_name", "list_id", "started")}
    rows = list(journal.results(NOT_RECORDED, as_imported=True))
    width = max((len(cells) for cells, _ in rows), default=0)
    columns = journal.get_meta("columns") or [column_letter(i) for i in range(width)]
    started = meta["started"]
    info = ReportInfo(
        input_name=Path(str(meta["file"] or "")).name,
        sheet=meta["sheet"],
        list_name=str(meta["list_name"] or ""),
        list_id=meta["list_id"],
        started=dt.datetime.fromisoformat(started) if started else dt.datetime.now().astimezone(),
        notes=[f"written by `bsg-import undo` from the journal {journal.path}"],
    )
    return ResultsBook(path, list(columns), rows, info)


NOT_RECORDED = "no outcome recorded: the import was stopped before this row was settled"
