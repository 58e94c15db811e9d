"""--trace-pace: what the flow control did, as JSON lines, for whoever tunes it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from importer.bsg.evidence import Answer
from importer.bsg.pace import RatePacer
from importer.bsg.trace import PaceTrace
from importer.sandbox import Faults, Sandbox, serve

from ..helpers import invoke_cli, ukrainian_mobiles, write_contacts_csv

KEY = {"BSG_API_KEY": "live_sandbox"}
FIELDS = {"t", "status", "rtt_ms", "level", "rate", "ceiling", "background", "window",
          "edge", "in_flight", "waiting_s", "answers", "refused"}  # fmt: skip


def test_a_run_traces_its_flow_control_and_every_refusal(tmp_path: Path) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(300))
    trace = tmp_path / "pace.jsonl"
    sandbox = Sandbox(Faults(throttle_rate=0.1, retry_after=0, seed=3))
    with serve(sandbox) as server:
        ran = invoke_cli(source, "--list", "Promo", "--base-url", server.url, "--trace-pace",
                         trace, "--journal-dir", tmp_path / "journals", env=KEY)  # fmt: skip
    refused = sum(1 for e in sandbox.account.log if e["status"] == 429)
    assert ran.code == 0, ran.stderr
    text = trace.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert all(set(line) == FIELDS for line in lines)
    assert refused > 0 and sum(1 for line in lines if line["status"] == 429) == refused
    assert lines[-1]["answers"] >= 300 + refused
    assert "live_sandbox" not in text and str(ukrainian_mobiles(1)[0]) not in text


def test_a_refusal_is_traced_however_soon_after_the_last_line(tmp_path: Path) -> None:
    pacer = RatePacer()
    trace = PaceTrace(pacer, tmp_path / "pace.jsonl")
    for status in (200, 200, 429, 200):
        trace.after_response(trace.before_request(), Answer(status, 0.05))
    lines = [json.loads(line) for line in (tmp_path / "pace.jsonl").read_text().splitlines()]
    assert [line["status"] for line in lines] == [200, 429]
    assert lines[-1]["refused"] == 1


def test_a_trace_that_cannot_be_written_stops_the_run_before_it_starts(
    tmp_path: Path, server: Any
) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(3))
    ran = invoke_cli(source, "--list", "Promo", "--base-url", server.url, "--trace-pace",
                     tmp_path / "missing" / "pace.jsonl", env=KEY)  # fmt: skip
    assert ran.code == 2
    assert "pace trace" in ran.stderr and "missing" in ran.stderr


def test_a_trace_that_can_no_longer_be_written_stops_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "pace.jsonl"
    trace = PaceTrace(RatePacer(), path)
    path.unlink()
    path.mkdir()  # no file can be appended to there any more
    with caplog.at_level(logging.WARNING, logger="bsg_import"):
        for status in (429, 429, 200):
            trace.after_response(trace.before_request(), Answer(status, 0.05))
    assert [r.getMessage() for r in caplog.records] == [
        f"the pace trace stopped: can't write {path}: [Errno 21] Is a directory: '{path}'"
    ]
