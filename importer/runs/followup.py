"""Commands that start from a results workbook: hlr-refresh and undo.

Both read the workbook back, call BSG for the contacts it names (same retries,
concurrency and pace as an import), and write the workbook again in place,
atomically, with everything else kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import openpyxl

from ..bsg.calls import Calls
from ..bsg.errors import CallFailed
from ..errors import InputError
from ..hlr import INVALID_CONTACT, read_contacts
from ..journal import Journal
from ..models import (
    ALREADY_IN_LIST,
    RESULT_COLUMNS,
    TAKEN_BACK,
    Cell,
    RowOutcome,
    Status,
    UndoAction,
    UndoResult,
    column_letter,
)
from ..read.table import tool_block
from ..report import TIME_FORMAT, ReportInfo, write_report
from ..tally import Tally

T = TypeVar("T")
DETACH_BATCH = 100
UNDO_HEADER = ("source_row", "phone_normalized", "contact_id", "action", "result", "error")


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


def undone_contacts(sheet: Sequence[Sequence[Any]]) -> list[tuple[int, UndoAction]]:
    """(contact ID, what undo did) for each contact the Undo sheet took back."""
    return [
        (int(row[2]), UndoAction(str(row[3])))
        for row in sheet
        if row[2] is not None and row[4] in TAKEN_BACK
    ]


def refresh_hlr(book: ResultsBook, calls: Calls) -> dict[str, int]:
    """Read every contact of the workbook again, a page of its list at a time, and update
    hlr_status and hlr_last_check; a duplicate row shows its contact's. Counts per contact."""
    ids = {o.contact_id for _, o in book.rows if o.contact_id}
    read = read_contacts(calls, book.info.list_id, ids)
    rows, refreshed, mismatched = [], set(), 0
    for cells, outcome in book.rows:
        contact = read.found.get(outcome.contact_id) if outcome.contact_id else None
        if contact is not None and outcome.phone is not None and contact.phone != outcome.phone:
            mismatched += 1  # the row's ID is another contact's: that status isn't the row's
            contact = None
        if contact is not None:
            refreshed.add(contact.id)
            outcome = replace(
                outcome, hlr_status=contact.hlr_status, hlr_last_check=contact.hlr_last_check
            )
        rows.append((cells, outcome))
    book.rows = rows
    return {
        "refreshed": len(refreshed),
        "gone": len(read.gone),
        "failed": len(read.failed),
        "mismatched": mismatched,
    }


@dataclass(frozen=True)
class UndoPlan:
    """What undo will do: delete what the import created, detach what it attached."""

    delete: list[RowOutcome]
    detach: list[RowOutcome]
    list_id: int | None
    list_name: str

    def describe(self) -> str:
        """The plan in one sentence."""
        return (
            f"delete {len(self.delete)} contacts that this import created, and remove "
            f"{len(self.detach)} contacts that already existed from list "
            f"{self.list_name!r} (#{self.list_id}); nothing else is touched (contacts that "
            "were in the list before the import stay in it)"
        )


def plan_undo(book: ResultsBook) -> UndoPlan:
    """The rows undo acts on: one per contact, created or existing."""
    delete: dict[int, RowOutcome] = {}
    detach: dict[int, RowOutcome] = {}
    for _, outcome in book.rows:
        if outcome.contact_id is None:
            continue
        if outcome.status is Status.CREATED:
            delete.setdefault(outcome.contact_id, outcome)
        elif outcome.status is Status.EXISTING and ALREADY_IN_LIST not in outcome.error:
            detach.setdefault(outcome.contact_id, outcome)
    return UndoPlan(
        list(delete.values()), list(detach.values()), book.info.list_id, book.info.list_name
    )


def undo(book: ResultsBook, plan: UndoPlan, calls: Calls) -> list[list[Any]]:
    """Carry the plan out; one row of the Undo sheet per contact acted on."""
    sheet = [
        _undo_row(o, UndoAction.DELETED, *result)
        for o, result in calls.each(plan.delete, lambda o: _delete(calls, o))
    ]
    for batch in _batches(plan.detach, DETACH_BATCH):
        results = _detach(calls, batch, plan.list_id)
        sheet += [
            _undo_row(o, UndoAction.DETACHED, *r) for o, r in zip(batch, results, strict=True)
        ]
    book.extra["Undo"] = (list(UNDO_HEADER), sheet)
    return sheet


def _delete(calls: Calls, outcome: RowOutcome) -> tuple[UndoResult, str]:
    contact_id = outcome.contact_id
    assert contact_id is not None
    try:
        contact = calls.call(lambda: calls.client.get_contact(contact_id))
        if contact.phone != outcome.phone:
            return (
                UndoResult.LEFT_ALONE,
                f"contact {contact_id} now has phone {contact.phone}, not this row's",
            )
        calls.call(lambda: calls.client.delete_contact(contact_id))
    except CallFailed as failure:
        return (
            (UndoResult.ALREADY_GONE, "")
            if failure.message == INVALID_CONTACT
            else (UndoResult.FAILED, failure.reason)
        )
    return UndoResult.DONE, ""


def _detach(
    calls: Calls, batch: Sequence[RowOutcome], list_id: int | None
) -> list[tuple[UndoResult, str]]:
    """Detach a batch in one call; (result, error) for each of its rows."""
    if list_id is None:
        return [(UndoResult.FAILED, "the workbook's Summary names no list ID")] * len(batch)
    ids = [o.contact_id for o in batch if o.contact_id is not None]
    try:
        calls.call(lambda: calls.client.detach(ids, list_id))
    except CallFailed as failure:
        if failure.message != INVALID_CONTACT:
            return [(UndoResult.FAILED, failure.reason)] * len(batch)
        if len(batch) == 1:
            return [(UndoResult.ALREADY_GONE, "")]
        # One contact deleted since the import fails the whole batch: detach each on its own.
        singles = calls.each([[o] for o in batch], lambda one: _detach(calls, one, list_id))
        return [results[0] for _, results in singles]
    return [(UndoResult.DONE, "")] * len(batch)


def _undo_row(outcome: RowOutcome, action: UndoAction, result: UndoResult, error: str) -> list[Any]:
    return [
        outcome.source_row,
        outcome.phone,
        outcome.contact_id,
        action.value,
        result.value,
        error,
    ]


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
