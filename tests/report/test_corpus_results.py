"""The corpus end to end: messy files through the real command (dry run, no key, no network),
and the Results sheet of each checked row by row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl.styles import PatternFill

from ..cli.test_import_cli import journal_flags
from ..conftest import sheet_rows
from ..fixtures.build import edit_xlsx, empty, n, ods, row, s, xlsx
from ..helpers import Ran, run_cli

RESULT_COLUMNS = [
    "source_row", "phone_normalized", "status", "contact_id", "hlr_status", "hlr_last_check",
    "error",
]  # fmt: skip
SCIENTIFIC = (
    "'3.80501E+11' is in scientific notation: Excel rounded the number and its last digits "
    "are lost. Format the phone column as Text in the original file (or re-export it with "
    "phones as text) and import again"
)
TWO_NUMBERS = "the cell holds 2 phone numbers (050 111 2233 / 067 444 5566); put one per row"
#: What every messy file holds under its header: (name, phone as written) and what Results
#: says of it: (phone_normalized, status, error). Its rows come from the file's layout.
MESSY: list[tuple[str, Any, int | None, str, str | None]] = [
    ("Spaced", "+380 50 123 45 67", 380501234567, "validated", None),
    ("National", "0501112233", 380501112233, "validated", None),
    ("Lost zero", "501112234", 380501112234, "validated", None),
    ("Sci", "3.80501E+11", None, "invalid", SCIENTIFIC),
    ("Two", "050 111 2233 / 067 444 5566", None, "invalid", TWO_NUMBERS),
    ("Tel", "tel:+380671234567", 380671234567, "validated", None),
    ("Ext", "+380 67 123 4568 ext. 12", 380671234568, "validated", None),  # extension dropped
    ("No phone", None, None, "invalid", "no phone number"),
    ("Dup", "00380501234567", 380501234567, "duplicate", "same phone as row {first}"),
    ("Garbage", "call me maybe", None, "invalid", "'call me maybe' is not a phone number"),
]


def dry_run(source: Path, tmp_path: Path) -> tuple[Ran, list[dict[str, Any]]]:
    """The command on ``source`` in dry-run mode without a key; its Results sheet."""
    output = tmp_path / f"{source.stem}.results.xlsx"
    ran = run_cli(
        source,
        "--list", "Promo", "--default-region", "UA", "--dry-run", "--output", output,
        *journal_flags(tmp_path),
    )  # fmt: skip
    assert output.exists(), ran.stderr
    return ran, sheet_rows(output)


def check_results(
    rows: list[dict[str, Any]], columns: list[str], expected: list[tuple[int, tuple[Any, ...]]]
) -> None:
    """Results holds the input columns and the result columns, and exactly the expected rows,
    in input order: (source_row, (input cells..., phone_normalized, status, error))."""
    assert rows, "Results is empty"
    assert list(rows[0]) == [*columns, *RESULT_COLUMNS]
    got = [
        (
            r["source_row"],
            (*(r[c] for c in columns), r["phone_normalized"], r["status"], r["error"]),
        )
        for r in rows
    ]
    assert got == expected
    for r in rows:
        assert type(r["source_row"]) is int
        assert r["phone_normalized"] is None or type(r["phone_normalized"]) is int
        assert r["contact_id"] is None and r["hlr_status"] is None  # nothing was sent
        assert (r["error"] is not None) == (r["status"] in ("invalid", "duplicate"))


def expect(layout: list[int]) -> list[tuple[int, tuple[Any, ...]]]:
    """MESSY on the given rows of the file: (source_row, (Name, Phone, City, result...))."""
    expected = []
    for number, (name, phone, normalised, status, error) in zip(layout, MESSY, strict=True):
        message = error.format(first=layout[0]) if error else None
        expected.append((number, (name, phone, "Kyiv", normalised, status, message)))
    return expected


def test_messy_csv(tmp_path: Path) -> None:
    """Title rows, a blank line in the middle, a trailing empty column and trailing empty
    lines; source_row counts lines from the top of the file, the title lines included."""
    lines = [
        "ACME Ltd. spring promo,,,",  # 1
        "exported 2026-11-20,,,",  # 2
        ",,,",  # 3
        "Name,Phone,City,",  # 4: the header; its fourth column is empty everywhere
    ]
    for name, phone, *_ in MESSY[:3]:
        lines.append(f"{name},{phone},Kyiv,")  # 5-7
    lines.append(",,,")  # 8: blank in the middle
    lines.append("Float text,380671112233.0,Kyiv,")  # 9
    for name, phone, *_ in MESSY[3:]:
        lines.append(f"{name},{phone or ''},Kyiv,")  # 10-16
    lines += [",,,", "", ",,,"]  # trailing empty rows
    source = tmp_path / "messy.csv"
    source.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))

    ran, rows = dry_run(source, tmp_path)
    assert ran.code == 1, ran.stderr  # some rows are invalid
    assert ran.last_line.startswith(
        "Promo (not created): 6 validated, 0 created, 0 existing, 1 duplicate, 4 invalid, "
        "0 failed, 0 skipped in "
    ), ran.last_line
    expected = expect([5, 6, 7, 10, 11, 12, 13, 14, 15, 16])
    # Text a float column became ("….0"): every digit is there, only ".0" was added.
    float_text = ("Float text", "380671112233.0", "Kyiv", 380671112233, "validated", None)
    expected.insert(3, (9, float_text))
    check_results(rows, ["Name", "Phone", "City"], expected)
    assert "header found on row 4" in ran.stderr


def test_messy_xlsx(tmp_path: Path) -> None:
    """The same in a workbook: a logo row, a date in the title, number cells as Excel keeps
    them (a lost leading zero, a float), formatted cells past the data."""
    rows: list[list[Any]] = [
        ["ACME Ltd. spring promo"],  # 1
        [],  # 2: the logo's row
        ["exported", dt.date(2026, 11, 20)],  # 3
        [],  # 4
        ["Name", "Phone", "City"],  # 5
        ["Spaced", "+380 50 123 45 67", "Kyiv"],  # 6
        ["National", "0501112233", "Kyiv"],  # 7
        ["Lost zero", 501112234, "Kyiv"],  # 8: a number cell, as Excel stores it
        [],  # 9
        ["Float", 380671112233.0, "Kyiv"],  # 10: a float cell
        *([name, phone, "Kyiv"] for name, phone, *_ in MESSY[3:]),  # 11-17
    ]
    source = xlsx(tmp_path / "messy.xlsx", {"Contacts": rows})

    def decorate(book: Any) -> None:
        yellow = PatternFill("solid", fgColor="FFFF00")
        for ref in ("D6", "F20", "C30"):  # formatted, no value: not data, not a column
            book["Contacts"][ref].fill = yellow

    edit_xlsx(source, decorate)
    ran, results = dry_run(source, tmp_path)
    assert ran.code == 1, ran.stderr
    assert "6 validated, 0 created, 0 existing, 1 duplicate, 4 invalid" in ran.last_line
    expected = expect([6, 7, 8, 11, 12, 13, 14, 15, 16, 17])
    number, cells = expected[2]
    expected[2] = (number, (cells[0], 501112234, *cells[2:]))  # echoed as the number it was
    expected.insert(3, (10, ("Float", 380671112233, "Kyiv", 380671112233, "validated", None)))
    check_results(results, ["Name", "Phone", "City"], expected)
    assert type(results[2]["Phone"]) is int and type(results[3]["Phone"]) is int
    assert "header found on row 5" in ran.stderr


def test_messy_ods(tmp_path: Path) -> None:
    """And in an .ods: repeated empty rows and cells (as LibreOffice writes them) count in
    source_row but are not data."""
    cells = [
        row(s(name), s(phone) if phone else empty(), s("Kyiv"), empty(1000))
        for name, phone, *_ in MESSY[3:]
    ]
    source = ods(
        tmp_path / "messy.ods",
        {
            "Contacts": [
                row(s("ACME Ltd. spring promo")),  # 1
                row(empty(1024), repeat=2),  # 2-3
                row(s("Name"), s("Phone"), s("City"), empty(1021)),  # 4
                row(s("Spaced"), s("+380 50 123 45 67"), s("Kyiv")),  # 5
                row(s("National"), s("0501112233"), s("Kyiv")),  # 6
                row(s("Lost zero"), n(501112234), s("Kyiv")),  # 7: a number cell
                row(empty(1024), repeat=3),  # 8-10
                *cells,  # 11-17
                row(empty(1024), repeat=1_048_559),  # to the sheet's last row
            ]
        },
    )
    ran, results = dry_run(source, tmp_path)
    assert ran.code == 1, ran.stderr
    assert "5 validated, 0 created, 0 existing, 1 duplicate, 4 invalid" in ran.last_line
    expected = expect([5, 6, 7, 11, 12, 13, 14, 15, 16, 17])
    number, first = expected[2]
    expected[2] = (number, (first[0], 501112234, *first[2:]))
    check_results(results, ["Name", "Phone", "City"], expected)


def test_number_cells_give_exact_digits(tmp_path: Path) -> None:
    """Phones stored as numbers, 15 digits too, come out digit for digit, as integers."""
    phones: list[Any] = [
        380501234567,
        436641234567890,  # 15 digits: an Austrian mobile, without + under UA: not Ukrainian
        380671234567.0,  # a float cell
        501234568,  # lost leading zero
        12.5,  # a fraction
        1234567890123456,  # 16 digits: no phone is that long
        dt.date(2024, 1, 2),  # a date typed into the phone column
        380501234567,  # the first one again
    ]
    table = [["Mobile", "Seq"], *([phone, seq] for seq, phone in enumerate(phones, start=1))]
    source = xlsx(tmp_path / "numbers.xlsx", {"Sheet1": table})
    ran, results = dry_run(source, tmp_path)
    assert ran.code == 1, ran.stderr
    got = [(r["source_row"], r["Seq"], r["phone_normalized"], r["status"]) for r in results]
    assert got == [
        (2, 1, 380501234567, "validated"),
        (3, 2, None, "invalid"),
        (4, 3, 380671234567, "validated"),
        (5, 4, 380501234568, "validated"),
        (6, 5, None, "invalid"),
        (7, 6, None, "invalid"),
        (8, 7, None, "invalid"),
        (9, 8, 380501234567, "duplicate"),
    ]
    assert all(type(r["phone_normalized"]) is int for r in results if r["phone_normalized"])
    assert [r["Mobile"] for r in results[:4]] == [
        380501234567, 436641234567890, 380671234567, 501234568,
    ]  # fmt: skip
    assert results[4]["error"] == "the phone cell holds a fraction (12.5), not a phone number"
    assert results[1]["error"] == (
        "'436641234567890' is not a valid UA number (too long); an international number needs "
        "+ or 00"
    )
    assert results[5]["error"] == (
        "'1234567890123456' is not a valid UA number (too long); an international number needs "
        "+ or 00"
    )
    assert results[6]["error"] == "'2024-01-02' is not a phone number"
    assert results[7]["error"] == "same phone as row 2"
    errors = sheet_rows(tmp_path / "numbers.results.xlsx", "Errors")
    assert [e["Seq"] for e in errors] == [2, 5, 6, 7]
    assert list(errors[0]) == ["Mobile", "Seq", "error"]
