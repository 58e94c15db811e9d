"""Delimited text files: encoding and delimiter detection, rows as a stream."""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

from ..errors import InputError

SAMPLE_BYTES = 1 << 20
DELIMITERS = ("\t", ";", ",", "|")
#: Single-byte code pages marketing files come in, besides UTF-8 and UTF-16.
LEGACY_ENCODINGS = ["cp1252", "cp1251"]

csv.field_size_limit(1 << 24)


@dataclass(frozen=True, slots=True)
class TextFormat:
    """How to read a text file: its encoding and delimiter."""

    encoding: str
    delimiter: str


def detect_format(path: Path) -> TextFormat:
    """Detect the encoding and the delimiter from the start of the file."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    encoding = detect_encoding(sample, path)
    text = _decode_sample(sample, encoding, complete=len(sample) < SAMPLE_BYTES)
    return TextFormat(encoding, detect_delimiter(text))


def detect_encoding(sample: bytes, path: Path) -> str:
    """The sample's encoding: a BOM, strict UTF-8, else charset-normalizer's best guess."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _looks_utf16(sample):
        return "utf-16-le" if sample[1::2].count(0) > sample[::2].count(0) else "utf-16-be"
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
    """Yield (row number, cells) for every record; row 1 is the first line."""
    with path.open("rb") as raw:
        stream = io.TextIOWrapper(raw, encoding=fmt.encoding, errors="strict", newline="")
        reader = csv.reader(stream, delimiter=fmt.delimiter)
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, cells
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: row {number + 1} is not valid {fmt.encoding} text "
                f"({exc.reason}); save the file as UTF-8 CSV and try again"
            ) from exc
        except csv.Error as exc:
            raise InputError(f"{path}: row {number + 1}: {exc}") from exc
