"""The .xlsx and .xlsm reader, through python-calamine, behind the zip guard.

calamine gives each cell's cached value (a formula's last result), numbers as floats, dates
as date/datetime by their format, and error cells (``#N/A``) as empty.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from ..errors import InputError
from .limits import Limits
from .workbook import Row, Sheet, exact, non_blank, sheet_where
from .xmlscan import Extent
from .zipguard import check_archive

if TYPE_CHECKING:
    from python_calamine import CalamineSheet, CalamineWorkbook


def open_xlsx(path: Path, limits: Limits) -> XlsxBook:
    """Check the archive, then open it with calamine."""
    extents = check_archive(path, limits)
    parts = sheet_parts(path)
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: can't open the workbook ({exc}); open it in Excel, save it again, retry"
        ) from exc
    widest = Extent(max((e.rows for e in extents.values()), default=0), 0)
    widest.columns = max((e.columns for e in extents.values()), default=0)
    sized = {name: extents.get(part, widest) for name, part in parts.items()}
    return XlsxBook(path, book, sized, widest, limits)


class XlsxBook:
    """An open .xlsx workbook."""

    def __init__(
        self,
        path: Path,
        book: CalamineWorkbook,
        extents: dict[str, Extent],
        widest: Extent,
        limits: Limits,
    ) -> None:
        self._path, self._book, self._limits = path, book, limits
        self._extents, self._widest = extents, widest
        sheets = [m for m in book.sheets_metadata if str(m.typ).endswith("WorkSheet")]
        self.names = [m.name for m in sheets]
        self.hidden = {m.name for m in sheets if not str(m.visible).endswith(".Visible")}

    def load(self, name: str) -> Sheet:
        """Check the sheet's extent against the limits, then read it."""
        where = sheet_where(self._path, name)
        extent = self._extents.get(name, self._widest)
        self._limits.check_extent(where, extent.rows, extent.columns)
        from python_calamine import CalamineError

        try:
            sheet = self._book.get_sheet_by_name(name)
            merged = tuple((a[0], a[1], b[0], b[1]) for a, b in sheet.merged_cell_ranges or ())
        except (CalamineError, OSError, ValueError) as exc:
            raise InputError(f"{where}: can't read it ({exc}); is the file damaged?") from exc
        return Sheet(name, lambda: _rows(sheet), merged)

    def close(self) -> None:
        """Close the file; loaded sheets stay in memory."""
        self._book.close()


def _rows(sheet: CalamineSheet) -> Iterator[Row]:
    """calamine's rows count from row 1, but its columns from the first one used."""
    pad = [None] * (sheet.start[1] if sheet.start else 0)
    for index, values in enumerate(sheet.iter_rows(), start=1):
        cells = [*pad, *map(exact, values)]
        if non_blank(cells):
            yield index, cells


def sheet_parts(path: Path) -> dict[str, str]:
    """Each worksheet's name -> its part in the archive, from the workbook and its links."""
    try:
        with zipfile.ZipFile(path) as archive:
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            links = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    # LookupError: a part missing (KeyError), or an XML encoding Python doesn't know
    except (LookupError, zipfile.BadZipFile, OSError, ValueError, ElementTree.ParseError):
        return {}
    targets = {e.get("Id"): e.get("Target", "") for e in _local(links, "Relationship")}
    parts: dict[str, str] = {}
    for sheet in _local(book, "sheet"):
        link = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        target = targets.get(link)
        if target:
            parts[sheet.get("name", "")] = _resolve(target)
    return parts


def _local(root: Element, name: str) -> Iterator[Element]:
    return (e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == name)


def _resolve(target: str) -> str:
    return posixpath.normpath(target.lstrip("/") if target.startswith("/") else f"xl/{target}")
