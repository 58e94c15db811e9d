"""The journal's SQLite file: its schema, opening and checking it, and its errors in words.

Every SQLite error becomes a JournalError that names the file; a file that is not a whole
journal is refused with the way out, never taken for none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import ParamSpec, Protocol, TypeVar

from ..errors import JournalError
from ..models import JournalState

P = ParamSpec("P")
R = TypeVar("R")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    source_row INTEGER PRIMARY KEY,
    cells TEXT NOT NULL,
    phone INTEGER,
    state TEXT NOT NULL DEFAULT '{JournalState.NEW}',
    status TEXT,
    contact_id INTEGER,
    hlr_status TEXT,
    hlr_last_check TEXT,
    error TEXT NOT NULL DEFAULT '',
    duplicate_of INTEGER,
    existed INTEGER NOT NULL DEFAULT 0,  -- its phone was in the book before this import
    undone TEXT  -- an UndoAction: 'deleted' or 'detached' by undo
);
CREATE INDEX IF NOT EXISTS rows_by_contact ON rows (contact_id);
"""


def connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """The journal at ``path``, opened (and, when ``create``, made or checked whole).

    ``create``: False to open only a journal that exists, and to read it without
    checking all of it first (it fails as it is read, if it does).
    """
    existed = path.exists()
    if not existed and not create:
        raise JournalError(f"no journal at {path}")
    if existed and path.is_file() and path.stat().st_size == 0:
        raise damaged(path, "it is empty: 0 bytes")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None)
    except (OSError, sqlite3.Error) as error:
        raise JournalError(f"the journal {path} can't be opened: {why(error)}") from error
    try:
        _open(db, existed, checked=create)
    except sqlite3.DatabaseError as error:
        db.close()
        raise damaged(path, why(error)) from error
    except sqlite3.Error as error:
        db.close()
        raise failure(path, "opened", error) from error
    return db


def _open(db: sqlite3.Connection, existed: bool, *, checked: bool) -> None:
    """Open the file as a journal; ``checked``: read all of it once to be sure it is
    whole (a journal to write in; one only read fails as it is read, if it does)."""
    if existed:
        check = db.execute("PRAGMA quick_check").fetchone()[0] if checked else "ok"
        if check != "ok":
            raise sqlite3.DatabaseError(f"damaged: {check}")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        if not {"meta", "rows"} <= tables:
            raise sqlite3.DatabaseError("not a journal of bsg-import")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(rows)")}
    if "existed" not in columns:  # a journal from before the column
        db.execute("ALTER TABLE rows ADD COLUMN existed INTEGER NOT NULL DEFAULT 0")
    if "undone" not in columns:
        db.execute("ALTER TABLE rows ADD COLUMN undone TEXT")


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken at once (BEGIN IMMEDIATE), rolled back on any error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def damaged(path: Path, why: str) -> JournalError:
    """The error for a journal that can't be read: what it is, and the way out."""
    return JournalError(
        f"the journal {path} can't be read ({why}), so which rows were sent is not known; "
        "nothing was sent. Move it away to keep it, or run the same command with "
        "--no-resume to import the file again from the start"
    )


def failure(path: Path, doing: str, error: BaseException) -> JournalError:
    """The error for a journal that could not be read or written just now."""
    if isinstance(error, sqlite3.DatabaseError) and "malformed" in str(error):
        return damaged(path, why(error))
    return JournalError(
        f"the journal {path} could not be {doing}: {why(error)}; what was recorded "
        "before is kept, and the same command resumes from it once there is room"
    )


def why(error: BaseException) -> str:
    """An SQLite or OS error in words, without Python's class names."""
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error) or type(error).__name__


class _HasPath(Protocol):
    path: Path


def sqlite_errors(doing: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn SQLite's errors in a journal's method into a JournalError naming its file."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @wraps(method)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except sqlite3.Error as error:
                journal: _HasPath = args[0]  # type: ignore[assignment]
                raise failure(journal.path, doing, error) from error

        return guarded

    return decorate
