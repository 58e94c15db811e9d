"""The tool's exceptions: one tree, each fatal class knowing its exit code.

    BsgImportError                  exit 2 unless a subclass says otherwise
    ├── InputError                  the file can't be read as a table of contacts (2)
    │   └── InputChanged            the file changed while it was being imported (2)
    ├── UsageError                  options that contradict each other or the file (2)
    ├── AlreadyRunning              another run imports the same file into the same list (2)
    ├── JournalError                the import's journal can't be read or written (2)
    │   └── JournalStopped          ... while sending: the run stopped, results written (1)
    ├── ResultsNotWritten           rows were sent, and no folder took the results (1)
    ├── ApiError                    BSG answered something the tool can't use (2)
    │   ├── AuthError               the key was refused (3)
    │   └── UnreachableError        BSG could not be reached at all (3)
    └── Interrupted                 Ctrl-C or SIGTERM; results were written (130)

A problem with one row is never an exception: it becomes that row's status.

The exit codes (the contract's table) are chosen here and nowhere else: a run that ended
with a summary takes ``rows_exit_code``; one that ended with an error, or with Ctrl-C
(``KeyboardInterrupt``) or a stop that escaped the call layer (``bsg.errors.Stopped``)
before the run's own handler could make it ``Interrupted``, takes ``exit_for``. The
command, the inbox and the web page's jobs all end a run through them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from .bsg.errors import Stopped

#: The contract's exit codes.
OK = 0
ROWS_FAILED = 1
NOTHING_IMPORTED = 2
SERVICE_REFUSED = 3
INTERRUPTED = 130


class BsgImportError(Exception):
    """Base of every error the tool reports as one line and an exit code."""

    exit_code = NOTHING_IMPORTED


class InputError(BsgImportError):
    """The input file can't be used; the message names the file, sheet, row and column."""


class UsageError(BsgImportError):
    """The options don't fit each other or the file."""


class AlreadyRunning(BsgImportError):
    """Another bsg-import is importing the same file into the same list right now."""


class InputChanged(InputError):
    """The input's bytes changed while it was read: the run stopped at what it had read."""


class JournalError(BsgImportError):
    """The journal is damaged, or can't be written; the message names its path."""


class JournalStopped(JournalError):
    """The journal could not be written while rows were sent: the run stopped there."""

    exit_code = ROWS_FAILED


class ResultsNotWritten(BsgImportError):
    """The results could be written nowhere; the journal keeps every row's outcome."""

    exit_code = ROWS_FAILED


class ApiError(BsgImportError):
    """BSG refused a call the import depends on (the list, the fields)."""


class AuthError(ApiError):
    """The API refused the key."""

    exit_code = SERVICE_REFUSED


class UnreachableError(ApiError):
    """The API could not be reached at all."""

    exit_code = SERVICE_REFUSED


class Interrupted(BsgImportError):
    """The run was stopped by a signal after writing what was done."""

    exit_code = INTERRUPTED

    def __init__(self, message: str, summary: object = None) -> None:
        super().__init__(message)
        self.summary = summary


#: What ``exit_for`` turns into an exit code and a line; anything else is a bug (a traceback).
FATAL = (BsgImportError, KeyboardInterrupt, Stopped)
Fatal = BsgImportError | KeyboardInterrupt | Stopped


@dataclass(frozen=True)
class Ending:
    """How a run ended: its exit code, and what to tell the person (no ``Error:`` prefix)."""

    code: int
    message: str

    @property
    def line(self) -> str:
        """The one line the command prints."""
        return f"Error: {self.message}"

    @property
    def imported(self) -> bool:
        """The import ran to its end (0 or 1): its file is done with."""
        return self.code in (OK, ROWS_FAILED)

    @property
    def ends_the_batch(self) -> bool:
        """The key was refused, BSG is out of reach, or the run was stopped: the next file
        of an inbox would fare no better."""
        return self.code in (SERVICE_REFUSED, INTERRUPTED)


def exit_for(error: Fatal) -> Ending:
    """The exit code and message of a run that ended with ``error`` (one of ``FATAL``)."""
    if isinstance(error, BsgImportError):
        return Ending(error.exit_code, str(error))
    return Ending(INTERRUPTED, "interrupted")


def rows_exit_code(some_rows_failed: bool) -> int:
    """The exit code of a run that ended with a summary: 1 when some rows (or contacts)
    failed, else 0."""
    return ROWS_FAILED if some_rows_failed else OK


def batch_exit_code(codes: Iterable[int]) -> int:
    """The exit code of a run of several imports (an inbox): the gravest of theirs."""
    return max(codes, default=OK)


def quit_interrupted(line: bytes = b"") -> NoReturn:
    """End the process now with 130, writing ``line`` to stderr first: a second Ctrl-C, or a
    stop signal before the command's handlers are in place. No cleanup runs."""
    if line:
        os.write(2, line)
    os._exit(INTERRUPTED)
