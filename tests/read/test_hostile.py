"""Hostile and damaged files: each refused with an InputError that says what is wrong.

Never a hang, never memory exhausted, never an exception of another type: zip bombs, XML
entity tricks, absurd extents and counts, files whose name lies, damaged containers, and
random bytes under every name.
"""

from __future__ import annotations

import io
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.errors import InputError
from importer.read import open_table
from importer.read.zipguard import CHUNK

from ..fixtures.build import edit_xlsx, fixture, grid, n, ods, rewrite_zip, row, s, text_file, xlsx
from ..helpers import ROOT

SHEET = "xl/worksheets/sheet1.xml"
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
        for i in range(1, 10)
    )
    + b"]>\n"
)
XXE = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'


def refused(path: Path, **options: Any) -> str:
    """Open the file, expecting InputError and nothing else; its message."""
    with pytest.raises(InputError) as caught:
        open_table(path, **options)
    return str(caught.value)


def contacts(path: Path) -> Path:
    """A small honest .xlsx (openpyxl writes inline strings, no shared strings)."""
    return xlsx(
        path, {"Sheet1": [["Phone", "Name"], [380501234567, "Taras"], ["0671234567", "Ol"]]}
    )


def shared_strings_book(path: Path) -> Path:
    """A small .xlsx with a shared-strings table, as Excel and xlsxwriter write it."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, ["Phone", "Name"])
    sheet.write_row(1, 0, [380501234567, "Taras"])
    book.close()
    return path


def change_part(source: Path, target: Path, part: str, change: Callable[[bytes], bytes]) -> Path:
    return rewrite_zip(source, target, lambda name, data: change(data) if name == part else data)


def stored_part(source: Path, target: Path, part: str, change: Callable[[bytes], bytes]) -> Path:
    """The workbook with one part changed, every part stored: no ratio for the guard to see."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info.filename, change(data) if info.filename == part else data)
    return target


# --- XML entity tricks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "prologue", "encoding"),
    [
        (SHEET, LAUGHS, "utf-8"),
        (SHEET, XXE, "utf-8"),
        (SHEET, LAUGHS, "utf-16"),  # the guard reads UTF-16 parts too
        ("[Content_Types].xml", LAUGHS, "utf-8"),  # any part, whatever its name
        ("xl/workbook.xml", XXE, "utf-8"),
    ],
    ids=["laughs", "external-entity", "laughs-utf16", "content-types", "workbook"],
)
def test_xlsx_with_a_dtd_is_refused(
    tmp_path: Path, part: str, prologue: bytes, encoding: str
) -> None:
    def attack(data: bytes) -> bytes:
        xml = prologue + data.replace(b"<v>380501234567</v>", b"<v>&lol9;</v>")
        return xml.decode().encode(encoding)

    path = change_part(contacts(tmp_path / "c.xlsx"), tmp_path / "lol.xlsx", part, attack)
    message = refused(path)
    assert message.startswith(f"{path}: part {part} declares a DTD or entities")
    assert "Ask the sender for a clean export" in message


def test_a_dtd_across_the_guards_read_boundary_is_still_seen(tmp_path: Path) -> None:
    """The guard reads parts a megabyte at a time; a DTD cut in two by that is still found."""

    def split(data: bytes) -> bytes:
        data = b" " * (CHUNK - 4) + LAUGHS.split(b"\n")[1] + data
        assert data[CHUNK - 4 : CHUNK + 4] == b"<!DOCTYP"
        return data

    path = stored_part(contacts(tmp_path / "c.xlsx"), tmp_path / "split.xlsx", SHEET, split)
    assert "declares a DTD or entities" in refused(path)


def test_ods_with_a_dtd_is_refused(tmp_path: Path) -> None:
    source = ods(tmp_path / "c.ods", {"S": [row(s("Phone")), row(n(380501234567))]})
    path = change_part(
        source,
        tmp_path / "lol.ods",
        "content.xml",
        lambda data: LAUGHS + data.split(b"?>", 1)[1],
    )
    assert refused(path).startswith(f"{path}: part content.xml declares a DTD or entities")


# --- zip bombs and lying headers --------------------------------------------------------


def zeros_member(source: Path, target: Path, size: int, declared: int | None = None) -> Path:
    """The workbook plus a part of ``size`` zeros (deflated a thousandfold); ``declared``
    makes the zip's headers lie about its size."""
    shutil.copy(source, target)
    with (
        zipfile.ZipFile(target, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/media/image1.bin", "w") as member,
    ):
        for _ in range(size // CHUNK):
            member.write(bytes(CHUNK))
    if declared is not None:
        _patch_sizes(target, "xl/media/image1.bin", declared)
    return target


def _patch_sizes(path: Path, name: str, declared: int) -> None:
    """Rewrite a part's uncompressed size in the central directory and local header."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    struct.pack_into("<I", data, _central_entry(data, name) + 24, declared)
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    path.write_bytes(bytes(data))


def _central_entry(data: bytearray, name: str) -> int:
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length, extra, comment = struct.unpack_from("<HHH", data, at + 28)
        if data[at + 46 : at + 46 + length] == name.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 46 + length + extra + comment)
    raise AssertionError(f"{name} not in the central directory")


def test_zip_bomb_past_the_unpacked_limit(tmp_path: Path) -> None:
    path = zeros_member(contacts(tmp_path / "c.xlsx"), tmp_path / "bomb.xlsx", 32 * CHUNK)
    assert path.stat().st_size < 100_000
    message = refused(path, max_unpacked_bytes=1 << 20)
    assert message.startswith(f"{path}: unpacks to more than 1,048,576 bytes, the limit")


def test_zip_bomb_whose_headers_lie_is_stopped_by_what_it_unpacks(tmp_path: Path) -> None:
    """The headers say 1,000 bytes; the guard counts what comes out, and stops early."""
    source = contacts(tmp_path / "c.xlsx")
    path = zeros_member(source, tmp_path / "liar.xlsx", 64 * CHUNK, declared=1000)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/media/image1.bin").file_size == 1000
    tracemalloc.start()
    try:
        message = refused(path, max_unpacked_bytes=1 << 24)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "part xl/media/image1.bin unpacks to more than the 1,000 bytes its header" in message
    assert peak < 8 * CHUNK  # streamed a chunk at a time, never unpacked whole


def test_zip_bomb_under_the_limit_but_a_thousandfold_is_refused(tmp_path: Path) -> None:
    path = zeros_member(contacts(tmp_path / "c.xlsx"), tmp_path / "bomb.xlsx", 8 * CHUNK)
    message = refused(path)  # the default limit, 1 GiB, is not reached
    assert "part xl/media/image1.bin unpacks to 8,388,608 bytes from" in message
    assert "a zip bomb, not a real workbook" in message


# --- absurd extents and counts ----------------------------------------------------------


def test_a_value_at_the_last_cell_is_refused_before_calamine_allocates_the_grid(
    tmp_path: Path,
) -> None:
    path = contacts(tmp_path / "far.xlsx")
    edit_xlsx(path, lambda book: book["Sheet1"].cell(1_048_576, 16_384, "stray"))
    message = refused(path)
    assert message.startswith(
        f"{path}, sheet 'Sheet1': its cells reach row 1,048,576 and column XFD, more than "
        "33,554,432 cells in all; delete the rows and columns beyond your data"
    )


def test_a_dimension_that_lies_is_not_trusted(tmp_path: Path) -> None:
    """The declared extent is ignored: only the cells' own positions count."""
    path = change_part(
        contacts(tmp_path / "c.xlsx"),
        tmp_path / "dim.xlsx",
        SHEET,
        lambda data: data.replace(
            b'<dimension ref="A1:B3" />', b'<dimension ref="A1:XFD1048576"/>'
        ),
    )
    assert b"XFD1048576" in zipfile.ZipFile(path).read(SHEET)
    assert grid(open_table(path)) == [(2, (380501234567, "Taras")), (3, ("0671234567", "Ol"))]


def test_cells_without_positions_are_followed_to_their_row(tmp_path: Path) -> None:
    """<c> without r="": the guard counts rows and cells in order to find the extent."""
    rows = b"".join(
        b'<row r="%d"><c t="inlineStr"><is><t>x</t></is></c><c><v>1</v></c></row>' % r
        for r in (1, 2, 1_048_576)
    )

    def unplaced(data: bytes) -> bytes:
        head, rest = data.split(b"<sheetData>")
        return head + b"<sheetData>" + rows + b"</sheetData>" + rest.split(b"</sheetData>")[1]

    path = change_part(contacts(tmp_path / "c.xlsx"), tmp_path / "walk.xlsx", SHEET, unplaced)
    message = refused(path, max_rows=100_000)
    assert message.startswith(f"{path}, sheet 'Sheet1': has more than 100,000 rows, the limit")


@pytest.mark.parametrize(
    "tag",
    [
        b'<sst xmlns="{ns}" count="2" uniqueCount="18446744073709551615">',
        b'<sst xmlns="{ns}" uniqueCount="000000000018446744073709551615" count="2">',
        b'<sst xmlns="{ns}" a=">" uniqueCount="18446744073709551615">',
        b"<sst xmlns=\"{ns}\" a='<' uniqueCount = '18446744073709551615'>",
        b'<x:sst xmlns:x="{ns}"\n uniqueCount="18446744073709551615">',
    ],
    ids=["plain", "leading-zeros", "quoted-gt", "quoted-lt", "prefixed"],
)
def test_shared_strings_declaring_an_absurd_count_are_refused(tmp_path: Path, tag: bytes) -> None:
    """calamine reserves room for uniqueCount strings before reading one: this count made it
    panic (and four billion abort the process, next test)."""
    namespace = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    start = tag.replace(b"{ns}", namespace)

    def declare(data: bytes) -> bytes:
        head, rest = data.split(b"<sst ", 1)
        body = rest.split(b">", 1)[1]
        if start.startswith(b"<x:"):
            body = body.replace(b"</sst>", b"</x:sst>")
        return head + start + body

    source = shared_strings_book(tmp_path / "c.xlsx")
    path = change_part(source, tmp_path / "sst.xlsx", "xl/sharedStrings.xml", declare)
    message = refused(path)
    assert message.startswith(
        f"{path}: part xl/sharedStrings.xml declares 18,446,744,073,709,551,615 shared strings"
    )


def test_shared_strings_asking_for_96_gb_do_not_kill_the_command(tmp_path: Path) -> None:
    """Run in a child process: without the guard this one aborts the interpreter itself."""
    source = shared_strings_book(tmp_path / "c.xlsx")
    path = change_part(
        source,
        tmp_path / "sst.xlsx",
        "xl/sharedStrings.xml",
        lambda data: data.replace(b'uniqueCount="3"', b'uniqueCount="4000000000"'),
    )
    assert b'uniqueCount="4000000000"' in zipfile.ZipFile(path).read("xl/sharedStrings.xml")
    script = (
        "import sys; from pathlib import Path; from importer.errors import InputError\n"
        "from importer.read import open_table\n"
        "try:\n    open_table(Path(sys.argv[1]))\n"
        "except InputError as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "declares 4,000,000,000 shared strings, more than the 33,554,432 cells" in done.stdout


@pytest.mark.parametrize(
    ("padding", "message"),
    [
        (500_000, "declares 18,446,744,073,709,551,615 shared strings"),  # whole in one read
        (CHUNK, "has a shared-strings tag longer than 65,536 bytes"),  # across reads
    ],
    ids=["whole-in-one-read", "across-reads"],
)
def test_a_long_shared_strings_tag_is_read_to_its_end(
    tmp_path: Path, padding: int, message: str
) -> None:
    def pad(data: bytes) -> bytes:
        long = b'<sst a="' + b"x" * padding + b'" uniqueCount="18446744073709551615" '
        return data.replace(b"<sst ", long, 1)

    source = shared_strings_book(tmp_path / "c.xlsx")
    path = stored_part(source, tmp_path / "sst.xlsx", "xl/sharedStrings.xml", pad)
    assert message in refused(path)


def test_honest_shared_strings_are_read(tmp_path: Path) -> None:
    path = shared_strings_book(tmp_path / "c.xlsx")
    assert b"uniqueCount" in zipfile.ZipFile(path).read("xl/sharedStrings.xml")
    assert grid(open_table(path)) == [(2, (380501234567, "Taras"))]


def test_rows_past_max_rows_in_an_xlsx(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "rows.xlsx", {"S": [["Phone"]] + [[380501234567 + i] for i in range(30)]}
    )
    assert open_table(path, max_rows=31).row_count == 30
    message = refused(path, max_rows=10)
    assert message.startswith(f"{path}, sheet 'S': has more than 10 rows, the limit")


def test_a_header_merged_past_the_data_adds_no_columns(tmp_path: Path) -> None:
    """Merge & Center over a whole row (to XFD) once made 16,383 empty columns, and naming
    them took hours; a merge reaching past the last column with values adds none."""
    path = xlsx(tmp_path / "wide.xlsx", {"S": [["Phone", "Name"], [380501234567, "Taras"]]})
    edit_xlsx(path, lambda book: book["S"].merge_cells("B1:Z1"))
    table = open_table(path)
    assert table.columns == ("Phone", "Name")
    assert grid(table) == [(2, (380501234567, "Taras"))]


def test_thousands_of_same_named_columns_get_unique_names_quickly(tmp_path: Path) -> None:
    """Naming 2,000 columns called "Name" took 9 s (each copy re-tried every earlier one)."""
    header = ["Phone", "Name (3)"] + ["Name"] * 2000
    path = text_file(tmp_path / "wide.csv", [header, ["0501234567", "x"] + ["y"] * 2000])
    started = time.monotonic()
    table = open_table(path)
    assert time.monotonic() - started < 2
    assert table.columns[:5] == ("Phone", "Name (3)", "Name", "Name (2)", "Name (4)")
    assert table.columns[-1] == "Name (2001)"
    assert len(set(table.columns)) == 2002


# --- what the file really is ------------------------------------------------------------


def test_random_bytes_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "noise.xlsx"
    path.write_bytes(random.Random(7).randbytes(4096))
    assert refused(path) == (
        f"{path}: is a binary file, not a spreadsheet or CSV; "
        "open it in Excel or LibreOffice and save it as .xlsx or CSV"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04" + random.Random(3).randbytes(2000), "the workbook is damaged"),
        (b"PK\x05\x06" + bytes(18), "is an empty zip archive, not a spreadsheet"),
    ],
)
def test_zip_that_is_not_a_workbook(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "c.xlsx"
    path.write_bytes(content)
    assert message in refused(path)


def test_word_document_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    assert refused(path).startswith(f"{path}: is a Word document, not a spreadsheet")


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (
            "<html><body><table><tr><td>Phone</td></tr><tr><td>0501234567</td></tr></table>",
            "a web page (HTML) saved with a spreadsheet's name",
        ),
        ("\ufeff\r\n  <!DOCTYPE html><html><table><tr><td>Phone</td></tr></table>", "a web page"),
        ("<table border=1><tr><td>Phone</td></tr></table>", "a web page"),
        (
            '<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
            "an 'XML Spreadsheet 2003' file",
        ),
        ("MIME-Version: 1.0\r\nContent-Type: multipart/related", "a web archive (.mht)"),
    ],
    ids=["html", "html-bom-doctype", "bare-table", "xml-2003", "mht"],
)
def test_markup_saved_as_xls_is_refused_saying_what_it_is(
    tmp_path: Path, content: str, what: str
) -> None:
    path = tmp_path / "export.xls"
    path.write_text(content, encoding="utf-8")
    message = refused(path)
    assert message.startswith(f"{path}: is {what}")
    assert message.endswith("open it in Excel or LibreOffice and save it as .xlsx or CSV")


def test_html_in_utf16_saved_as_xls(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_bytes("<html><table><tr><td>Phone</td></tr></table></html>".encode("utf-16"))
    assert "is a web page (HTML)" in refused(path)


@pytest.mark.parametrize("suffix", [".xls", ".xlsx", ".xlsm", ".ods"])
def test_csv_saved_with_a_workbook_name_is_read_as_text(tmp_path: Path, suffix: str) -> None:
    path = text_file(
        tmp_path / f"export{suffix}",
        [["Phone", "Name"], ["+380 50 123 45 67", "Taras"], ["0671234567", "Богдан"]],
        delimiter=";",
    )
    table = open_table(path)
    assert grid(table) == [(2, ("+380 50 123 45 67", "Taras")), (3, ("0671234567", "Богдан"))]
    assert f"export{suffix} is delimited text despite its name; read as such" in table.notes
    assert "read as semicolon-separated utf-8 text" in table.notes


def test_excel_unicode_text_saved_as_xls_is_read_as_text(tmp_path: Path) -> None:
    rows = [["Телефон", "Ім'я"], ["0501234567", "Олена"]]
    path = text_file(tmp_path / "export.xls", rows, encoding="utf-16", delimiter="\t")
    table = open_table(path)
    assert grid(table) == [(2, ("0501234567", "Олена"))]
    assert "read as tab-separated utf-16 text" in table.notes


def test_a_workbook_named_csv_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = Path(shutil.copy(contacts(tmp_path / "c.xlsx"), tmp_path / "contacts.csv"))
    table = open_table(path)
    assert table.row_count == 2
    assert "contacts.csv is an .xlsx workbook despite its name; read as such" in table.notes


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"%PDF-1.7\n", "a PDF document"),
        (b"\xff\xd8\xff\xe0", "a JPEG image"),
        (b"\x1f\x8b\x08", "a gzip archive"),
    ],
)
def test_binary_file_named_csv_says_what_it_is(tmp_path: Path, head: bytes, what: str) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(head + random.Random(1).randbytes(500))
    assert refused(path).startswith(f"{path}: is {what}, not a spreadsheet; open it in Excel")


def test_unknown_binary_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"Phone,Name\n\x00\x01\x02\x03" + bytes(range(256)) * 4)
    assert refused(path).startswith(f"{path}: is a binary file, not a spreadsheet or CSV")


# --- password-protected and damaged containers --------------------------------------------


def test_password_protected_xlsx() -> None:
    path = fixture("encrypted.xlsx")
    assert refused(path) == (
        f"{path}: the workbook is password-protected; open it, remove the password "
        "(File > Info > Protect Workbook) and save a copy"
    )


def test_zip_with_an_encrypted_part(tmp_path: Path) -> None:
    path = contacts(tmp_path / "c.xlsx")
    data = bytearray(path.read_bytes())
    entry = _central_entry(data, SHEET)
    data[entry + 8] |= 0x1  # general purpose flag: encrypted
    path.write_bytes(bytes(data))
    assert refused(path).startswith(f"{path}: the workbook is password-protected")


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_corrupt_deflate_stream(tmp_path: Path, kind: str) -> None:
    """A part whose compressed bytes are broken: zlib's own error, not a zip one, is raised."""
    if kind == "xlsx":
        path, part = contacts(tmp_path / "c.xlsx"), SHEET
    else:
        path, part = ods(tmp_path / "c.ods", {"S": [row(s("Phone"))]}), "content.xml"
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(part)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    data[info.header_offset + 30 + name_length + extra_length] = 0xFF  # reserved block type
    path.write_bytes(bytes(data))
    assert refused(path).startswith(f"{path}: the workbook is damaged (Error -3 while")


def test_zip_needing_an_unknown_version(tmp_path: Path) -> None:
    path = contacts(tmp_path / "c.xlsx")
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, _central_entry(data, SHEET) + 6, 99)
    path.write_bytes(bytes(data))
    assert refused(path).startswith(f"{path}: the workbook is damaged (zip file version 9.9)")


def test_workbook_part_in_an_unknown_encoding(tmp_path: Path) -> None:
    """The reader's own look at workbook.xml gives up; calamine reads the file regardless."""
    path = change_part(
        contacts(tmp_path / "c.xlsx"),
        tmp_path / "enc.xlsx",
        "xl/workbook.xml",
        lambda data: b'<?xml version="1.0" encoding="x-unknown"?>' + data,
    )
    assert grid(open_table(path)) == [(2, (380501234567, "Taras")), (3, ("0671234567", "Ol"))]


def test_xls_failing_an_internal_check_names_the_error(tmp_path: Path) -> None:
    """xlrd raises a bare AssertionError on a shared-strings count that lies: the message
    names it rather than showing empty brackets."""
    data = bytearray(fixture("layout.xls").read_bytes())
    at = data.find(b"\xfc\x00\xc0\x00")  # the SST record: total and unique string counts
    assert at > 0
    struct.pack_into("<II", data, at + 4, 0xFFFFFFFF, 0x7FFFFFFF)
    path = tmp_path / "lying.xls"
    path.write_bytes(bytes(data))
    assert refused(path).startswith(f"{path}: can't read this .xls file (AssertionError)")


def test_truncated_workbooks(tmp_path: Path) -> None:
    sources = [
        contacts(tmp_path / "c.xlsx"),
        ods(tmp_path / "c.ods", {"S": [row(s("Phone")), row(n(380501234567))]}),
        fixture("layout.xls"),
    ]
    for source in sources:
        whole = source.read_bytes()
        for cut in (9, 100, len(whole) // 3, len(whole) - 22):
            path = tmp_path / f"cut{source.suffix}"
            path.write_bytes(whole[:cut])
            message = refused(path)
            assert message.startswith(f"{path}: "), message


# --- anything at all --------------------------------------------------------------------

SUFFIXES = [".csv", ".xlsx", ".xls", ".ods"]
MAGIC = [b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xef\xbb\xbf", b"\xff\xfe"]


def open_fully(path: Path) -> None:
    """Open the file and read every row, or be refused with InputError: nothing else."""
    try:
        table = open_table(path, max_unpacked_bytes=1 << 24)
    except InputError as exc:
        assert str(exc).startswith(str(path)), exc
        return
    assert table.columns and 0 <= table.phone_index < len(table.columns)
    assert sum(1 for _ in table.rows()) == table.row_count


@given(
    content=st.binary(max_size=4096),
    magic=st.sampled_from(MAGIC),
    suffix=st.sampled_from(SUFFIXES),
)
@settings(max_examples=60, deadline=None)
def test_random_bytes_open_or_are_refused(content: bytes, magic: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(magic + content)
        open_fully(path)


def _bases() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        sheet = {"S": [row(s("Title")), row(s("Phone")), row(n(380501234567))]}
        return {
            "xlsx": contacts(folder / "base.xlsx").read_bytes(),
            "shared.xlsx": shared_strings_book(folder / "shared.xlsx").read_bytes(),
            "ods": ods(folder / "base.ods", sheet).read_bytes(),
            "xls": fixture("layout.xls").read_bytes(),
        }


#: The files the mutation fuzz damages, built once.
BASES = _bases()


def mutated(base: bytes, edits: list[tuple[float, bytes]], inside: bool) -> bytes:
    """The file with bytes replaced; ``inside`` edits one part of a zip and zips it again,
    so that the damage reaches the XML parsers rather than the zip checksum."""
    if not inside or not base.startswith(b"PK"):
        return _splice(base, edits)
    source = zipfile.ZipFile(io.BytesIO(base))
    names = source.namelist()
    victim = names[int(edits[0][0] * len(names)) % len(names)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in names:
            data = source.read(name)
            target.writestr(name, _splice(data, edits) if name == victim else data)
    return out.getvalue()


def _splice(data: bytes, edits: list[tuple[float, bytes]]) -> bytes:
    result = bytearray(data)
    for where, replacement in edits:
        at = int(where * len(result))
        result[at : at + len(replacement)] = replacement
    return bytes(result)


@given(
    base=st.sampled_from(sorted(BASES)),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1, exclude_max=True),
            st.one_of(
                st.binary(min_size=1, max_size=8),
                st.sampled_from([b"<", b">", b'"', b"</", b"&amp;", b"999999999", b"XFD1048576"]),
            ),
        ),
        min_size=1,
        max_size=6,
    ),
    inside=st.booleans(),
    suffix=st.sampled_from(SUFFIXES),
)
@settings(max_examples=60, deadline=None)
def test_damaged_workbooks_open_or_are_refused(
    base: str, edits: list[tuple[float, bytes]], inside: bool, suffix: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(mutated(BASES[base], edits, inside))
        open_fully(path)


def test_the_fuzz_bases_are_readable() -> None:
    """The mutation fuzz starts from files that open: damage, not the base, is what it tests."""
    with tempfile.TemporaryDirectory() as folder:
        for name, data in BASES.items():
            path = Path(folder) / f"base.{name.rsplit('.', 1)[-1]}"
            path.write_bytes(data)
            assert open_table(path).row_count >= 1
