"""What a phone cell holds besides one number: Excel's text marker, several numbers (Google's
' ::: ', a CRM's ', ' or '; ', line breaks), a placeholder for none. Through the real command,
with files written here (made-up data)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from importer.models import RESULT_COLUMNS
from importer.phones import PhoneError, read_phone

from ..helpers import ROOT, phones_in, run_cli

KEY = {"BSG_API_KEY": "live_sandbox"}
REALWORLD = ROOT.parent / "shared" / "realworld"


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def table(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def outcomes(path: Path) -> list[dict[str, str]]:
    """The result columns of each row of a results CSV."""
    header, rows = table(path)
    at = len(header) - len(RESULT_COLUMNS)
    return [dict(zip(RESULT_COLUMNS, row[at:], strict=True)) for row in rows]


def dry(source: Path, output: Path, *flags: str) -> Any:
    ran = run_cli(source, "--list", "Promo", "--dry-run", "--output", output, *flags)
    assert ran.code in (0, 1), ran.stderr
    return ran


@pytest.mark.parametrize(
    ("cell", "region", "number", "note"),
    [
        ("+44 7400 123456, +44 7400 654321", None, 447400123456, "+44 7400 654321"),
        ("+44 7400 123456; +44 7400 654321", None, 447400123456, "+44 7400 654321"),
        ("+1 201-555-0123 ::: +1 212-555-0199", None, 12015550123, "+1 212-555-0199"),
        ("07400 123456\n07400 654321", "GB", 447400123456, "07400 654321"),
        ("07400 123456\r\n07400 654321\r\n07400 111222", "GB", 447400123456,
         "07400 654321, 07400 111222"),
        ("030/1234567", "DE", 49301234567, ""),  # ' / ' is no separator: one Berlin number
        ("030 / 1234567", "DE", 49301234567, ""),
        ("'+918080808081", None, 918080808081, ""),  # the tool's own CSV results
        ("  '07400 123456", "GB", 447400123456, ""),
    ],
)  # fmt: skip
def test_a_cell_gives_its_first_number_and_notes_the_others(
    cell: str, region: str | None, number: int, note: str
) -> None:
    phone = read_phone(cell, region)
    assert phone.number == number
    if note:
        assert phone.note == f"the cell also holds {note} (only its first number is imported)"
    else:
        assert phone.note == ""


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("-", "no phone number"),
        ("n/a", "no phone number"),
        ("N/A", "no phone number"),
        ("None", "no phone number"),
        ("\u2014", "no phone number"),
        (" \u2013 ", "no phone number"),
        ("+44 7400 123456, 12345678", "the cell holds 2 numbers and not each is a valid one"),
        ("07400 123456 / 07400 654321", "the cell holds 2 phone numbers"),
        ("07400 123456 or 07400 654321", "the cell holds 2 phone numbers"),
    ],
)
def test_placeholders_are_no_phone_and_unclear_cells_are_refused(cell: str, reason: str) -> None:
    with pytest.raises(PhoneError, match=reason):
        read_phone(cell, "GB")


def test_a_pipedrive_cell_creates_its_first_number_with_a_note(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    source = write_csv(
        tmp_path / "people.csv",
        ["Person - Name", "Person - Phone", "Person - Email"],
        [
            ["Ann", "+44 7400 123456, +44 7400 654321", "ann@example.com"],
            ["Bo", "+44 7400 111222", "bo@example.com"],
        ],
    )
    output = tmp_path / "people.results.csv"
    ran = run_cli(source, "--list", "Promo", "--base-url", server.url, "--output", output,
                  "--journal-dir", tmp_path / "journals", env=KEY)  # fmt: skip
    assert ran.code == 0, ran.stderr
    first, second = outcomes(output)
    assert (first["status"], first["phone_normalized"]) == ("created", "447400123456")
    assert (
        first["error"] == "the cell also holds +44 7400 654321 (only its first number is imported)"
    )
    assert second["status"] == "created" and second["error"] == ""
    assert set(phones_in(sandbox)) == {447400123456, 447400111222}


def test_google_cells_line_breaks_and_placeholders_through_the_command(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "contacts.csv",
        ["Name", "Phone 1 - Label", "Phone 1 - Value"],
        [
            ["Ann", "Mobile ::: Work", "+1 201-555-0123 ::: +1 212-555-0199"],
            ["Bo", "Mobile", "(415) 555-0132\n(650) 253-0000"],
            ["Cy", "", "-"],
            ["Di", "", "n/a"],
            ["Ed", "", "\u2014"],
            ["Fy", "Work", "030/1234567"],  # a German number in a US file: one number, invalid
        ],
    )
    output = tmp_path / "contacts.results.csv"
    ran = dry(source, output, "--default-region", "US")
    got = outcomes(output)
    assert [r["phone_normalized"] for r in got] == ["12015550123", "14155550132", "", "", "", ""]
    assert [r["status"] for r in got] == ["validated"] * 2 + ["invalid"] * 4
    assert "+1 212-555-0199" in got[0]["error"] and "(650) 253-0000" in got[1]["error"]
    assert [r["error"] for r in got[2:5]] == ["no phone number"] * 3
    assert got[5]["error"].startswith("'030/1234567' is not a valid US number")
    assert ran.code == 1


def test_a_placeholder_in_the_first_phone_column_falls_back_to_the_next(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "crm.csv", ["Name", "Mobile", "Phone"], [["Ann", "-", "07400 123456"]]
    )
    output = tmp_path / "crm.results.csv"
    dry(source, output, "--default-region", "GB", "--phone-column", "Mobile",
        "--phone-column", "Phone")  # fmt: skip
    assert [r["phone_normalized"] for r in outcomes(output)] == ["447400123456"]


def test_the_tools_own_csv_results_import_again(tmp_path: Path) -> None:
    """The formula guard writes '+91…; that file imported as it is gives the same phones."""
    phones = [f"+9180808080{n:02d}" for n in range(25)]
    source = write_csv(
        tmp_path / "contacts.csv",
        ["id", "first_name", "phone_number"],
        [[str(n), f"N{n}", p if n % 2 else p[1:]] for n, p in enumerate(phones)],
    )
    first = tmp_path / "first.results.csv"
    dry(source, first)
    header, rows = table(first)
    assert rows[1][header.index("phone_number")] == "'+918080808001"  # text, not a formula
    again = tmp_path / "again.results.csv"
    ran = dry(first, again)
    assert ran.code == 0, ran.stderr
    assert [r["phone_normalized"] for r in outcomes(again)] == [p[1:] for p in phones]
    assert {r["status"] for r in outcomes(again)} == {"validated"}


@pytest.mark.skipif(
    not REALWORLD.is_dir(), reason=f"{REALWORLD} is not here (it is beside the project in CI)"
)
def test_chatwoots_export_reads_back_from_its_csv_results(tmp_path: Path) -> None:
    first = tmp_path / "chatwoot.results.csv"
    dry(REALWORLD / "chatwoot_contacts.csv", first)
    again = tmp_path / "again.results.csv"
    ran = dry(first, again)
    assert ran.code == 0, ran.stderr
    assert [r["phone_normalized"] for r in outcomes(again)] == [
        r["phone_normalized"] for r in outcomes(first)
    ]
    assert len(outcomes(again)) == 25 and {r["status"] for r in outcomes(again)} == {"validated"}
