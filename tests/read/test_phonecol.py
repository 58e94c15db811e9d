"""Which phone column the cells show, case by case (read/phonecol.py)."""

from __future__ import annotations

import pytest

from importer.models import Cell
from importer.read.phonecol import candidates, choose

VALID = [
    "+44 7400 123456",
    "+44 7400 654321",
    "+44 7400 111222",
    "+44 7400 333444",
    "+44 7400 555666",
]
JUNK = "123456789"  # phone-like, valid nowhere


def _pick(columns: dict[str, list[Cell]], region: str | None = None) -> tuple[str, list[str]]:
    names = list(columns)
    rows = list(zip(*columns.values(), strict=True))
    index, notes = choose(names, candidates(names), rows, region)
    return names[index], notes


@pytest.mark.parametrize(
    ("columns", "chosen"),
    [
        # a label column that names a mobile holds words: never the phone
        ({"Mobile Type": ["Cell"] * 5, "Phone": VALID}, "Phone"),
        # a mobile column with about as many valid numbers as the best wins...
        ({"Phone": VALID, "Mobile": [*VALID[:4], ""]}, "Mobile"),
        # ...one with far fewer does not
        ({"Phone": VALID, "Mobile": [VALID[0], "", "", "", ""]}, "Phone"),
        # junk beside real numbers: the column with the valid ones
        ({"Phone": [JUNK] * 5, "Work Phone": [*VALID[:3], "", ""]}, "Work Phone"),
        # nothing valid anywhere: a mobile one among those holding numbers
        ({"Phone": [JUNK] * 5, "Handy": [JUNK] * 2 + [""] * 3}, "Handy"),
        # short junk in the mobile column is no phone at all (civicrm's 99-888)
        ({"Phone": ["999-4445"] + [""] * 4, "Mum-home-mobile": ["99-888"] + [""] * 4}, "Phone"),
        # every phone empty: not the column of labels
        ({"Phone 1 - Label": ["Mobile", "Work", "", "", ""], "Phone 1 - Value": [""] * 5},
         "Phone 1 - Value"),
        ({"Мобільний": VALID, "Телефон": VALID}, "Мобільний"),
    ],
)  # fmt: skip
def test_the_cells_decide(columns: dict[str, list[Cell]], chosen: str) -> None:
    assert _pick(columns)[0] == chosen


def test_national_numbers_count_under_the_region_only() -> None:
    columns: dict[str, list[Cell]] = {"Phone": ["415659874"] * 3, "Mobile": ["4157654321", "", ""]}
    assert _pick(columns, "US") == ("Mobile", ["phone column 'Mobile' used; other phone "
                                               "columns: 'Phone' (choose with --phone-column, "
                                               "more than once for a fallback)"])  # fmt: skip


def test_each_row_is_weighed_under_its_own_country() -> None:
    columns: dict[str, list[Cell]] = {
        "Phone": ["030 1234567", "0664 123456", "089 1234567"],
        "Mobile": ["12345678", "", "87654321"],
        "billing_country": ["DE", "Austria", "de"],
    }
    names = list(columns)
    rows = list(zip(*columns.values(), strict=True))
    assert names[choose(names, candidates(names), rows, None)[0]] == "Phone"
    # --region-column none: no row has a country, nothing is valid, the mobile one wins
    assert names[choose(names, candidates(names), rows, None, "none")[0]] == "Mobile"
    assert names[choose(names, candidates(names), rows, None, "billing_country")[0]] == "Phone"
