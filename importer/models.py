"""The plain values the stages hand each other."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from openpyxl.utils import get_column_letter

from .errors import rows_exit_code

#: One input cell as read: text from text files; typed values from workbooks.
Cell = str | int | float | bool | dt.datetime | dt.date | dt.time | None


class Status(StrEnum):
    """The status of one row in the results."""

    CREATED = "created"
    EXISTING = "existing"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    FAILED = "failed"
    SKIPPED = "skipped"
    VALIDATED = "validated"


class JournalState(StrEnum):
    """Where one row stands in the journal (its ``state`` column, written as these words:
    journals of earlier versions hold them)."""

    NEW = "new"  # read; not sent, or to be decided afresh
    SENDING = "sending"  # its request left: its create may have gone through
    FOUND = "found"  # its phone was in the book before: never this import's to delete
    DONE = "done"  # its outcome is recorded
    MAYBE_SENT = "maybe sent"  # failed after a create that may have been carried out


class UndoAction(StrEnum):
    """What undo does to a row's contact: the Undo sheet's ``action`` and the journal's
    ``undone`` column."""

    DELETED = "deleted"  # the import created it
    DETACHED = "detached"  # it existed before; the import added it to the list


class UndoResult(StrEnum):
    """How undo's action on one contact ended: the Undo sheet's ``result`` column."""

    DONE = "done"
    ALREADY_GONE = "already gone"
    LEFT_ALONE = "left alone"  # the contact now has another phone: not the row's any more
    FAILED = "failed"


#: Undo results after which the contact is no longer the import's.
TAKEN_BACK = frozenset({UndoResult.DONE, UndoResult.ALREADY_GONE})

#: Statuses that make the exit code 1.
PROBLEM_STATUSES = frozenset({Status.INVALID, Status.FAILED})

#: The note on an `existing` row whose contact was in the list before the import: undo
#: reads it back and leaves that contact in the list.
ALREADY_IN_LIST = "was already in the list before this import"
#: A failed row whose create may have been carried out even so.
MAYBE_SENT_NOTE = "; it may have been created even so: the next run looks it up"

#: The tool's own result columns, in the order Results writes them.
RESULT_COLUMNS = (
    "source_row",
    "phone_normalized",
    "status",
    "contact_id",
    "hlr_status",
    "hlr_last_check",
    "error",
)
#: RESULT_COLUMNS in words, as the web page's download names them; read like them.
RESULT_WORDS = (
    "Row", "Phone (international)", "Status", "Contact ID", "Reachable (HLR)", "Checked at",
    "Problem",
)  # fmt: skip


#: HLR statuses that end a number's check, in the order the Summary lists them. Any other
#: (``sent``, or none yet) means the check has not finished: the Summary counts it pending.
FINAL_HLR = ("active", "absent", "unknown", "failed")
PENDING_HLR = "pending"


#: Columns that have letters, A to ZZZ.
MAX_LETTERED_COLUMNS = 18278

_IGNORED_IN_NAMES = re.compile(r"[\s_.\-]+")


def name_key(name: str) -> str:
    """A header or field name as the contract compares them: case, spaces, _ - . ignored."""
    return _IGNORED_IN_NAMES.sub("", name).casefold()


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One data row: its row number as the user sees it, and its cells."""

    number: int
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class CustomField:
    """A custom contact field of the account."""

    id: int
    name: str
    type: str  # "text", "number" or "date"


@dataclass(frozen=True, slots=True)
class FieldColumn:
    """An input column that is sent as a custom field."""

    index: int
    column: str
    field: CustomField


@dataclass(frozen=True, slots=True)
class ContactList:
    """A BSG contact list ("group")."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class PreparedRow:
    """A row after normalisation: either ready to send, or already decided."""

    source_row: int
    phone: int | None
    fields: tuple[tuple[int, str], ...] = ()
    status: Status | None = None  # INVALID or DUPLICATE; None when it is to be sent
    error: str = ""
    duplicate_of: int | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """What BSG said about one contact."""

    id: int
    phone: int
    groups: tuple[int, ...] = ()
    fields: dict[int, str] = field(default_factory=dict)
    hlr_status: str | None = None
    hlr_last_check: str | None = None


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """The final word on one row."""

    source_row: int
    status: Status
    phone: int | None = None
    contact_id: int | None = None
    hlr_status: str | None = None
    hlr_last_check: str | None = None
    error: str = ""
    duplicate_of: int | None = None
    #: A failed row whose create may have been carried out: a lookup settles it next run.
    maybe_sent: bool = False


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What run_import returns: enough for the summary line, --json and the exit code."""

    list_name: str
    list_id: int | None
    counts: dict[str, int]
    output: str
    elapsed_s: float
    hlr_counts: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: The first invalid or failed rows, as (source_row, error).
    first_errors: tuple[tuple[int, str], ...] = ()
    #: What the person must hear even without a terminal (results written elsewhere).
    warnings: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 when every row went through, 1 when some are invalid or failed."""
        return rows_exit_code(any(self.counts.get(s, 0) for s in PROBLEM_STATUSES))


#: The statuses the summary line counts (and ``validated`` first, when there are any).
SUMMARY_STATUSES = (
    Status.CREATED, Status.EXISTING, Status.DUPLICATE, Status.INVALID, Status.FAILED,
    Status.SKIPPED,
)  # fmt: skip


def summary_line(summary: ImportSummary) -> str:
    """`Promo (#56147): 9120 created, ... 0 skipped in 1m12s -> contacts.results.xlsx`."""
    where = f"#{summary.list_id}" if summary.list_id is not None else "not created"
    statuses: Sequence[Status] = SUMMARY_STATUSES
    if summary.counts.get(Status.VALIDATED, 0):
        statuses = (Status.VALIDATED, *SUMMARY_STATUSES)
    counts = ", ".join(f"{summary.counts.get(s, 0)} {s}" for s in statuses)
    return (
        f"{summary.list_name} ({where}): {counts} in {_duration(summary.elapsed_s)} "
        f"-> {summary.output}"
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def cell_text(cell: Cell) -> str:
    """A cell as text, the way Excel's General format shows it: ``12``, not ``12.0``."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return f"{cell:.15g}"
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ") if cell.time() != dt.time() else cell.date().isoformat()
    if isinstance(cell, dt.date | dt.time):
        return cell.isoformat()
    return str(cell)


def is_blank(cell: Cell) -> bool:
    """True for an empty cell or one holding only white space."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def column_letter(index: int) -> str:
    """Excel's letters for a 0-based column index: 0 -> A, 26 -> AA; a text file's column
    past ZZZ, which no spreadsheet has, by its number (#18279)."""
    return get_column_letter(index + 1) if index < MAX_LETTERED_COLUMNS else f"#{index + 1}"
