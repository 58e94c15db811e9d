"""Library entry points for what comes after an import: hlr-refresh and undo.

As ``run_import`` is for an import, ``run_hlr_refresh`` and ``run_undo`` are what the command
line and the web page call: each logs in with the run's settings, does the work of
``followup`` under the retry policy, writes the workbook again and returns a summary.
"""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from ..errors import InputError, rows_exit_code
from ..journal import Journal
from ..locks import import_lock
from ..models import UndoResult
from ..settings import Account, Settings
from .connecting import session
from .control import RunControl
from .followup import (
    ResultsBook,
    UndoPlan,
    journal_book,
    plan_undo,
    read_results_book,
    refresh_hlr,
    undo,
    undone_contacts,
)
from .history import journal_folder, journal_of_results, journal_path


@dataclass(frozen=True)
class RefreshSummary:
    """What hlr-refresh did to one workbook."""

    path: Path
    refreshed: int
    gone: int
    failed: int
    hlr_counts: dict[str, int] = field(default_factory=dict)
    #: Rows whose contact ID names a contact with another phone: left as they were.
    mismatched: int = 0

    @property
    def exit_code(self) -> int:
        """1 when some contacts could not be fetched, or have another phone than their row."""
        return rows_exit_code(bool(self.failed or self.mismatched))

    def line(self) -> str:
        """The summary line the command prints."""
        hlr = ", ".join(f"{n} {s}" for s, n in sorted(self.hlr_counts.items())) or "none yet"
        other = (
            f", {self.mismatched} have another phone than their row (left as they were)"
            if self.mismatched
            else ""
        )
        return (
            f"{self.path}: {self.refreshed} contacts refreshed, {self.gone} no longer exist, "
            f"{self.failed} could not be fetched{other}; hlr_status: {hlr}"
        )


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


def run_hlr_refresh(
    book: ResultsBook,
    account: Account,
    *,
    control: RunControl | None = None,
    transport: httpx.BaseTransport | None = None,
) -> RefreshSummary:
    """Fetch every contact of ``book`` again and save its new HLR status in place."""
    with session(account, control, transport) as calls:
        tally = refresh_hlr(book, calls)
    counted = book.save()
    return RefreshSummary(book.path, **tally, hlr_counts=dict(counted.hlr_counts))


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
