"""Phones and field values, one rule at a time, and properties over many inputs."""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.models import CustomField, FieldColumn, SourceRow, Status
from importer.normalise import (
    Normaliser,
    PhoneError,
    ValueProblem,
    normalise_phone,
    normalise_value,
    prepare_rows,
)


@pytest.mark.parametrize(
    ("cell", "region", "expected"),
    [
        ("+380 50 123 4567", None, 380501234567),
        ("+380 (50) 123-45-67", None, 380501234567),
        ("00380501234567", None, 380501234567),
        ("00 380 50 123 4567", "GB", 380501234567),
        ("0501234567", "UA", 380501234567),
        ("050.123.45.67", "UA", 380501234567),
        ("(050) 123 45 67", "UA", 380501234567),
        ("501234567", "UA", 380501234567),  # Excel dropped the leading zero
        ("380501234567", "UA", 380501234567),  # country code without +
        (380501234567, "UA", 380501234567),  # an Excel number cell
        (380501234567, None, 380501234567),
        ("48601234567", "UA", 48601234567),  # not Ukrainian: read as international
        ("tel:+380501234567", None, 380501234567),
        ("+380 50 123 4567 ext. 12", None, 380501234567),
        ("050 123 45 67 #12", "UA", 380501234567),
        ("\u00a0+44 7911 123456\u00a0", None, 447911123456),
        ("07911 123456", "GB", 447911123456),
        (123456789012345, None, None),  # 15 digits, exact, but no such number
        ("380501234567.0", None, 380501234567),  # a float column saved as text: digits intact
        ("+380501234567.00", None, 380501234567),
        ("380501234567.5", None, None),  # a real fraction is not a phone
        ("050.123.45.0", "UA", None),  # dots as separators, not a float
    ],
)
def test_phones(cell: object, region: str | None, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(PhoneError):
            normalise_phone(cell, region)  # type: ignore[arg-type]
    else:
        assert normalise_phone(cell, region) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "region", "reason"),
    [
        (None, "UA", "no phone number"),
        ("   ", "UA", "no phone number"),
        ("3.80501E+11", "UA", "scientific notation"),
        ("3,80501E+11", "UA", "scientific notation"),
        (380501234567.5, "UA", "fraction"),
        ("050 111 2233 / 067 444 5566", "UA", "2 phone numbers"),
        ("0501112233, 0674445566", "UA", "2 phone numbers"),
        ("0501234567", None, "no country code"),
        ("12345", "UA", "too short"),
        ("+380 12 345 6789", None, "not a valid phone number for +380 (UA)"),
        ("call me", "UA", "is not a phone number"),
        (True, "UA", "is not a phone number"),
        (dt.date(2026, 1, 1), "UA", "is not a phone number"),
    ],
)
def test_phone_problems_say_why(cell: object, region: str | None, reason: str) -> None:
    with pytest.raises(PhoneError, match=re.escape(reason)):
        normalise_phone(cell, region)  # type: ignore[arg-type]


# Valid numbers of several regions, written every usual way.
REGIONS = ["UA", "GB", "PL", "DE", "US", "FR", "IN", "BR"]


@st.composite
def written_numbers(draw: st.DrawFn) -> tuple[str, str, int]:
    region = draw(st.sampled_from(REGIONS))
    kind = draw(
        st.sampled_from(
            [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
        )
    )
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(
        example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    digits = f"{example.country_code}{example.national_number}"
    style = draw(st.sampled_from(["intl", "00", "plain", "dashes", "dots", "national", "e164"]))
    text = {
        "intl": international,
        "00": "00" + international[1:],
        "plain": digits,
        "dashes": international.replace(" ", "-"),
        "dots": "+" + international[1:].replace(" ", "."),
        "national": national,
        "e164": "+" + digits,
    }[style]
    pad = draw(st.sampled_from(["", " ", "\u00a0", "\t"]))
    return pad + text + pad, region, int(digits)


@given(written_numbers())
@settings(max_examples=300, deadline=None)
def test_any_usual_writing_gives_the_same_integer(case: tuple[str, str, int]) -> None:
    text, region, digits = case
    assert normalise_phone(text, region) == digits


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=True), st.none()))
@settings(max_examples=500, deadline=None)
def test_no_input_makes_the_normaliser_raise_anything_but_phone_error(cell: object) -> None:
    try:
        result = normalise_phone(cell, "UA")  # type: ignore[arg-type]
    except PhoneError:
        return
    assert isinstance(result, int) and result > 0


@pytest.mark.parametrize(
    ("cell", "kind", "expected"),
    [
        ("12,5", "number", "12.5"),
        ("12.5", "number", "12.5"),
        ("1 234,5", "number", "1234.5"),
        (42, "number", "42"),
        (12.0, "number", "12"),
        ("22.11.2026", "date", "2026-11-22"),
        ("2026-11-22", "date", "2026-11-22"),
        ("22/11/2026", "date", "2026-11-22"),
        (46348, "date", "2026-11-22"),  # an Excel serial number
        ("46348", "date", "2026-11-22"),
        (dt.datetime(2026, 11, 22, 10, 30), "date", "2026-11-22"),
        ("  Kyiv ", "text", "Kyiv"),
        (12, "text", "12"),
        ("", "text", None),
    ],
)
def test_values(cell: object, kind: str, expected: str | None) -> None:
    assert normalise_value(cell, kind, "dmy") == expected  # type: ignore[arg-type]


def test_month_first_dates_follow_date_order() -> None:
    assert normalise_value("11/22/2026", "date", "mdy") == "2026-11-22"
    with pytest.raises(ValueProblem, match="--date-order mdy"):
        normalise_value("11/22/2026", "date", "dmy")


@pytest.mark.parametrize(
    ("cell", "kind"), [("abc", "number"), ("32.13.2026", "date"), ("soon", "date")]
)
def test_values_that_do_not_fit(cell: str, kind: str) -> None:
    with pytest.raises(ValueProblem):
        normalise_value(cell, kind, "dmy")


BIRTHDAY = FieldColumn(1, "Birthday", CustomField(3, "Birthday", "date"))
CITY = FieldColumn(2, "City", CustomField(2, "City", "text"))


def test_normaliser_marks_duplicates_and_invalid_rows() -> None:
    normaliser = Normaliser(0, [BIRTHDAY, CITY], region="UA")
    rows = [
        SourceRow(2, ("0501234567", "22.11.1990", "Kyiv")),
        SourceRow(3, ("+380501234567", "", "Lviv")),
        SourceRow(4, ("nope", "", "")),
        SourceRow(5, ("0671234567", "someday", "Odesa")),
    ]
    [(_, prepared)] = list(prepare_rows([rows], normaliser))
    first, dup, bad, bad_value = prepared
    assert first.status is None and first.fields == ((3, "1990-11-22"), (2, "Kyiv"))
    assert dup.status is Status.DUPLICATE and dup.duplicate_of == 2
    assert bad.status is Status.INVALID and bad.phone is None
    assert bad_value.status is Status.INVALID and "Birthday" in bad_value.error


def test_bad_values_drop_keeps_the_row_and_says_what_was_left_out() -> None:
    normaliser = Normaliser(0, [BIRTHDAY, CITY], region="UA", bad_values="drop")
    row = normaliser.prepare(SourceRow(2, ("0671234567", "someday", "Odesa")))
    assert row.status is None
    assert row.fields == ((2, "Odesa"),)
    assert "Birthday" in row.error and "left out" in row.error


def test_a_row_invalid_for_its_values_does_not_hide_a_later_good_row() -> None:
    normaliser = Normaliser(0, [BIRTHDAY], region="UA")
    rows = [SourceRow(2, ("0501234567", "never")), SourceRow(3, ("0501234567", "01.01.2000"))]
    [(_, (first, second))] = list(prepare_rows([rows], normaliser))
    assert first.status is Status.INVALID
    assert second.status is None


def test_worker_processes_give_the_same_rows_in_the_same_order() -> None:
    normaliser = Normaliser(0, [FieldColumn(1, "City", CITY.field)], region="UA")
    chunks = [
        [SourceRow(n, (f"050{n:07d}" if n % 7 else "0501234567", "Kyiv")) for n in range(s, s + 50)]
        for s in range(2, 502, 50)
    ]
    alone = [p for _, rows in prepare_rows(chunks, normaliser) for p in rows]
    pooled = [p for _, rows in prepare_rows(chunks, normaliser, workers=2) for p in rows]
    assert pooled == alone
    assert [p.status for p in alone].count(Status.DUPLICATE) == len(
        [n for n in range(2, 502) if n % 7 == 0]
    ) - 1
