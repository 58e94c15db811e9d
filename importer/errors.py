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
"""

from __future__ import annotations


class BsgImportError(Exception):
    """Base of every error the tool reports as one line and an exit code."""

    exit_code = 2


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

    exit_code = 1


class ResultsNotWritten(BsgImportError):
    """The results could be written nowhere; the journal keeps every row's outcome."""

    exit_code = 1


class ApiError(BsgImportError):
    """BSG refused a call the import depends on (the list, the fields)."""


class AuthError(ApiError):
    """The API refused the key."""

    exit_code = 3


class UnreachableError(ApiError):
    """The API could not be reached at all."""

    exit_code = 3


class Interrupted(BsgImportError):
    """The run was stopped by a signal after writing what was done."""

    exit_code = 130

    def __init__(self, message: str, summary: object = None) -> None:
        super().__init__(message)
        self.summary = summary
