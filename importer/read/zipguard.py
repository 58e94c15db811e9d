"""Hostile workbooks (.xlsx, .ods): zip bombs and XML entity tricks, refused before parsing.

Every part of the archive is unpacked once, as a stream, before a parser sees it:

- its real size counts against the unpacked limit, whatever the zip's headers claim;
- a DTD (``<!DOCTYPE``, ``<!ENTITY``: Excel and LibreOffice never write one) is refused,
  which stops billion-laughs and external-entity files whatever the parser would do;
- a shared-strings table may not declare more strings than the cell limit: calamine sets
  aside room for ``uniqueCount`` strings before it reads one, and a 1 KB file declaring four
  billion asks for 96 GB, which aborts the process;
- the last row and column holding a value are found, because python-calamine allocates
  the whole grid up to there before it returns (one value at XFD1048576 is 550 GB).

Every part, whatever its name: a workbook's links may call a worksheet anything.
"""

from __future__ import annotations

import copy
import lzma
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import InputError
from .limits import MAX_RATIO, RATIO_GRACE_BYTES, Limits
from .xmlscan import MAX_TAG_BYTES, CellScan, CellWalk, Extent, StringsScan

CHUNK = 1 << 20
_DTD = tuple(
    marker.encode(encoding)
    for marker in ("<!doctype", "<!entity")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
_OVERLAP = max(map(len, _DTD))
#: Errors zipfile and its decompressors raise on a damaged archive (zlib and lzma raise
#: their own, which are not OSError: a corrupt deflate stream raises zlib.error).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
)


def check_archive(path: Path, limits: Limits) -> dict[str, Extent]:
    """Refuse a bomb or a DTD; return each XML part's extent, should it be a worksheet."""
    extents: dict[str, Extent] = {}
    with open_zip(path) as archive:
        infos = archive.infolist()
        _check_declared(path, infos, limits)
        budget = limits.max_unpacked_bytes
        for info in infos:
            budget -= _scan_member(path, archive, info, budget, extents, limits)
    return extents


@contextmanager
def open_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    """The workbook as a zip archive; a damaged one is refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except (*ZIP_ERRORS, NotImplementedError) as exc:  # a bad "version needed" in a header
        raise damaged(path, exc) from exc


def damaged(path: Path, exc: BaseException) -> InputError:
    """The error for a workbook whose zip container is broken."""
    return InputError(
        f"{path}: the workbook is damaged ({exc}); open it in Excel or LibreOffice, "
        "save it again and retry"
    )


def _check_declared(path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    total = sum(info.file_size for info in infos)
    if total > limits.max_unpacked_bytes:
        raise limits.too_big(str(path), total)
    for info in infos:
        if info.flag_bits & 0x1:
            raise InputError(
                f"{path}: the workbook is password-protected; save a copy without a password"
            )
        _check_ratio(path, info, info.file_size)


def _check_ratio(path: Path, info: zipfile.ZipInfo, size: int) -> None:
    if size > RATIO_GRACE_BYTES and size > MAX_RATIO * max(info.compress_size, 1):
        raise InputError(
            f"{path}: part {info.filename} unpacks to {size:,} bytes from "
            f"{info.compress_size:,}, more than {MAX_RATIO} times its size: a zip bomb, "
            "not a real workbook. Ask for the file again, or export it as CSV"
        )


def _scan_member(
    path: Path,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: int,
    extents: dict[str, Extent],
    limits: Limits,
) -> int:
    """Stream one part; return its real unpacked size."""
    scan, strings = CellScan(), StringsScan()
    size, tail = 0, b""
    with _open_member(path, archive, info, budget) as member:
        while chunk := _read(path, member):
            size += len(chunk)
            _check_size(path, info, size, budget)
            window = tail + chunk
            _refuse_dtd(path, info.filename, window.lower())
            scan.feed(chunk)
            strings.feed(chunk)
            tail = window[-_OVERLAP:]
    _check_strings(path, info.filename, strings, limits)
    extents[info.filename] = scan.result() if scan.positioned else _rescan(path, archive, info)
    return size


@contextmanager
def _open_member(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int
) -> Iterator[IO[bytes]]:
    """Open a part so that it unpacks past its declared size, to catch a header that lies."""
    unbounded = copy.copy(info)
    unbounded.file_size = max(budget, 0) + 1
    try:
        with archive.open(unbounded) as member:
            yield member
    except (*ZIP_ERRORS, NotImplementedError, RuntimeError) as exc:
        raise damaged(path, exc) from exc


def _read(path: Path, member: IO[bytes]) -> bytes:
    try:
        return member.read(CHUNK)
    except (*ZIP_ERRORS, NotImplementedError, RuntimeError) as exc:
        raise damaged(path, exc) from exc


def _check_size(path: Path, info: zipfile.ZipInfo, size: int, budget: int) -> None:
    if size > budget:
        raise Limits(max_unpacked_bytes=budget).too_big(str(path), size)
    if size > info.file_size:
        raise InputError(
            f"{path}: part {info.filename} unpacks to more than the {info.file_size:,} "
            "bytes its header declares: a damaged or hostile file. Ask for it again"
        )
    _check_ratio(path, info, size)


def _refuse_dtd(path: Path, part: str, lowered: bytes) -> None:
    if any(marker in lowered for marker in _DTD):
        raise InputError(
            f"{path}: part {part} declares a DTD or entities (<!DOCTYPE/<!ENTITY), which "
            "Excel and LibreOffice never write: the file was made to attack the reader. "
            "Ask the sender for a clean export"
        )


def _check_strings(path: Path, part: str, strings: StringsScan, limits: Limits) -> None:
    if strings.endless:
        raise InputError(
            f"{path}: part {part} has a shared-strings tag longer than {MAX_TAG_BYTES:,} bytes, "
            "which no spreadsheet program writes: a damaged or hostile file. Ask for it again"
        )
    if strings.declared > limits.max_cells:
        raise InputError(
            f"{path}: part {part} declares {strings.declared:,} shared strings, more than the "
            f"{limits.max_cells:,} cells the reader takes in: a damaged or hostile file. "
            "Ask the sender for a clean export, or export it as CSV"
        )


def _rescan(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Extent:
    """Cells without an ``r`` position: follow them in order, row by row."""
    walk = CellWalk()
    with _open_member(path, archive, info, info.file_size) as member:
        while chunk := _read(path, member):
            walk.feed(chunk)
    return walk.extent
