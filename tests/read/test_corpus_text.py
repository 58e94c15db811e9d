"""Delimited text as marketing hands it over: encodings, delimiters, layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.errors import InputError
from importer.read import open_table

from ..fixtures.build import grid, text_file

CYRILLIC = [
    ["Телефон", "Ім'я", "Місто"],
    ["0501234567", "Богдан", "Київ"],
    ["0671234567", "Олена", "Львів"],
]
WESTERN = [
    ["Phone", "Name", "City"],
    ["0501234567", "José Müller", "Zürich"],
    ["0671234567", "Françoise", "Besançon"],
]


@pytest.mark.parametrize(
    ("encoding", "rows", "detected"),
    [
        ("utf-8", CYRILLIC, "utf-8"),
        ("utf-8-sig", WESTERN, "utf-8-sig"),
        ("utf-16", CYRILLIC, "utf-16"),  # Excel's "Unicode text": BOM, little-endian
        ("utf-16-le", WESTERN, "utf-16-le"),  # no BOM
        ("cp1251", CYRILLIC, "cp1251"),
        ("cp1252", WESTERN, "cp1252"),
    ],
)
def test_encodings(tmp_path: Path, encoding: str, rows: list[list[str]], detected: str) -> None:
    table = open_table(text_file(tmp_path / "c.csv", rows, encoding=encoding, delimiter=";"))
    assert table.columns == tuple(rows[0])
    assert grid(table) == [(2, tuple(rows[1])), (3, tuple(rows[2]))]
    assert f"read as semicolon-separated {detected} text" in table.notes


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path: Path) -> None:
    path = text_file(tmp_path / "export.txt", CYRILLIC, encoding="utf-16", delimiter="\t")
    assert path.read_bytes().startswith(b"\xff\xfe")
    table = open_table(path)
    assert grid(table)[0] == (2, ("0501234567", "Богдан", "Київ"))
    assert any("tab-separated utf-16 text" in note for note in table.notes)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    other = ";" if delimiter == "," else ","  # the other one appears inside a value
    rows = [
        ["Phone", "Name", "Note"],
        ["+380501234567", "Doe", f"a{other} b"],
        ["0671234567", "Roe", ""],
    ]
    table = open_table(text_file(tmp_path / "c.tsv", rows, delimiter=delimiter))
    assert table.columns == ("Phone", "Name", "Note")
    assert grid(table) == [
        (2, ("+380501234567", "Doe", f"a{other} b")),
        (3, ("0671234567", "Roe", "")),
    ]


def test_header_below_title_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(
        b"Spring promo contacts\r\n"
        b"exported 2026-11-20\r\n"
        b"\r\n"
        b"Name,Phone,City,,\r\n"
        b"Taras,0501234567,Kyiv,,\r\n"
        b",,,,\r\n"
        b"\r\n"
        b",0671234567,,,\r\n"
        b"Olena,0931234567,Lviv,,\r\n"
        b",,,,\r\n"
        b",,,,\r\n"
    )
    table = open_table(path)
    assert table.header_row == 4
    assert table.columns == ("Name", "Phone", "City")
    assert table.columns[table.phone_index] == "Phone"
    assert grid(table) == [
        (5, ("Taras", "0501234567", "Kyiv")),
        (8, ("", "0671234567", "")),  # a phone and nothing else is data
        (9, ("Olena", "0931234567", "Lviv")),
    ]
    assert table.row_count == 3


def test_title_with_a_phone_word_is_not_the_header(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"Phone list\r\nName,Mobile\r\nTaras,0501234567\r\n")
    table = open_table(path)
    assert (table.header_row, table.columns) == (2, ("Name", "Mobile"))


def test_a_header_named_phone_without_phones_under_it_loses_to_one_with(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"Phone\r\nbook of 2026\r\nName,Tel\r\nTaras,0501234567\r\n")
    table = open_table(path)
    assert (table.header_row, table.columns[table.phone_index]) == (3, "Tel")


def test_quoted_line_breaks_count_as_one_row_as_in_excel(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b'Phone,Note\r\n0501234567,"two\r\nlines"\r\n0671234567,x\r\n')
    assert grid(open_table(path)) == [(2, ("0501234567", "two\r\nlines")), (3, ("0671234567", "x"))]


def test_duplicate_and_empty_header_cells(tmp_path: Path) -> None:
    path = text_file(
        tmp_path / "c.csv", [["Phone", "Name", "", "Name", ""], ["050", "a", "b", "c", ""]]
    )
    table = open_table(path)
    assert table.columns == ("Phone", "Name", "Column C", "Name (2)")
    assert grid(table) == [(2, ("050", "a", "b", "c"))]


def test_non_ascii_after_the_first_megabyte_is_still_detected(tmp_path: Path) -> None:
    rows = [["Phone", "Name"]] + [["0501234567", "Taras"]] * 60_000 + [["0671234567", "Богдан"]]
    path = text_file(tmp_path / "c.csv", rows, encoding="cp1251")
    assert path.stat().st_size > 1 << 20
    table = open_table(path)
    assert list(table.rows())[-1].cells == ("0671234567", "Богдан")
    assert "read as comma-separated cp1251 text" in table.notes


@pytest.mark.parametrize(
    "content", [b"", b"\xef\xbb\xbf", b"\xff\xfe", b" \r\n\r\n", b"\xff\xfe\r\x00\n\x00"]
)
def test_empty_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"c\.csv: the file is empty"):
        open_table(path)


def test_header_and_no_data_is_an_empty_table(tmp_path: Path) -> None:
    table = open_table(text_file(tmp_path / "c.csv", [["Phone", "Name"], ["", ""]]))
    assert (table.row_count, grid(table)) == (0, [])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [["0501234567", "Taras"]],
            r"no header row: row 1 already holds data \('0501234567', 'Taras'\)",
        ),
        (
            [["Name", "City"], ["Taras", "Kyiv"]],
            r"no phone column; the header on row 1 has 'Name', 'City'\. "
            "Name the column with --phone-column",
        ),
    ],
)
def test_no_header_or_no_phone_column(tmp_path: Path, rows: list[list[str]], message: str) -> None:
    with pytest.raises(InputError, match=message):
        open_table(text_file(tmp_path / "c.csv", rows))


def test_sheet_option_on_text(tmp_path: Path) -> None:
    path = text_file(tmp_path / "c.csv", [["Phone"], ["050"]])
    with pytest.raises(InputError, match="--sheet applies to workbooks"):
        open_table(path, sheet="1")


def test_invalid_bytes_later_in_a_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    head = "Phone,Name\r\n0501234567,Богдан\r\n".encode()
    path.write_bytes(head + b"0501234567,Taras\r\n" * 70_000 + b"0501234567,\xff\xfe\xfd\r\n")
    with pytest.raises(InputError, match=r"c\.csv: row 70003, column B is not valid utf-8 text"):
        open_table(path)


def test_row_limit(tmp_path: Path) -> None:
    path = text_file(tmp_path / "c.csv", [["Phone"]] + [["0501234567"]] * 20)
    assert open_table(path, max_rows=21).row_count == 20
    with pytest.raises(InputError, match=r"c\.csv: has more than 10 rows, the limit"):
        open_table(path, max_rows=10)
