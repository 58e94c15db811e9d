"""The bench's zoo (benchmarks/bench.py) draws servers the sandbox command accepts: a draw
it refused would stop the bench at its first server, not measure it."""

from __future__ import annotations

import importlib
import random

import click
import pytest

from importer.cli.servers import sandbox_command as sandbox

from ..helpers import ROOT


@pytest.mark.parametrize("seed", [1, 7])
def test_every_zoo_draw_is_a_sandbox_the_command_accepts(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    bench = importlib.import_module("bench")
    draw = random.Random(seed)
    for number in range(32):
        faults = dict(bench.zoo_case(draw, number).sandbox)
        latency = faults.pop("latency")
        arguments = bench.sandbox_arguments(8080, latency, faults)
        assert arguments[0] == "sandbox"
        try:
            sandbox.make_context("sandbox", arguments[1:])
        except click.UsageError as error:
            pytest.fail(f"zoo {number:02d} (seed {seed}): {error.format_message()}")
