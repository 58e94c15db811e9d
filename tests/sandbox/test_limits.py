"""Rate limits of every kind, in the sandbox and through the real command against it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from importer.sandbox import Faults, Sandbox, serve

from ..conftest import sheet_rows
from ..helpers import phones_in, run_cli, state_of, ukrainian_mobiles, write_contacts_csv

KEY = {"BSG_API_KEY": "live_sandbox"}


@contextmanager
def _client(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=10) as client:
        login = client.post("/api/auth/login", json={"api_key": "live_sandbox"})
        client.headers["Authorization"] = f"Bearer {login.json()['bearer']}"
        yield client


def test_a_fixed_window_answers_as_laravel_does(server: Any, sandbox: Sandbox) -> None:
    sandbox.faults = Faults(window_limit=3, window_seconds=60)
    with _client(server.url) as client:
        answers = [client.get("/api/contacts/fields") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["X-RateLimit-Limit"] == "3" for a in answers)
    refused = answers[-1]
    assert refused.json() == {"message": "Too Many Attempts."}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "X-RateLimit-Reset" in refused.headers and "X-RateLimit-Reset" not in answers[0].headers


def test_a_sliding_window_asks_for_whole_seconds(server: Any, sandbox: Sandbox) -> None:
    sandbox.faults = Faults(sliding_limit=5)
    with _client(server.url) as client:
        answers = [client.get("/api/contacts/fields") for _ in range(8)]
    assert Counter(a.status_code for a in answers) == {200: 5, 429: 3}
    assert all(a.headers["Retry-After"] == "1" for a in answers if a.status_code == 429)


def test_random_429s_carry_bsgs_duplicate_message(server: Any, sandbox: Sandbox) -> None:
    sandbox.faults = Faults(throttle_rate=1.0, retry_after="1")
    with _client(server.url) as client:
        refused = client.get("/api/contacts/fields")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.json()["message"].startswith("Too many duplicate request detected")


def test_requests_in_flight_are_counted_across_the_servers_threads(
    server: Any, sandbox: Sandbox
) -> None:
    sandbox.faults = Faults(max_in_flight=3, latency=1.0)
    statuses: list[int] = []
    ready = threading.Barrier(6)

    def call() -> None:
        with _client(server.url) as client:  # logged in (the login is never limited)
            ready.wait()
            statuses.append(client.get("/api/contacts/fields").status_code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {200: 3, 429: 3}


def test_a_refused_request_is_in_flight_until_it_is_answered(server: Any, sandbox: Sandbox) -> None:
    """Counted from reading a request to the end of its answer, as the issue's second server
    counts them: the refused one still holds its place when the served one is done."""
    sandbox.faults = Faults(max_in_flight=1, latency=2.0)
    statuses: dict[str, int] = {}

    def call(name: str) -> None:
        with _client(server.url) as client:
            statuses[name] = client.get("/api/contacts/fields").status_code

    served = threading.Thread(target=call, args=("served",))
    served.start()
    threading.Event().wait(0.5)
    refused = threading.Thread(target=call, args=("refused",))
    refused.start()
    with _client(server.url) as client:  # logged in meanwhile (each answer takes 2 s)
        served.join()  # answered at ~2 s; the refused one is answered at ~2.5 s
        statuses["after"] = client.get("/api/contacts/fields").status_code
    refused.join()
    assert statuses == {"served": 200, "refused": 429, "after": 429}


def _import(sandbox: Sandbox, tmp_path: Path, rows: int, *extra: str) -> list[dict[str, Any]]:
    phones = ukrainian_mobiles(rows)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    with serve(sandbox) as server:
        ran = run_cli(source, "--list", "Promo", "--base-url", server.url,
                      "--journal-dir", tmp_path / "j", *extra, env=KEY, timeout=300)  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert "Traceback" not in ran.stderr
    rows_out = sheet_rows(tmp_path / "c.results.xlsx")
    assert Counter(r["status"] for r in rows_out) == {"created": rows}
    assert sorted(phones_in(sandbox)) == sorted(phones)
    return rows_out


def test_random_429s_at_retry_after_1_never_stall_the_run(tmp_path: Path) -> None:
    sandbox = Sandbox(Faults(throttle_rate=0.05, retry_after="1", latency=0.01, seed=3))
    _import(sandbox, tmp_path, 1500)
    log = state_of(sandbox)["log"]
    assert sum(1 for e in log if e["status"] == 429) >= 30  # it met them, and went on


@pytest.mark.parametrize(
    "faults",
    [Faults(max_in_flight=4, latency=0.02), Faults(sliding_limit=100, latency=0.01)],
    ids=["in-flight", "sliding"],
)
def test_a_limit_unknown_to_the_tool_is_met_and_every_row_created(
    tmp_path: Path, faults: Faults
) -> None:
    sandbox = Sandbox(faults)
    _import(sandbox, tmp_path, 600)


def test_a_spent_window_is_waited_for_and_said(tmp_path: Path) -> None:
    sandbox = Sandbox(Faults(window_limit=150, window_seconds=3))
    log_file = tmp_path / "run.log"
    _import(sandbox, tmp_path, 400, "--log-file", str(log_file))
    assert "waiting for BSG: " in log_file.read_text()
    answers = Counter(e["status"] for e in state_of(sandbox)["log"])
    assert answers[429] <= 4  # one request a window learns when it resets
