"""--create-fields all or none, end to end: no field for an empty column, leading zeros kept
as text, every name checked before the first create, and a field the server refuses (learned
from its 422) left out with a note while the import goes on. The dry run says the same."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from importer.models import RESULT_COLUMNS

from ..helpers import run_cli, state_of
from ..read.test_table_shapes import WOO_HEADER, WOO_ROWS, results_table

KEY = {"BSG_API_KEY": "live_sandbox"}
LONG = "Address 1 - Extended Address Line"  # 33 characters
HEADER = ["Phone", "Nickname", "ZIP", "Photo", "Labels", LONG, "Notes 2", "notes_2"]
ROWS = [
    ["+44 7400 123456", "Ann", "02542", "", "", "Flat 1", "vip", "x"],
    ["+44 7400 654321", "Bo", "07030", "", "", "", "", ""],
]


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _import(tmp_path: Path, server: Any, source: Path, *flags: str | Path) -> Any:
    return run_cli(
        source, "--list", "Promo", "--base-url", server.url, "--create-fields",
        "--journal-dir", tmp_path / "journals", "--no-resume", *flags, env=KEY,
    )  # fmt: skip


def _fields(sandbox: Any) -> dict[str, str]:
    return {f["name"]: f["type"] for f in state_of(sandbox)["fields"]}


def test_fields_only_where_they_can_be_and_the_rest_goes_on(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    sandbox.account.max_field_name = 30  # a limit bsg-one-api.md does not give
    before = _fields(sandbox)
    source = _csv(tmp_path / "google.csv", HEADER, ROWS)

    dry = _import(tmp_path, server, source, "--dry-run")
    assert dry.code == 0, dry.stderr
    assert _fields(sandbox) == before  # a dry run creates nothing
    empty = "columns not sent, empty in every row (no field created): 'Photo', 'Labels'"
    twin = "column 'notes_2' not sent: no field can be created for it (its field would share "
    assert empty in dry.stderr and twin in dry.stderr
    assert f"fields that would be created: 'Nickname' (text), 'ZIP' (text), '{LONG}' (text)" in (
        dry.stderr
    )

    ran = _import(tmp_path, server, source)
    assert ran.code == 0, ran.stderr  # not 2: the import went on
    assert empty in ran.stderr and twin in ran.stderr
    assert (
        f"column {LONG!r} not sent: BSG refused the custom field {LONG!r}: "
        "The name may not be greater than 30 characters." in ran.stderr
    )
    made = {k: v for k, v in _fields(sandbox).items() if k not in before}
    assert made == {"Nickname": "text", "ZIP": "text", "Notes 2": "text"}
    names = {f["id"]: f["name"] for f in state_of(sandbox)["fields"]}
    values = {
        c["phone"]: {names[int(k)]: v for k, v in c["fields"].items()}
        for c in state_of(sandbox)["contacts"]
    }
    assert values[447400123456] == {"Nickname": "Ann", "ZIP": "02542", "Notes 2": "vip"}
    assert values[447400654321] == {"Nickname": "Bo", "ZIP": "07030"}
    columns, rows = results_table(tmp_path / "google.results.xlsx")
    assert [r[columns.index("status", len(HEADER))] for r in rows] == ["created", "created"]


@pytest.mark.parametrize("dry", [True, False])
def test_a_list_name_the_api_refuses_is_refused_by_the_dry_run_too(
    tmp_path: Path, server: Any, sandbox: Any, dry: bool
) -> None:
    source = _csv(tmp_path / "c.csv", ["Phone"], [["+44 7400 123456"]])
    ran = run_cli(
        source, "--list", "   ", "--base-url", server.url, *(["--dry-run"] if dry else []),
        "--journal-dir", tmp_path / "journals", env=KEY,
    )  # fmt: skip
    assert ran.code == 2
    assert ran.last_line == "Error: --list '   ': a list needs a name that is not blank"
    assert state_of(sandbox)["groups"] == []


def test_a_shops_status_is_a_field_like_any_other_and_undo_reads_the_results(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    rows = [
        [*r[:3], r[3].replace("030", "+49 30").replace("089", "+49 89"), r[4]] for r in WOO_ROWS
    ]
    source = _csv(tmp_path / "orders.csv", WOO_HEADER, rows)
    ran = _import(tmp_path, server, source)
    assert ran.code == 1, ran.stderr  # one row's phone is invalid
    assert _fields(sandbox)["status"] == "text"
    state = state_of(sandbox)
    status_id = next(f["id"] for f in state["fields"] if f["name"] == "status")
    sent = {c["phone"]: c["fields"].get(status_id) for c in state["contacts"]}
    assert sent == {49301234567: "processing", 49891234567: "on-hold"}

    results = tmp_path / "orders.results.xlsx"
    refreshed = run_cli("hlr-refresh", results, "--base-url", server.url, env=KEY)
    assert refreshed.code == 0, refreshed.stderr
    columns, kept = results_table(results)
    assert columns[:5] == WOO_HEADER and next(r[1] for r in kept) == "processing"

    undone = run_cli("undo", results, "--yes", "--base-url", server.url, env=KEY)
    assert undone.code == 0, undone.stderr
    assert state_of(sandbox)["contacts"] == []


def test_hlr_refresh_finds_the_block_past_empty_columns_and_keeps_a_note_after_it(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    import openpyxl
    from openpyxl.styles import Font

    source = _csv(tmp_path / "c.csv", ["Phone", "status"], [["+44 7400 123456", "lead"]])
    assert _import(tmp_path, server, source).code == 0
    results = tmp_path / "c.results.xlsx"
    book = openpyxl.load_workbook(results)
    book["Results"].cell(1, 15).font = Font(bold=True)  # a formatted, empty column after
    book.save(results)
    refreshed = run_cli("hlr-refresh", results, "--base-url", server.url, env=KEY)
    assert refreshed.code == 0, refreshed.stderr
    assert results_table(results)[0] == ["Phone", "status", *RESULT_COLUMNS]

    book = openpyxl.load_workbook(results)
    book["Results"].cell(2, 12).value = "call back Monday"  # column L, past the block
    book.save(results)
    refused = run_cli("hlr-refresh", results, "--base-url", server.url, env=KEY)
    assert refused.code == 2
    assert refused.last_line == (
        f"Error: {results}, sheet 'Results', column L: holds values after the result columns, "
        "which would be lost; move them before 'source_row'"
    )
