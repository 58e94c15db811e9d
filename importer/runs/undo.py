"""``bsg-import undo``: take an import back. Delete the contacts it created and detach from
the list those that were there already; nothing else is touched.

The plan comes from the import's journal when there is one (else from the workbook alone)
and is shown before it is carried out. What was taken back goes into the journal, so that
the import's next run knows, and into the workbook's Undo sheet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ..bsg.calls import Calls
from ..bsg.errors import CallFailed
from ..errors import InputError, rows_exit_code
from ..hlr import INVALID_CONTACT
from ..journal import Journal
from ..locks import import_lock
from ..models import ALREADY_IN_LIST, TAKEN_BACK, RowOutcome, Status, UndoAction, UndoResult
from ..settings import Account, Settings
from .connecting import session
from .control import RunControl
from .history import journal_folder, journal_of_results, journal_path
from .results_book import ResultsBook, journal_book, read_results_book

T = TypeVar("T")
DETACH_BATCH = 100
UNDO_HEADER = ("source_row", "phone_normalized", "contact_id", "action", "result", "error")


def undone_contacts(sheet: Sequence[Sequence[Any]]) -> list[tuple[int, UndoAction]]:
    """(contact ID, what undo did) for each contact the Undo sheet took back."""
    return [
        (int(row[2]), UndoAction(str(row[3])))
        for row in sheet
        if row[2] is not None and row[4] in TAKEN_BACK
    ]


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


@dataclass(frozen=True)
class UndoSummary:
    """What undo did: how many contacts ended each way (done, already gone, failed…)."""

    path: Path
    results: dict[str, int]

    @property
    def exit_code(self) -> int:
        """1 when some contacts could not be deleted or detached."""
        return rows_exit_code(bool(self.results.get(UndoResult.FAILED)))

    def line(self) -> str:
        """The summary line the command prints."""
        done = ", ".join(f"{n} {r}" for r, n in sorted(self.results.items()))
        return f"{self.path}: undo {done}; see its Undo sheet"


@dataclass
class UndoSource:
    """What undo acts on: the plan, from the import's journal when there is one (else from
    the workbook alone), and the workbook that gets the Undo sheet."""

    book: ResultsBook
    plan: UndoPlan
    journal: Path | None

    def describe(self) -> str:
        """Where the plan comes from, in words."""
        if self.journal is None:
            return "from the results workbook alone (no journal of this import was found)"
        return f"from the import's journal {self.journal}"


def undo_source(results: Path, account: Account) -> UndoSource:
    """The import to take back: a results workbook, planned from the import's journal when
    it is found (the workbook may be gone: a killed import)."""
    found = journal_of_results(journal_folder(account), results, account.api_root)
    if not results.is_file() and found is None:
        raise InputError(
            f"{results}: no such file. If the import was stopped before it wrote its results "
            "(killed), name the import as it was run: bsg-import undo INPUT_FILE --list NAME"
        )
    if found is None:
        book = read_results_book(results)
        return UndoSource(book, plan_undo(book), None)
    with Journal(found, create=False) as journal:
        recorded = journal_book(journal, results)
    book = read_results_book(results) if results.is_file() else recorded
    return UndoSource(book, plan_undo(replace(recorded, info=book.info)), found)


def undo_source_of_input(settings: Settings) -> UndoSource:
    """The import of ``settings.file`` into ``settings.list_name`` to take back, from its
    journal alone: an import that wrote no workbook."""
    path = journal_path(settings)
    if not path.is_file():
        raise InputError(
            f"no journal of an import of {settings.file} (as it is now) into list "
            f"{settings.list_name!r} on {settings.api_root} in {path.parent}: give the "
            "results workbook instead, or the --journal-dir the import used"
        )
    with Journal(path, create=False) as journal:
        book = journal_book(journal, _output_of(journal, settings))
    return UndoSource(book, plan_undo(book), path)


def _output_of(journal: Journal, settings: Settings) -> Path:
    output = journal.get_meta("output")
    return Path(output) if isinstance(output, str) else settings.output_path


def run_undo(
    book: ResultsBook,
    plan: UndoPlan,
    account: Account,
    *,
    control: RunControl | None = None,
    transport: httpx.BaseTransport | None = None,
    journal_file: Path | None = None,
) -> UndoSummary:
    """Carry out ``plan`` (from ``undo_source`` or ``plan_undo``, shown to the person first);
    record in the import's journal (``journal_file``) what was taken back, so that the
    import's next run knows; save the Undo sheet."""
    if journal_file is None:  # the page's History plans from the workbook: record it even so
        journal_file = journal_of_results(journal_folder(account), book.path, account.api_root)
    with ExitStack() as stack:
        journal = None
        if journal_file is not None:
            what = f"working on this import (its journal {journal_file})"
            hint = "undo it once that run has ended"
            stack.enter_context(import_lock(journal_file.stem, what, wait=False, hint=hint))
            journal = stack.enter_context(Journal(journal_file, create=False))
        with session(account, control, transport) as calls:
            sheet = undo(book, plan, calls)
        if journal is not None:
            journal.record_undo(undone_contacts(sheet))
    book.save()
    return UndoSummary(book.path, dict(Counter(str(row[4]) for row in sheet)))
