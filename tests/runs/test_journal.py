"""The journal: what survives a run, and what the next run decides afresh."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from importer.journal import Journal, decode_cells, encode_cells, import_key
from importer.models import RowOutcome, SourceRow, Status

NOT_SENT = "not sent"


def test_cells_round_trip() -> None:
    cells = (
        "0501234567",
        380501234567,
        12.5,
        True,
        None,
        dt.date(1990, 3, 9),
        dt.datetime(2026, 1, 2, 3, 4, 5),
        dt.time(10, 30),
        "Олена",
    )
    assert decode_cells(encode_cells(cells)) == cells


def test_only_confirmed_outcomes_carry_over(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        journal.add((SourceRow(n, (f"row{n}",)), 100 + n) for n in range(2, 8))
        journal.sending([2, 3, 4, 5, 6])
        journal.record(
            [
                RowOutcome(2, Status.CREATED, 102, 1),
                RowOutcome(3, Status.EXISTING, 103, 2),
                RowOutcome(4, Status.FAILED, 104, error="BSG answered 500, even after retrying"),
                RowOutcome(7, Status.INVALID, None, error="bad"),
            ]
        )
    with Journal(path) as journal:  # the next run
        journal.forget_unconfirmed()
        assert journal.carried_over() == {2: "done", 3: "done", 5: "sending", 6: "sending"}
        results = {o.source_row: o for _, o in journal.results(NOT_SENT)}
    assert results[2].contact_id == 1 and results[3].status is Status.EXISTING
    assert results[4].status is Status.FAILED and results[4].error == NOT_SENT
    assert results[7].error == NOT_SENT  # invalid rows are decided again by the next run


def test_results_are_in_input_order_and_duplicates_carry_the_first_id(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.add((SourceRow(n, (str(n),)), 100) for n in (5, 2, 9))
        journal.record(
            [
                RowOutcome(9, Status.DUPLICATE, 100, duplicate_of=2),
                RowOutcome(5, Status.DUPLICATE, 100, duplicate_of=2),
                RowOutcome(2, Status.CREATED, 100, 77),
            ]
        )
        rows = [(cells, o.status, o.contact_id) for cells, o in journal.results(NOT_SENT)]
    assert rows == [
        (("2",), Status.CREATED, 77),
        (("5",), Status.DUPLICATE, 77),
        (("9",), Status.DUPLICATE, 77),
    ]


def test_the_key_separates_files_lists_and_services() -> None:
    keys = {
        import_key("hash", "Promo", "https://one-api.bsg.world"),
        import_key("hash", "Promo", "https://one-api.bsg.world/"),
        import_key("hash2", "Promo", "https://one-api.bsg.world"),
        import_key("hash", "Promo 2", "https://one-api.bsg.world"),
        import_key("hash", "Promo", "http://127.0.0.1:8080"),
    }
    assert len(keys) == 4
