"""A durable record of every row's outcome, the single source of the results.

One SQLite file (WAL) per import, named after the input's content hash, the list
name and the API root, so that another file or list never mixes in. A row is
marked ``sending`` before its request leaves and ``done`` when its outcome is
known; a row found ``sending`` after a crash may have been created, so the next
run looks its phone up instead of sending it blindly. A row whose phone turned out
to be in the book already is marked ``found`` before it is added to the list, so
that no later run can take that contact for one this import created. Only outcomes that BSG
confirmed (created, existing, skipped) carry over to the next run: the rest is
decided afresh, so a re-run retries what failed, except a failed row whose create may
have been carried out even so: it stays ``maybe sent`` until a lookup settles it.

Undo writes what it took back into the journal (``undone``), so that a later run of the
import knows those contacts are gone and says so instead of claiming them created.

A journal that can't be read (empty, cut short, not SQLite) is refused with its path,
never taken for none; every SQLite error becomes a JournalError that names the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .errors import JournalError
from .models import FINAL_HLR, Cell, Contact, RowOutcome, SourceRow, Status

KEPT_STATUSES = (Status.CREATED.value, Status.EXISTING.value, Status.SKIPPED.value)
#: The state of a failed row whose create may have been carried out.
MAYBE_SENT = "maybe sent"
#: A row undo took back: what the next run of the import writes in its ``error`` cell.
UNDONE = {
    "deleted": "undone: `bsg-import undo` deleted this contact, which this import had created",
    "detached": "undone: `bsg-import undo` removed this contact from the list",
}
NOT_AGAIN = "; not sent again (--redo-undone sends it again)"
P = ParamSpec("P")
R = TypeVar("R")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    source_row INTEGER PRIMARY KEY,
    cells TEXT NOT NULL,
    phone INTEGER,
    state TEXT NOT NULL DEFAULT 'new',
    status TEXT,
    contact_id INTEGER,
    hlr_status TEXT,
    hlr_last_check TEXT,
    error TEXT NOT NULL DEFAULT '',
    duplicate_of INTEGER,
    existed INTEGER NOT NULL DEFAULT 0,  -- its phone was in the book before this import
    undone TEXT  -- 'deleted' or 'detached' by undo
);
CREATE INDEX IF NOT EXISTS rows_by_contact ON rows (contact_id);
"""


def import_key(file_hash: str, list_name: str, api_root: str) -> str:
    """The journal's name for one import: which file, into which list, on which service."""
    text = json.dumps([file_hash, list_name, api_root.rstrip("/")])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _sqlite(doing: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn SQLite's errors in a Journal method into a JournalError naming the file."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @wraps(method)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except sqlite3.Error as error:
                journal = args[0]
                assert isinstance(journal, Journal)
                raise journal.failed(doing, error) from error

        return guarded

    return decorate


def damaged(path: Path, why: str) -> JournalError:
    """The error for a journal that can't be read: what it is, and the way out."""
    return JournalError(
        f"the journal {path} can't be read ({why}), so which rows were sent is not known; "
        "nothing was sent. Move it away to keep it, or run the same command with "
        "--no-resume to import the file again from the start"
    )


class Journal:
    """The outcomes of one import; used from one thread only.

    ``create``: False to open only a journal that exists (JournalError otherwise).
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        existed = path.exists()
        if not existed and not create:
            raise JournalError(f"no journal at {path}")
        if existed and path.is_file() and path.stat().st_size == 0:
            raise damaged(path, "it is empty: 0 bytes")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise JournalError(f"the journal {path} can't be opened: {_why(error)}") from error
        try:
            self._open(existed, checked=create)
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise damaged(path, _why(error)) from error
        except sqlite3.Error as error:
            self._db.close()
            raise self.failed("opened", error) from error

    def _open(self, existed: bool, *, checked: bool) -> None:
        """Open the file as a journal; ``checked``: read all of it once to be sure it is
        whole (a journal to write in; one only read fails as it is read, if it does)."""
        if existed:
            check = self._db.execute("PRAGMA quick_check").fetchone()[0] if checked else "ok"
            if check != "ok":
                raise sqlite3.DatabaseError(f"damaged: {check}")
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
            if not {"meta", "rows"} <= tables:
                raise sqlite3.DatabaseError("not a journal of bsg-import")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(rows)")}
        if "existed" not in columns:  # a journal from before the column
            self._db.execute("ALTER TABLE rows ADD COLUMN existed INTEGER NOT NULL DEFAULT 0")
        if "undone" not in columns:
            self._db.execute("ALTER TABLE rows ADD COLUMN undone TEXT")

    def failed(self, doing: str, error: BaseException) -> JournalError:
        """The error for a journal that could not be read or written just now."""
        if isinstance(error, sqlite3.DatabaseError) and "malformed" in str(error):
            return damaged(self.path, _why(error))
        return JournalError(
            f"the journal {self.path} could not be {doing}: {_why(error)}; what was recorded "
            "before is kept, and the same command resumes from it once there is room"
        )

    def close(self) -> None:
        """Close the database; everything recorded is already durable."""
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- what earlier runs left ------------------------------------------------------------

    @_sqlite("read")
    def carried_over(self) -> dict[int, str]:
        """Rows an earlier run settled with BSG ('done'), left in flight or failed after a
        create that may have been carried out ('sending'), or found already in the contact
        book, whatever became of them then ('found')."""
        query = (
            "SELECT source_row, CASE WHEN state = 'done' THEN 'done' WHEN existed THEN 'found' "
            "ELSE 'sending' END FROM rows "
            f"WHERE (state = 'done' AND status IN ({','.join('?' * len(KEPT_STATUSES))})) "
            "OR (state != 'done' AND (state IN ('sending', ?) OR existed))"
        )
        return dict(self._db.execute(query, (*KEPT_STATUSES, MAYBE_SENT)).fetchall())

    @_sqlite("written")
    def forget_unconfirmed(self) -> None:
        """Drop the outcomes BSG didn't confirm, so that this run decides them again."""
        marks = ",".join("?" * len(KEPT_STATUSES))
        self._db.execute(
            f"UPDATE rows SET state = 'new', status = NULL, error = '', duplicate_of = NULL "
            f"WHERE state = 'new' OR (state = 'done' AND status NOT IN ({marks}))",
            KEPT_STATUSES,
        )

    @_sqlite("read")
    def get_meta(self, key: str) -> Any:
        """A value stored with set_meta (None when never set)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    @_sqlite("written")
    def set_meta(self, **values: Any) -> None:
        """Remember facts about the import (list, times, file name)."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in values.items()],
            )

    # -- recording -------------------------------------------------------------------------

    @_sqlite("written")
    def add(self, rows: Iterable[tuple[SourceRow, int | None]]) -> None:
        """Record rows as read, with their phones; rows already known are kept as they are."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO rows (source_row, cells, phone) VALUES (?, ?, ?)",
                ((r.number, encode_cells(r.cells), phone) for r, phone in rows),
            )

    @_sqlite("written")
    def sending(self, source_rows: Sequence[int]) -> None:
        """Mark rows whose requests are about to leave."""
        with self._transaction():
            self._db.executemany(
                "UPDATE rows SET state = 'sending' WHERE source_row = ?",
                ((n,) for n in source_rows),
            )

    @_sqlite("written")
    def found(self, source_rows: Sequence[int]) -> None:
        """Mark rows whose phones were in the book before this import: never ours to delete."""
        with self._transaction():
            self._db.executemany(
                "UPDATE rows SET state = 'found', existed = 1 WHERE source_row = ?",
                ((n,) for n in source_rows),
            )

    @_sqlite("written")
    def record(self, outcomes: Iterable[RowOutcome]) -> None:
        """Record final outcomes in one transaction; a failed row whose create may have been
        carried out is left ``maybe sent``."""
        with self._transaction():
            self._db.executemany(
                "UPDATE rows SET state = ?, status = ?, phone = coalesce(?, phone), "
                "contact_id = ?, hlr_status = ?, hlr_last_check = ?, error = ?, duplicate_of = ? "
                "WHERE source_row = ?",
                (
                    (
                        MAYBE_SENT if o.maybe_sent else "done", o.status.value, o.phone,
                        o.contact_id, o.hlr_status, o.hlr_last_check, o.error, o.duplicate_of,
                        o.source_row,
                    )
                    for o in outcomes
                ),
            )  # fmt: skip

    @_sqlite("read")
    def awaiting_hlr(self) -> set[int]:
        """The import's contacts whose HLR check has no final status yet."""
        query = (
            "SELECT DISTINCT contact_id FROM rows WHERE contact_id IS NOT NULL AND undone IS NULL "
            "AND status IN ('created', 'existing', 'skipped') "
            f"AND coalesce(hlr_status, '') NOT IN ({','.join('?' * len(FINAL_HLR))})"
        )
        return {int(row[0]) for row in self._db.execute(query, FINAL_HLR)}

    @_sqlite("written")
    def record_hlr(self, contacts: Iterable[Contact]) -> None:
        """Record the HLR status BSG now gives each contact, on every row of that contact."""
        with self._transaction():
            self._db.executemany(
                "UPDATE rows SET hlr_status = ?, hlr_last_check = ? WHERE contact_id = ?",
                ((c.hlr_status, c.hlr_last_check, c.id) for c in contacts),
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @_sqlite("written")
    def record_undo(self, undone: Iterable[tuple[int, str]]) -> None:
        """Record contacts undo took back, as (contact ID, 'deleted' or 'detached'), on every
        row of this import that names them."""
        with self._transaction():
            self._db.executemany(
                "UPDATE rows SET undone = ? WHERE contact_id = ? AND status IN (?, ?)",
                ((how, cid, Status.CREATED.value, Status.EXISTING.value) for cid, how in undone),
            )

    @_sqlite("written")
    def redo_undone(self) -> int:
        """Make the rows undo took back rows to send again; how many there were."""
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE rows SET state = 'new', status = NULL, contact_id = NULL, "
                "hlr_status = NULL, hlr_last_check = NULL, error = '', undone = NULL "
                "WHERE undone IS NOT NULL"
            )
        return int(cursor.rowcount)

    @_sqlite("read")
    def kept_phones(self) -> dict[int, tuple[int, str]]:
        """phone -> (first source row, status) of the rows created or found, not undone."""
        query = (
            "SELECT phone, min(source_row), status FROM rows WHERE phone IS NOT NULL "
            "AND undone IS NULL AND status IN (?, ?, ?) GROUP BY phone"
        )
        return {int(p): (int(n), str(s)) for p, n, s in self._db.execute(query, KEPT_STATUSES)}

    @_sqlite("read")
    def phones(self) -> set[int]:
        """Every phone of the import's rows."""
        query = "SELECT DISTINCT phone FROM rows WHERE phone IS NOT NULL"
        return {int(row[0]) for row in self._db.execute(query)}

    @_sqlite("read")
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
                maybe = state == "sending"
                status = Status.FAILED
                error = MAYBE_SENT_UNSETTLED if maybe else unsettled
            if undone and not as_imported:
                status, error = Status.SKIPPED, UNDONE.get(undone, undone) + NOT_AGAIN
            outcome = RowOutcome(number, Status(status), phone, cid, hlr, checked, error, dup)
            yield decode_cells(cells), outcome

    @_sqlite("read")
    def counts(self) -> dict[str, int]:
        """How many rows have each status."""
        query = "SELECT status, count(*) FROM rows WHERE status IS NOT NULL GROUP BY status"
        return {str(s): int(n) for s, n in self._db.execute(query)}

    @_sqlite("read")
    def unsettled(self) -> int:
        """Rows with no outcome yet."""
        return int(self._db.execute("SELECT count(*) FROM rows WHERE status IS NULL").fetchone()[0])


MAYBE_SENT_UNSETTLED = (
    "being sent when the import was interrupted, before BSG's answer was recorded: it may "
    "have been created; run the same command again to settle it (its phone is looked up "
    "first, never sent twice)"
)


def _why(error: BaseException) -> str:
    """An SQLite or OS error in words, without Python's class names."""
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error) or type(error).__name__


def encode_cells(cells: Sequence[Cell]) -> str:
    """Cells as JSON, dates and times tagged so that they come back as they were."""
    return json.dumps([_encode(c) for c in cells], ensure_ascii=False)


def _encode(cell: Cell) -> Any:
    if isinstance(cell, dt.datetime):
        return {"dt": cell.isoformat()}
    if isinstance(cell, dt.date):
        return {"d": cell.isoformat()}
    if isinstance(cell, dt.time):
        return {"t": cell.isoformat()}
    return cell


def decode_cells(text: str) -> tuple[Cell, ...]:
    """The inverse of encode_cells."""
    return tuple(_decode(c) for c in json.loads(text))


def _decode(value: Any) -> Cell:
    if isinstance(value, dict):
        if "dt" in value:
            return dt.datetime.fromisoformat(value["dt"])
        if "d" in value:
            return dt.date.fromisoformat(value["d"])
        return dt.time.fromisoformat(value["t"])
    return value  # type: ignore[no-any-return]
