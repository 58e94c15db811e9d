"""The legacy .xls corpus: committed files made by tests/fixtures/make_xls.py, read by xlrd."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from importer.errors import InputError
from importer.read import open_table

from ..fixtures.build import fixture, grid


def test_layout_values_and_row_numbers() -> None:
    table = open_table(fixture("layout.xls"))
    assert table.sheet == "Contacts"
    assert table.header_row == 4  # under a title row, a blank row and a row of formatted blanks
    assert table.columns == (
        "Name", "Phone", "City", "City (2)", "Name (2)", "Column F", "Birthday", "Joined",
        "Call at", "VIP", "Total",
    )  # fmt: skip
    assert table.columns[table.phone_index] == "Phone"
    assert grid(table) == [
        (5, ("Богдан", 380501234567, "Kyiv", "UA", "T.", "no header", dt.date(1990, 3, 9),
             dt.datetime(2024, 1, 2, 13, 5), dt.time(9, 30), True, 380501234567)),
        (7, ("Olena", 123456789012345, None, None, None, None, None, None, None, False, None)),
        (8, (None, 380671234567, None, None, None, None, None, None, None, None, None)),
        (9, ("Fraction", 12.5, None, None, None, None, None, None, None, None, None)),
    ]  # fmt: skip
    assert table.row_count == 4
    numbers = [row.cells[1] for row in table.rows()]
    assert [type(v) for v in numbers] == [int, int, int, float]


def test_sheet_choice_skips_a_cover_and_a_hidden_sheet() -> None:
    path = fixture("sheets.xls")
    table = open_table(path)
    assert (table.sheet, grid(table)) == ("Data", [(2, ("+380 50 123 45 67", "Taras"))])
    assert grid(open_table(path, sheet="Hidden")) == [(2, (380931234567,))]
    assert open_table(path, sheet="2").sheet == "Hidden"
    with pytest.raises(
        InputError, match=r"no sheet 'x'; the workbook has 1: 'Cover', 2: 'Hidden', 3: 'Data'"
    ):
        open_table(path, sheet="x")


def test_password_protected_xls() -> None:
    with pytest.raises(InputError, match=r"encrypted\.xls: the workbook is password-protected"):
        open_table(fixture("encrypted.xls"))


@pytest.mark.parametrize("name", ["book.xlsx", "book.csv", "book.ods"])
def test_an_xls_under_another_name_is_read_as_xls(tmp_path: Path, name: str) -> None:
    path = shutil.copy(fixture("layout.xls"), tmp_path / name)
    table = open_table(Path(path))
    assert table.row_count == 4
    assert f"{name} is an .xls workbook despite its name; read as such" in table.notes


def test_damaged_xls(tmp_path: Path) -> None:
    path = tmp_path / "cut.xls"
    path.write_bytes(fixture("layout.xls").read_bytes()[:3000])
    with pytest.raises(
        InputError, match=r"cut\.xls: the workbook is damaged|can't read this \.xls"
    ):
        open_table(path)
