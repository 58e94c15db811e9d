"""How big a file the reader agrees to open, and the checks that refuse a bigger one."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..models import column_letter

#: Defaults: 1 GiB unpacked, two million rows.
MAX_UNPACKED_BYTES = 1 << 30
MAX_ROWS = 2_000_000
#: A member of a workbook may unpack to at most this many times its packed size...
MAX_RATIO = 100
#: ...once it passes this size (small parts of real workbooks compress far better).
RATIO_GRACE_BYTES = 1 << 20
#: A sheet's grid, held whole in memory while it is read, costs about this much a cell.
BYTES_PER_CELL = 32


@dataclass(frozen=True, slots=True)
class Limits:
    """The reader's limits; the defaults suit files of a few million rows."""

    max_unpacked_bytes: int = MAX_UNPACKED_BYTES
    max_rows: int = MAX_ROWS

    @property
    def max_cells(self) -> int:
        """Rows x columns a sheet may span: its grid in memory stays under the unpacked limit."""
        return max(1, self.max_unpacked_bytes // BYTES_PER_CELL)

    def check_rows(self, where: str, rows: int) -> None:
        """Refuse a sheet or file with more rows than the limit."""
        if rows > self.max_rows:
            raise InputError(
                f"{where}: has more than {self.max_rows:,} rows, the limit; "
                "split the file into smaller ones, or raise --max-rows"
            )

    def check_extent(self, where: str, rows: int, columns: int) -> None:
        """Refuse a sheet whose used area (last row x last column) passes the limits."""
        self.check_rows(where, rows)
        if rows * columns > self.max_cells:
            raise InputError(
                f"{where}: its cells reach row {rows:,} and column {column_letter(columns - 1)}, "
                f"more than {self.max_cells:,} cells in all; delete the rows and columns "
                "beyond your data (or the stray values far from it) and save it again"
            )

    def check_cells(self, where: str, cells: int) -> None:
        """Refuse a sheet that holds more cells than the limit."""
        if cells > self.max_cells:
            raise InputError(
                f"{where}: holds more than {self.max_cells:,} cells, the limit; "
                "split the file into smaller ones, or save it as CSV"
            )

    def too_big(self, where: str, size: int) -> InputError:
        """The error for a workbook that unpacks to more than the limit."""
        return InputError(
            f"{where}: unpacks to more than {self.max_unpacked_bytes:,} bytes, the limit "
            f"({size:,} bytes seen); it is too large or not a real workbook. Save it as CSV, "
            "split it, or raise --max-unpacked-mb"
        )


#: The limits when the caller gives none.
DEFAULT_LIMITS = Limits()
