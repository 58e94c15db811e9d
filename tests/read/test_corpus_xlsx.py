"""The .xlsx and .xlsm corpus: values, layouts and sheets as Excel users leave them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from openpyxl.styles import PatternFill

from importer.errors import InputError
from importer.read import open_table

from ..fixtures.build import edit_xlsx, grid, xlsx


def test_values_as_excel_saved_them(tmp_path: Path) -> None:
    """Numbers exact (15 digits too), fractions stay floats, dates, cached formula results."""
    path = tmp_path / "values.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Contacts")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    clock = book.add_format({"num_format": "hh:mm"})
    sheet.write_row(0, 0, ["Phone", "Name", "Born", "Joined", "Call at", "VIP", "Check"])
    sheet.write_number(1, 0, 380501234567)
    sheet.write_string(1, 1, "Taras")
    sheet.write_datetime(1, 2, dt.datetime(1990, 3, 9), day)
    sheet.write_datetime(1, 3, dt.datetime(2024, 1, 2, 13, 5), moment)
    sheet.write_datetime(1, 4, dt.time(9, 30), clock)
    sheet.write_boolean(1, 5, True)
    sheet.write_formula(1, 6, "=A2*1", None, 380501234567)
    sheet.write_number(2, 0, 123456789012345)
    sheet.write_formula(2, 1, '="Ol"&"ena"', None, "Olena")
    sheet.write_formula(2, 6, "=NA()", None, "#N/A")
    sheet.write_number(3, 0, 12.5)
    sheet.write_number(3, 1, 1e20)
    sheet.write_number(3, 6, -7)
    book.close()
    rows = grid(open_table(path))
    assert rows == [
        (2, (380501234567, "Taras", dt.date(1990, 3, 9), dt.datetime(2024, 1, 2, 13, 5),
             dt.time(9, 30), True, 380501234567)),
        (3, (123456789012345, "Olena", None, None, None, None, None)),  # #N/A reads as empty
        (4, (12.5, 1e20, None, None, None, None, -7)),
    ]  # fmt: skip
    assert [type(c) for c in rows[0][1][:1] + rows[1][1][:1] + rows[2][1][:2]] == [
        int, int, float, float,
    ]  # fmt: skip


def test_layout_title_logo_and_blank_rows(tmp_path: Path) -> None:
    """The header found under a title, a logo row and blank rows; row numbers from the top."""
    rows: list[list[Any]] = [
        ["ACME Ltd. spring promo"],
        [],  # the logo's row: an image, no cells
        ["exported", dt.date(2026, 11, 20)],
        [],
        [None, None, "Name", "Phone", "City"],
        [None, None, "Taras", 380501234567, "Kyiv"],
        [],
        [None, None, None, 380671234567],
        [None, None, "Olena", "+380 93 123 45 67", None],
    ]
    path = xlsx(tmp_path / "layout.xlsx", {"Contacts": rows})

    def decorate(book: Any) -> None:
        sheet = book["Contacts"]
        sheet.row_dimensions[2].height = 80
        yellow = PatternFill("solid", fgColor="FFFF00")
        for ref in ("C12", "H9", "Z40"):  # formatted cells, no values: not data
            sheet[ref].fill = yellow

    edit_xlsx(path, decorate)
    table = open_table(path)
    assert (table.header_row, table.columns) == (5, ("Name", "Phone", "City"))
    assert grid(table) == [
        (6, ("Taras", 380501234567, "Kyiv")),
        (8, (None, 380671234567, None)),
        (9, ("Olena", "+380 93 123 45 67", None)),
    ]
    assert "sheet 'Contacts' used" in table.notes
    assert "header found on row 5" in table.notes


def test_column_names_duplicates_blanks_and_merges(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["Phone", "Name", "Name", None, "Address", None, None, "Name (2)"],
        [380501234567, "a", "b", "no header", "Main St", "12", None, "x"],
        [380671234567, None, None, None, None, None, None, None, None, None],
    ]
    path = xlsx(tmp_path / "names.xlsx", {"Sheet1": rows})
    edit_xlsx(path, lambda book: book["Sheet1"].merge_cells("E1:G1"))
    table = open_table(path)
    assert table.columns == (
        "Phone", "Name", "Name (2)", "Column D", "Address", "Address (2)", "Address (3)",
        "Name (2) (2)",
    )  # fmt: skip
    assert grid(table)[0] == (2, (380501234567, "a", "b", "no header", "Main St", "12", None, "x"))


def _workbook(path: Path) -> Path:
    return xlsx(
        path,
        {
            "Cover": [["Spring promo"], ["Contacts are on the Data sheet"]],
            "Empty": [],
            "Hidden": [["Phone"], [380931234567]],
            "Data": [["Phone", "Name"], [380501234567, "Taras"]],
        },
    )


def test_first_sheet_with_a_phone_table_and_sheet_option(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx")
    edit_xlsx(path, lambda book: setattr(book["Hidden"], "sheet_state", "hidden"))
    table = open_table(path)
    assert table.sheet == "Data"
    assert grid(table) == [(2, (380501234567, "Taras"))]
    assert table.notes[-1].startswith("sheet 'Data' used, of 'Cover', 'Empty', 'Hidden', 'Data'")
    assert open_table(path, sheet="hidden").sheet == "Hidden"
    assert open_table(path, sheet="3").sheet == "Hidden"
    assert grid(open_table(path, sheet="Hidden")) == [(2, (380931234567,))]
    with pytest.raises(InputError, match=r"sheet 'Cover': no phone column; the header on row 1"):
        open_table(path, sheet="1")


def test_missing_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx")
    expected = (
        r"book\.xlsx: no sheet 'Contacts'; "
        r"the workbook has 1: 'Cover', 2: 'Empty', 3: 'Hidden', 4: 'Data'"
    )
    with pytest.raises(InputError, match=expected):
        open_table(path, sheet="Contacts")
    with pytest.raises(InputError, match="no sheet '5'"):
        open_table(path, sheet="5")


def test_no_sheet_has_a_phone_column(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "book.xlsx", {"Empty": [], "People": [["Name", "Email"], ["a", "b"]]})
    with pytest.raises(
        InputError,
        match=r"sheet 'People': no phone column; the header on row 1 has 'Name', 'Email'",
    ):
        open_table(path)


def test_every_sheet_empty(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "book.xlsx", {"A": [], "B": [[None, ""]]})
    with pytest.raises(InputError, match=r"book\.xlsx: every sheet is empty \('A', 'B'\)"):
        open_table(path)


def test_xlsm_and_header_only(tmp_path: Path) -> None:
    table = open_table(xlsx(tmp_path / "macros.xlsm", {"S": [["Mobile", "Name"]]}))
    assert (table.columns, table.row_count, grid(table)) == (("Mobile", "Name"), 0, [])
