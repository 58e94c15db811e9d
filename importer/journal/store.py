"""The Journal: each row recorded as it is read, sent and settled, and read back in order."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import JournalError
from ..models import (
    FINAL_HLR,
    Cell,
    Contact,
    JournalState,
    RowOutcome,
    SourceRow,
    Status,
    UndoAction,
)
from .cells import decode_cells, encode_cells
from .database import connect, failure, sqlite_errors, transaction

#: The outcomes BSG confirmed: they carry over to the next run.
KEPT_STATUSES = (Status.CREATED, Status.EXISTING, Status.SKIPPED)
#: A row undo took back: what the next run of the import writes in its ``error`` cell.
UNDONE: dict[str, str] = {
    UndoAction.DELETED: "undone: `bsg-import undo` deleted this contact, which this import had "
    "created",
    UndoAction.DETACHED: "undone: `bsg-import undo` removed this contact from the list",
}
NOT_AGAIN = "; not sent again (--redo-undone sends it again)"
MAYBE_SENT_UNSETTLED = (
    "being sent when the import was interrupted, before BSG's answer was recorded: it may "
    "have been created; run the same command again to settle it (its phone is looked up "
    "first, never sent twice)"
)

_DONE, _SENDING, _FOUND, _NEW = (
    JournalState.DONE, JournalState.SENDING, JournalState.FOUND, JournalState.NEW,
)  # fmt: skip


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


class Journal:
    """The outcomes of one import; used from one thread only.

    ``create``: False to open only a journal that exists (JournalError otherwise).
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self._db = connect(path, create=create)

    def failed(self, doing: str, error: BaseException) -> JournalError:
        """The error for a journal that could not be read or written just now."""
        return failure(self.path, doing, error)

    def close(self) -> None:
        """Close the database; everything recorded is already durable."""
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- what earlier runs left ------------------------------------------------------------

    @sqlite_errors("read")
    def carried_over(self) -> dict[int, JournalState]:
        """Rows an earlier run settled with BSG (DONE), left in flight or failed after a
        create that may have been carried out (SENDING), or found already in the contact
        book, whatever became of them then (FOUND)."""
        query = (
            f"SELECT source_row, CASE WHEN state = ? THEN ? WHEN existed THEN ? ELSE ? END "
            f"FROM rows WHERE (state = ? AND status IN ({_marks(KEPT_STATUSES)})) "
            "OR (state != ? AND (state IN (?, ?) OR existed))"
        )
        values = (
            _DONE, _DONE, _FOUND, _SENDING, _DONE, *KEPT_STATUSES, _DONE, _SENDING,
            JournalState.MAYBE_SENT,
        )  # fmt: skip
        return {n: JournalState(s) for n, s in self._db.execute(query, values)}

    @sqlite_errors("written")
    def forget_unconfirmed(self) -> None:
        """Drop the outcomes BSG didn't confirm, so that this run decides them again."""
        self._db.execute(
            "UPDATE rows SET state = ?, status = NULL, error = '', duplicate_of = NULL "
            f"WHERE state = ? OR (state = ? AND status NOT IN ({_marks(KEPT_STATUSES)}))",
            (_NEW, _NEW, _DONE, *KEPT_STATUSES),
        )

    @sqlite_errors("read")
    def get_meta(self, key: str) -> Any:
        """A value stored with set_meta (None when never set)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    @sqlite_errors("written")
    def set_meta(self, **values: Any) -> None:
        """Remember facts about the import (list, times, file name)."""
        with transaction(self._db):
            self._db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in values.items()],
            )

    # -- recording -------------------------------------------------------------------------

    @sqlite_errors("written")
    def add(self, rows: Iterable[tuple[SourceRow, int | None]]) -> None:
        """Record rows as read, with their phones; rows already known are kept as they are."""
        with transaction(self._db):
            self._db.executemany(
                "INSERT OR IGNORE INTO rows (source_row, cells, phone) VALUES (?, ?, ?)",
                ((r.number, encode_cells(r.cells), phone) for r, phone in rows),
            )

    @sqlite_errors("written")
    def sending(self, source_rows: Sequence[int]) -> None:
        """Mark rows whose requests are about to leave."""
        with transaction(self._db):
            self._db.executemany(
                "UPDATE rows SET state = ? WHERE source_row = ?",
                ((_SENDING, n) for n in source_rows),
            )

    @sqlite_errors("written")
    def unsent(self, source_rows: Sequence[int]) -> None:
        """Take back the mark of rows whose requests never left after all (a stop came)."""
        with transaction(self._db):
            self._db.executemany(
                "UPDATE rows SET state = ? WHERE source_row = ? AND state = ?",
                ((_NEW, n, _SENDING) for n in source_rows),
            )

    @sqlite_errors("written")
    def found(self, source_rows: Sequence[int]) -> None:
        """Mark rows whose phones were in the book before this import: never ours to delete."""
        with transaction(self._db):
            self._db.executemany(
                "UPDATE rows SET state = ?, existed = 1 WHERE source_row = ?",
                ((_FOUND, n) for n in source_rows),
            )

    @sqlite_errors("written")
    def record(self, outcomes: Iterable[RowOutcome]) -> None:
        """Record final outcomes in one transaction; a failed row whose create may have been
        carried out is left MAYBE_SENT."""
        with transaction(self._db):
            self._db.executemany(
                "UPDATE rows SET state = ?, status = ?, phone = coalesce(?, phone), "
                "contact_id = ?, hlr_status = ?, hlr_last_check = ?, error = ?, duplicate_of = ? "
                "WHERE source_row = ?",
                (
                    (
                        JournalState.MAYBE_SENT if o.maybe_sent else _DONE, o.status, o.phone,
                        o.contact_id, o.hlr_status, o.hlr_last_check, o.error, o.duplicate_of,
                        o.source_row,
                    )
                    for o in outcomes
                ),
            )  # fmt: skip

    @sqlite_errors("read")
    def awaiting_hlr(self) -> set[int]:
        """The import's contacts whose HLR check has no final status yet."""
        query = (
            "SELECT DISTINCT contact_id FROM rows WHERE contact_id IS NOT NULL AND undone IS NULL "
            f"AND status IN ({_marks(KEPT_STATUSES)}) "
            f"AND coalesce(hlr_status, '') NOT IN ({_marks(FINAL_HLR)})"
        )
        return {int(row[0]) for row in self._db.execute(query, (*KEPT_STATUSES, *FINAL_HLR))}

    @sqlite_errors("written")
    def record_hlr(self, contacts: Iterable[Contact]) -> None:
        """Record the HLR status BSG now gives each contact, on every row of that contact."""
        with transaction(self._db):
            self._db.executemany(
                "UPDATE rows SET hlr_status = ?, hlr_last_check = ? WHERE contact_id = ?",
                ((c.hlr_status, c.hlr_last_check, c.id) for c in contacts),
            )

    @sqlite_errors("written")
    def record_undo(self, undone: Iterable[tuple[int, UndoAction]]) -> None:
        """Record contacts undo took back, as (contact ID, how), on every row of this import
        that names them."""
        with transaction(self._db):
            self._db.executemany(
                "UPDATE rows SET undone = ? WHERE contact_id = ? AND status IN (?, ?)",
                ((how, cid, Status.CREATED, Status.EXISTING) for cid, how in undone),
            )

    @sqlite_errors("written")
    def redo_undone(self) -> int:
        """Make the rows undo took back rows to send again; how many there were."""
        with transaction(self._db):
            cursor = self._db.execute(
                "UPDATE rows SET state = ?, status = NULL, contact_id = NULL, "
                "hlr_status = NULL, hlr_last_check = NULL, error = '', undone = NULL "
                "WHERE undone IS NOT NULL",
                (_NEW,),
            )
        return int(cursor.rowcount)

    @sqlite_errors("read")
    def kept_phones(self) -> dict[int, tuple[int, Status]]:
        """phone -> (first source row, status) of the rows created or found, not undone, and
        of those whose create may have been carried out unanswered (``failed``)."""
        query = (
            "SELECT phone, min(source_row), status FROM rows WHERE phone IS NOT NULL "
            f"AND undone IS NULL AND status IN ({_marks(KEPT_STATUSES)}) GROUP BY phone"
        )
        rows = self._db.execute(query, KEPT_STATUSES)
        kept = {int(p): (int(n), Status(s)) for p, n, s in rows}
        query = (
            "SELECT phone, min(source_row) FROM rows WHERE phone IS NOT NULL AND undone IS NULL "
            "AND ((state = ? AND status IS NULL) OR state = ?) GROUP BY phone"
        )
        maybe = self._db.execute(query, (_SENDING, JournalState.MAYBE_SENT))
        return {int(p): (int(n), Status.FAILED) for p, n in maybe} | kept

    @sqlite_errors("read")
    def phones(self) -> set[int]:
        """Every phone of the import's rows."""
        query = "SELECT DISTINCT phone FROM rows WHERE phone IS NOT NULL"
        return {int(row[0]) for row in self._db.execute(query)}

    @sqlite_errors("read")
    def undone(self) -> int:
        """Rows whose contacts undo took back."""
        query = "SELECT count(*) FROM rows WHERE undone IS NOT NULL"
        return int(self._db.execute(query).fetchone()[0])

    # -- reading back ----------------------------------------------------------------------

    def results(
        self, unsettled: str, *, as_imported: bool = False
    ) -> Iterator[tuple[tuple[Cell, ...], RowOutcome]]:
        """Every row in input order; a duplicate carries its first row's contact and HLR status.

        A row with no outcome yet (an interrupted run) is reported failed, saying ``unsettled``
        (or that it may have been sent). A row undo took back is ``skipped`` and says so,
        unless ``as_imported`` (what undo itself acts on).
        """
        try:
            yield from self._results(unsettled, as_imported)
        except sqlite3.Error as error:
            raise self.failed("read", error) from error

    def _results(
        self, unsettled: str, as_imported: bool
    ) -> Iterator[tuple[tuple[Cell, ...], RowOutcome]]:
        cursor = self._db.execute(
            "SELECT r.source_row, r.cells, r.phone, r.status, "
            "coalesce(r.contact_id, f.contact_id), coalesce(r.hlr_status, f.hlr_status), "
            "coalesce(r.hlr_last_check, f.hlr_last_check), r.error, "
            "r.duplicate_of, r.state, r.undone "
            "FROM rows r LEFT JOIN rows f ON f.source_row = r.duplicate_of "
            "ORDER BY r.source_row"
        )
        for number, cells, phone, status, cid, hlr, checked, error, dup, state, undone in cursor:
            if status is None:
                status = Status.FAILED
                error = MAYBE_SENT_UNSETTLED if state == _SENDING else unsettled
            if undone and not as_imported:
                status, error = Status.SKIPPED, _undone_note(undone) + NOT_AGAIN
            outcome = RowOutcome(number, Status(status), phone, cid, hlr, checked, error, dup)
            yield decode_cells(cells), outcome

    @sqlite_errors("read")
    def counts(self) -> dict[str, int]:
        """How many rows have each status."""
        query = "SELECT status, count(*) FROM rows WHERE status IS NOT NULL GROUP BY status"
        return {str(s): int(n) for s, n in self._db.execute(query)}

    @sqlite_errors("read")
    def unsettled(self) -> int:
        """Rows with no outcome yet."""
        return int(self._db.execute("SELECT count(*) FROM rows WHERE status IS NULL").fetchone()[0])


def _undone_note(undone: str) -> str:
    """What a row undo took back says; an unknown mark (a later version's) as it is."""
    return UNDONE.get(undone, undone)
