"""The pandas API: import_frame runs a DataFrame through the stages a file goes through."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from importer import ImportResult, InputError, UsageError, import_frame, read_results
from importer.models import RESULT_COLUMNS

from ..conftest import sheet_rows
from ..helpers import SAMPLE_XLSX, phones_in, run_cli, state_of, ukrainian_mobiles

PHONES = ukrainian_mobiles(4)
#: What a row's outcome is, whichever order the concurrent creates gave out contact IDs in.
OUTCOME = ("source_row", "phone_normalized", "status", "error")


def _command_outcomes(source: Path, tmp_path: Path) -> list[tuple[Any, ...]]:
    """The command on the file, against the built-in sandbox: each row's outcome."""
    output = tmp_path / "by-command.results.xlsx"
    ran = run_cli(source, "--list", "Promo", "--default-region", "UA", "--sandbox",
                  "--output", output)  # fmt: skip
    assert ran.code in (0, 1), ran.stderr
    return [tuple(row[c] for c in OUTCOME) for row in sheet_rows(output)]


def _frame_outcomes(result: ImportResult) -> list[tuple[Any, ...]]:
    rows = result.frame()[list(OUTCOME)].astype(object).to_numpy().tolist()
    return [tuple(None if pd.isna(v) else v for v in row) for row in rows]


def _import(frame: pd.DataFrame, tmp_path: Path, **options: Any) -> ImportResult:
    output = tmp_path / "frame.results.xlsx"
    return import_frame(frame, list_name="Promo", output=output, **options)


def test_the_sample_read_by_pandas_gives_what_the_command_gives(tmp_path: Path) -> None:
    frame = pd.read_excel(SAMPLE_XLSX, engine="calamine")
    result = _import(frame, tmp_path, default_region="UA", sandbox=True)
    expected = _command_outcomes(SAMPLE_XLSX, tmp_path)
    assert _frame_outcomes(result) == expected
    assert result.summary.counts["created"] == 45 and result.summary.exit_code == 1
    assert [row[2] for row in expected].count("invalid") == 2
    ids = result.frame().set_index("source_row")["contact_id"]
    assert ids[14] == ids[2] and ids.notna().sum() == 46  # the duplicate has its first's ID


def test_a_frame_built_by_hand_gives_what_the_command_gives_for_it(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "First Name": ["Taras", "Olena", None, "Andriy", "Iryna"],
            "Phone": ["+380 50 123 4567", "050-234-56-78", None, "12345", "+380 50 123 4567"],
            "Birthday": pd.to_datetime(["1990-03-09", None, None, "1979-01-30", "1992-07-14"]),
        }
    )
    source = tmp_path / "by-hand.xlsx"
    frame.to_excel(source, index=False, engine="openpyxl")
    result = _import(frame, tmp_path, default_region="UA", sandbox=True)
    assert _frame_outcomes(result) == _command_outcomes(source, tmp_path)
    assert [o[2] for o in _frame_outcomes(result)] == ["created", "created", "invalid", "duplicate"]


def test_results_frame_keeps_the_input_columns_index_and_dtypes(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"Phone": pd.array([PHONES[0], None, PHONES[1]], dtype="Int64"), "Score": [1.5, 2, 3]},
        index=pd.Index(["a", "b", "c"], name="key"),
    )
    result = _import(frame, tmp_path, dry_run=True, default_region="UA")
    results = result.frame()
    assert list(results.columns) == ["Phone", "Score", *RESULT_COLUMNS]
    assert list(results.index) == ["a", "b", "c"] and results.index.name == "key"
    assert results["Phone"].dtype == "Int64" and results["Score"].dtype == "float64"
    for name in ("source_row", "phone_normalized", "contact_id"):
        assert results[name].dtype == "Int64"
    assert results["status"].tolist() == ["validated", "invalid", "validated"]
    assert results["phone_normalized"].tolist()[::2] == PHONES[:2]


def test_an_integer_phone_column_keeps_every_digit(tmp_path: Path) -> None:
    british = 447400123456  # 12 digits: a float would show it as 4.474E+11
    frame = pd.DataFrame({"Phone": np.array([british, PHONES[0]], dtype="int64")})
    results = _import(frame, tmp_path, dry_run=True).frame()
    assert results["phone_normalized"].tolist() == [british, PHONES[0]]
    assert results["status"].tolist() == ["validated", "validated"]


def test_a_float_column_that_lost_digits_is_reported_as_the_reader_reports_it(
    tmp_path: Path,
) -> None:
    # What pandas makes of a CSV cell "3.80501E+11", and of an int column with a gap.
    frame = pd.DataFrame(
        {"Phone": [3.80501e11, float(PHONES[0]), np.nan, 380501234567.5], "Name": list("abcd")}
    )
    results = _import(frame, tmp_path, dry_run=True).frame()
    assert results["status"].tolist() == ["invalid", "validated", "invalid", "invalid"]
    errors = results["error"].tolist()
    assert errors[0].startswith("'3.80501E+11' is in scientific notation: Excel rounded")
    assert results["phone_normalized"].tolist()[1] == PHONES[0]
    assert errors[2] == "no phone number"
    assert "holds a fraction" in errors[3]


def test_datetimes_go_to_a_date_field_and_na_is_an_empty_cell(tmp_path: Path, sandbox: Any) -> None:
    frame = pd.DataFrame(
        {
            "Phone": [f"+{p}" for p in PHONES[:3]],
            "Birthday": pd.to_datetime(["1990-11-22 00:00", None, "2001-05-05 13:30"]),
            "City": pd.array(["Kyiv", pd.NA, None], dtype="string"),
        }
    )
    result = _import(frame, tmp_path, api_key="live_sandbox", transport=sandbox.transport())
    assert result.summary.counts["created"] == 3
    state = state_of(sandbox)
    names = {f["id"]: f["name"] for f in state["fields"]}
    values = {
        c["phone"]: {names[int(k)]: v for k, v in c["fields"].items()} for c in state["contacts"]
    }
    assert values[PHONES[0]] == {"Birthday": "1990-11-22", "City": "Kyiv"}
    assert values[PHONES[1]] == {}
    assert values[PHONES[2]] == {"Birthday": "2001-05-05"}


def test_a_rerun_of_the_same_frame_resumes_from_its_journal(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    frame = pd.DataFrame({"Phone": [f"+{p}" for p in PHONES], "City": ["Kyiv"] * 4})
    options = {"base_url": server.url, "api_key": "live_sandbox", "journal_dir": tmp_path / "j"}
    first = _import(frame, tmp_path, **options).frame()
    again = _import(frame.copy(), tmp_path, **options).frame()
    assert again["status"].tolist() == ["created"] * 4  # from the journal: not sent again
    assert again["contact_id"].tolist() == first["contact_id"].tolist()
    changed = frame.assign(City=["Lviv"] * 4)  # another content: another journal
    assert _import(changed, tmp_path, **options).frame()["status"].tolist() == ["existing"] * 4
    assert sorted(phones_in(sandbox)) == sorted(PHONES)


def test_a_frame_without_a_phone_column_is_refused_as_a_file_is(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"DataFrame: no phone column among 'Name', 'City'"):
        _import(pd.DataFrame({"Name": ["a"], "City": ["b"]}), tmp_path, dry_run=True)


def test_file_only_and_unknown_options_are_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame({"Phone": [f"+{PHONES[0]}"]})
    with pytest.raises(UsageError, match="sheet"):
        _import(frame, tmp_path, dry_run=True, sheet="Contacts")
    with pytest.raises(UsageError, match="colour"):
        _import(frame, tmp_path, dry_run=True, colour="red")


def test_read_results_reads_xlsx_and_csv_alike(tmp_path: Path) -> None:
    source = tmp_path / "contacts.xlsx"
    shutil.copy(SAMPLE_XLSX, source)
    for output in ("r.xlsx", "r.csv"):
        ran = run_cli(source, "--list", "Promo", "--default-region", "UA", "--sandbox",
                      "--output", tmp_path / output)  # fmt: skip
        assert ran.code == 1, ran.stderr
    xlsx, csv = read_results(tmp_path / "r.xlsx"), read_results(tmp_path / "r.csv")
    assert list(xlsx.columns) == list(csv.columns)
    pd.testing.assert_frame_equal(xlsx[list(OUTCOME)], csv[list(OUTCOME)])
    results = list(RESULT_COLUMNS)
    assert list(xlsx[results].dtypes) == list(csv[results].dtypes)
    assert xlsx["contact_id"].notna().sum() == csv["contact_id"].notna().sum() == 46
    assert xlsx["Birthday"].iloc[0] == pd.Timestamp(dt.date(1990, 3, 9))
    assert csv["Birthday"].iloc[0] == "1990-03-09"
    assert xlsx["phone_normalized"].dtype == "Int64" and xlsx["status"].dtype == "string"


def test_read_results_refuses_what_bsg_import_did_not_write(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_results(tmp_path / "missing.xlsx")
    with pytest.raises(InputError, match="not a results workbook of bsg-import"):
        read_results(SAMPLE_XLSX)
    other = tmp_path / "other.csv"
    other.write_text("Phone,Name\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a results file of bsg-import"):
        read_results(other)
