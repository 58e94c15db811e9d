"""The bench's zoo in virtual time: each server the bench draws (``bench.zoo_case``, same
seed, same draw) is simulated against the controller (tests/bsg/test_pace.py's Simulation), so
a change to importer/bsg/ can be judged on 32 servers in seconds, not half an hour. What
a server allows is capped by what the client reaches against no limit on the same link.
It asserts nothing; the real zoo (``bench.py --only zoo``) is the measure.

    python benchmarks/simzoo.py            # 32 servers, seed 1
    python benchmarks/simzoo.py 64 7       # 64 servers, seed 7
    python benchmarks/simzoo.py 32 1 6,13  # only draws 6 and 13
    python benchmarks/simzoo.py 32 1,7,3,11,13,17,19  # the 224 draws the notes compare
"""

from __future__ import annotations

import math
import random
import statistics
import sys
from pathlib import Path
from typing import Any, NamedTuple

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from bench import zoo_case  # noqa: E402

from tests.bsg.test_pace import (  # noqa: E402
    Bucket,
    Fixed,
    InFlight,
    Moving,
    Service,
    Simulation,
    Sliding,
    Verdict,
)


class Drawn(Service):
    """A limiter behind random refusals, answering in the drawn shape."""

    def __init__(self, faults: dict[str, Any]) -> None:
        self.faults = faults
        self.dice = random.Random(faults["seed"])
        self.limiter = _limiter(faults)
        self.refusals_count = self.limiter.refusals_count

    def admit(self, now: float, serving: int) -> Verdict:
        faults = self.faults
        if self.dice.random() < faults["throttle_rate"]:
            return Verdict(429, 1.0, "random")
        verdict = self.limiter.admit(now, serving)
        headers = faults.get("limit_headers", "")
        if headers == "none":
            verdict = Verdict(verdict.status, verdict.retry_after, verdict.message)
        elif headers == "early" and verdict.reset_in is not None:
            verdict.reset_in = max(0.0, verdict.reset_in - self.dice.random())
        if verdict.status == 429:
            shape = faults["limit_retry_after"]
            if shape == "none":
                verdict.retry_after = None
            elif shape == "exact" and verdict.retry_after is not None:
                verdict.retry_after = max(0.001, verdict.retry_after - self.dice.random())
            if faults["limit_refusal"] == "503":
                verdict.status = 503
        return verdict


def _limiter(faults: dict[str, Any]) -> Service:
    if "limit_schedule" in faults:
        steps = (p.split(":") for p in faults["limit_schedule"].split(","))
        return Moving({float(t): int(v) for t, v in steps})
    if "rate_cap" in faults:
        return Bucket(faults["rate_cap"])
    if "sliding_limit" in faults:
        return Sliding(faults["sliding_limit"])
    if "window_limit" in faults:
        return Fixed(faults["window_limit"], faults["window_seconds"])
    return InFlight(faults["max_in_flight"])


def ideal_seconds(rows: int, schedule: str) -> float:
    """How long the rows take at exactly a moving limit (``0:200,6:50,12:200``)."""
    steps = [tuple(map(float, p.split(":"))) for p in schedule.split(",")]
    left, t = float(rows), 0.0
    for i, (_, limit) in enumerate(steps):
        until = steps[i + 1][0] if i + 1 < len(steps) else math.inf
        span = min(until - t, left / limit)
        left, t = left - span * limit, t + span
        if left <= 0:
            break
    return t


def simulate(faults: dict[str, Any], rows: int, service: Service) -> Simulation:
    return Simulation(service, latency=faults["latency"], jitter=faults.get("jitter", 0.0),
                      ceiling=256, lag=0.002).run(rows)  # fmt: skip


class Draw(NamedTuple):
    limiter: str
    share: float  # of what the server allows
    beyond: float  # the share refused beyond the random faults

    @property
    def met(self) -> bool:
        return self.share >= 0.85 and self.beyond < 0.05


def measure(seed: int, count: int, only: set[int] | None) -> list[Draw]:
    """Each of the ``count`` servers drawn with ``seed`` (or only those numbered)."""
    draw, draws = random.Random(seed), []
    for number in range(count):
        case = zoo_case(draw, number)
        if only is not None and number not in only:
            continue
        faults = dict(case.sandbox or {})
        run = simulate(faults, case.rows, Drawn(faults))
        clean = simulate(faults, case.rows, Service())
        allowed = min(case.allowed or math.inf, case.rows / clean.now)
        if "limit_schedule" in faults:
            allowed = case.rows / ideal_seconds(case.rows, faults["limit_schedule"])
        share = case.rows / run.now / allowed
        beyond = run.refused / (run.good + run.refused) - faults["throttle_rate"]
        draws.append(Draw(case.label.split(":")[0][7:], share, beyond))
        print(f"{'met   ' if draws[-1].met else 'MISSED'} {share:5.2f} {beyond:+6.1%}  "
              f"seed {seed} {case.label}")  # fmt: skip
    return draws


def summary(draws: list[Draw]) -> str:
    """The goals' counts over every draw, then each limiter's median and worst share."""
    shares = [d.share for d in draws]
    lines = [
        f"{len(draws)} draws: {sum(d.met for d in draws)} met, "
        f"{sum(s >= 0.85 for s in shares)} at >= 0.85 of what they allow, "
        f"{sum(d.beyond < 0.05 for d in draws)} under 5% refused beyond random; "
        f"share worst {min(shares):.2f}, median {statistics.median(shares):.3f}, "
        f"mean {statistics.mean(shares):.3f}; beyond random mean "
        f"{statistics.mean(d.beyond for d in draws):.1%}, worst {max(d.beyond for d in draws):+.1%}"
    ]
    for limiter in sorted({d.limiter for d in draws}):
        mine = [d for d in draws if d.limiter == limiter]
        median, worst = statistics.median(d.share for d in mine), min(d.share for d in mine)
        lines.append(f"  {limiter:<13} median {median:.2f}, worst {worst:.2f}, "
                     f"{sum(d.met for d in mine)} of {len(mine)} met")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    servers = int(arguments[0]) if arguments else 32
    seeds = [int(n) for n in arguments[1].split(",")] if len(arguments) > 1 else [1]
    chosen = {int(n) for n in arguments[2].split(",")} if len(arguments) > 2 else None
    print(summary([d for seed in seeds for d in measure(seed, servers, chosen)]))
