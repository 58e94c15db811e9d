"""A durable record of every row's outcome, the single source of the results.

One SQLite file (WAL) per import, named after the input's content hash, the list
name and the API root (``names``), so that another file or list never mixes in. A row is
marked ``sending`` before its request leaves and ``done`` when its outcome is
known; a row found ``sending`` after a crash may have been created, so the next
run looks its phone up instead of sending it blindly. A row whose phone turned out
to be in the book already is marked ``found`` before it is added to the list, so
that no later run can take that contact for one this import created. Only outcomes that BSG
confirmed (created, existing, skipped) carry over to the next run: the rest is
decided afresh, so a re-run retries what failed, except a failed row whose create may
have been carried out even so: it stays ``maybe sent`` until a lookup settles it. The
states are ``models.JournalState``.

Undo writes what it took back into the journal (``undone``), so that a later run of the
import knows those contacts are gone and says so instead of claiming them created.

A journal that can't be read (empty, cut short, not SQLite) is refused with its path,
never taken for none; every SQLite error becomes a JournalError that names the file
(``database``). A row's cells are kept as JSON that brings dates back as dates (``cells``).
"""

from .cells import decode_cells, encode_cells
from .database import damaged
from .names import file_hash, import_key
from .store import KEPT_STATUSES, MAYBE_SENT_UNSETTLED, NOT_AGAIN, UNDONE, Journal

__all__ = [
    "KEPT_STATUSES",
    "MAYBE_SENT_UNSETTLED",
    "NOT_AGAIN",
    "UNDONE",
    "Journal",
    "damaged",
    "decode_cells",
    "encode_cells",
    "file_hash",
    "import_key",
]
