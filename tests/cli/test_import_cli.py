"""End to end through the command line: files in, contacts in the sandbox, workbooks out.

A test of what the person sees and the exit code runs the command in this process
(``invoke_cli``); the others run it as a real process (``run_cli``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..conftest import sheet_rows
from ..helpers import (
    SAMPLE_CSV,
    SAMPLE_XLSX,
    invoke_cli,
    phones_in,
    run_cli,
    state_of,
    ukrainian_mobiles,
    write_contacts_csv,
)

KEY = {"BSG_API_KEY": "live_sandbox"}
SUMMARY = re.compile(
    r"^Promo \(#\d+\): \d+ created, \d+ existing, \d+ duplicate, \d+ invalid, \d+ failed, "
    r"\d+ skipped in [\d.ms]+ -> .+$"
)


def journal_flags(tmp_path: Path) -> list[str]:
    return ["--journal-dir", str(tmp_path / "journals")]


def test_sample_workbook_into_the_builtin_sandbox(tmp_path: Path) -> None:
    output = tmp_path / "sample.results.xlsx"
    ran = run_cli(
        SAMPLE_XLSX, "--list", "Promo", "--default-region", "UA", "--sandbox", "--output", output
    )
    assert ran.code == 1, ran.stderr  # two rows of the sample are invalid
    assert SUMMARY.match(ran.last_line), ran.last_line
    assert "45 created, 0 existing, 1 duplicate, 2 invalid, 0 failed, 0 skipped" in ran.last_line
    rows = sheet_rows(output)
    assert len(rows) == 48  # 49 lines under the header, one of them empty
    by_row = {r["source_row"]: r for r in rows}
    assert 17 not in by_row  # the empty row
    first = by_row[2]
    assert first["First Name"] == "Taras" and first["Phone"] == "+380 50 123 4567"
    assert first["phone_normalized"] == 380501234567 and first["status"] == "created"
    assert isinstance(first["contact_id"], int)
    assert by_row[5]["phone_normalized"] == 380634567890  # an Excel number cell
    assert by_row[12]["phone_normalized"] == 380501112233  # lost leading zero
    duplicate = by_row[14]
    assert duplicate["status"] == "duplicate" and duplicate["contact_id"] == first["contact_id"]
    assert by_row[15]["status"] == "invalid" and "too short" in by_row[15]["error"]
    assert by_row[15]["phone_normalized"] is None
    assert by_row[37]["status"] == "invalid" and "not a phone number" in by_row[37]["error"]
    assert by_row[21]["phone_normalized"] == 380505556677  # the extension was dropped
    errors = sheet_rows(output, "Errors")
    assert [r["Phone"] for r in errors] == ["12345", "not known"]
    assert list(errors[0]) == ["First Name", "Phone", "City", "Birthday", "Email", "error"]


def test_clean_file_against_a_real_server(tmp_path: Path, server: Any, sandbox: Any) -> None:
    phones = ukrainian_mobiles(60)
    source = write_contacts_csv(tmp_path / "clean.csv", phones)
    ran = run_cli(
        source, "--list", "Promo", "--base-url", server.url, *journal_flags(tmp_path), env=KEY
    )
    assert ran.code == 0, ran.stderr
    assert SUMMARY.match(ran.last_line) and "60 created" in ran.last_line
    rows = sheet_rows(tmp_path / "clean.results.xlsx")
    in_book = phones_in(sandbox)
    assert [r["phone_normalized"] for r in rows] == phones
    assert all(r["status"] == "created" for r in rows)
    assert {r["phone_normalized"]: r["contact_id"] for r in rows} == in_book
    state = state_of(sandbox)
    [promo] = state["groups"]
    assert all(c["groups"] == [promo["id"]] for c in state["contacts"])
    fields = {f["name"]: f["id"] for f in state["fields"]}
    first = next(c for c in state["contacts"] if c["phone"] == phones[0])
    assert first["fields"] == {fields["First Name"]: "Name 0", fields["City"]: "Kyiv"}


def test_rerun_resumes_and_sends_nothing_new(tmp_path: Path, server: Any, sandbox: Any) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(20))
    args = [source, "--list", "Promo", "--base-url", server.url, *journal_flags(tmp_path)]
    first = run_cli(*args, env=KEY)
    first_rows = sheet_rows(tmp_path / "c.results.xlsx")
    before = len(state_of(sandbox)["log"])
    again = run_cli(*args, env=KEY)
    assert first.code == again.code == 0
    creates = [e for e in state_of(sandbox)["log"][before:] if e["path"] == "/api/contacts"]
    assert creates == []
    assert sheet_rows(tmp_path / "c.results.xlsx") == first_rows
    assert "20 created" in again.last_line


def test_rerun_without_resume_finds_everything_existing(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    phones = ukrainian_mobiles(25)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    args = [source, "--list", "Promo", "--base-url", server.url, *journal_flags(tmp_path)]
    assert run_cli(*args, env=KEY).code == 0
    created = sheet_rows(tmp_path / "c.results.xlsx")
    ran = run_cli(*args, "--no-resume", env=KEY)
    assert ran.code == 0, ran.stderr
    assert "0 created, 25 existing" in ran.last_line
    rows = sheet_rows(tmp_path / "c.results.xlsx")
    assert [r["status"] for r in rows] == ["existing"] * 25
    assert [r["contact_id"] for r in rows] == [r["contact_id"] for r in created]
    assert sorted(phones_in(sandbox)) == sorted(phones)


def test_json_summary(tmp_path: Path, server: Any) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(5))
    ran = invoke_cli(
        source,
        "--list",
        "Promo",
        "--base-url",
        server.url,
        "--json",
        *journal_flags(tmp_path),
        env=KEY,
    )
    summary = json.loads(ran.stdout)
    assert {"list_id", "list_name", "counts", "output", "elapsed_s"} <= set(summary)
    assert summary["counts"]["created"] == 5 and summary["list_name"] == "Promo"
    assert summary["output"].endswith("c.results.xlsx")


def test_exit_codes(tmp_path: Path, server: Any) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(3))
    base = ["--list", "Promo", "--base-url", server.url, *journal_flags(tmp_path)]
    missing = invoke_cli(tmp_path / "nope.csv", *base, env=KEY)
    assert missing.code == 2
    assert (
        missing.last_line
        == f"Error: {tmp_path / 'nope.csv'}: no such file; check the name and the folder"
    )
    no_phone = tmp_path / "names.csv"
    no_phone.write_text("Name,City\nTaras,Kyiv\n", encoding="utf-8")
    refused = invoke_cli(no_phone, *base, env=KEY)
    assert (
        refused.code == 2
        and "no phone column" in refused.last_line
        and "'Name', 'City'" in refused.last_line
    )
    wrong_key = invoke_cli(source, *base, env={"BSG_API_KEY": "live_wrong"})
    assert wrong_key.code == 3 and "refused the API key" in wrong_key.last_line
    assert not (tmp_path / "c.results.xlsx").exists()
    unreachable = invoke_cli(
        source, "--list", "Promo", "--base-url", "http://127.0.0.1:9", "--patience", "1", env=KEY
    )
    assert unreachable.code == 3 and "could not reach BSG" in unreachable.last_line
    no_key = invoke_cli(source, "--list", "Promo", "--base-url", server.url)
    assert no_key.code == 2 and "no API key" in no_key.last_line
    plain_http = invoke_cli(
        source, "--list", "Promo", "--base-url", "http://bsg.example.com", env=KEY
    )
    assert plain_http.code == 2 and "plain HTTP" in plain_http.last_line
    assert invoke_cli(source, *base, env=KEY).code == 0


def test_dry_run_without_key_checks_the_file_alone(tmp_path: Path) -> None:
    output = tmp_path / "dry.xlsx"
    ran = run_cli(
        SAMPLE_CSV, "--list", "Promo", "--default-region", "UA", "--dry-run", "--output", output
    )
    assert ran.code == 1, ran.stderr
    assert "45 validated" in ran.last_line and "(not created)" in ran.last_line
    statuses = [r["status"] for r in sheet_rows(output)]
    assert statuses.count("validated") == 45 and statuses.count("invalid") == 2


def test_dry_run_with_key_reads_but_never_writes(tmp_path: Path, server: Any, sandbox: Any) -> None:
    phones = ukrainian_mobiles(10)
    base = ["--list", "Promo", "--base-url", server.url, *journal_flags(tmp_path)]
    run_cli(write_contacts_csv(tmp_path / "first.csv", phones[:4]), *base, env=KEY)
    before = len(state_of(sandbox)["log"])
    output = tmp_path / "dry.xlsx"
    ran = run_cli(
        write_contacts_csv(tmp_path / "c.csv", phones),
        *base,
        "--dry-run",
        "--output",
        output,
        env=KEY,
    )
    assert ran.code == 0, ran.stderr
    writes = [
        e
        for e in state_of(sandbox)["log"][before:]
        if e["method"] != "GET" and e["path"] != "/api/auth/login"
    ]
    assert writes == []
    statuses = [r["status"] for r in sheet_rows(output)]
    assert statuses == ["existing"] * 4 + ["validated"] * 6


def test_the_input_is_never_written_over(tmp_path: Path) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(3))
    before = source.read_bytes()
    for output in (source, tmp_path / "." / "c.csv"):
        ran = run_cli(source, "--list", "Promo", "--dry-run", "--output", output)
        assert ran.code == 2
        assert "is the input file; choose another name" in ran.last_line
        assert source.read_bytes() == before
