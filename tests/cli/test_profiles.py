"""Profiles: saved as the TOML --config reads, used with --profile on import and inbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from importer.errors import UsageError
from importer.profiles import list_profiles, load_profile, profile_path, save_profile
from importer.settings import Settings, load_config, resolve

from ..conftest import sheet_rows
from ..helpers import SAMPLE_XLSX, run_cli, state_of, ukrainian_mobiles, write_contacts_csv

KEY = {"BSG_API_KEY": "live_sandbox"}


def promo(**changes: Any) -> Settings:
    values: dict[str, Any] = {
        "file": "/data/contacts.xlsx",
        "list": 'Promo "Spring"',
        "phone-column": "Phone",
        "map": {"Ім'я": "First Name", "Town": "City"},
        "skip-columns": ["Email"],
        "default-region": "UA",
        "on-existing": "update",
        "create-fields": True,
        "date-order": "mdy",
        "concurrency": 4,
        **changes,
    }
    return resolve(values, {}, {})


def test_a_saved_profile_reads_back_as_the_same_settings(tmp_path: Path) -> None:
    path = save_profile("Nightly promo", promo(), tmp_path)
    assert path == tmp_path / "Nightly promo.toml"
    text = path.read_text(encoding="utf-8")
    assert "data" not in text and "concurrency" not in text  # only what fits every file
    assert 'list = "Promo \\"Spring\\""' in text and "[field-map]" in text
    profile = load_profile("Nightly promo", tmp_path)
    again = resolve({"file": "/other.csv"}, {}, {}, profile=profile.values)
    expected = promo()
    for name in ("list_name", "phone_column", "field_map", "skip_columns", "create_fields",
                 "default_region", "on_existing", "date_order"):  # fmt: skip
        assert getattr(again, name) == getattr(expected, name), name
    # The same file works as --config.
    assert resolve({"file": "x.csv"}, load_config(path), {}).field_map == expected.field_map
    assert [p.name for p in list_profiles(tmp_path)] == ["Nightly promo"]


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "", "x" * 65, "a\\b", "con\n"])
def test_a_name_that_could_be_a_path_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError, match="profile name"):
        profile_path(name, tmp_path)


def test_fits_a_header_naming_every_column_it_maps(tmp_path: Path) -> None:
    save_profile("p", promo(), tmp_path)
    profile = load_profile("p", tmp_path)
    assert profile.fits(["phone", "ім'я", "TOWN", "email", "Extra"])
    assert not profile.fits(["Phone", "Town", "Email"])


def test_unknown_profile_names_the_saved_ones(tmp_path: Path) -> None:
    save_profile("Weekly", promo(), tmp_path)
    with pytest.raises(UsageError, match=r"no profile named 'Daily' \(saved profiles: Weekly"):
        load_profile("Daily", tmp_path)


def test_import_with_a_profile(tmp_path: Path, server: Any, sandbox: Any) -> None:
    settings = resolve(
        {"file": "x", "list": "Profiled", "skip-columns": ["City"], "default-region": "UA"},
        {},
        {},
    )
    save_profile("sample", settings)  # in XDG_CONFIG_HOME, as the command finds it
    output = tmp_path / "out.xlsx"
    ran = run_cli(
        SAMPLE_XLSX, "--profile", "sample", "--base-url", server.url, "--output", output,
        "--journal-dir", tmp_path / "j", "--json", env=KEY,
    )  # fmt: skip
    assert ran.code == 1, ran.stderr  # the sample's two invalid rows
    summary = json.loads(ran.stdout)
    assert summary["list_name"] == "Profiled" and summary["counts"]["created"] == 45
    contacts = state_of(sandbox)["contacts"]
    city = next(f["id"] for f in state_of(sandbox)["fields"] if f["name"] == "City")
    assert contacts and all(str(city) not in map(str, c["fields"]) for c in contacts)
    assert sheet_rows(output)[0]["status"] == "created"


def test_a_flag_wins_over_the_profile_and_a_missing_profile_exits_2(
    tmp_path: Path, server: Any
) -> None:
    save_profile("sample", resolve({"file": "x", "list": "Profiled"}, {}, {}))
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(3))
    common = ["--base-url", server.url, "--journal-dir", tmp_path / "j", "--json"]
    ran = run_cli(source, "--profile", "sample", "--list", "Flagged", *common, env=KEY)
    assert ran.code == 0 and json.loads(ran.stdout)["list_name"] == "Flagged", ran.stderr
    ran = run_cli(source, "--profile", "nope", *common, env=KEY)
    assert ran.code == 2 and "no profile named 'nope' (saved profiles: sample)" in ran.stderr


def test_inbox_with_a_profile(tmp_path: Path, server: Any, sandbox: Any) -> None:
    save_profile("nightly", resolve({"file": "x", "list": "Nightly"}, {}, {}))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_contacts_csv(inbox / "c.csv", ukrainian_mobiles(4))
    ran = run_cli(
        "inbox", inbox, "--profile", "nightly", "--base-url", server.url,
        "--journal-dir", tmp_path / "j", env=KEY,
    )  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert [g["name"] for g in state_of(sandbox)["groups"]] == ["Nightly"]
    assert (inbox / "done" / "c.csv").exists()
