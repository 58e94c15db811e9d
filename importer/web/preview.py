"""What the page shows about an uploaded file, computed by the functions the command uses."""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import phonenumbers
from phonenumbers import geocoder

from ..errors import BsgImportError
from ..models import Cell, ContactList, CustomField, FieldColumn, PreparedRow, SourceRow, cell_text
from ..normalise import Normaliser, prepare_rows
from ..plan import ColumnRole, column_roles
from ..profiles import Profile, list_profiles
from ..read import Detected, Table, detect, open_table, text
from ..read.limits import Limits
from ..read.ods import open_ods
from ..read.sniff import file_kind
from ..read.workbook import Book
from ..read.xls import open_xls
from ..read.xlsx import open_xlsx
from ..runs.connecting import connect
from ..runs.control import RunControl
from ..runs.sending import read_table
from ..settings import Settings

PREVIEW_ROWS = 20
#: Rows shown under each column offered as the phone column.
SAMPLE_ROWS = 4
OFFERED_COLUMNS = 30


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
    table = read_table(settings)
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
        table.phone_indexes or table.phone_index, sent, region=settings.default_region,
        region_column=table.region_column, date_order=settings.date_order,
        bad_values=settings.bad_values,
    )  # fmt: skip
    return [v for _, chunk in prepare_rows([rows], normaliser) for v in chunk]


@dataclass(frozen=True)
class PhoneChoice:
    """A column offered as the phone column, with what its first rows would give."""

    column: str
    samples: list[str]  # "+380501234567", or why the cell is no number
    phones: int  # how many of the samples are numbers


def phone_choices(settings: Settings) -> list[PhoneChoice]:
    """Each column of the file's first row, as the phone column would read it."""
    names = _first_row(settings)
    choices = []
    for name in dict.fromkeys(n for n in names[:OFFERED_COLUMNS] if n):
        try:
            table = open_table(settings.file, sheet=settings.sheet, phone_column=name,
                               max_unpacked_bytes=settings.max_unpacked_mb << 20,
                               max_rows=settings.max_rows)  # fmt: skip
        except BsgImportError:
            continue
        rows = list(islice(table.rows(), SAMPLE_ROWS))
        normaliser = Normaliser(table.phone_index, [], region=settings.default_region)
        verdicts = [v for _, chunk in prepare_rows([rows], normaliser) for v in chunk]
        samples = [f"+{v.phone}" if v.phone else (v.error or "") for v in verdicts]
        choices.append(PhoneChoice(name, samples, sum(bool(v.phone) for v in verdicts)))
    return sorted(choices, key=lambda c: -c.phones)


def _first_row(settings: Settings) -> list[str]:
    """The texts of the first row that holds anything (the header, most often)."""
    try:
        rows = _raw_rows(settings)
        first = next((cells for cells in rows if any(cell_text(c).strip() for c in cells)), [])
    except (BsgImportError, KeyError, IndexError):
        return []
    return [cell_text(c).strip() for c in first]


def _raw_rows(settings: Settings) -> Iterator[Sequence[Cell]]:
    """The file's rows as they are, before any header is looked for."""
    kind = file_kind(settings.file)
    if kind == "text":
        fmt = text.detect_format(settings.file)
        return (cells for _, cells in text.read_rows(settings.file, fmt))
    limits = Limits(max_unpacked_bytes=settings.max_unpacked_mb << 20, max_rows=settings.max_rows)
    openers: dict[str, Callable[[Path, Limits], Book]] = {
        "xlsx": open_xlsx, "xls": open_xls, "ods": open_ods}  # fmt: skip
    book = openers[kind](settings.file, limits)
    try:
        sheet = book.load(settings.sheet or book.names[0])
    finally:
        book.close()
    return (cells for _, cells in sheet.rows())


#: Regions libphonenumber knows but names no country for.
_MORE_NAMES = {"AC": "Ascension Island", "BL": "Saint Barthélemy", "MF": "Saint Martin",
               "EH": "Western Sahara", "TA": "Tristan da Cunha", "XK": "Kosovo"}  # fmt: skip
#: Rows looked at to propose a region.
PROPOSE_FROM_ROWS = 500


@functools.cache
def regions() -> list[tuple[str, str]]:
    """(code, "Ukraine (+380)") for every region libphonenumber knows, by name."""
    named = []
    for code in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(code)
        name = geocoder.country_name_for_number(example, "en") if example else ""
        calling = phonenumbers.country_code_for_region(code)
        named.append((code, f"{name or _MORE_NAMES.get(code, code)} (+{calling})"))
    return sorted(named, key=lambda item: item[1])


def proposed_region(table: Table) -> str | None:
    """The region most of the file's international numbers (+…) belong to."""
    found: Counter[str] = Counter()
    for row in islice(table.rows(), PROPOSE_FROM_ROWS):
        cells = row.cells
        text = cell_text(cells[table.phone_index]).strip() if table.phone_index < len(cells) else ""
        if not text.startswith(("+", "00")):
            continue
        try:
            number = phonenumbers.parse("+" + text.lstrip("+0") if text.startswith("00") else text)
        except phonenumbers.NumberParseException:
            continue
        region = phonenumbers.region_code_for_number(number)
        if region and region != "001":
            found[region] += 1
    return found.most_common(1)[0][0] if found else None


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
