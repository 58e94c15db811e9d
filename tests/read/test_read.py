"""The read stage on files the tests write themselves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from importer.errors import InputError
from importer.read import open_table


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]], title: str = "Sheet1") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("utf-16", "\t"), ("cp1251", ";"), ("cp1252", ",")],
)
def test_csv_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str) -> None:
    name = "Олена" if encoding == "cp1251" else "José Müller"
    text = (
        delimiter.join(["Phone", "Name"]) + "\r\n" + delimiter.join(["0501234567", name]) + "\r\n"
    )
    table = open_table(write_text(tmp_path / "c.csv", text, encoding))
    assert table.columns == ("Phone", "Name")
    rows = list(table.rows())
    assert [(r.number, r.cells) for r in rows] == [(2, ("0501234567", name))]


def test_xlsx_number_cells_keep_every_digit(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [["Phone"], [380501234567], [123456789012345], [12.5]])
    cells = [r.cells[0] for r in open_table(path).rows()]
    assert cells == [380501234567, 123456789012345, 12.5]
    assert isinstance(cells[0], int)


def test_header_below_title_rows_and_blank_rows(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Contacts exported 2026-11-20"],
        [],
        ["Name", "Mobile", "City"],
        ["Taras", "0501234567", "Kyiv"],
        [],
        ["Olena", "0671234567", None],
        [None, "0931234567"],
    ]
    table = open_table(write_xlsx(tmp_path / "c.xlsx", rows))
    assert table.header_row == 3
    assert table.columns[table.phone_index] == "Mobile"
    assert [r.number for r in table.rows()] == [4, 6, 7]


def test_column_names_are_unique_and_stable(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Phone", "Name", "Name", None, None, "status", "error"],
        ["0501234567", "a", "b", "c", None, "created", "x"],
    ]
    table = open_table(write_xlsx(tmp_path / "c.xlsx", rows))
    # ``error`` ending the header is the tool's (an Errors sheet); a lone ``status`` is data
    assert table.columns == ("Phone", "Name", "Name (2)", "Column D", "status")
    assert next(table.rows()).cells == ("0501234567", "a", "b", "c", "created")


def test_merged_header_cells_name_every_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [["Phone", "Contact", None], ["0501234567", "a", "b"]])
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet.merge_cells("B1:C1")
    book.save(path)
    assert open_table(path).columns == ("Phone", "Contact", "Contact (2)")


def test_sheet_choice(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    empty = book.active
    assert empty is not None
    empty.title = "Cover"
    data = book.create_sheet("Data")
    data.append(["Phone"])
    data.append(["0501234567"])
    path = tmp_path / "c.xlsx"
    book.save(path)
    assert open_table(path).sheet == "Data"
    assert open_table(path, sheet="2").sheet == "Data"
    assert open_table(path, sheet="data").sheet == "Data"
    with pytest.raises(InputError, match=r"no sheet 'Nope'.*1: 'Cover', 2: 'Data'"):
        open_table(path, sheet="Nope")


def test_dates_and_formula_values(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "c.xlsx", [["Phone", "Birthday"], ["0501234567", dt.date(1990, 3, 9)]]
    )
    assert next(open_table(path).rows()).cells == ("0501234567", dt.date(1990, 3, 9))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("Name,City\nTaras,Kyiv\n", r"no phone column; the header on row 1 has 'Name', 'City'"),
        ("0501234567,Taras\n0671234567,Olena\n", "no header row: row 1 already holds data"),
        ("<html><table><tr><td>Phone</td></tr></table></html>", "is a web page"),
    ],
)
def test_files_that_cannot_be_read_say_why(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        open_table(write_text(tmp_path / "c.csv", content))


def test_missing_file_and_wrong_extension(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        open_table(tmp_path / "missing.csv")
    with pytest.raises(InputError, match=r"unsupported file type '\.pdf'"):
        open_table(write_text(tmp_path / "c.pdf", "Phone\n1\n"))


def test_phone_column_option_and_candidates(tmp_path: Path) -> None:
    path = write_text(tmp_path / "c.csv", "Name,Home phone,Mobile\nTaras,0441234567,0501234567\n")
    table = open_table(path)
    assert table.columns[table.phone_index] == "Mobile"
    assert any("Home phone" in note for note in table.notes)
    chosen = open_table(path, phone_column="home_phone")
    assert chosen.columns[chosen.phone_index] == "Home phone"
    with pytest.raises(InputError, match="no column is headed 'Fax'"):
        open_table(path, phone_column="Fax")


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    table = open_table(write_text(tmp_path / "c.csv", "Phone,Name\n"))
    assert table.row_count == 0
    assert list(table.rows()) == []
