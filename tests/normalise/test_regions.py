"""Digits under a region are that region's number or invalid, and each row's own country
column is its region: rule by rule, as properties over many inputs, and through the real
command with shop and CRM exports written here (made-up data)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from importer.models import RESULT_COLUMNS, SourceRow, Status
from importer.normalise import Normaliser
from importer.phones import PhoneError, normalise_phone
from importer.regions import RegionColumn, country_of
from importer.settings import resolve

from ..helpers import ROOT, phones_in, run_cli

KEY = {"BSG_API_KEY": "live_sandbox"}
REALWORLD = ROOT.parent / "shared" / "realworld"
NATIONAL = phonenumbers.PhoneNumberFormat.NATIONAL
E164 = phonenumbers.PhoneNumberFormat.E164
#: Regions with numbers of their own, and an example number of each kind they have.
REGIONS = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if r != "001")
EXAMPLES = [
    example
    for region in REGIONS
    for kind in phonenumbers.PhoneNumberType.values()
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None
    and phonenumbers.is_valid_number(example)
]


def calling_code(digits: int) -> int:
    number = phonenumbers.parse(f"+{digits}")
    assert number.country_code is not None
    return number.country_code


def in_regions_terms(message: str, written: str, region: str) -> bool:
    """The reason speaks of ``region`` only (or of no region: too short for any), no other
    country, no other calling code."""
    said = message.replace(repr(written.strip()), "")
    return (f"{region} number" in said or said == " is too short to be a phone number") and (
        not re.search(r"\+\d|\([A-Z]{2}\)", said)
    )


@st.composite
def digits_without_prefix(draw: st.DrawFn) -> str:
    """Digits as people write them without + or 00: another country's number written
    nationally or as its E.164 digits, or digits of any length, with the usual separators."""
    example = draw(st.sampled_from(EXAMPLES))
    e164 = phonenumbers.format_number(example, E164)[1:]
    choice = draw(st.sampled_from(["national", "e164", "random"]))
    if choice == "national":
        text = phonenumbers.format_number(example, NATIONAL)
    elif choice == "e164":
        text = e164
    else:
        digits = draw(st.text("0123456789", min_size=4, max_size=16))
        cuts = draw(st.lists(st.sampled_from([" ", "-", ".", ""]), min_size=len(digits)))
        text = "".join(d + c for d, c in zip(digits, cuts, strict=False))
    assume(not re.match(r"^\D*00", text) and "+" not in text)
    return text


@given(region=st.sampled_from(REGIONS), text=digits_without_prefix())
@settings(max_examples=600, deadline=None)
def test_digits_under_a_region_are_its_number_or_invalid_in_its_terms(
    region: str, text: str
) -> None:
    try:
        digits = normalise_phone(text, region)
    except PhoneError as problem:
        assert in_regions_terms(str(problem), text, region), str(problem)
        return
    assert calling_code(digits) == phonenumbers.country_code_for_region(region), (text, digits)


@st.composite
def country_cells(draw: st.DrawFn) -> tuple[str, str]:
    """A region, and a country cell naming it as shops and CRMs write it."""
    region = draw(st.sampled_from(["AT", "CH", "CA", "GB", "US", "DE", "FR", "IT", "UA", "PL"]))
    names = {"AT": "Austria", "CH": "Switzerland", "CA": "Canada", "GB": "United Kingdom",
             "US": "United States", "DE": "Germany", "FR": "France", "IT": "Italy",
             "UA": "Ukraine", "PL": "Poland"}  # fmt: skip
    written = draw(st.sampled_from([region, region.lower(), names[region], names[region].upper()]))
    return region, written


@given(
    country=country_cells(),
    default=st.sampled_from([None, "DE", "US", "SE", "UA"]),
    text=digits_without_prefix(),
)
@settings(max_examples=400, deadline=None)
def test_a_row_whose_country_names_a_region_gets_only_that_regions_number(
    country: tuple[str, str], default: str | None, text: str
) -> None:
    region, written = country
    normaliser = Normaliser(0, [], region=default, region_column=RegionColumn(1, "Country"))
    prepared = normaliser.prepare(SourceRow(2, (text, written)))
    if prepared.status is Status.INVALID:
        assert in_regions_terms(prepared.error, text, region), prepared.error
        assert "too short" in prepared.error or "the region of the row's Country" in prepared.error
    else:
        assert prepared.phone is not None
        assert calling_code(prepared.phone) == phonenumbers.country_code_for_region(region)


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("(613) 555-0123", "US", 16135550123),  # Canada, as dialled from the US
        ("1 613 555 0123", "US", 16135550123),
        ("(201) 555-0123", "US", 12015550123),
        ("0676 1234567", "AT", 436761234567),
        ("079 123 45 67", "CH", 41791234567),
        ("0676 1234567", "DE", 496761234567),  # a German number under DE, as the digits say
        ("+43 676 1234567", "DE", 436761234567),  # + says which country
        ("00 43 676 1234567", "DE", 436761234567),
        ("380501234567", "UA", 380501234567),  # the region's code without +
        ("46 8 123 456 78", None, 46812345678),  # without a region, digits are international
        ("0676 1234567", None, None),
    ],
)
def test_the_region_rule_case_by_case(text: str, region: str | None, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(PhoneError):
            normalise_phone(text, region)
    else:
        assert normalise_phone(text, region) == expected


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("(465) 808-8296", "US"),  # 465 is no US area code: not Sweden's +46
        ("372-624-9805", "US"),  # not Estonia's +372
        ("490.508.8733", "US"),  # not Germany's +49
        ("011 44 7400 123456", "US"),  # the US's own international prefix is not + or 00
        ("48601234567", "UA"),  # a Polish number without +
    ],
)
def test_another_countrys_digits_are_invalid_in_the_regions_terms(text: str, region: str) -> None:
    with pytest.raises(PhoneError) as caught:
        normalise_phone(text, region)
    assert f"is not a valid {region} number" in str(caught.value)
    assert str(caught.value).endswith("an international number needs + or 00")
    assert in_regions_terms(str(caught.value), text, region)


def test_when_both_readings_are_valid_libphonenumbers_parse_for_the_region_decides() -> None:
    """Digits that are a national number and also the region's code followed by one."""
    both = [
        e164
        for example in EXAMPLES
        if (region := phonenumbers.region_code_for_number(example))
        and (e164 := phonenumbers.format_number(example, E164)[1:])
        and phonenumbers.is_valid_number(national := phonenumbers.parse(e164, region))
        and national.national_number != example.national_number
    ]
    assert both  # such numbers exist (a German mobile's digits, 4915123456789, are one)
    for e164 in both:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + e164))
        parsed = phonenumbers.parse(e164, region)
        assert normalise_phone(e164, region) == int(phonenumbers.format_number(parsed, E164)[1:])


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("AT", "AT"), ("at", "AT"), ("AUT", "AT"), ("Austria", "AT"), ("AUSTRIA", "AT"),
        ("Republic of Austria", "AT"), ("United States", "US"), ("United States of America", "US"),
        ("USA", "US"), ("U.S.A.", "US"), ("UK", "GB"), ("United Kingdom", "GB"),
        ("the Netherlands", "NL"), ("South Korea", "KR"), ("Korea, Republic of", "KR"),
        ("Russia", "RU"), ("Cote d'Ivoire", "CI"), (" ch ", "CH"),
        ("Narnia", None), ("+44", None), ("44", None), ("", None), (None, None), (43, None),
    ],
)  # fmt: skip
def test_country_cells(cell: Any, code: str | None) -> None:
    assert country_of(cell) == code


def test_region_column_is_an_option_of_config_files_and_profiles() -> None:
    settings = resolve({}, {"region-column": "none"}, {}, {"list": "Promo", "file": "a.csv"})
    assert settings.region_column == "none"
    flagged = resolve({"region_column": "Land"}, {"region-column": "none"}, {},
                      {"list": "Promo", "file": "a.csv"})  # fmt: skip
    assert flagged.region_column == "Land"


# Through the real command, with files in the shapes shops and CRMs export.


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def outcomes(path: Path) -> list[dict[str, str]]:
    """The result columns of each row of a results CSV (the tool's block ends the header)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    at = len(header) - len(RESULT_COLUMNS)
    return [dict(zip(RESULT_COLUMNS, row[at:], strict=True)) for row in rows]


def imported(tmp_path: Path, server: Any, source: Path, *flags: str) -> tuple[Any, Path]:
    """Import ``source`` into the sandbox served on loopback; the run and its results CSV."""
    output = tmp_path / f"{source.stem}.results.csv"
    ran = run_cli(source, "--list", "Promo", "--base-url", server.url, "--output", output,
                  "--journal-dir", tmp_path / "journals", *flags, env=KEY)  # fmt: skip
    assert ran.code in (0, 1), ran.stderr
    return ran, output


SHOPIFY_HEADER = [
    "Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing",
    "Default Address Company", "Default Address Address1", "Default Address City",
    "Default Address Province Code", "Default Address Country Code", "Default Address Zip",
    "Default Address Phone", "Phone", "Accepts SMS Marketing", "Total Spent", "Tags",
]  # fmt: skip


def shopify_row(n: int, country: str, phone: str) -> list[str]:
    return [f"70{n:08d}", f"Name{n}", "Doe", f"c{n}@example.com", "yes", "", f"{n} Main St",
            "Town", "", country, "", "", phone, "yes", "10.00", ""]  # fmt: skip


def test_shopify_customers_each_under_their_own_country(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    rows = [
        shopify_row(1, "US", "(201) 555-0123"),
        shopify_row(2, "CA", "(613) 555-0123"),
        shopify_row(3, "GB", "07400 123456"),
        shopify_row(4, "GB", "020 7946 0018"),
        shopify_row(5, "", "(415) 555-0132"),  # no country: --default-region serves it
        shopify_row(6, "CA", "(465) 808-8296"),  # no Canadian (nor US) number
    ]
    source = write_csv(tmp_path / "customers_export.csv", SHOPIFY_HEADER, rows)
    ran, output = imported(tmp_path, server, source, "--default-region", "US")
    assert ran.code == 1, ran.stderr
    got = outcomes(output)
    assert [r["phone_normalized"] for r in got] == [
        "12015550123", "16135550123", "447400123456", "442079460018", "14155550132", "",
    ]  # fmt: skip
    assert [r["status"] for r in got] == ["created"] * 5 + ["invalid"]
    assert got[5]["error"] == (
        "'(465) 808-8296' is not a valid CA number (the region of the row's Default Address "
        "Country Code); an international number needs + or 00"
    )
    assert set(phones_in(sandbox)) == {int(r["phone_normalized"]) for r in got[:5]}
    assert (
        "Note: each row's country is in column 'Default Address Country Code': 5 rows read "
        "under the country they name, 1 with it empty under --default-region US" in ran.stderr
    )


WOO_HEADER = [
    "order_id", "status", "billing_first_name", "billing_phone", "billing_country",
    "shipping_country", "order_total",
]  # fmt: skip
WOO_ROWS = [
    ["1001", "processing", "Jonas", "030 1234567", "DE", "DE", "19.90"],
    ["1002", "completed", "Anna", "0676 1234567", "AT", "DE", "5.00"],
    ["1003", "on-hold", "Luca", "079 123 45 67", "CH", "AT", "7.50"],
    ["1004", "completed", "Mia", "089 1234567", "", "CH", "8.00"],
    ["1005", "completed", "Kai", "0676 7654321", "Narnia", "", "9.00"],
]


def test_woocommerce_orders_under_de_take_each_billing_country(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    source = write_csv(tmp_path / "orders.csv", WOO_HEADER, WOO_ROWS)
    ran, output = imported(tmp_path, server, source, "--default-region", "DE")
    got = outcomes(output)
    assert [r["phone_normalized"] for r in got] == [
        "49301234567", "436761234567", "41791234567", "49891234567", "",
    ]  # fmt: skip
    assert [r["status"] for r in got] == ["created"] * 4 + ["invalid"]
    assert "billing_country 'Narnia' names no country" in got[4]["error"]
    assert set(phones_in(sandbox)) == {49301234567, 436761234567, 41791234567, 49891234567}
    assert (
        "each row's country is in column 'billing_country' (it shares the phone column's "
        "prefix; other country columns: 'shipping_country'; choose with --region-column): "
        "3 rows read under the country they name, 1 with it empty under --default-region DE, "
        "1 naming no country ('Narnia'; see their error)" in ran.stderr
    )


def test_region_column_names_the_column_or_turns_the_rule_off(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "orders.csv", WOO_HEADER, WOO_ROWS[:3])
    off = tmp_path / "off.csv"
    ran = run_cli(source, "--list", "Promo", "--dry-run", "--default-region", "DE",
                  "--region-column", "none", "--output", off)  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert [r["phone_normalized"] for r in outcomes(off)] == [
        "49301234567", "496761234567", "49791234567",
    ]  # fmt: skip
    assert "country" not in ran.stderr

    shipping = tmp_path / "shipping.csv"
    ran = run_cli(source, "--list", "Promo", "--dry-run", "--default-region", "DE",
                  "--region-column", "Shipping_Country", "--output", shipping)  # fmt: skip
    got = outcomes(shipping)
    assert [r["status"] for r in got] == ["validated", "validated", "invalid"]
    assert got[1]["phone_normalized"] == "496761234567"  # Anna's shipping country is DE
    assert "is not a valid AT number" in got[2]["error"]  # Luca's Swiss mobile, shipped to AT
    assert "each row's country is in column 'shipping_country' (--region-column)" in ran.stderr

    ran = run_cli(source, "--list", "Promo", "--dry-run", "--region-column", "Land",
                  "--output", tmp_path / "x.csv")  # fmt: skip
    assert ran.code == 2
    assert "no column is headed 'Land'" in ran.last_line
    assert "check --region-column" in ran.last_line


def test_a_column_of_calling_codes_is_no_country_column(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "crm.csv",
        ["Name", "Country Code", "Phone"],
        [["A", "+44", "07400 123456"], ["B", "+44", "07400 654321"]],
    )
    output = tmp_path / "crm.results.csv"
    ran = run_cli(source, "--list", "Promo", "--dry-run", "--default-region", "GB",
                  "--output", output)  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert [r["phone_normalized"] for r in outcomes(output)] == ["447400123456", "447400654321"]
    assert "column 'Country Code' names no country in most rows ('+44')" in ran.stderr


def test_a_canadian_number_under_us_is_created_as_canadas(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    source = write_csv(tmp_path / "contacts.csv", ["Name", "Phone"], [["Ann", "(613) 555-0123"]])
    ran, output = imported(tmp_path, server, source, "--default-region", "US")
    assert ran.code == 0, ran.stderr
    assert [r["status"] for r in outcomes(output)] == ["created"]
    assert list(phones_in(sandbox)) == [16135550123]


def test_a_us_file_with_unused_area_codes_creates_no_other_countrys_number(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    phones = ["(465) 808-8296", "372-624-9805", "490.508.8733", "(201) 555-0123", "2125550199"]
    source = write_csv(
        tmp_path / "us.csv", ["first_name", "phone"], [[f"N{i}", p] for i, p in enumerate(phones)]
    )
    ran, output = imported(tmp_path, server, source, "--default-region", "US")
    assert ran.code == 1
    got = outcomes(output)
    assert [r["status"] for r in got] == ["invalid"] * 3 + ["created"] * 2
    for row, written in zip(got[:3], phones, strict=False):
        assert row["error"] == (
            f"{written!r} is not a valid US number; an international number needs + or 00"
        )
    assert set(phones_in(sandbox)) == {12015550123, 12125550199}


def test_a_dataframe_takes_its_country_column_too(tmp_path: Path) -> None:
    import pandas as pd

    from importer import import_frame

    frame = pd.DataFrame({"Phone": ["0676 1234567", "079 123 45 67"], "Country": ["AT", "ch"]})
    result = import_frame(frame, list_name="Promo", output=tmp_path / "frame.results.xlsx",
                          default_region="DE", dry_run=True)  # fmt: skip
    assert list(result.frame()["phone_normalized"]) == [436761234567, 41791234567]


@pytest.mark.skipif(
    not REALWORLD.is_dir(), reason=f"{REALWORLD} is not here (it is beside the project in CI)"
)
def test_real_exports_take_their_country_column(tmp_path: Path) -> None:
    odoo = tmp_path / "odoo.csv"
    ran = run_cli(REALWORLD / "odoo_res.partner.csv", "--list", "Promo", "--dry-run",
                  "--default-region", "US", "--output", odoo)  # fmt: skip
    assert "each row's country is in column 'Country'" in ran.stderr  # "United States"
    assert outcomes(odoo)[1]["phone_normalized"] == "14157654321"

    civicrm = tmp_path / "civicrm.csv"
    ran = run_cli(REALWORLD / "civicrm_individual_locations_with_related.csv", "--list",
                  "Promo", "--dry-run", "--output", civicrm)  # fmt: skip
    # Susie's Country is Australia; Mum's and Sister's country columns are not hers.
    assert "in column 'Country' (it shares the phone column's prefix" in ran.stderr
    [susie] = outcomes(civicrm)
    assert susie["error"].startswith("'999-4445' is not a valid AU number")


def test_a_profile_keeps_the_region_column(tmp_path: Path) -> None:
    from importer.profiles import load_profile, save_profile

    given = {"list": "Promo", "file": "orders.csv", "phone-column": "billing_phone"}
    save_profile("shop", resolve({"region_column": "billing_country"}, {}, {}, given), tmp_path)
    profile = load_profile("shop", tmp_path)
    assert profile.values["region_column"] == "billing_country"
    assert profile.fits(WOO_HEADER) and not profile.fits(["billing_phone", "status"])
    save_profile("off", resolve({"region_column": "none"}, {}, {}, given), tmp_path)
    assert load_profile("off", tmp_path).fits(["billing_phone"])


def test_the_summary_sheet_names_the_country_column(tmp_path: Path) -> None:
    from ..conftest import sheet_rows

    source = write_csv(tmp_path / "orders.csv", WOO_HEADER, WOO_ROWS[:3])
    output = tmp_path / "orders.results.xlsx"
    ran = run_cli(source, "--list", "Promo", "--dry-run", "--default-region", "DE",
                  "--output", output)  # fmt: skip
    assert ran.code == 0, ran.stderr
    book = [str(v) for row in sheet_rows(output, "Summary") for v in row.values() if v]
    assert any(v.startswith("each row's country is in column 'billing_country'") for v in book)


def test_an_xlsx_export_with_number_cells_and_country_names(tmp_path: Path) -> None:
    """Excel drops the leading zero of a number cell: 676 1234567 on an Austrian row is
    still Austria's +43 676 1234567, and country names read in any case."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Mailing Country", "Mobile"])
    sheet.append(["Anna", "austria", 6761234567])
    sheet.append(["Luca", "SWITZERLAND", 791234567])
    sheet.append(["Jonas", "Germany", 301234567])
    sheet.append(["Ann", "United States of America", 2015550123])
    source = tmp_path / "contacts.xlsx"
    book.save(source)
    output = tmp_path / "contacts.results.csv"
    ran = run_cli(source, "--list", "Promo", "--dry-run", "--default-region", "DE",
                  "--output", output)  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert [r["phone_normalized"] for r in outcomes(output)] == [
        "436761234567", "41791234567", "49301234567", "12015550123",
    ]  # fmt: skip
    assert "each row's country is in column 'Mailing Country': 4 rows read" in ran.stderr
