"""bsg-import: import spreadsheets of phone numbers into BSG contact lists.

from importer import Settings, run_import
summary = run_import(Settings(file=Path("contacts.xlsx"), list_name="Promo", sandbox=True))
"""

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
from .pipeline import RunControl, run_import
from .settings import Settings

__all__ = [
    "ApiError",
    "AuthError",
    "BsgImportError",
    "ImportSummary",
    "InputError",
    "Interrupted",
    "RunControl",
    "Settings",
    "Status",
    "UnreachableError",
    "UsageError",
    "run_import",
]
