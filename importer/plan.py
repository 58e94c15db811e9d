"""Plan stage: the target list, and which columns go to which custom fields."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal

from .bsg.calls import Calls, fatal
from .bsg.client import BsgClient
from .bsg.errors import CallFailed
from .errors import Interrupted, UsageError
from .models import Cell, ContactList, CustomField, FieldColumn, is_blank, name_key
from .normalise import ValueProblem, normalise_value
from .read import Table
from .settings import Settings

#: BSG's answers to a create whose name is taken: a list, a custom field.
LIST_EXISTS = "Contact group is already exists"
FIELD_EXISTS = "has already been taken"
#: The field types POST /api/contacts/fields accepts (bsg-one-api.md).
FIELD_TYPES = ("text", "number", "date")
#: Digits that keep a leading zero (a ZIP code, 02542) are text: a number (or a date read
#: from its serial) would lose it.
_LEADING_ZERO = re.compile(r"^0\d+$")


@dataclass(frozen=True)
class ImportPlan:
    """Where the rows go and what is sent with them."""

    contact_list: ContactList | None
    field_columns: tuple[FieldColumn, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewField:
    """A custom field --create-fields would make for a column, or why it can't."""

    index: int
    column: str
    name: str
    kind: str | None  # None: the column is empty in every row
    refused: str = ""  # why it is not created, known before any create


def make_plan(table: Table, settings: Settings, calls: Calls | None) -> ImportPlan:
    """Find or create the list, load the fields, and map the columns to them."""
    explicit = _explicit_map(table, settings.field_map)
    skipped = _skipped(table, settings)
    check_list_name(settings.list_name)
    if calls is None:
        return ImportPlan(None, (), ("custom fields were not checked: no API key was given",))
    contact_list = _target_list(calls, settings)
    fields = calls.needed("read the account's custom fields", calls.client.fields)
    columns, unmatched, missing = _match(table, fields, explicit, skipped)
    notes: list[str] = []
    if contact_list is None:
        notes.append(f"list {settings.list_name!r} does not exist yet; it would be created")
    if missing or (settings.create_fields and unmatched):
        if not settings.create_fields:
            raise UsageError(
                f"--map names fields the account doesn't have: {', '.join(map(repr, missing))}; "
                "add --create-fields to create them"
            )
        new = new_fields(table, settings, missing + [(c, c) for c in unmatched])
        notes += _left_out(new)
        wanted = [f for f in new if not f.refused]
        if settings.dry_run and wanted:
            named = ", ".join(f"{f.name!r} ({f.kind})" for f in wanted)
            notes.append(f"fields that would be created: {named}")
        elif wanted:
            made, refused = _create_fields(calls, wanted)
            columns += made
            notes += refused
        unmatched = []
    if unmatched:
        notes.append(
            f"columns not sent (no custom field of that name; use --map or --create-fields): "
            f"{', '.join(map(repr, unmatched))}"
        )
    columns.sort(key=lambda c: c.index)
    return ImportPlan(contact_list, tuple(columns), tuple(notes))


@dataclass(frozen=True)
class ColumnRole:
    """What an import does with one input column, as make_plan decides it."""

    column: str
    role: Literal["phone", "field", "new field", "not sent"]
    field: str = ""  # the custom field's name (existing or to be created)
    kind: str = ""  # its type: text, number or date (inferred from the data for a new field)


def column_roles(
    table: Table, settings: Settings, fields: Sequence[CustomField]
) -> list[ColumnRole]:
    """Each column's role, by the rules of make_plan, without changing anything."""
    explicit = _explicit_map(table, settings.field_map)
    matched, unmatched, missing = _match(table, fields, explicit, _skipped(table, settings))
    wanted = missing + ([(c, c) for c in unmatched] if settings.create_fields else [])
    phones = table.phone_indexes or (table.phone_index,)
    roles = {i: ColumnRole(table.columns[i], "phone") for i in phones}
    roles |= {m.index: ColumnRole(m.column, "field", m.field.name, m.field.type) for m in matched}
    for new in new_fields(table, settings, wanted) if wanted else []:
        if not new.refused:
            roles[new.index] = ColumnRole(new.column, "new field", new.name, str(new.kind))
    return [roles.get(i) or ColumnRole(c, "not sent") for i, c in enumerate(table.columns)]


def check_list_name(name: str) -> None:
    """What POST /api/groups refuses, found before any call (a dry run finds it too)."""
    if not name.strip():
        raise UsageError(f"--list {name!r}: a list needs a name that is not blank")


def _target_list(calls: Calls, settings: Settings) -> ContactList | None:
    """The list of that name, created when there is none (or found when BSG says a list of
    that name exists: another run made it since our search, or our create's answer was lost)."""
    name, client = settings.list_name, calls.client
    found = calls.needed(f"search for the list {name!r}", lambda: client.find_list(name))
    if found or settings.dry_run:
        return found
    return calls.needed_create(
        lambda: client.create_list(name),
        lambda: client.find_list(name),
        exists=LIST_EXISTS,
        what=f"the list {name!r}",
    )


def _explicit_map(table: Table, pairs: Sequence[tuple[str, str]]) -> dict[int, str]:
    """--map COLUMN=FIELD as {column index: field name}; unknown columns stop the run."""
    keys = [name_key(c) for c in table.columns]
    mapped: dict[int, str] = {}
    for column, field_name in pairs:
        if name_key(column) not in keys:
            raise UsageError(
                f"--map {column}={field_name}: {table.where} has no column {column!r}; "
                f"its columns are {', '.join(map(repr, table.columns))}"
            )
        mapped[keys.index(name_key(column))] = field_name
    return mapped


def _skipped(table: Table, settings: Settings) -> set[int]:
    """--skip-column COLUMN as column indexes; unknown columns stop the run."""
    keys = [name_key(c) for c in table.columns]
    for column in settings.skip_columns:
        if name_key(column) not in keys:
            raise UsageError(
                f"--skip-column {column}: {table.where} has no column {column!r}; "
                f"its columns are {', '.join(map(repr, table.columns))}"
            )
    return {keys.index(name_key(c)) for c in settings.skip_columns}


def _match(
    table: Table,
    fields: Sequence[CustomField],
    explicit: dict[int, str],
    skipped: set[int],
) -> tuple[list[FieldColumn], list[str], list[tuple[str, str]]]:
    """Columns matched to fields, columns matching none, and --map fields that don't exist."""
    by_key = {name_key(f.name): f for f in reversed(fields)}
    matched: list[FieldColumn] = []
    unmatched: list[str] = []
    missing: list[tuple[str, str]] = []
    for index, column in enumerate(table.columns):
        if index in (table.phone_indexes or (table.phone_index,)) or index in skipped:
            continue
        wanted = explicit.get(index, column)
        field = by_key.get(name_key(wanted))
        if field is not None:
            matched.append(FieldColumn(index, column, field))
        elif index in explicit:
            missing.append((column, wanted))
        else:
            unmatched.append(column)
    return matched, unmatched, missing


def new_fields(
    table: Table, settings: Settings, wanted: Sequence[tuple[str, str]]
) -> list[NewField]:
    """The fields to create for (column, field name) pairs, each checked before the first
    create against what the API accepts: a name that is not blank, one of its types, and
    not the name of a field made for an earlier column; never for an empty column."""
    indexes = [table.columns.index(column) for column, _ in wanted]
    kinds = infer_types(table, indexes, settings) if indexes else {}
    new: list[NewField] = []
    for (column, name), index in zip(wanted, indexes, strict=True):
        made = NewField(index, column, name.strip(), kinds[index])
        new.append(replace(made, refused=_refusal(made, new)))
    return new


def _refusal(field: NewField, earlier: Sequence[NewField]) -> str:
    if field.kind is None:
        return "empty in every row"
    if not field.name:
        return "a field needs a name that is not blank"
    if field.kind not in FIELD_TYPES:
        return f"BSG has no field type {field.kind!r}"
    twin = next((f for f in earlier if name_key(f.name) == name_key(field.name)), None)
    if twin is not None and not twin.refused:
        return f"its field would share the name of the one made for {twin.column!r}"
    return ""


def _left_out(new: Sequence[NewField]) -> list[str]:
    """Notes on the columns whose field is not created, known before any create."""
    empty = [f.column for f in new if f.kind is None]
    notes = (
        [f"columns not sent, empty in every row (no field created): {', '.join(map(repr, empty))}"]
        if empty
        else []
    )
    notes += [
        f"column {f.column!r} not sent: no field can be created for it ({f.refused})"
        for f in new
        if f.refused and f.kind is not None
    ]
    return notes


def _create_fields(calls: Calls, wanted: Sequence[NewField]) -> tuple[list[FieldColumn], list[str]]:
    """Create each field; one BSG refuses (422) is left out with a note, the rest go on."""
    created: list[FieldColumn] = []
    refused: list[str] = []
    for new in wanted:
        what = f"the custom field {new.name!r}"
        if calls.stop.is_set():
            raise Interrupted(f"interrupted before trying to create {what}")
        try:
            field = calls.create(
                partial(calls.client.create_field, new.name, str(new.kind)),
                partial(_find_field, calls.client, new.name),
                exists=FIELD_EXISTS,
                what=what,
            ).value
        except CallFailed as failure:
            if failure.status != 422 or failure.stopped:
                raise calls.halted or fatal(failure, f"create {what}") from None
            refused.append(f"column {new.column!r} not sent: BSG refused {what}: {failure.message}")
            continue
        created.append(FieldColumn(new.index, new.column, field))
    return created, refused


def _find_field(client: BsgClient, name: str) -> CustomField | None:
    """The field of that name (matched as headers are), if the account has it."""
    return next((f for f in client.fields() if name_key(f.name) == name_key(name)), None)


def infer_types(table: Table, indexes: Sequence[int], settings: Settings) -> dict[int, str | None]:
    """Each column's type from its values: number, date, else text; None for a column
    empty in every row."""
    possible = {i: {"number", "date", "empty"} for i in indexes}
    for row in table.rows():
        for index in indexes:
            _narrow(possible[index], row.cells[index], settings)
    return {i: _pick(kinds) for i, kinds in possible.items()}


def _narrow(kinds: set[str], cell: Cell, settings: Settings) -> None:
    if is_blank(cell):
        return
    kinds.discard("empty")
    if isinstance(cell, str) and _LEADING_ZERO.match(cell.strip()):
        kinds.difference_update(("number", "date"))
    for kind in list(kinds - {"empty"}):
        try:
            normalise_value(cell, kind, settings.date_order)
        except ValueProblem:
            kinds.discard(kind)
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        kinds.discard("date")  # a plain number is a number, not an Excel serial date


def _pick(kinds: set[str]) -> str | None:
    if "empty" in kinds:
        return None
    return "number" if "number" in kinds else "date" if "date" in kinds else "text"
