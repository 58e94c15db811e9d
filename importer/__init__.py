"""bsg-import: import spreadsheets of phone numbers into BSG contact lists.

from importer import Settings, run_import
summary = run_import(Settings(file=Path("contacts.xlsx"), list_name="Promo", sandbox=True))

The pandas API (``import_frame``, ``ImportResult``, ``read_results``) is imported on first
use, so that the command line starts without loading pandas.
"""

from . import startup as _startup

if _startup.started_as_the_command():  # before any other import: a SIGTERM now exits 130
    _startup.exit_on_stop_signals()

from typing import TYPE_CHECKING, Any

from .errors import (
    ApiError,
    AuthError,
    BsgImportError,
    InputError,
    Interrupted,
    UnreachableError,
    UsageError,
)
from .models import ImportSummary, Status
from .runs.control import RunControl
from .runs.importing import run_import
from .settings import Settings

if TYPE_CHECKING:
    from .runs.frames import ImportResult, import_frame, read_results

_FRAME_NAMES = ("ImportResult", "import_frame", "read_results")

__all__ = [
    "ApiError",
    "AuthError",
    "BsgImportError",
    "ImportResult",
    "ImportSummary",
    "InputError",
    "Interrupted",
    "RunControl",
    "Settings",
    "Status",
    "UnreachableError",
    "UsageError",
    "import_frame",
    "read_results",
    "run_import",
]


def __getattr__(name: str) -> Any:
    if name in _FRAME_NAMES:
        from .runs import frames

        return getattr(frames, name)
    raise AttributeError(f"module 'importer' has no attribute {name!r}")
