"""The .ods corpus: files written here by odfpy, read by the streaming reader (ods, odsxml)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from odf.office import Annotation
from odf.table import TableCell
from odf.text import P

from importer.errors import InputError
from importer.read import open_table

from ..fixtures.build import (
    Row,
    b,
    covered,
    d,
    empty,
    grid,
    n,
    ods,
    rewrite_zip,
    row,
    s,
    spaced,
    t,
)


def commented(text: str, comment: str) -> TableCell:
    """A string cell with a comment (office:annotation) whose text is not the value."""
    cell = TableCell(valuetype="string")
    note = Annotation()
    note.addElement(P(text=comment))
    cell.addElement(note)
    cell.addElement(P(text=text))
    return cell


def test_values_as_saved_not_as_shown(tmp_path: Path) -> None:
    """Number cells give their exact digits (15 too) whatever the cell shows; dates are dates."""
    path = ods(
        tmp_path / "values.ods",
        {
            "Contacts": [
                row(s("Phone"), s("Name"), s("Born"), s("Joined"), s("Call at"), s("VIP")),
                row(
                    n(380501234567, shown="3,80501E+11"),  # as a narrow column shows it
                    s("Taras"),
                    d(dt.date(1990, 3, 9)),
                    d(dt.datetime(2024, 1, 2, 13, 5)),
                    t("PT09H30M00S", "09:30"),
                    b(True),
                ),
                row(n(436641234567890), commented("Olena", "call after 6")),
                row(s("+380 67 123 45 67"), spaced("Anna", 2, "Maria")),
                row(n(12.5), s("fraction"), n(0.15, kind="percentage", shown="15%")),
            ]
        },
    )
    table = open_table(path)
    assert table.columns == ("Phone", "Name", "Born", "Joined", "Call at", "VIP")
    assert grid(table) == [
        (2, (380501234567, "Taras", dt.date(1990, 3, 9), dt.datetime(2024, 1, 2, 13, 5),
             dt.time(9, 30), True)),
        (3, (436641234567890, "Olena", None, None, None, None)),
        (4, ("+380 67 123 45 67", "Anna  Maria", None, None, None, None)),
        (5, (12.5, "fraction", 0.15, None, None, None)),
    ]  # fmt: skip
    phones = [r.cells[0] for r in table.rows()]
    assert [type(p) for p in phones] == [int, int, str, float]


def test_header_below_title_blank_and_repeated_rows(tmp_path: Path) -> None:
    """Row numbers count every row from the top, repeated ones included; the empty area
    LibreOffice writes (rows and cells repeated by the thousand) is not data."""
    path = ods(
        tmp_path / "layout.ods",
        {
            "Contacts": [
                row(s("ACME Ltd. spring promo")),  # 1
                row(repeat=2),  # 2-3: empty rows
                row(empty(1024), repeat=3),  # 4-6: rows of empty cells
                row(empty(2), s("Name"), s("Phone"), s("City"), empty(1019)),  # 7
                row(empty(2), s("Taras"), n(380501234567), s("Kyiv"), empty(1019)),  # 8
                row(empty(1024), repeat=4),  # 9-12
                row(empty(3), s("0671234567")),  # 13
                row(empty(2), s("Olena"), s("+380 93 123 45 67")),  # 14
                row(empty(1024), repeat=1_048_562),  # to the last row LibreOffice has
            ]
        },
    )
    table = open_table(path)
    assert (table.header_row, table.columns) == (7, ("Name", "Phone", "City"))
    assert table.columns[table.phone_index] == "Phone"
    assert grid(table) == [
        (8, ("Taras", 380501234567, "Kyiv")),
        (13, (None, "0671234567", None)),
        (14, ("Olena", "+380 93 123 45 67", None)),
    ]
    assert table.row_count == 3
    assert "header found on row 7" in table.notes


def test_repeated_rows_and_cells_holding_a_value_are_data(tmp_path: Path) -> None:
    """LibreOffice writes identical neighbours once with a repeat count: each is a row."""
    path = ods(
        tmp_path / "repeats.ods",
        {
            "S": [
                row(s("Phone"), s("City"), s("Region")),
                row(s("0501234567"), s("Kyiv", numbercolumnsrepeated=2), repeat=3),
                row(s("0671234567")),
            ]
        },
    )
    assert grid(open_table(path)) == [
        (2, ("0501234567", "Kyiv", "Kyiv")),
        (3, ("0501234567", "Kyiv", "Kyiv")),
        (4, ("0501234567", "Kyiv", "Kyiv")),
        (5, ("0671234567", None, None)),
    ]


def test_duplicate_empty_and_merged_header_cells(tmp_path: Path) -> None:
    path = ods(
        tmp_path / "names.ods",
        {
            "S": [
                row(s("Phone"), s("Name"), s("Name"), empty(), s("Address", numbercolumnsspanned=2),
                    covered(), empty()),
                row(n(380501234567), s("a"), s("b"), s("no header"), s("Main St"), s("12"),
                    empty(), empty(20)),
                row(n(380671234567)),
            ]
        },
    )  # fmt: skip
    table = open_table(path)
    assert table.columns == ("Phone", "Name", "Name (2)", "Column D", "Address", "Address (2)")
    assert grid(table) == [
        (2, (380501234567, "a", "b", "no header", "Main St", "12")),
        (3, (380671234567, None, None, None, None, None)),
    ]


def _workbook(path: Path) -> Path:
    return ods(
        path,
        {
            "Cover": [row(s("Spring promo")), row(s("Contacts are on the Data sheet"))],
            "Empty": [row(empty(50), repeat=100)],
            "Hidden": [row(s("Phone")), row(n(380931234567))],
            "Data": [row(s("Phone"), s("Name")), row(s("+380 50 123 45 67"), s("Taras"))],
        },
        hidden=["Hidden"],
    )


def test_first_sheet_with_a_phone_table_and_sheet_option(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.ods")
    table = open_table(path)
    assert table.sheet == "Data"
    assert grid(table) == [(2, ("+380 50 123 45 67", "Taras"))]
    assert table.notes[-1] == (
        "sheet 'Data' used, of 'Cover', 'Empty', 'Hidden', 'Data' (choose another with --sheet)"
    )
    assert grid(open_table(path, sheet="Hidden")) == [(2, (380931234567,))]
    assert open_table(path, sheet="hidden").sheet == "Hidden"
    assert open_table(path, sheet="3").sheet == "Hidden"
    assert open_table(path, sheet=" data ").sheet == "Data"
    assert open_table(path, sheet="4").sheet == "Data"
    with pytest.raises(InputError, match=r"sheet 'Cover': no phone column; the header on row 1"):
        open_table(path, sheet="1")
    with pytest.raises(InputError, match=r"sheet 'Empty': is empty: no cell holds anything"):
        open_table(path, sheet="Empty")


def test_a_hidden_sheet_is_used_when_no_visible_one_holds_phones(tmp_path: Path) -> None:
    path = ods(
        tmp_path / "book.ods",
        {"Cover": [row(s("Spring promo"))], "Hidden": [row(s("Mobile")), row(n(380931234567))]},
        hidden=["Hidden"],
    )
    assert open_table(path).sheet == "Hidden"


def test_missing_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.ods")
    expected = (
        r"book\.ods: no sheet 'Contacts'; "
        r"the workbook has 1: 'Cover', 2: 'Empty', 3: 'Hidden', 4: 'Data'\. "
        "Give --sheet one of these names or numbers"
    )
    with pytest.raises(InputError, match=expected):
        open_table(path, sheet="Contacts")
    with pytest.raises(InputError, match="no sheet '5'"):
        open_table(path, sheet="5")
    with pytest.raises(InputError, match="no sheet '0'"):
        open_table(path, sheet="0")


def test_no_phone_column_names_what_the_header_has(tmp_path: Path) -> None:
    path = ods(
        tmp_path / "people.ods",
        {"People": [row(s("Name"), s("Email"), s("City")), row(s("a"), s("b"), s("c"))]},
    )
    with pytest.raises(
        InputError,
        match=r"people\.ods, sheet 'People': no phone column; the header on row 1 has "
        r"'Name', 'Email', 'City'\. Name the column with --phone-column",
    ):
        open_table(path)
    table = open_table(path, phone_column="email")
    assert table.columns[table.phone_index] == "Email"


def test_phone_numbers_without_a_header(tmp_path: Path) -> None:
    path = ods(tmp_path / "bare.ods", {"S": [row(n(380501234567), s("Taras"))]})
    with pytest.raises(InputError, match=r"no header row: row 1 already holds data"):
        open_table(path)


@pytest.mark.parametrize(
    ("sheets", "message"),
    [
        ({"Sheet1": []}, r"empty\.ods: every sheet is empty \('Sheet1'\)"),
        (
            {"A": [row(empty(1024), repeat=1_048_576)], "B": [row(s(""), empty(3))]},
            r"empty\.ods: every sheet is empty \('A', 'B'\)",
        ),
        ({}, r"empty\.ods: the workbook has no worksheets"),
    ],
)
def test_empty_documents(tmp_path: Path, sheets: dict[str, Sequence[Row]], message: str) -> None:
    path = ods(tmp_path / "empty.ods", sheets)
    with pytest.raises(InputError, match=message):
        open_table(path)


def test_header_and_no_data(tmp_path: Path) -> None:
    table = open_table(ods(tmp_path / "h.ods", {"S": [row(s("Phone"), s("Name")), row(repeat=9)]}))
    assert (table.columns, table.row_count, grid(table)) == (("Phone", "Name"), 0, [])


def test_truncated_file_is_refused_naming_it(tmp_path: Path) -> None:
    whole = _workbook(tmp_path / "book.ods").read_bytes()
    for cut in (10, 200, len(whole) // 2, len(whole) - 10):
        path = tmp_path / "cut.ods"
        path.write_bytes(whole[:cut])
        with pytest.raises(InputError, match=rf"{tmp_path}/cut\.ods: the workbook is damaged"):
            open_table(path)


def test_no_content_xml(tmp_path: Path) -> None:
    source = _workbook(tmp_path / "book.ods")
    path = rewrite_zip(
        source, tmp_path / "hollow.ods", lambda name, data: None if name == "content.xml" else data
    )
    with pytest.raises(InputError, match=r"hollow\.ods: the \.ods file has no content\.xml"):
        open_table(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda data: data[: len(data) // 2], r"damaged \(content\.xml, line \d+: "),
        (lambda data: data.replace(b"UTF-8", b"UTF-9", 1), r"damaged \(content\.xml, .*UTF-9"),
        (lambda data: b"\x00\xff" + data, r"damaged \(content\.xml, line 1: "),
    ],
    ids=["cut-xml", "unknown-encoding", "not-xml"],
)
def test_damaged_content_xml(
    tmp_path: Path, change: Callable[[bytes], bytes], message: str
) -> None:
    source = _workbook(tmp_path / "book.ods")
    path = rewrite_zip(
        source,
        tmp_path / "bad.ods",
        lambda name, data: change(data) if name == "content.xml" else data,
    )
    with pytest.raises(InputError, match=rf"bad\.ods: the \.ods file is {message}"):
        open_table(path)


def test_password_protected_ods(tmp_path: Path) -> None:
    def encrypt(name: str, data: bytes) -> bytes:
        if name != "META-INF/manifest.xml":
            return data
        entry = b'<manifest:file-entry manifest:full-path="content.xml"'
        assert entry in data
        return data.replace(
            b"</manifest:manifest>",
            b'<manifest:file-entry manifest:full-path="x.xml" manifest:media-type="text/xml">'
            b'<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"/>'
            b"</manifest:file-entry></manifest:manifest>",
        )

    path = rewrite_zip(_workbook(tmp_path / "book.ods"), tmp_path / "locked.ods", encrypt)
    with pytest.raises(InputError, match=r"locked\.ods: the workbook is password-protected"):
        open_table(path)


def test_an_ods_under_another_name_is_read_as_ods(tmp_path: Path) -> None:
    source = _workbook(tmp_path / "book.ods")
    path = Path(shutil.copy(source, tmp_path / "book.xlsx"))
    table = open_table(path)
    assert (table.sheet, table.row_count) == ("Data", 1)
    assert "book.xlsx is an .ods workbook despite its name; read as such" in table.notes


def test_a_value_repeated_down_a_million_rows_meets_the_row_limit(tmp_path: Path) -> None:
    path = ods(tmp_path / "long.ods", {"S": [row(s("Phone")), row(s("0501234567"), repeat=10**9)]})
    with pytest.raises(InputError, match=r"long\.ods, sheet 'S': has more than 2,000,000 rows"):
        open_table(path)
    small = ods(tmp_path / "s.ods", {"S": [row(s("Phone")), row(s("0501234567"), repeat=20)]})
    assert open_table(small, max_rows=21).row_count == 20
    with pytest.raises(InputError, match="has more than 10 rows, the limit"):
        open_table(small, max_rows=10)


def test_a_value_repeated_past_the_last_column_is_refused(tmp_path: Path) -> None:
    path = ods(
        tmp_path / "wide.ods",
        {"S": [row(s("Phone")), row(s("0501234567"), s("x", numbercolumnsrepeated=10**9))]},
    )
    with pytest.raises(InputError, match=r"wide\.ods, sheet 'S', row 2: values reach past column"):
        open_table(path)
