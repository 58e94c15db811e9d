"""The shapes real exports take, through the real command: Google Contacts' old and new
headers, Outlook's and Odoo's several phone columns, a shop's own ``status`` column, and the
tool's own results read back as input. Every fixture is written here with made-up data."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from importer.models import RESULT_COLUMNS

from ..helpers import run_cli

#: Valid US numbers (libphonenumber), as Google writes them, and their E.164 digits.
US = [
    ("+1 201-555-0123", 12015550123),
    ("(415) 555-0132", 14155550132),
    ("+1 212 555 0199", 12125550199),
    ("650-253-0000", 16502530000),
]
GOOGLE_NEW = [
    "First Name", "Middle Name", "Last Name", "Phonetic First Name", "Phonetic Middle Name",
    "Phonetic Last Name", "Name Prefix", "Name Suffix", "Nickname", "File As",
    "Organization Name", "Organization Title", "Organization Department", "Birthday", "Notes",
    "Photo", "Labels", "E-mail 1 - Label", "E-mail 1 - Value", "E-mail 2 - Label",
    "E-mail 2 - Value", "Phone 1 - Label", "Phone 1 - Value", "Phone 2 - Label",
    "Phone 2 - Value", "Address 1 - Label", "Address 1 - Formatted", "Address 1 - Street",
    "Address 1 - City", "Address 1 - Postal Code", "Address 1 - Country", "Website 1 - Label",
    "Website 1 - Value",
]  # fmt: skip
#: Google's export before 2023: ``Name``, ``Given Name``…, ``Phone 1 - Type``.
GOOGLE_OLD = [
    "Name", "Given Name", "Additional Name", "Family Name", "Yomi Name", "Given Name Yomi",
    "Additional Name Yomi", "Family Name Yomi", "Name Prefix", "Name Suffix", "Initials",
    "Nickname", "Short Name", "Maiden Name", "Birthday", "Gender", "Location",
    "Billing Information", "Directory Server", "Mileage", "Occupation", "Hobby", "Sensitivity",
    "Priority", "Subject", "Notes", "Language", "Photo", "Group Membership", "E-mail 1 - Type",
    "E-mail 1 - Value", "Phone 1 - Type", "Phone 1 - Value", "Phone 2 - Type",
    "Phone 2 - Value",
]  # fmt: skip


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]], **kw: Any) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, **kw)
        writer.writerow(header)
        writer.writerows([row.get(name, "") for name in header] for row in rows)
    return path


def _google_rows(
    label: str, value: str, other_label: str, other_value: str
) -> list[dict[str, str]]:
    """Four contacts: the first a mobile (its label cell says "Mobile"), one with only a
    second phone, one with no phone at all."""
    return [
        {"First Name": "Ann", label: "Mobile", value: US[0][0], "Labels": "* myContacts"},
        {"First Name": "Bo", label: "Work", value: US[1][0], other_label: "Mobile",
         other_value: US[2][0]},
        {"First Name": "Cy", other_label: "* Mobile", other_value: US[3][0]},
        {"First Name": "Di", "E-mail 1 - Value": "di@example.com"},
    ]  # fmt: skip


def results_table(path: Path, sheet: str = "Results") -> tuple[list[str], list[list[Any]]]:
    """A sheet's header and rows as lists (a dict would merge two ``status`` columns)."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows: list[list[Any]] = list(csv.reader(handle))
    else:
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            rows = [list(r) for r in book[sheet].iter_rows(values_only=True)]
        finally:
            book.close()
    return [str(h) for h in rows[0]], rows[1:]


def _outcomes(path: Path) -> list[tuple[Any, ...]]:
    """(source_row, phone_normalized, status, error) of each Results row."""
    header, rows = results_table(path)
    at = len(header) - len(RESULT_COLUMNS)
    return [(r[at], r[at + 1], r[at + 2], r[at + 6]) for r in rows]


def _dry(source: Path, output: Path, *flags: str) -> Any:
    ran = run_cli(source, "--list", "Promo", "--dry-run", "--output", output, *flags)
    assert ran.code in (0, 1), ran.stderr
    return ran


@pytest.mark.parametrize(
    ("header", "label", "other_label"),
    [
        (GOOGLE_NEW, "Phone 1 - Label", "Phone 2 - Label"),
        (GOOGLE_OLD, "Phone 1 - Type", "Phone 2 - Type"),
    ],
)
def test_google_contacts_header_and_phone_column(
    tmp_path: Path, header: list[str], label: str, other_label: str
) -> None:
    value = label.replace("Label", "Value").replace("Type", "Value")
    other_value = other_label.replace("Label", "Value").replace("Type", "Value")
    assert len(header) >= 33
    source = _write_csv(tmp_path / "google.csv", header, _google_rows(label, value, other_label,
                                                                      other_value))  # fmt: skip
    output = tmp_path / "google.results.xlsx"
    ran = _dry(source, output, "--default-region", "US")
    columns, rows = results_table(output)
    assert columns == [*header, *RESULT_COLUMNS]  # the real header, not the first contact
    assert _outcomes(output) == [
        (2, US[0][1], "validated", None),
        (3, US[1][1], "validated", None),
        (4, None, "invalid", "no phone number"),  # its only phone is in Phone 2
        (5, None, "invalid", "no phone number"),
    ]
    assert rows[0][header.index(label)] == "Mobile"  # the label is data, echoed
    assert f"phone column '{value}' used; other phone columns: '{other_value}'" in ran.stderr

    fallback = tmp_path / "fallback.results.xlsx"
    _dry(source, fallback, "--default-region", "US", "--phone-column", value,
         "--phone-column", other_value)  # fmt: skip
    assert [o[1] for o in _outcomes(fallback)] == [US[0][1], US[1][1], US[3][1], None]


def test_outlook_picks_the_mobile_column_and_names_the_others(tmp_path: Path) -> None:
    header = ["Action", "ID", "Name", "E-mail Address", "Mobile Phone", "Pager", "Company",
              "Home Phone", "Home Phone 2", "Business Phone", "Business Fax",
              "Other Phone"]  # fmt: skip
    path = tmp_path / "outlook.csv"
    lines = [
        ",".join(header),
        f"add,,Adam,a@example.com,{US[0][0]},{US[1][0]},Acme,{US[2][0]},,{US[3][0]},,",
        f"update,52f,Dan,d@example.com,{US[1][0]},,,Receptionist",  # ragged: ends early
        "delete,24a,Dee,e@example.com,,,,,,,,",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = tmp_path / "outlook.results.xlsx"
    ran = _dry(path, output, "--default-region", "US")
    assert [o[:3] for o in _outcomes(output)] == [
        (2, US[0][1], "validated"), (3, US[1][1], "validated"), (4, None, "invalid"),
    ]  # fmt: skip
    assert (
        "phone column 'Mobile Phone' used; other phone columns: 'Home Phone', 'Business Phone'"
        in ran.stderr
    )


def test_odoo_junk_phone_beside_a_real_mobile(tmp_path: Path) -> None:
    """Odoo's sample shape, CR-only line endings, a Bengali and an emoji name."""
    header = ["ID", "Name", "Company Type", "Street", "City", "ZIP", "Country", "Phone",
              "Mobile", "Email"]  # fmt: skip
    rows = [
        ["p1", "Grocery", "Company", "51 Federal St", "SF", "94107", "United States",
         "123456789", US[1][0], ""],
        ["p2", "বব 🙂", "Individual", "", "", "", "", "", US[3][0], ""],
        ["p3", "Warehouse", "Individual", "645 21st St", "SF", "94110", "United States",
         "415659874", "", "w@example.com"],
    ]  # fmt: skip
    path = tmp_path / "res.partner.csv"
    path.write_text("\r".join(",".join(r) for r in [header, *rows]) + "\r", encoding="utf-8")
    output = tmp_path / "odoo.results.xlsx"
    ran = _dry(path, output, "--default-region", "US")
    assert [o[:3] for o in _outcomes(output)] == [
        (2, US[1][1], "validated"), (3, US[3][1], "validated"), (4, None, "invalid"),
    ]  # fmt: skip
    assert "phone column 'Mobile' used; other phone columns: 'Phone'" in ran.stderr
    columns, got = results_table(output)
    assert got[1][columns.index("Name")] == "বব 🙂"

    either = tmp_path / "either.results.xlsx"
    _dry(path, either, "--default-region", "US", "--phone-column", "Mobile",
         "--phone-column", "Phone")  # fmt: skip
    outcomes = _outcomes(either)
    assert [o[1] for o in outcomes] == [US[1][1], US[3][1], None]
    assert "415659874" in outcomes[2][3]  # the Phone it fell back to, and why it is refused


WOO_HEADER = ["order_id", "status", "billing_first_name", "billing_phone", "order_total"]
WOO_ROWS = [
    ["1001", "processing", "Jonas", "030 1234567", "19.90"],
    ["1002", "completed", "Lena", "12345", "5.00"],
    ["1003", "on-hold", "Mia", "089 1234567", "7.50"],
]


def _woo(tmp_path: Path) -> Path:
    return _write_csv(
        tmp_path / "orders.csv",
        WOO_HEADER,
        [dict(zip(WOO_HEADER, r, strict=True)) for r in WOO_ROWS],
    )


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_shops_status_column_is_data_and_results_read_back(tmp_path: Path, suffix: str) -> None:
    first = tmp_path / f"orders.results{suffix}"
    _dry(_woo(tmp_path), first, "--default-region", "DE")
    columns, rows = results_table(first)
    assert columns == [*WOO_HEADER, *RESULT_COLUMNS]  # the shop's status, then the tool's
    assert [r[1] for r in rows] == ["processing", "completed", "on-hold"]
    expected: list[tuple[Any, ...]] = [
        (2, 49301234567, "validated"), (3, None, "invalid"), (4, 49891234567, "validated"),
    ]  # fmt: skip
    if suffix == ".csv":  # a CSV holds text only
        expected = [tuple("" if v is None else str(v) for v in o) for o in expected]
    assert [o[:3] for o in _outcomes(first)] == expected

    again = tmp_path / "again.results.xlsx"
    ran = _dry(first, again, "--default-region", "DE")
    columns, rows = results_table(again)
    assert columns == [*WOO_HEADER, *RESULT_COLUMNS]  # the old block is not input
    assert [[str(v) for v in r[:5]] for r in rows] == WOO_ROWS
    assert [o[2] for o in _outcomes(again)] == ["validated", "invalid", "validated"]
    assert "phone_normalized" not in ran.stderr


def test_the_errors_sheet_keeps_the_users_status_and_imports_as_it_is(tmp_path: Path) -> None:
    first = tmp_path / "orders.results.xlsx"
    _dry(_woo(tmp_path), first, "--default-region", "DE")
    columns, rows = results_table(first, "Errors")
    assert columns == [*WOO_HEADER, "error"]
    assert rows[0][:2] == ["1002", "completed"]

    again = tmp_path / "errors.results.xlsx"
    _dry(first, again, "--sheet", "Errors", "--default-region", "DE")
    columns, rows = results_table(again)
    assert columns == [*WOO_HEADER, *RESULT_COLUMNS]
    assert rows[0][1] == "completed"
    assert [o[2] for o in _outcomes(again)] == ["invalid"]


def test_google_labels_without_any_number_keep_the_real_header(tmp_path: Path) -> None:
    rows = [
        {"First Name": "Ann", "Phone 1 - Label": "Mobile"},
        {"First Name": "Bo", "Phone 1 - Label": "Work", "E-mail 1 - Value": "bo@example.com"},
    ]
    source = _write_csv(tmp_path / "google.csv", GOOGLE_NEW, rows)
    output = tmp_path / "google.results.xlsx"
    _dry(source, output)
    columns, _ = results_table(output)
    assert columns == [*GOOGLE_NEW, *RESULT_COLUMNS]
    assert _outcomes(output) == [
        (2, None, "invalid", "no phone number"), (3, None, "invalid", "no phone number"),
    ]  # fmt: skip


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_read_results_keeps_a_shops_status_apart(tmp_path: Path, suffix: str) -> None:
    from importer import read_results

    output = tmp_path / f"orders.results{suffix}"
    _dry(_woo(tmp_path), output, "--default-region", "DE")
    frame = read_results(output)
    assert list(frame.columns) == [
        "order_id", "status (input)", "billing_first_name", "billing_phone", "order_total",
        *RESULT_COLUMNS,
    ]  # fmt: skip
    assert list(frame["status (input)"]) == ["processing", "completed", "on-hold"]
    assert list(frame["status"]) == ["validated", "invalid", "validated"]
    assert list(frame["source_row"]) == [2, 3, 4]


def test_a_frame_with_a_status_column_and_two_phone_columns(tmp_path: Path) -> None:
    import pandas as pd

    from importer import import_frame

    frame = pd.DataFrame(
        {
            "Phone": ["123456789", "", "415659874"],
            "Mobile": [US[1][0], US[3][0], ""],
            "status": ["lead", "customer", "lead"],
        }
    )
    result = import_frame(
        frame, list_name="Promo", output=tmp_path / "f.results.xlsx", dry_run=True,
        default_region="US", phone_column=["Mobile", "Phone"],
    )  # fmt: skip
    done = result.frame()
    assert list(done.columns) == ["Phone", "Mobile", "status (input)", *RESULT_COLUMNS]
    assert list(done["status (input)"]) == ["lead", "customer", "lead"]
    assert list(done["phone_normalized"].astype(object)) == [US[1][1], US[3][1], pd.NA]
    assert list(done["status"]) == ["validated", "validated", "invalid"]


def test_a_header_may_show_a_sample_number_in_its_phone_cell(tmp_path: Path) -> None:
    source = tmp_path / "template.csv"
    source.write_text(f"Name,Phone (e.g. 2015550123)\nAnn,{US[0][0]}\n", encoding="utf-8")
    output = tmp_path / "template.results.xlsx"
    _dry(source, output)
    assert results_table(output)[0][:2] == ["Name", "Phone (e.g. 2015550123)"]
    assert _outcomes(output) == [(2, US[0][1], "validated", None)]


def test_civicrm_eight_phone_like_columns_and_a_duplicate_header(tmp_path: Path) -> None:
    header = ["First Name", "Last Name", "Phone", "Phone Ext", "Mum\u2019s first name",
              "Last Name", "Mum-phone", "Mum-phone-ext", "Mum-home-phone", "Mum-home-mobile",
              "Sister-phone", "Sister-phone-ext"]  # fmt: skip
    rows = [
        ["Susie", "Jones", "02 9999 4445", "123", "Mum", "Jones", "911", "1", "88-999",
         "99-888", "555-666", ""],
        ["Tom", "Lee", "(02) 9876 5432", "", "Ma", "Lee", "", "", "", "", "", ""],
    ]  # fmt: skip
    source = _write_csv(tmp_path / "civicrm.csv", header, [])
    with source.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    output = tmp_path / "civicrm.results.xlsx"
    ran = _dry(source, output, "--default-region", "AU")
    columns, got = results_table(output)
    assert columns[:6] == [*header[:5], "Last Name (2)"]
    assert got[0][5] == "Jones"
    assert [o[1] for o in _outcomes(output)] == [61299994445, 61298765432]
    assert "other phone columns" not in ran.stderr  # none of the others holds a number


def test_the_pages_download_in_words_imports_as_it_is(tmp_path: Path) -> None:
    from importer.web.downloads import results_in_words

    first = tmp_path / "orders.results.xlsx"
    _dry(_woo(tmp_path), first, "--default-region", "DE")
    download = tmp_path / "download.xlsx"
    download.write_bytes(results_in_words(first).getvalue())
    assert results_table(download)[0][-7:] == ["Row", "Phone (international)", "Status",
                                               "Contact ID", "Reachable (HLR)", "Checked at",
                                               "Problem"]  # fmt: skip
    again = tmp_path / "again.results.xlsx"
    _dry(download, again, "--default-region", "DE")
    assert results_table(again)[0] == [*WOO_HEADER, *RESULT_COLUMNS]
    assert [o[:3] for o in _outcomes(again)] == [
        (2, 49301234567, "validated"), (3, None, "invalid"), (4, 49891234567, "validated"),
    ]  # fmt: skip
