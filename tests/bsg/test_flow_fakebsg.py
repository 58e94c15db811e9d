"""Flow control against a One-API server someone else wrote (../shared/fakebsg), through the
real command: each limit it has, refusals with BSG's own 429 message, faults, every row once.

fakebsg is not part of this project: these tests run where ../shared/ holds it (CI does),
and are skipped with that reason where it is absent. Speed is the bench's to measure; here
the share of refused answers and each phone's fate are what is checked.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import sheet_rows
from ..helpers import ROOT, run_cli, ukrainian_mobiles, write_contacts_csv

FAKEBSG = ROOT.parent / "shared" / "fakebsg"
pytestmark = pytest.mark.skipif(
    not (FAKEBSG / "fakebsg.py").exists(),
    reason="../shared/fakebsg (a second One-API server, not part of this project) is absent",
)


@pytest.fixture
def fake() -> Iterator[Any]:
    sys.path.insert(0, str(FAKEBSG))
    try:
        from fakebsg import Config, FakeBSG  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(FAKEBSG))
    with FakeBSG(Config(latency_ms=20)) as server:
        yield server


def _import(fake: Any, tmp_path: Path, rows: int, **config: Any) -> tuple[Any, dict[str, Any]]:
    fake.configure(**config)
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(rows), extra=False)
    ran = run_cli(source, "--list", "Promo", "--base-url", fake.url, "--journal-dir",
                  tmp_path / "j", env={"BSG_API_KEY": "live_test"}, timeout=300)  # fmt: skip
    return ran, fake.state()


def _refused(state: dict[str, Any]) -> float:
    counters = state["counters"]
    statuses = Counter({int(k): v for k, v in counters["responses_by_status"].items()})
    refused = sum(statuses[s] for s in (429, 502, 503, 504))
    return refused / counters["requests_total"]


def _every_row_once(tmp_path: Path, state: dict[str, Any], rows: int) -> None:
    results = sheet_rows(tmp_path / "c.results.xlsx")
    assert Counter(r["status"] for r in results) == {"created": rows}
    phones = Counter(c["phone"] for c in state["contacts"])
    assert len(phones) == rows and set(phones.values()) == {1}
    assert state["counters"]["redundant_creates"] == 0


@pytest.mark.slow
def test_a_sliding_window_that_answers_with_bsg_s_own_message_is_found(
    fake: Any, tmp_path: Path
) -> None:
    """Its 429 says "Too many duplicate request detected": a limit's all the same, since
    their share rises with the rate (taken for one request's, half the requests were refused:
    46%). The bench's goal, 2% over 5,000 rows, is the bench's; a run this short spends most
    of its refusals finding the limit (7% measured)."""
    ran, state = _import(fake, tmp_path, 2000, rate_cap=200)
    assert ran.code == 0, ran.stderr
    _every_row_once(tmp_path, state, 2000)
    assert _refused(state) < 0.10


@pytest.mark.slow
def test_a_fixed_window_with_headers_is_spent_and_waited_for(fake: Any, tmp_path: Path) -> None:
    """X-RateLimit-Remaining is spent, never overdrawn; a reset given in whole seconds (up to
    one early) costs a few refusals at most."""
    ran, state = _import(fake, tmp_path, 1200, rate_cap=200, rate_window_s=2,
                         rate_window_kind="fixed", rate_headers=True)  # fmt: skip
    assert ran.code == 0, ran.stderr
    _every_row_once(tmp_path, state, 1200)
    assert _refused(state) < 0.03


@pytest.mark.slow
def test_a_limit_on_requests_in_flight_is_kept(fake: Any, tmp_path: Path) -> None:
    ran, state = _import(fake, tmp_path, 1000, max_concurrent=8)
    assert ran.code == 0, ran.stderr
    _every_row_once(tmp_path, state, 1000)
    assert _refused(state) < 0.05


@pytest.mark.slow
def test_random_refusals_and_faults_leave_every_row_once(fake: Any, tmp_path: Path) -> None:
    """5% random 429s, 5% 5xx, lost answers of writes carried out, bearers used up."""
    ran, state = _import(fake, tmp_path, 1000, rate_429=0.05, error_rate=0.05,
                         commit_fail_rate=0.03, token_ttl_requests=150, seed=3)  # fmt: skip
    assert ran.code == 0, ran.stderr
    results = sheet_rows(tmp_path / "c.results.xlsx")
    assert Counter(r["status"] for r in results) == {"created": 1000}
    phones = Counter(c["phone"] for c in state["contacts"])
    assert len(phones) == 1000 and set(phones.values()) == {1}
