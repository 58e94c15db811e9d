"""flag > config file > environment > default, as one table."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from importer.errors import UsageError
from importer.settings import (
    DEFAULT_BASE_URL,
    Account,
    Settings,
    load_config,
    resolve,
    resolve_account,
)

BASE = {"file": "c.csv", "list_name": "Promo"}


@pytest.mark.parametrize(
    ("flags", "config", "env", "expected"),
    [
        ({}, {}, {}, DEFAULT_BASE_URL),
        ({}, {}, {"BSG_BASE_URL": "https://env"}, "https://env"),
        ({}, {"base_url": "https://file"}, {"BSG_BASE_URL": "https://env"}, "https://file"),
        (
            {"base_url": "https://flag"},
            {"base_url": "https://file"},
            {"BSG_BASE_URL": "https://env"},
            "https://flag",
        ),
        ({"base_url": None}, {"base_url": "https://file"}, {}, "https://file"),
    ],
)
def test_precedence(
    flags: dict[str, Any], config: dict[str, Any], env: dict[str, str], expected: str
) -> None:
    assert resolve({**BASE, **flags}, config, env).base_url == expected


def test_environment_gives_key_and_region() -> None:
    settings = resolve(BASE, {}, {"BSG_API_KEY": "live_secret", "BSG_DEFAULT_REGION": "ua"})
    assert settings.api_key == "live_secret"
    assert settings.default_region == "UA"
    assert "live_secret" not in repr(settings)


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "bsg.toml"
    path.write_text(
        'list-name = "Nightly"\nconcurrency = 8\n[field-map]\n"Імя" = "First Name"\n',
        encoding="utf-8",
    )
    settings = resolve({"file": "c.csv"}, load_config(path), {})
    assert settings.list_name == "Nightly"
    assert settings.concurrency == 8
    assert settings.field_map == (("Імя", "First Name"),)


def test_unknown_config_keys_and_missing_list(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown options: colour"):
        resolve(BASE, {"colour": "red"}, {})
    with pytest.raises(UsageError, match="--list is required"):
        resolve({"file": "c.csv"}, {}, {})


def test_the_account_alone_needs_no_file_nor_list(tmp_path: Path) -> None:
    """undo, hlr-refresh and the page's History call BSG without an input file."""
    path = tmp_path / "bsg.toml"
    path.write_text('list = "Nightly"\nbase-url = "https://file"\nrate = 5\n', encoding="utf-8")
    environment = {"BSG_API_KEY": "live_secret", "BSG_DEFAULT_REGION": "UA"}
    account = resolve_account({"patience": 10}, load_config(path), environment)
    assert account == Account(base_url="https://file", api_key="live_secret", rate=5.0,
                              patience=10.0)  # fmt: skip
    assert type(account) is Account and "live_secret" not in repr(account)
    settings = resolve({"file": "c.csv", "patience": 10}, load_config(path), environment)
    assert (account.api_root, account.key) == (settings.api_root, settings.key)
    with pytest.raises(UsageError, match="unknown options: colour"):
        resolve_account({}, {"colour": "red"}, {})


def test_default_output_is_beside_the_input() -> None:
    settings = Settings(file=Path("/data/contacts.xlsx"), list_name="P")
    assert settings.output_path == Path("/data/contacts.results.xlsx")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"concurrency": "8"}, "concurrency = '8' is not a whole number"),
        ({"on-existing": "replace"}, "on-existing = 'replace' is not 'attach' or 'update' or"),
        ({"create-fields": "yes"}, "create-fields = 'yes' is not true or false"),
        ({"field-map": ["First Name"]}, "field-map = ['First Name'] is not a table"),
        ({"skip-columns": "Email"}, "skip-columns = 'Email' is not a list"),
        ({"rate": True}, "rate = True is not a number"),
    ],
)
def test_a_value_of_the_wrong_type_names_its_key(config: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=f"^the config file: {re.escape(message)}"):
        resolve(BASE, config, {})


def test_every_source_becomes_typed_settings() -> None:
    settings = resolve(
        {"file": "c.csv", "rate": 5, "skip_columns": ("Email",)},
        {"list": "Nightly", "map": {"Імя": "First Name"}, "output-dir": "out"},
        {"BSG_DEFAULT_REGION": "gb"},
        profile={"list": "Promo", "create-fields": True, "date-order": "mdy"},
    )
    assert settings.file == Path("c.csv") and settings.output_dir == Path("out")
    assert settings.rate == 5.0 and isinstance(settings.rate, float)
    assert settings.list_name == "Promo"  # the profile wins over the config file
    assert settings.field_map == (("Імя", "First Name"),)
    assert settings.skip_columns == ("Email",)
    assert (settings.create_fields, settings.date_order, settings.default_region) == (
        True,
        "mdy",
        "GB",
    )
    flag = resolve({**BASE, "list_name": "Flag"}, {}, {}, profile={"list": "Promo"})
    assert flag.list_name == "Flag"
