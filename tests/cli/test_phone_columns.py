"""--phone-column, repeatable: one list through flags, config file, profile and the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.errors import UsageError
from importer.profiles import load_profile, save_profile
from importer.settings import load_config, resolve

from ..helpers import run_cli

BASE = {"file": "c.csv", "list_name": "Promo"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Mobile", ("Mobile",)), (["Mobile", "Phone"], ("Mobile", "Phone")), ([], ())],
)
def test_one_name_or_a_list_from_any_layer(value: object, expected: tuple[str, ...]) -> None:
    assert resolve({**BASE, "phone-column": value}, {}, {}).phone_column == expected
    assert resolve(BASE, {"phone-column": value}, {}).phone_column == expected
    assert resolve(BASE, {}, {}, profile={"phone_column": value}).phone_column == expected


def test_a_list_of_other_things_is_refused() -> None:
    with pytest.raises(UsageError, match=r"phone-column = \[1\] is not a list"):
        resolve(BASE, {"phone-column": [1]}, {})


def test_a_profile_keeps_the_order_and_fits_a_header_with_all(tmp_path: Path) -> None:
    settings = resolve({**BASE, "phone-column": ["Mobile", "Phone"]}, {}, {})
    path = save_profile("two", settings, tmp_path)
    assert 'phone-column = ["Mobile", "Phone"]' in path.read_text(encoding="utf-8")
    assert resolve(BASE, load_config(path), {}).phone_column == ("Mobile", "Phone")
    profile = load_profile("two", tmp_path)
    assert profile.fits(["phone", "MOBILE", "Name"]) and not profile.fits(["Mobile", "Name"])


def test_a_named_column_that_is_not_there_names_it(tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    source.write_text("Name,Mobile\nAnn,+44 7400 123456\n", encoding="utf-8")
    ran = run_cli(source, "--list", "Promo", "--dry-run", "--phone-column", "Mobile",
                  "--phone-column", "Cell")  # fmt: skip
    assert ran.code == 2
    assert ran.last_line == (
        f"Error: {source}: no column is headed 'Cell'; its columns are 'Name', 'Mobile': "
        "check --phone-column"
    )
