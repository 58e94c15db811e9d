"""The pacer against a simulated service: a token bucket, a round trip, a pool of senders.

Time is virtual, so these runs are exact and instant: the figures they check are the
pacer's decisions, not this machine's speed.
"""

from __future__ import annotations

import heapq
import itertools

import pytest

from importer.pace import RatePacer


class Bucket:
    """A service that allows ``cap`` requests a second, with a burst of one second's worth."""

    def __init__(self, cap: float) -> None:
        self.cap = cap
        self.tokens = cap
        self.at = 0.0

    def allows(self, now: float) -> bool:
        self.tokens = min(self.cap, self.tokens + (now - self.at) * self.cap)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Simulation:
    """Senders share one pacer; each answer arrives ``latency`` after its request."""

    def __init__(self, cap: float | None, latency: float, senders: int, rate: float | None):
        self.now = 0.0
        self.bucket = Bucket(cap) if cap else None
        self.latency = latency
        self.senders = senders
        self.answers: list[tuple[float, int, bool]] = []
        self.order = itertools.count()
        self.pacer = RatePacer(rate, clock=lambda: self.now, sleep=self._sleep)
        self.good = self.refused = 0

    def _deliver_until(self, moment: float) -> None:
        while self.answers and self.answers[0][0] <= moment:
            at, _, allowed = heapq.heappop(self.answers)
            self.now = max(self.now, at)
            self.good += allowed
            self.refused += not allowed
            self.pacer.after_response(not allowed, None if allowed else 1.0)
        self.now = max(self.now, moment)

    def _sleep(self, seconds: float) -> None:
        self._deliver_until(self.now + seconds)

    def run(self, requests: int) -> float:
        """Send until ``requests`` have been answered well; the seconds it took."""
        while self.good < requests:
            if len(self.answers) >= self.senders:
                self._deliver_until(self.answers[0][0])
                continue
            self.pacer.before_request()
            self._deliver_until(self.now)
            allowed = self.bucket is None or self.bucket.allows(self.now)
            heapq.heappush(self.answers, (self.now + self.latency, next(self.order), allowed))
        return self.now


@pytest.mark.parametrize("cap", [10, 50, 100, 200, 500])
@pytest.mark.parametrize("latency", [0.05, 0.2])
def test_an_unknown_limit_is_found_with_few_refusals(cap: int, latency: float) -> None:
    simulation = Simulation(cap, latency, senders=64, rate=None)
    seconds = simulation.run(cap * 50)
    reachable = min(cap, 64 / latency)  # 64 senders, each one request per round trip
    assert simulation.good / seconds >= 0.85 * reachable
    sent = simulation.good + simulation.refused
    # Under 5%, or for a tiny limit the first overshoot of the slow start (a few dozen).
    assert simulation.refused < max(0.05 * sent, 40)
    if cap < reachable:
        ceiling = simulation.pacer.ceiling
        assert ceiling is not None and 0.85 * cap <= ceiling <= 1.05 * cap


def test_without_a_limit_the_rate_reaches_what_the_senders_allow() -> None:
    simulation = Simulation(None, 0.05, senders=64, rate=None)
    seconds = simulation.run(5000)
    assert simulation.refused == 0
    assert 5000 / seconds >= 0.85 * 64 / 0.05


def test_a_fixed_rate_is_kept_and_never_exceeded() -> None:
    simulation = Simulation(200, 0.05, senders=64, rate=190)
    seconds = simulation.run(2000)
    assert simulation.refused == 0
    assert 185 <= 2000 / seconds <= 190


def test_a_pause_holds_back_requests_already_waiting_for_their_turn() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        if now[0] == 0.0:  # while this request waits for its turn, another one gets a 429
            pacer.after_response(True, 5.0)
        now[0] += seconds

    pacer = RatePacer(10, clock=lambda: now[0], sleep=sleep)
    pacer.before_request()  # its turn is now; the next one's is 0.1 s later
    pacer.before_request()
    assert now[0] == 5.0 and pacer.throttled == 1


def test_retry_after_zero_neither_pauses_nor_slows() -> None:
    pacer = RatePacer(None, clock=lambda: 0.0, sleep=lambda s: None)
    rate = pacer.rate
    pacer.after_response(True, 0.0)
    assert pacer.rate == rate and pacer.throttled == 0 and pacer.ceiling is None
