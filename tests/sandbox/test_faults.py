"""Faults proven against a real server: the results of a faulty run equal those of a clean one."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from importer import Settings, run_import
from importer.sandbox import Faults, Sandbox, serve

from ..conftest import sheet_rows
from ..helpers import phones_in, run_cli, state_of, ukrainian_mobiles, write_contacts_csv

KEY = {"BSG_API_KEY": "live_sandbox"}
ROWS = 2000
FAULTS = Faults(
    error_rate=0.05,
    throttle_rate=0.05,
    retry_after="1",
    commit_then_fail_rate=0.03,
    drop_rate=0.02,
    token_expiry_every=200,
    seed=7,
)


def import_into(
    sandbox: Sandbox, source: Path, tmp_path: Path, *extra: str
) -> tuple[Any, list[dict[str, Any]]]:
    output = tmp_path / f"{source.stem}-{id(sandbox)}.xlsx"
    with serve(sandbox) as server:
        ran = run_cli(
            source,
            "--list",
            "Promo",
            "--base-url",
            server.url,
            "--output",
            output,
            "--journal-dir",
            tmp_path / f"j{id(sandbox)}",
            "--concurrency",
            "32",
            *extra,
            env=KEY,
        )
    return ran, sheet_rows(output)


def comparable(rows: list[dict[str, Any]], sandbox: Sandbox) -> list[tuple[Any, ...]]:
    """Rows as (source_row, phone, status), with each contact ID checked against the sandbox."""
    book = phones_in(sandbox)
    for row in rows:
        if row["contact_id"] is not None:
            assert book[row["phone_normalized"]] == row["contact_id"], row
    return [(r["source_row"], r["phone_normalized"], r["status"]) for r in rows]


def test_faulty_run_ends_like_a_clean_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    phones = ukrainian_mobiles(ROWS)
    source = write_contacts_csv(tmp_path / "c.csv", phones + phones[:10])  # and ten duplicates
    clean, faulty = Sandbox(), Sandbox(FAULTS)
    clean_run, clean_rows = import_into(clean, source, tmp_path)
    faulty_run, faulty_rows = import_into(faulty, source, tmp_path)
    failed = [(r["source_row"], r["error"]) for r in faulty_rows if r["status"] == "failed"]
    assert clean_run.code == faulty_run.code == 0, failed
    assert comparable(faulty_rows, faulty) == comparable(clean_rows, clean)
    assert Counter(r["status"] for r in faulty_rows) == {"created": ROWS, "duplicate": 10}
    assert sorted(phones_in(faulty)) == sorted(phones)
    log = state_of(faulty)["log"]
    answers = Counter(e["status"] for e in log)
    logins = sum(1 for e in log if e["path"] == "/api/auth/login")
    assert answers[429] and answers[500] and answers[401]
    expiries = len(log) // 200
    assert 2 <= logins <= expiries + 2  # once per expiry, however many requests saw the 401
    with capsys.disabled():
        print(
            f"\n  faulty run: {len(log)} requests for {ROWS} rows; answers {dict(answers)}; "
            f"{logins} logins; {sum(1 for e in log if not e['committed'])} not committed"
        )


def test_garbled_answers_never_give_a_wrong_id(tmp_path: Path) -> None:
    sandbox = Sandbox(Faults(malformed_rate=0.2, seed=3))
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(200))
    ran, rows = import_into(sandbox, source, tmp_path)
    assert ran.code == 0, ran.stderr
    comparable(rows, sandbox)
    assert all(r["status"] == "created" for r in rows)


def test_an_outage_is_waited_out(tmp_path: Path, sandbox: Sandbox) -> None:
    sandbox.faults = Faults(latency=0.01)
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(400))
    with serve(sandbox) as server:
        settings = Settings(
            file=source,
            list_name="Promo",
            base_url=server.url,
            api_key="live_sandbox",
            journal_dir=tmp_path / "j",
            concurrency=8,
            patience=60,
        )

        def cut() -> None:
            while len(state_of(sandbox)["contacts"]) < 100:
                time.sleep(0.01)
            server.outage(3.0)

        cutter = threading.Thread(target=cut)
        cutter.start()
        summary = run_import(settings)
        cutter.join()
    assert summary.counts["created"] == 400 and summary.exit_code == 0
    assert len(phones_in(sandbox)) == 400


def test_an_outage_longer_than_patience_fails_the_rest(tmp_path: Path, sandbox: Sandbox) -> None:
    sandbox.faults = Faults(latency=0.01)
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(300))
    with serve(sandbox) as server:

        def cut() -> None:
            while len(state_of(sandbox)["contacts"]) < 50:
                time.sleep(0.01)
            server.outage(30.0)

        threading.Thread(target=cut, daemon=True).start()
        ran = run_cli(
            source,
            "--list",
            "Promo",
            "--base-url",
            server.url,
            "--patience",
            "2",
            "--journal-dir",
            tmp_path / "j",
            "--concurrency",
            "4",
            env=KEY,
        )
    assert ran.code == 1, ran.stderr
    rows = sheet_rows(tmp_path / "c.results.xlsx")
    assert len(rows) == 300
    statuses = Counter(r["status"] for r in rows)
    assert statuses["created"] >= 50 and statuses["created"] + statuses["failed"] == 300
    failed = [r for r in rows if r["status"] == "failed"]
    assert all("BSG did not answer" in r["error"] or "connect" in r["error"] for r in failed)
    assert "Traceback" not in ran.stderr


def test_retry_after_pauses_the_whole_run(tmp_path: Path, sandbox: Sandbox) -> None:
    sandbox.faults = Faults(throttle_rate=0.3, retry_after="1", seed=11)
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(6))
    ran, rows = import_into(sandbox, source, tmp_path, "--concurrency", "1")
    assert ran.code == 0 and all(r["status"] == "created" for r in rows)
    log = state_of(sandbox)["log"]
    throttled = [i for i, e in enumerate(log) if e["status"] == 429]
    assert throttled
    for index in throttled:
        assert log[index + 1]["t"] - log[index]["t"] >= 0.95
