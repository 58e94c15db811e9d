"""Delimited text files: encoding and delimiter detection, rows as a stream."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import charset_normalizer

from ..errors import InputError
from ..models import column_letter

SAMPLE_BYTES = 1 << 20
DELIMITERS = ("\t", ";", ",", "|")
#: Single-byte code pages marketing files come in, besides UTF-8 and UTF-16.
LEGACY_ENCODINGS = ["cp1252", "cp1251"]

FIELD_LIMIT = 1 << 24
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_UNDECODED = re.compile("\udcff")
_ESCAPE = "bsg-import-undecodable"


def _mark_undecodable(error: UnicodeError) -> tuple[str, int]:
    """A decoding error handler: a byte that can't be decoded becomes a lone surrogate."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "\udcff", error.end


codecs.register_error(_ESCAPE, _mark_undecodable)

csv.field_size_limit(FIELD_LIMIT)


@dataclass(frozen=True, slots=True)
class TextFormat:
    """How to read a text file: its encoding and delimiter."""

    encoding: str
    delimiter: str


def detect_format(path: Path) -> TextFormat:
    """Detect the encoding and the delimiter from the start of the file."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
        complete = len(sample) < SAMPLE_BYTES
        encoding = detect_encoding(sample, path)
        if encoding == "utf-8" and sample.isascii() and not complete:
            encoding = _later_encoding(handle, path)
    text = _decode_sample(sample, encoding, complete=complete)
    if complete and not text.strip():
        raise InputError(f"{path}: the file is empty")
    return TextFormat(encoding, detect_delimiter(text))


def _later_encoding(handle: BinaryIO, path: Path) -> str:
    """A start in plain ASCII says nothing: look at the first block that isn't."""
    while block := handle.read(SAMPLE_BYTES):
        found = _NON_ASCII.search(block)
        if found:
            return _utf8_or_legacy(block[found.start() :], path)
    return "utf-8"


def detect_encoding(sample: bytes, path: Path) -> str:
    """The sample's encoding: a BOM, strict UTF-8, else charset-normalizer's best guess."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _looks_utf16(sample):
        return "utf-16-le" if sample[1::2].count(0) > sample[::2].count(0) else "utf-16-be"
    return _utf8_or_legacy(sample, path)


def _utf8_or_legacy(sample: bytes, path: Path) -> str:
    """Strict UTF-8 if it decodes, else the likelier of the legacy code pages."""
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut by the sample's end
            best = charset_normalizer.from_bytes(sample, cp_isolation=LEGACY_ENCODINGS).best()
            if best is None:
                raise InputError(
                    f"{path}: can't tell the file's text encoding; save it as UTF-8 CSV"
                ) from exc
            return str(best.encoding)
    return "utf-8"


def _looks_utf16(sample: bytes) -> bool:
    head = sample[:4096]
    return len(head) >= 4 and head.count(0) > len(head) // 4


def _decode_sample(sample: bytes, encoding: str, *, complete: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    text = decoder.decode(sample, final=complete)
    return text if complete else text[: text.rfind("\n") + 1] or text


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most consistent columns."""
    lines = [line for line in text.splitlines()[:200] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", 0.0
    for delimiter in DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        width, seen = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        score = seen / len(widths) + min(width, 20) / 1000
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_rows(path: Path, fmt: TextFormat) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number, cells) for every record; row 1 is the first line.

    Bytes the encoding can't decode become a lone surrogate, so that the row and column
    they are in can be named.
    """
    with path.open("rb") as raw:
        stream = io.TextIOWrapper(raw, encoding=fmt.encoding, errors=_ESCAPE, newline="")
        reader = csv.reader(stream, delimiter=fmt.delimiter)
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):
                if _UNDECODED.search("".join(cells)):
                    raise _undecoded(path, fmt, number, cells)
                yield number, cells
        except csv.Error as exc:
            raise InputError(
                f"{path}: row {number + 1} can't be read as delimited text ({exc}); "
                "is it really a CSV file? Open it in a spreadsheet program and save it as CSV"
            ) from exc


def _undecoded(path: Path, fmt: TextFormat, number: int, cells: list[str]) -> InputError:
    column = next(i for i, cell in enumerate(cells) if _UNDECODED.search(cell))
    return InputError(
        f"{path}: row {number}, column {column_letter(column)} is not valid {fmt.encoding} "
        "text; save the file as UTF-8 CSV and try again"
    )
