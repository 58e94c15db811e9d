"""The results workbook and CSV, opened with real readers."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from importer.models import RowOutcome, Status
from importer.report import ReportInfo, write_report

NASTY = [
    "=1+1",
    '=HYPERLINK("http://evil","x")',
    "+1-1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "=cmd|' /C calc'!A0",
]


def results() -> list[tuple[tuple[object, ...], RowOutcome]]:
    rows: list[tuple[tuple[object, ...], RowOutcome]] = [
        (
            ("0501234567", "Taras", dt.date(1990, 3, 9)),
            RowOutcome(2, Status.CREATED, 380501234567, 1000001, "active", "2026-11-24 10:00:00"),
        ),
        (
            ("bad", "Olena", None),
            RowOutcome(3, Status.INVALID, None, error="'bad' is not a phone number"),
        ),
        (
            ("0501234567", "Dup", None),
            RowOutcome(4, Status.DUPLICATE, 380501234567, 1000001, error="same phone as row 2"),
        ),
    ]
    for offset, text in enumerate(NASTY):
        rows.append(((text, text, None), RowOutcome(5 + offset, Status.FAILED, None, error=text)))
    return rows


NOW = dt.datetime(2026, 11, 24, 10, 0)


def info() -> ReportInfo:
    return ReportInfo("c.xlsx", "Contacts", "Promo", 56147, dt.datetime(2026, 11, 24, 10, 0))


def test_workbook_sheets_types_and_formula_safety(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    summary = write_report(path, ["Phone", "Name", "Birthday"], results(), info())
    assert summary.counts == {"created": 1, "invalid": 1, "duplicate": 1, "failed": len(NASTY)}
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Results", "Errors", "Summary"]
    sheet = book["Results"]
    header = [c.value for c in sheet[1]]
    assert header == [
        "Phone",
        "Name",
        "Birthday",
        "source_row",
        "phone_normalized",
        "status",
        "contact_id",
        "hlr_status",
        "hlr_last_check",
        "error",
    ]
    created = dict(zip(header, sheet[2], strict=True))
    assert created["phone_normalized"].value == 380501234567
    assert created["phone_normalized"].number_format == "0"
    assert created["contact_id"].value == 1000001
    assert created["Birthday"].value == dt.datetime(1990, 3, 9)
    assert sheet["F4"].value == "duplicate" and sheet["G4"].value == 1000001
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:J{sheet.max_row}"
    for row in sheet.iter_rows(min_row=5):
        for cell in row:
            if isinstance(cell.value, str) and cell.value in NASTY:
                assert cell.data_type == "s", cell.coordinate
                assert cell.quotePrefix, cell.coordinate
    errors = book["Errors"]
    assert [c.value for c in errors[1]] == ["Phone", "Name", "Birthday", "error"]
    assert errors.max_row == 1 + 1 + len(NASTY)
    assert errors["A2"].value == "bad"
    with zipfile.ZipFile(path) as archive:
        assert sum(n.startswith("xl/charts/chart") for n in archive.namelist()) == 2


def test_status_cells_are_coloured_by_status(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write_report(path, ["Phone", "Name", "Birthday"], results(), info())
    sheet = openpyxl.load_workbook(path)["Results"]
    colours = {sheet[f"F{r}"].value: sheet[f"F{r}"].fill.fgColor.rgb for r in range(2, 5)}
    assert len(set(colours.values())) == 3


def test_summary_sheet(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write_report(path, ["Phone", "Name", "Birthday"], results(), info())
    rows = list(openpyxl.load_workbook(path)["Summary"].iter_rows(values_only=True))
    facts = {r[0]: r[1] for r in rows if r and r[0]}
    assert facts["List"] == "Promo" and facts["List ID"] == 56147
    assert facts["Input file"] == "c.xlsx"
    assert facts["created"] == 1 and facts["failed"] == len(NASTY)
    assert facts["active"] == 1


def test_csv_results_are_bom_utf8_and_formula_safe(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_report(path, ["Phone", "Name", "Birthday"], results(), info())
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][-7:] == [
        "source_row",
        "phone_normalized",
        "status",
        "contact_id",
        "hlr_status",
        "hlr_last_check",
        "error",
    ]
    assert rows[1][:3] == ["0501234567", "Taras", "1990-03-09"]
    assert rows[1][4] == "380501234567"
    for row in rows[4:]:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"

    def broken() -> object:
        yield results()[0]
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError, match="disk gone"):
        write_report(path, ["Phone", "Name", "Birthday"], broken(), info())  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_summary_counts_each_contact_once_and_states_the_reachable_share(tmp_path: Path) -> None:
    def row(n: int, status: Status, contact: int | None, hlr: str | None) -> Any:
        return (("x",), RowOutcome(n, status, 380501234560 + n, contact, hlr))

    rows = [
        row(2, Status.CREATED, 11, "active"),
        row(3, Status.CREATED, 12, "active"),
        row(4, Status.EXISTING, 13, "absent"),
        row(5, Status.CREATED, 14, "sent"),  # its check has not finished
        row(6, Status.CREATED, 15, None),
        row(7, Status.DUPLICATE, 11, "active"),  # the contact of row 2: counted once
        row(8, Status.INVALID, None, None),
    ]
    path = tmp_path / "r.xlsx"
    counted = write_report(path, ["Phone"], rows, ReportInfo("c.csv", None, "Promo", 1, NOW))
    assert counted.hlr_counts == {"active": 2, "absent": 1, "pending": 2}
    summary = list(openpyxl.load_workbook(path)["Summary"].iter_rows(values_only=True))
    facts = {r[0]: r[1] for r in summary if r and r[0]}
    assert facts["Rows"] == 7
    reachable = "67% of the numbers checked (2 of 3 active); 2 more not checked yet"
    assert facts["Reachable"] == reachable
    at = summary.index(("hlr_status", "contacts"))
    assert summary[at + 1 : at + 4] == [("active", 2), ("absent", 1), ("pending", 2)]


def test_summary_before_any_check_has_finished(tmp_path: Path) -> None:
    rows = [(("x",), RowOutcome(2, Status.CREATED, 380501234567, 11, None))]
    path = tmp_path / "r.xlsx"
    write_report(path, ["Phone"], rows, ReportInfo("c.csv", None, "Promo", 1, NOW))
    summary = openpyxl.load_workbook(path)["Summary"].iter_rows(values_only=True)
    facts = {r[0]: r[1] for r in summary}
    assert facts["Reachable"] == "not known yet: no HLR check has finished (1 pending)"
