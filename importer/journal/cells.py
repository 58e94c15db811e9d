"""A row's cells as the journal keeps them: JSON, dates and times tagged so that they come
back as they were."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from ..models import Cell


def encode_cells(cells: Sequence[Cell]) -> str:
    """Cells as JSON, dates and times tagged so that they come back as they were."""
    return json.dumps([_encode(c) for c in cells], ensure_ascii=False)


def _encode(cell: Cell) -> Any:
    if isinstance(cell, dt.datetime):
        return {"dt": cell.isoformat()}
    if isinstance(cell, dt.date):
        return {"d": cell.isoformat()}
    if isinstance(cell, dt.time):
        return {"t": cell.isoformat()}
    return cell


def decode_cells(text: str) -> tuple[Cell, ...]:
    """The inverse of encode_cells."""
    return tuple(_decode(c) for c in json.loads(text))


def _decode(value: Any) -> Cell:
    if isinstance(value, dict):
        if "dt" in value:
            return dt.datetime.fromisoformat(value["dt"])
        if "d" in value:
            return dt.date.fromisoformat(value["d"])
        return dt.time.fromisoformat(value["t"])
    return value  # type: ignore[no-any-return]
