"""run_hlr_refresh and run_undo: the library entry points the command and the page call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from importer.runs.hlr_refresh import run_hlr_refresh
from importer.runs.importing import run_import
from importer.runs.results_book import read_results_book
from importer.runs.undo import plan_undo, run_undo
from importer.settings import Settings

from ..conftest import sheet_rows
from ..helpers import phones_in, ukrainian_mobiles, write_contacts_csv


def test_refresh_then_undo_from_python(tmp_path: Path, sandbox: Any) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(5))
    settings = Settings(
        file=source, list_name="Promo", api_key="live_sandbox", base_url="http://sandbox",
        journal_dir=tmp_path / "j",
    )  # fmt: skip
    run_import(settings, transport=sandbox.transport())
    assert len(phones_in(sandbox)) == 5
    book = read_results_book(settings.output_path)

    refreshed = run_hlr_refresh(book, settings, transport=sandbox.transport())
    assert (refreshed.refreshed, refreshed.gone, refreshed.failed) == (5, 0, 0)
    assert refreshed.exit_code == 0 and "5 contacts refreshed" in refreshed.line()

    book = read_results_book(settings.output_path)
    plan = plan_undo(book)
    assert len(plan.delete) == 5
    undone = run_undo(book, plan, settings, transport=sandbox.transport())
    assert undone.results == {"done": 5} and undone.exit_code == 0
    assert phones_in(sandbox) == {}
    undo_sheet = sheet_rows(settings.output_path, "Undo")
    assert {row["result"] for row in undo_sheet} == {"done"}
