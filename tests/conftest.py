"""Shared fixtures: a clean environment, and helpers to open results workbooks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No BSG_* variable of the developer's leaks into a test; journals, profiles stay in tmp."""
    import os

    for name in list(os.environ):
        if name.startswith("BSG_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))  # profiles


def sheet_rows(path: Path, sheet: str = "Results") -> list[dict[str, Any]]:
    """A sheet of a workbook as dicts keyed by its header, read with openpyxl."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def iter_cells(path: Path) -> Iterator[tuple[str, Any]]:
    """Every (sheet name, cell) of a workbook."""
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                yield sheet.title, cell


@pytest.fixture
def sandbox() -> Any:
    """A fresh sandbox account, in process."""
    from importer.sandbox import Sandbox

    return Sandbox()


@pytest.fixture
def server(sandbox: Any) -> Iterator[Any]:
    """The same sandbox as a real HTTP server on a loopback port."""
    from importer.sandbox import serve

    with serve(sandbox) as running:
        yield running
