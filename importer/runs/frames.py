"""The pandas API: import a DataFrame, and read results back as one.

``import_frame`` hands the pipeline a Table built from the frame (``read/dataframe.py``), so a
frame goes through the very stages a file does: normaliser, mapping, journal (keyed by the
frame's content, so a re-run resumes), report. A frame has no file to write the results
beside, so ``output`` is required: the workbook is the record that ``undo`` and
``hlr-refresh`` work from.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from ..errors import InputError, UsageError
from ..models import RESULT_COLUMNS, ImportSummary
from ..read.dataframe import FIRST_ROW, FRAME_NAME, frame_table
from ..read.limits import Limits
from ..read.table import tool_block
from ..read.workbook import exact
from ..report import FORMULA_STARTS
from ..settings import Settings, resolve
from .control import RunControl
from .importing import run_import

#: Settings that name or pick from a file, which a frame is not.
FILE_ONLY = ("file", "sheet", "output_dir", "max_unpacked_mb")
#: Result columns of whole numbers, read back as nullable integers.
WHOLE_COLUMNS = ("source_row", "phone_normalized", "contact_id")


@dataclass(frozen=True)
class ImportResult:
    """What import_frame returns: the summary, where the results are, and the results."""

    summary: ImportSummary
    output: Path
    #: The input's columns as Results names them, indexed as the input frame.
    inputs: pd.DataFrame = field(repr=False)

    def frame(self) -> pd.DataFrame:
        """Results as a DataFrame: the input's rows (blank ones left out) with their index,
        columns and dtypes, then the seven result columns (an input column of one of their
        names is ``status (input)``, as in read_results)."""
        results = read_results(self.output)
        inputs = self.inputs.iloc[results["source_row"].to_numpy(dtype=int) - FIRST_ROW]
        outcomes = results[list(RESULT_COLUMNS)].set_axis(inputs.index)
        return pd.concat([inputs.rename(columns=_input_name), outcomes], axis=1)


def import_frame(
    frame: pd.DataFrame,
    *,
    list_name: str,
    output: str | os.PathLike[str],
    control: RunControl | None = None,
    transport: httpx.BaseTransport | None = None,
    **options: Any,
) -> ImportResult:
    """Import a DataFrame into the list ``list_name``; the results go to ``output``.

    ``options`` are Settings' fields (``default_region="UA"``, ``sandbox=True``,
    ``api_key=...``, ``field_map={"Name": "First Name"}``...). Raises what run_import raises.
    """
    settings = _settings(list_name, output, options)
    table = frame_table(
        frame,
        phone_column=settings.phone_column,
        limits=_limits(settings),
        region=settings.default_region,
        region_column=settings.region_column,
    )
    summary = run_import(settings, control=control, transport=transport, table=table)
    inputs = frame.iloc[:, list(table.keep)].set_axis(list(table.columns), axis=1)
    return ImportResult(summary, settings.output_path, inputs)


def _settings(list_name: str, output: str | os.PathLike[str], options: dict[str, Any]) -> Settings:
    known = {f.name for f in fields(Settings)} - set(FILE_ONLY)
    unknown = sorted(set(options) - known)
    if unknown:
        raise UsageError(f"import_frame: unknown or file-only options: {', '.join(unknown)}")
    given = {"file": Path(FRAME_NAME), "list_name": list_name, "output": Path(output)}
    return resolve({**options, **given}, {}, {})


def _limits(settings: Settings) -> Limits:
    return Limits(max_rows=settings.max_rows)


def read_results(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A results workbook (.xlsx, or the .csv output) as a DataFrame: the input's columns,
    then the seven result columns; IDs and phones as nullable integers (Int64), the other
    result columns as strings, an empty cell as NA. An .xlsx gives each input column the
    type of its cells; a .csv holds text only, so its input columns are strings.

    The result columns are the seven that end the header; an input column of the same name
    (a shop's own ``status``) comes before them and is named ``status (input)``."""
    path = Path(path)
    csv = path.suffix.lower() == ".csv"
    raw = _read_csv(path) if csv else _read_xlsx(path)
    header = ["" if pd.isna(h) else str(h) for h in raw.iloc[0]] if len(raw) else []
    raw = raw.iloc[1:].reset_index(drop=True)
    block = tool_block(header)  # as the reader and undo find it
    if tuple(header[block.start : block.stop]) != RESULT_COLUMNS:
        raise InputError(f"{path}: not a results file of bsg-import (no result columns)")
    width = block.start
    typed = _text if csv else _typed
    columns = {
        _input_name(name): typed(raw.iloc[:, i]).rename(_input_name(name))
        for i, name in enumerate(header[:width])
    }
    for at, name in enumerate(RESULT_COLUMNS, start=width):
        try:
            kind = _whole if name in WHOLE_COLUMNS else _text
            columns[name] = kind(raw.iloc[:, at]).rename(name)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{path}: column {name}: {exc}; is it a bsg-import results file?"
            ) from exc
    return pd.DataFrame(columns, index=raw.index)


def _input_name(name: str) -> str:
    """An input column's name, kept apart from the result column it shares a name with."""
    return f"{name} (input)" if name in RESULT_COLUMNS else name


def _read_xlsx(path: Path) -> pd.DataFrame:
    """The Results sheet, its header as the first row (pandas would rename a second
    ``status``)."""
    try:
        return pd.read_excel(
            path, sheet_name="Results", engine="calamine", dtype=object, header=None
        )
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except Exception as exc:  # calamine and pandas raise many kinds for a file they can't read
        raise InputError(f"{path}: not a results workbook of bsg-import ({exc})") from exc


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", header=None)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: not a results file of bsg-import ({exc})") from exc
    return raw.map(_unquoted)


def _unquoted(text: str) -> str:
    """Text as it was before the CSV writer's ``'`` kept a spreadsheet from evaluating it."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _typed(column: pd.Series[Any]) -> pd.Series[Any]:
    """An input column read from a workbook, in the nullable dtype its cells fit."""
    return _values(column, exact).convert_dtypes()


def _text(column: pd.Series[Any]) -> pd.Series[Any]:
    return _values(column, str).astype("string")


def _whole(column: pd.Series[Any]) -> pd.Series[Any]:
    return _values(column, int).astype("Int64")


def _values(column: pd.Series[Any], convert: Callable[[Any], Any]) -> pd.Series[Any]:
    """Each value converted, a missing or empty one as None."""
    missing = column.isna() | (column == "")
    values = [None if gone else convert(v) for v, gone in zip(column, missing, strict=True)]
    return pd.Series(values, index=column.index, dtype=object, name=column.name)
