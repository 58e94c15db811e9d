"""What the page shows about an uploaded file, computed by the functions the command uses."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from ..errors import BsgImportError
from ..models import ContactList, CustomField, FieldColumn, PreparedRow, SourceRow, cell_text
from ..normalise import Normaliser, prepare_rows
from ..pipeline import RunControl, connect
from ..plan import ColumnRole, column_roles
from ..profiles import Profile, list_profiles
from ..read import Detected, Table, detect, open_table
from ..settings import Settings

PREVIEW_ROWS = 20


@dataclass
class Preview:
    """The file as read, the account as it is, and each column's role."""

    detected: Detected
    table: Table
    rows: list[tuple[int, list[str]]]
    roles: list[ColumnRole]
    verdicts: list[PreparedRow]  # each preview row as the import would send it
    fields: list[CustomField] = field(default_factory=list)
    lists: list[ContactList] = field(default_factory=list)
    account_error: str = ""


def read_preview(settings: Settings) -> Preview:
    """Detect, open and map the file as an import with ``settings`` would."""
    detected = detect(settings.file, max_unpacked_bytes=settings.max_unpacked_mb << 20)
    table = open_table(
        settings.file,
        sheet=settings.sheet,
        phone_column=settings.phone_column,
        max_unpacked_bytes=settings.max_unpacked_mb << 20,
        max_rows=settings.max_rows,
    )
    first = list(islice(table.rows(), PREVIEW_ROWS))
    rows = [(r.number, [cell_text(c) for c in r.cells]) for r in first]
    fields, lists, error = account(settings)
    roles = column_roles(table, settings, fields)
    return Preview(detected, table, rows, roles, _verdicts(table, roles, first, settings),
                   fields, lists, error)  # fmt: skip


def _verdicts(
    table: Table, roles: list[ColumnRole], rows: list[SourceRow], settings: Settings
) -> list[PreparedRow]:
    """The preview rows through the import's own normaliser, with the chosen fields."""
    sent = [
        FieldColumn(i, r.column, CustomField(0, r.field, r.kind))
        for i, r in enumerate(roles)
        if r.role in ("field", "new field")
    ]
    normaliser = Normaliser(
        table.phone_index, sent, region=settings.default_region,
        date_order=settings.date_order, bad_values=settings.bad_values,
    )  # fmt: skip
    return [v for _, chunk in prepare_rows([rows], normaliser) for v in chunk]


def account(settings: Settings) -> tuple[list[CustomField], list[ContactList], str]:
    """The account's custom fields and lists (empty, with the reason, when it can't be asked)."""
    try:
        calls = connect(settings, RunControl(threading.Event()), None)
    except BsgImportError as error:
        return [], [], str(error)
    if calls is None:
        return [], [], "no API key: custom fields and lists can't be shown (set BSG_API_KEY)"
    try:
        fields = calls.needed("read the account's custom fields", calls.client.fields)
        return fields, calls.needed("read the account's lists", calls.client.lists), ""
    except BsgImportError as error:
        return [], [], str(error)
    finally:
        calls.client.close()


def fitting_profiles(table: Table, folder: Path | None) -> list[Profile]:
    """Saved profiles whose mapping fits the file's header."""
    return [p for p in list_profiles(folder) if p.fits(table.columns)]
