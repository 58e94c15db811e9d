"""From a grid of cells to a table: the header row, the columns and the phone column."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..models import RESULT_COLUMNS, RESULT_WORDS, Cell, SourceRow, column_letter, is_blank
from ..regions import RegionColumn
from . import phonecol, regioncol
from .header import Grid, find_header
from .limits import DEFAULT_LIMITS, Limits


@dataclass(frozen=True)
class Table:
    """A sheet of contacts: where the header is, what the columns are called, and the rows."""

    path: Path
    sheet: str | None
    columns: tuple[str, ...]
    header_row: int
    phone_index: int
    row_count: int
    keep: tuple[int, ...] = field(repr=False)
    grid: Grid = field(repr=False)
    notes: tuple[str, ...] = ()
    #: Every phone column, in the order a row looks for its number (``phone_index`` first).
    phone_indexes: tuple[int, ...] = ()
    #: The content's hash, for a table read from no file (a DataFrame); a file's is its bytes'.
    content_hash: Callable[[], str] | None = field(default=None, repr=False)
    #: The column of each row's country (--region-column, or detected); None: there is none.
    region_column: RegionColumn | None = None

    @property
    def where(self) -> str:
        """The file, and the sheet when there is one, for messages."""
        return f"{self.path}" + (f", sheet {self.sheet!r}" if self.sheet else "")

    def rows(self) -> Iterator[SourceRow]:
        """Every data row after the header, blank rows left out, in file order."""
        keep, width = self.keep, len(self.keep)
        for number, cells in self.grid():
            if number <= self.header_row or all(is_blank(c) for c in cells):
                continue
            picked = tuple(cells[i] if i < len(cells) else None for i in keep)
            if len(picked) < width:  # pragma: no cover - keep and picked always match
                picked += (None,) * (width - len(picked))
            yield SourceRow(number, picked)


def build_table(
    path: Path,
    sheet: str | None,
    grid: Grid,
    *,
    phone_column: Sequence[str] = (),
    merged: Sequence[tuple[int, int, int, int]] = (),
    notes: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
    known_header: tuple[int, list[str]] | None = None,
    region: str | None = None,
    region_column: str | None = None,
) -> Table:
    """Find the header (unless given as its row number and texts), the phone column and the
    rows' country column, and name every column that holds anything. ``region``:
    --default-region, for telling which phone column holds valid numbers; ``region_column``:
    --region-column (None: detected; ``none``: no column)."""
    where = f"{path}" + (f", sheet {sheet!r}" if sheet else "")
    header_row, header = known_header or find_header(where, grid, phone_column)
    countries = regioncol.Tally(header, region_column)
    width, used, row_count, sample = _survey(
        where, grid, header_row, len(header), limits, countries.add
    )
    header = _spread_merged(header, header_row, merged, width)
    keep, names = _name_columns(header, width, used)
    picked = [tuple(cells[k] if k < len(cells) else None for k in keep) for cells in sample]
    phones, phone_notes = _phone_indexes(where, names, phone_column, picked, region, region_column)
    country, country_notes = countries.choose(where, keep, names, names[phones[0]], region)
    extra = [f"header found on row {header_row}"] if header_row > 1 else []
    return Table(
        path=path,
        sheet=sheet,
        columns=tuple(names),
        header_row=header_row,
        phone_index=phones[0],
        phone_indexes=tuple(phones),
        row_count=row_count,
        keep=tuple(keep),
        grid=grid,
        notes=(*notes, *extra, *phone_notes, *country_notes),
        region_column=country,
    )


def _spread_merged(
    header: list[str], header_row: int, merged: Sequence[tuple[int, int, int, int]], width: int
) -> list[str]:
    """A merged header cell names every column it covers, up to the table's last column
    (a header merged across the whole row, to column XFD, adds no empty columns)."""
    header = list(header)
    for row0, col0, row1, col1 in merged:
        last = min(col1, width - 1)
        if row0 <= header_row - 1 <= row1 and last > col0 and col0 < len(header):
            header += [""] * max(0, last + 1 - len(header))
            for col in range(col0 + 1, last + 1):
                header[col] = header[col] or header[col0]
    return header


def _survey(
    where: str,
    grid: Grid,
    header_row: int,
    header_width: int,
    limits: Limits,
    each_row: Callable[[Sequence[Cell]], None],
) -> tuple[int, set[int], int, list[Sequence[Cell]]]:
    """One pass over the data: the widest row, the columns that hold values, the row count,
    and the first rows' cells (to tell which column holds the phones); ``each_row`` is
    handed every data row (to count what the country columns hold)."""
    used: set[int] = set()
    width, count = header_width, 0
    sample: list[Sequence[Cell]] = []
    for number, cells in grid():
        limits.check_rows(where, number)
        if number <= header_row:
            continue
        filled = [i for i, c in enumerate(cells) if not is_blank(c)]
        if filled:
            count += 1
            used.update(filled)
            width = max(width, filled[-1] + 1)
            each_row(cells)
            if len(sample) < phonecol.SAMPLE_ROWS:
                sample.append(list(cells))
    return width, used, count, sample


def _name_columns(header: list[str], width: int, used: set[int]) -> tuple[list[int], list[str]]:
    """Unique names for the input columns; the tool's own block and empty columns are left out."""
    keep: list[int] = []
    names: list[str] = []
    taken: set[str] = set()
    copies: dict[str, int] = {}
    own = tool_block(header)
    for index in range(width):
        text = header[index] if index < len(header) else ""
        if index in own or (not text and index not in used):
            continue
        name = _unique(text or f"Column {column_letter(index)}", taken, copies)
        keep.append(index)
        names.append(name)
        taken.add(name)
    return keep, names


def _unique(base: str, taken: set[str], copies: dict[str, int]) -> str:
    """``base``, else ``base (2)``, ``base (3)``...: the first name not taken. Each base
    resumes at the copy it reached, so 16,000 columns of one name take linear time."""
    copy = copies.get(base, 1)
    name = base if copy == 1 else f"{base} ({copy})"
    while name in taken:
        copy += 1
        name = f"{base} ({copy})"
    copies[base] = copy
    return name


def tool_block(header: Sequence[str]) -> range:
    """Where the tool's own columns are: the seven result columns, in order, ending the
    header (a Results sheet; or the seven in words of the page's download), or ``error``
    alone ending it (an Errors sheet). Any other ``status`` or ``error`` is the user's."""
    texts = [str(t or "").strip() for t in header]
    end = len(texts)
    while end and not texts[end - 1]:
        end -= 1
    size = len(RESULT_COLUMNS)
    if end >= size and tuple(texts[end - size : end]) in (RESULT_COLUMNS, RESULT_WORDS):
        return range(end - size, end)
    if end and texts[end - 1] == RESULT_COLUMNS[-1]:
        return range(end - 1, end)
    return range(0)


def _phone_indexes(
    where: str,
    names: list[str],
    phone_column: Sequence[str],
    sample: Sequence[Sequence[Cell]],
    region: str | None,
    region_column: str | None,
) -> tuple[list[int], list[str]]:
    """The columns named by --phone-column, in order; else the one the cells show."""
    if phone_column:
        return phonecol.named(where, names, phone_column), []
    found = phonecol.candidates(names)
    if not found:
        raise InputError(
            f"{where}: no phone column among {', '.join(map(repr, names))}; "
            "name the column with --phone-column"
        )
    chosen, notes = phonecol.choose(names, found, sample, region, region_column)
    return [chosen], notes
