"""The real exports in ../shared/realworld (other projects' files, not copied here) give what
its README says a careful person expects, through the real command."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..helpers import ROOT, run_cli
from .test_table_shapes import results_table

REALWORLD = ROOT.parent / "shared" / "realworld"
pytestmark = pytest.mark.skipif(
    not REALWORLD.is_dir(), reason=f"{REALWORLD} is not here (it is beside the project in CI)"
)


def _run(tmp_path: Path, name: str, *flags: str) -> tuple[str, list[str], list[list[str]]]:
    output = tmp_path / f"{name}.results.csv"
    ran = run_cli(REALWORLD / name, "--list", "Promo", "--dry-run", "--output", output, *flags)
    assert ran.code in (0, 1), ran.stderr
    header, rows = results_table(output)
    return ran.stderr, header, rows


def _column(header: list[str], rows: list[list[str]], name: str, last: bool = False) -> list[str]:
    at = len(header) - 1 - header[::-1].index(name) if last else header.index(name)
    return [r[at] for r in rows]


def test_google_contacts_reads_every_contact(tmp_path: Path) -> None:
    _, header, rows = _run(tmp_path, "rolomind_google.csv")
    assert header[:2] == ["First Name", "Middle Name"]  # row 1 is the header
    assert _column(header, rows, "First Name") == ["John", "Jane", "Bob", "Alice"]
    assert _column(header, rows, "source_row") == ["2", "3", "4", "5"]
    assert _column(header, rows, "Phone 1 - Label") == ["Work", "Work", "", "Mobile"]
    errors = _column(header, rows, "error")
    assert errors[2] == "no phone number"
    assert all("+1-555-012" in e for e in errors[:2] + errors[3:])  # from the value column


def test_odoo_takes_the_mobile_beside_a_junk_phone(tmp_path: Path) -> None:
    stderr, header, rows = _run(tmp_path, "odoo_res.partner.csv", "--default-region", "US")
    assert "phone column 'Mobile' used; other phone columns: 'Phone'" in stderr
    status = _column(header, rows, "status", last=True)
    assert status[1] == "validated"  # Bob, the row with only a mobile
    assert _column(header, rows, "phone_normalized")[1] == "14157654321"
    assert len(rows) == 6


def test_outlook_takes_mobile_phone_and_reads_ragged_rows(tmp_path: Path) -> None:
    stderr, header, rows = _run(tmp_path, "gpcsolutions_outlook.csv")
    assert "phone column 'Mobile Phone' used" in stderr and "'Home Phone'" in stderr
    assert _column(header, rows, "Name") == ["Adam Glacius", "Daniel Ireland", "Duncan Amey"]


def test_civicrm_chooses_phone_among_eight_and_renames_the_duplicate(tmp_path: Path) -> None:
    _, header, rows = _run(tmp_path, "civicrm_individual_locations_with_related.csv")
    assert "Last Name (2)" in header and "Mum\u2019s first name" in header
    assert "'999-4445'" in _column(header, rows, "error")[0]  # the Phone column's number


def test_chatwoot_and_bitrix24(tmp_path: Path) -> None:
    _, header, rows = _run(tmp_path, "chatwoot_contacts.csv")
    assert len(rows) == 25 and set(_column(header, rows, "status", last=True)) == {"validated"}
    _, header, rows = _run(tmp_path, "barley_bitrix24_sample_contacts.xlsx")
    assert len(rows) == 2
