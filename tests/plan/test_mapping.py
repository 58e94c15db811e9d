"""Columns to custom fields, and what happens to contacts that already exist, end to end."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from ..conftest import sheet_rows
from ..helpers import run_cli, state_of, ukrainian_mobiles

KEY = {"BSG_API_KEY": "live_sandbox"}
PHONES = ukrainian_mobiles(3)


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _import(tmp_path: Path, server: Any, source: Path, *flags: str) -> Any:
    return run_cli(
        source, "--list", "Promo", "--base-url", server.url,
        "--journal-dir", tmp_path / "journals", "--no-resume", *flags, env=KEY,
    )  # fmt: skip


def _values(sandbox: Any) -> dict[int, dict[str, str]]:
    """phone -> {field name: value} for every contact."""
    state = state_of(sandbox)
    names = {f["id"]: f["name"] for f in state["fields"]}
    return {
        c["phone"]: {names[int(k)]: v for k, v in c["fields"].items()} for c in state["contacts"]
    }


def test_columns_match_fields_ignoring_case_and_spacing(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    source = _csv(
        tmp_path / "c.csv",
        ["Phone", "first  name", "CITY", "Birthday", "Score", "Notes"],
        [
            [f"+{PHONES[0]}", "Taras", "Kyiv", "22.11.1990", "7", "vip"],
            [f"+{PHONES[1]}", "Olena", "Lviv", "1990-11-23", "8", ""],
        ],
    )
    ran = _import(tmp_path, server, source)
    assert ran.code == 0, ran.stderr
    assert ran.stderr.count("columns not sent") == 1
    assert "'Score', 'Notes'" in ran.stderr
    values = _values(sandbox)
    assert values[PHONES[0]] == {"First Name": "Taras", "City": "Kyiv", "Birthday": "1990-11-22"}
    assert values[PHONES[1]] == {"First Name": "Olena", "City": "Lviv", "Birthday": "1990-11-23"}
    assert sorted(f["name"] for f in state_of(sandbox)["fields"]) == [
        "Birthday", "City", "First Name",
    ]  # fmt: skip


def test_map_sends_a_column_to_a_field_of_another_name(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    source = _csv(tmp_path / "c.csv", ["Телефон", "Місто"], [[f"+{PHONES[0]}", "Київ"]])
    ran = _import(tmp_path, server, source, "--map", "Місто=City")
    assert ran.code == 0, ran.stderr
    assert _values(sandbox)[PHONES[0]] == {"City": "Київ"}
    missing = _import(tmp_path, server, source, "--map", "Town=City")
    assert missing.code == 2
    assert "--map Town=City" in missing.last_line and "no column 'Town'" in missing.last_line
    assert "'Телефон', 'Місто'" in missing.last_line


def test_create_fields_infers_the_types(tmp_path: Path, server: Any, sandbox: Any) -> None:
    source = _csv(
        tmp_path / "c.csv",
        ["Phone", "Score", "Joined", "Notes"],
        [
            [f"+{PHONES[0]}", "12,5", "01.02.2020", "vip"],
            [f"+{PHONES[1]}", "3", "2021-03-04", "=1+1"],
        ],
    )
    ran = _import(tmp_path, server, source, "--create-fields")
    assert ran.code == 0, ran.stderr
    kinds = {f["name"]: f["type"] for f in state_of(sandbox)["fields"]}
    assert {k: kinds[k] for k in ("Score", "Joined", "Notes")} == {
        "Score": "number", "Joined": "date", "Notes": "text",
    }  # fmt: skip
    values = _values(sandbox)
    assert values[PHONES[0]] == {"Score": "12.5", "Joined": "2020-02-01", "Notes": "vip"}
    assert values[PHONES[1]] == {"Score": "3", "Joined": "2021-03-04", "Notes": "=1+1"}


def test_bad_values_reject_the_row_or_are_left_out(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    rows = [[f"+{PHONES[0]}", "22.11.1990"], [f"+{PHONES[1]}", "next Tuesday"]]
    source = _csv(tmp_path / "c.csv", ["Phone", "Birthday"], rows)
    rejected = _import(tmp_path, server, source)
    assert rejected.code == 1
    results = sheet_rows(tmp_path / "c.results.xlsx")
    assert [r["status"] for r in results] == ["created", "invalid"]
    assert "Birthday" in results[1]["error"] and "next Tuesday" in results[1]["error"]
    assert PHONES[1] not in _values(sandbox)

    dropped = _import(tmp_path, server, source, "--bad-values", "drop")
    assert dropped.code == 0, dropped.stderr
    results = sheet_rows(tmp_path / "c.results.xlsx")
    assert [r["status"] for r in results] == ["existing", "created"]
    assert "Birthday" in results[1]["error"] and "left out" in results[1]["error"]
    assert _values(sandbox)[PHONES[1]] == {}


@pytest.mark.parametrize(
    ("on_existing", "status", "name", "in_list"),
    [
        ("attach", "existing", "Old", True),
        ("update", "existing", "New", True),
        ("skip", "skipped", "Old", False),
    ],
)
def test_on_existing(
    tmp_path: Path,
    server: Any,
    sandbox: Any,
    on_existing: str,
    status: str,
    name: str,
    in_list: bool,
) -> None:
    with sandbox.account.lock:
        other = sandbox.account.add_group("Other", None, False)
        first_name = next(f.id for f in sandbox.account.fields.values() if f.name == "First Name")
        before = sandbox.account.add_contact(PHONES[0], [other.id], {first_name: "Old"})
    source = _csv(
        tmp_path / "c.csv",
        ["Phone", "First Name"],
        [[f"+{PHONES[0]}", "New"], [f"+{PHONES[1]}", "Fresh"]],
    )
    ran = _import(tmp_path, server, source, "--on-existing", on_existing)
    assert ran.code == 0, ran.stderr
    results = sheet_rows(tmp_path / "c.results.xlsx")
    assert [r["status"] for r in results] == [status, "created"]
    assert results[0]["contact_id"] == before.id
    promo = next(g["id"] for g in state_of(sandbox)["groups"] if g["name"] == "Promo")
    contact = next(c for c in state_of(sandbox)["contacts"] if c["phone"] == PHONES[0])
    assert other.id in contact["groups"]
    assert (promo in contact["groups"]) is in_list
    assert _values(sandbox)[PHONES[0]] == {"First Name": name}
    assert state_of(sandbox)["creates_per_phone"][str(PHONES[0])] == 1


def test_update_leaves_a_field_alone_when_its_cell_is_empty(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    with sandbox.account.lock:
        ids = {f.name: f.id for f in sandbox.account.fields.values()}
        sandbox.account.add_contact(PHONES[0], [], {ids["First Name"]: "Old", ids["City"]: "Lviv"})
    source = _csv(
        tmp_path / "c.csv", ["Phone", "First Name", "City"], [[f"+{PHONES[0]}", "", "Kyiv"]]
    )
    ran = _import(tmp_path, server, source, "--on-existing", "update")
    assert ran.code == 0, ran.stderr
    assert _values(sandbox)[PHONES[0]] == {"First Name": "Old", "City": "Kyiv"}


def test_a_results_workbook_imports_again_without_its_result_columns(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    source = _csv(
        tmp_path / "c.csv",
        ["Phone", "City", "Score"],
        [[f"+{PHONES[0]}", "Kyiv", "1"], ["050 12", "Lviv", "2"]],
    )
    first = _import(tmp_path, server, source, "--default-region", "UA", "--create-fields")
    assert first.code == 1
    fields_before = state_of(sandbox)["fields"]
    again = run_cli(
        tmp_path / "c.results.xlsx", "--list", "Again", "--base-url", server.url,
        "--journal-dir", tmp_path / "journals", "--create-fields", "--sheet", "Results",
        "--output", tmp_path / "again.xlsx", env=KEY,
    )  # fmt: skip
    assert again.code == 1, again.stderr
    assert state_of(sandbox)["fields"] == fields_before  # no field named after a result column
    header = list(sheet_rows(tmp_path / "again.xlsx")[0])
    assert header == ["Phone", "City", "Score", "source_row", "phone_normalized", "status",
                      "contact_id", "hlr_status", "hlr_last_check", "error"]  # fmt: skip
    statuses = [r["status"] for r in sheet_rows(tmp_path / "again.xlsx")]
    assert statuses == ["existing", "invalid"]
