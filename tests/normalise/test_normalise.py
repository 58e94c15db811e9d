"""Phones and field values, one rule at a time, and properties over many inputs."""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.models import CustomField, FieldColumn, SourceRow, Status
from importer.normalise import Normaliser, ValueProblem, normalise_value, prepare_rows
from importer.phones import PhoneError, normalise_phone


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
        ("48601234567", "UA", None),  # a Polish number without +: no Ukrainian one
        ("48601234567", None, 48601234567),  # without a region, digits alone are international
        ("+48601234567", "UA", 48601234567),
        ("0501112233, 0674445566", "UA", 380501112233),  # the first of a list
        ("'+918080808081", None, 918080808081),  # the text marker of the tool's CSV results
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
        ("0501112233, 1234567", "UA", "the cell holds 2 numbers and not each is a valid one"),
        ("48601234567", "UA", "not a valid UA number (too long); an international number needs"),
        ("(465) 808-8296", "US", "not a valid US number; an international number needs + or 00"),
        ("-", "UA", "no phone number"),
        (" n/A ", "UA", "no phone number"),
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


# Every region libphonenumber knows, every type it has an example of, written every usual way.
E164 = phonenumbers.PhoneNumberFormat.E164
EXAMPLES = [
    (region, kind, example)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    for kind in phonenumbers.PhoneNumberType.values()
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None
    and phonenumbers.is_valid_number(example)
]


def writings(example: phonenumbers.PhoneNumber) -> dict[str, str]:
    """The usual ways people write an international number (the region given or not)."""
    international = phonenumbers.format_number(
        example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    code, _, rest = international.partition(" ")
    return {
        "e164": phonenumbers.format_number(example, E164),
        "international": international,
        "00": "00" + international[1:],
        "bracketed": f"({code}) {rest}",
        "bracketed 00": f"(00 {code[1:]}) {rest}",
        "00 before brackets": f"00 ({code[1:]}) {rest}",
        "dashes": international.replace(" ", "-"),
        "dots": "+" + international[1:].replace(" ", "."),
    }


def e164_digits(example: phonenumbers.PhoneNumber) -> int:
    return int(phonenumbers.format_number(example, E164)[1:])


def test_every_region_keeps_every_digit_of_its_example_numbers() -> None:
    """A 0 after the country code (Italy, Côte d'Ivoire, Congo…) is part of the number."""
    wrong = []
    for region, kind, example in EXAMPLES:
        expected = e164_digits(example)
        national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
        cases = [(text, None) for text in writings(example).values()] + [(national, region)]
        for text, given_region in cases:
            try:
                got: int | str = normalise_phone(text, given_region)
            except PhoneError as problem:
                got = str(problem)
            if got != expected:
                wrong.append(f"{region} {kind} {text!r} region={given_region}: {got}")
    assert len(EXAMPLES) > 1000
    assert not wrong, f"{len(wrong)} wrong:\n" + "\n".join(wrong[:40])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+39 06 6982 1234", 390669821234),  # Rome: the 0 stays
        ("+225 07 07 12 34 56", 2250707123456),  # Côte d'Ivoire since 2021
        ("(+44) 7400 123456", 447400123456),
        ("(+250) 788 123456", 250788123456),
        ("(+1) 212 555 0123", 12125550123),
        ("(00380) 50 123 4567", 380501234567),
        ("(00 44) 7400 123456", 447400123456),
        ("00 (44) 7400 123456", 447400123456),
        ("+44 (0) 7400 123456", 447400123456),
    ],
)
def test_numbers_the_issue_names(text: str, expected: int) -> None:
    assert normalise_phone(text, None) == expected
    assert normalise_phone(text, "UA") == expected


@st.composite
def written_numbers(draw: st.DrawFn) -> tuple[str, str, int]:
    """An example number, written one usual way, padded as cells are, national or not."""
    region, _, example = draw(st.sampled_from(EXAMPLES))
    forms = writings(example)
    forms["national"] = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    text = forms[draw(st.sampled_from(sorted(forms)))]
    pad = draw(st.sampled_from(["", " ", "\u00a0", "\t"]))
    return pad + text + pad, region, e164_digits(example)


@given(written_numbers())
@settings(max_examples=300, deadline=None)
def test_any_usual_writing_gives_the_e164_digits(case: tuple[str, str, int]) -> None:
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
