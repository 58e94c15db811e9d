"""The pacer against simulated services: each kind of limit, a round trip, as many rows as needed.

Time is virtual, so these runs are exact and instant: the figures they check are the
pacer's decisions (shares of the limit, shares of 429s), not this machine's speed.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from dataclasses import dataclass

import pytest

from importer.bsg.edge import InFlightEdge
from importer.bsg.evidence import Answer, Slot, Window
from importer.bsg.pace import RatePacer
from importer.bsg.rate import Rate
from importer.bsg.refusals import Refusals

DUPLICATE = "Too many duplicate request detected"


@dataclass
class Verdict:
    status: int = 200
    retry_after: float | None = None
    message: str = ""
    limit: int | None = None
    remaining: int | None = None
    reset_in: float | None = None


class Service:
    """No limit at all; subclasses refuse some requests."""

    refusals_count = False  # are the requests it refuses served (and counted) too?

    def admit(self, now: float, serving: int) -> Verdict:
        return Verdict()


class Bucket(Service):
    """``cap`` a second, a burst of one second's worth."""

    def __init__(self, cap: float) -> None:
        self.cap, self.tokens, self.at = cap, cap, 0.0

    def admit(self, now: float, serving: int) -> Verdict:
        self.tokens = min(self.cap, self.tokens + (now - self.at) * self.cap)
        self.at = now
        if self.tokens < 1:
            return Verdict(429, 1.0, "Too Many Requests")
        self.tokens -= 1
        return Verdict()


class Sliding(Service):
    """At most ``limit`` in any second; whole-second Retry-After."""

    def __init__(self, limit: int) -> None:
        self.limit, self.accepted = limit, deque[float]()

    def admit(self, now: float, serving: int) -> Verdict:
        while self.accepted and self.accepted[0] <= now - 1.0:
            self.accepted.popleft()
        if len(self.accepted) >= self.limit:
            return Verdict(429, float(max(1, math.ceil(self.accepted[0] + 1 - now))), "Too Many")
        self.accepted.append(now)
        return Verdict()


class Fixed(Service):
    """Laravel's throttle: ``limit`` per window of ``seconds``, with X-RateLimit-* headers."""

    def __init__(self, limit: int, seconds: int) -> None:
        self.limit, self.seconds, self.hits, self.resets_at = limit, seconds, 0, 0

    def admit(self, now: float, serving: int) -> Verdict:
        second = math.floor(now)
        if second >= self.resets_at:
            self.hits, self.resets_at = 0, second + self.seconds
        if self.hits >= self.limit:
            wait = self.resets_at - second
            return Verdict(429, wait, "Too Many Attempts.", self.limit, 0, self.resets_at - now)
        self.hits += 1
        return Verdict(limit=self.limit, remaining=self.limit - self.hits)


class InFlight(Service):
    """At most ``limit`` requests served at once, counted from reading a request to the end
    of its answer, the refused ones too (as the sandbox and ../shared/fakebsg count them);
    or, not ``refusals_count``, only those served."""

    def __init__(self, limit: int, *, refusals_count: bool = True) -> None:
        self.limit = limit
        self.refusals_count = refusals_count

    def admit(self, now: float, serving: int) -> Verdict:
        return Verdict(429, 1.0, "Too Many Requests") if serving >= self.limit else Verdict()


class Nginx(Sliding):
    """``limit_req``'s default refusal: 503, an HTML page, no Retry-After."""

    def admit(self, now: float, serving: int) -> Verdict:
        verdict = super().admit(now, serving)
        return Verdict(503) if verdict.status == 429 else verdict


class Moving(Sliding):
    """A sliding window whose limit changes at given moments: ``{second: limit}``."""

    def __init__(self, limits: dict[float, int]) -> None:
        super().__init__(limits[0.0])
        self.limits = limits

    def admit(self, now: float, serving: int) -> Verdict:
        self.limit = next(v for t, v in sorted(self.limits.items(), reverse=True) if now >= t)
        return super().admit(now, serving)


class Random(Service):
    """No limit, but a share of requests refused at random, Retry-After: 1."""

    def __init__(self, share: float, message: str) -> None:
        self.share, self.message, self.dice = share, message, random.Random(5)

    def admit(self, now: float, serving: int) -> Verdict:
        refused = self.dice.random() < self.share
        return Verdict(429, 1.0, self.message) if refused else Verdict()


class Noisy(Service):
    """Another service, with a share of requests refused at random first (Retry-After: 1)."""

    def __init__(self, inner: Service, share: float, seed: int) -> None:
        self.inner, self.share, self.dice = inner, share, random.Random(seed)
        self.refusals_count = inner.refusals_count

    def admit(self, now: float, serving: int) -> Verdict:
        if self.dice.random() < self.share:
            return Verdict(429, 1.0, "Too Many Requests")
        return self.inner.admit(now, serving)


class Simulation:
    """Rows are sent through one pacer; each answer leaves the service ``latency`` after its
    request (stretched when more than ``workers`` requests are served at once) and reaches
    the pacer up to ``lag`` later (a busy client reads its answers late); a sleeping sender
    wakes ``wake_lag`` late on average (exponentially: a busy machine)."""

    def __init__(self, service: Service, *, latency: float = 0.05, ceiling: int = 64,
                 rate: float | None = None, workers: int = 10**6,
                 lag: float = 0.0, jitter: float = 0.0, wake_lag: float = 0.0) -> None:  # fmt: skip
        self.now = 0.0
        self.service = service
        self.latency = latency
        self.workers = workers
        self.lag, self.dice = lag, random.Random(7)
        self.jitter = jitter  # each round trip is latency * (1 ± jitter), uniformly
        self.wake_lag = wake_lag  # a busy machine wakes a sleeper this late, on average
        self.answers: list[tuple[float, int, Slot, Verdict, bool]] = []
        self.order = itertools.count()
        self.pacer = RatePacer(rate, concurrency=ceiling, clock=lambda: self.now, sleep=self._sleep)
        self.good = self.refused = self.serving = 0
        self.good_at: list[float] = []
        self.refused_at: list[float] = []

    def _deliver_until(self, moment: float) -> None:
        while self.answers and self.answers[0][0] <= moment:
            at, _, slot, verdict, counted = heapq.heappop(self.answers)
            self.now = max(self.now, at)
            self.serving -= counted
            if counted and self.lag:  # the service let go of it; the pacer hears of it later
                late = (self.now + self.dice.uniform(0, self.lag), next(self.order))
                heapq.heappush(self.answers, (*late, slot, verdict, False))
                continue
            if verdict.status >= 400:
                self.refused += 1
                self.refused_at.append(self.now)
            else:
                self.good += 1
                self.good_at.append(self.now)
            answer = Answer(verdict.status, self.now - slot.sent_at, verdict.retry_after,
                            verdict.message, verdict.limit, verdict.remaining,
                            None if verdict.reset_in is None else verdict.reset_in)  # fmt: skip
            self.pacer.after_response(slot, answer)
        self.now = max(self.now, moment)

    def _sleep(self, seconds: float) -> None:
        late = self.dice.expovariate(1 / self.wake_lag) if self.wake_lag and seconds > 0 else 0.0
        self._deliver_until(self.now + seconds + late)

    def run(self, requests: int) -> Simulation:
        """Send until ``requests`` have been answered well."""
        while self.good < requests:
            if not self.pacer.has_room():
                self._deliver_until(self.answers[0][0])
                continue
            slot = self.pacer.before_request()
            verdict = self.service.admit(self.now, self.serving)
            counted = verdict.status != 429 or self.service.refusals_count
            self.serving += counted
            stretch = max(1.0, self.serving / self.workers)
            if self.jitter:
                stretch *= 1 + self.dice.uniform(-self.jitter, self.jitter)
            at = self.now + self.latency * stretch
            heapq.heappush(self.answers, (at, next(self.order), slot, verdict, counted))
        return self

    def rate(self, last: float = 0.5) -> float:
        """Good answers a second over the last part of the run (once it has converged)."""
        start = self.good_at[int(len(self.good_at) * (1 - last))]
        return sum(1 for t in self.good_at if t >= start) / (self.now - start)

    def good_between(self, start: float, end: float) -> float:
        """Good answers a second from ``start`` to ``end``."""
        return sum(1 for t in self.good_at if start <= t < end) / (end - start)

    def refused_share(self, last: float = 0.5) -> float:
        """The share of answers that were 429 over the last part of the run."""
        start = self.good_at[int(len(self.good_at) * (1 - last))]
        refused = sum(1 for t in self.refused_at if t >= start)
        return refused / (refused + sum(1 for t in self.good_at if t >= start))


@pytest.mark.parametrize("cap", [200, 500])
@pytest.mark.parametrize("latency", [0.05, 0.2])
def test_a_token_bucket_is_found(cap: int, latency: float) -> None:
    run = Simulation(Bucket(cap), latency=latency, ceiling=256).run(cap * 60)
    assert run.rate() >= 0.95 * cap
    assert run.refused_share() < 0.02


@pytest.mark.parametrize("cap", [50, 100])
def test_a_slow_token_bucket_is_found(cap: int) -> None:
    """Below 200/s the probe above the ceiling spends the bucket's saved second before a
    refusal shows, and more are refused when it does (the zoo's bound: under 5% in all)."""
    run = Simulation(Bucket(cap), ceiling=256).run(cap * 60)
    assert run.rate() >= 0.95 * cap
    assert run.refused / (run.refused + run.good) < 0.06


@pytest.mark.parametrize("cap", [200, 500])
def test_a_token_bucket_s_saved_burst_costs_few_429s(cap: int) -> None:
    """The first ceiling, measured as the slow start overshot, holds the burst the bucket
    had saved: climbing back to it, the run steps back at the first 429 instead of
    staying above the rate until the slow-down is judged (2.3% of a 25 s run refused)."""
    run = Simulation(Bucket(cap), ceiling=256, lag=0.004).run(cap * 25)
    assert run.refused / (run.refused + run.good) < 0.03


def test_a_token_bucket_spent_in_slow_start_is_cut_though_it_looks_like_an_edge() -> None:
    """When a bucket's burst is spent, slow start runs at four times its rate and the
    refusals come at the most in flight: they look like an edge (rule 6) until requests
    within it are refused too. The answers counted towards a cut were voided at each such
    refusal, so the cut waited for 20 more, and 170 were refused in the first second of
    refusals (200/s, 50 ms; 85 now)."""
    run = Simulation(Bucket(200), ceiling=256, lag=0.002).run(2000)
    first = min(run.refused_at)
    assert sum(1 for t in run.refused_at if t < first + 1.0) < 120


@pytest.mark.parametrize(("cap", "latency"), [(200, 0.1), (400, 0.2)])
def test_after_a_first_cut_undone_what_got_through_is_counted_from_the_undo(
    cap: int, latency: float
) -> None:
    """5% refused at random, as a bucket's first refusals would be: the first cut is
    undone and what got through is counted afresh. The next first cut's ceiling was
    counted over a whole second, though only the half since the undo had any answers:
    half the rate (400/s at 200 ms kept 0.84 of the bucket's rate)."""
    run = Simulation(Noisy(Bucket(cap), 0.05, 3), latency=latency, jitter=0.5, lag=0.002,
                     ceiling=256).run(3000)  # fmt: skip
    assert 3000 / run.now >= 0.95 * cap


@pytest.mark.parametrize("limit", [100, 200])
def test_a_sliding_window_is_found(limit: int) -> None:
    run = Simulation(Sliding(limit)).run(limit * 60)
    assert run.rate() >= 0.95 * limit
    assert run.refused_share() < 0.02


@pytest.mark.parametrize("limit", [100, 200])
def test_slow_start_at_a_long_round_trip_overshoots_no_more_than_at_a_short_one(
    limit: int,
) -> None:
    """Refusals take a round to come back. Growing x1.5 every 0.2 s whatever the round trip,
    the rate grew further before the first was heard the longer it was: of a 10 s run at
    200 ms, 10.0% and 5.7% were refused (100/s, 200/s), against 5.5% and 2.9% at 50 ms
    (now 6.0% and 2.3%, against 5.3% and 2.4%)."""

    def refused(latency: float) -> float:
        run = Simulation(Sliding(limit), latency=latency, ceiling=256).run(limit * 10)
        assert run.rate() >= 0.95 * limit
        return run.refused / (run.refused + run.good)

    assert refused(0.2) <= refused(0.05) * 1.25


@pytest.mark.parametrize("limit", [100, 200])
def test_a_busy_machine_that_wakes_its_threads_late_still_sends_at_the_rate(limit: int) -> None:
    """Woken 5 ms late on average, a sender that gave up each turn it missed kept 0.59 of
    a 200/s window: a turn up to SLACK_S late is still taken (a burst of a few at most)."""
    run = Simulation(Sliding(limit), lag=0.004, wake_lag=0.005).run(5000)
    assert run.good / run.now >= 0.9 * limit
    assert run.refused / (run.good + run.refused) < 0.02


@pytest.mark.parametrize(("limit", "seconds"), [(100, 1), (1000, 10), (6000, 60)])
def test_a_fixed_window_is_paced_by_its_headers(limit: int, seconds: int) -> None:
    run = Simulation(Fixed(limit, seconds), ceiling=256).run(limit * 4)
    assert run.good / run.now >= 0.95 * limit / seconds
    assert run.refused <= 6  # one request a window learns when it resets


@pytest.mark.parametrize("lag", [0.0, 0.005])
@pytest.mark.parametrize("refusals_count", [True, False])
def test_a_limit_on_requests_in_flight_is_found(lag: float, refusals_count: bool) -> None:
    run = Simulation(InFlight(8, refusals_count=refusals_count), ceiling=64, lag=lag).run(5000)
    assert run.rate() >= 0.9 * 8 / 0.05
    assert run.refused_share() < 0.02


@pytest.mark.parametrize("seed", range(6))
def test_a_limit_in_flight_is_found_through_random_refusals(seed: int) -> None:
    """5% refused at random, at every level, hid the edge: it needed nearly all refusals
    above it, and the rate was cut instead, to 0.48-0.60 of 32 / latency."""
    service = Noisy(InFlight(32), 0.05, seed)
    run = Simulation(service, ceiling=256, jitter=0.3).run(5000)
    assert run.rate() >= 0.8 * 32 / 0.05
    assert run.refused_share() < 0.05 + 0.04
    assert run.pacer.in_flight_limit in (31, 32, 33)


@pytest.mark.parametrize("alone", [True, False])
def test_probes_sent_alone_after_a_pause_show_no_edge(alone: bool) -> None:
    """After a pause one request probes, alone: at 1 in flight, whatever the limit. Counted,
    the probes that got through while refusals came at every level above showed an edge at
    1, and the window held there (the simulated zoo's draw 08: 0.18 of what it allows)."""
    edge = InFlightEdge(lambda: 0.0)
    for i in range(40):
        edge.add(i * 0.01, Slot(i * 0.01, 1, alone=alone), False)
    for i in range(40):
        edge.add(0.4 + i * 0.01, Slot(0.4 + i * 0.01, 4 + i % 8), (i // 8) % 2 == 0)
    shown = edge.found(Slot(0.8, 6), 0.8, 0.1, slow_start=False)
    assert shown is not alone


def test_refusals_of_requests_in_line_when_the_window_held_are_the_window_s() -> None:
    """fakebsg, at most 8 in flight: the edge held at 8, and the requests already waiting
    for their turn then left at 9 and 10 in flight; their refusals were counted, cut the
    rate 0.66 s into the run to 28/s (37 had got through), and one run in three took 40 s,
    not 34. Those sent within a round of the edge holding are the window's too."""
    edge = InFlightEdge(lambda: 0.0)
    for i in range(40):  # up to 8 in flight, none refused
        edge.add(i * 0.01, Slot(i * 0.01, 1 + i % 8), False)
    for i in range(10):  # above it, all refused
        edge.add(0.4 + i * 0.01, Slot(0.35 + i * 0.01, 9 + i % 2), True)
    assert edge.found(Slot(0.45, 9), 0.5, 0.1, slow_start=False) is True
    assert edge.limit == 8
    assert edge.in_line(Slot(0.55, 10), 0.6, 0.1) is True  # in line
    assert edge.found(Slot(0.55, 10), 0.6, 0.1, slow_start=False) is False  # no new edge
    assert edge.in_line(Slot(0.65, 9), 0.7, 0.1) is False  # sent since


@pytest.mark.parametrize("jitter", [0.1, 0.2])
def test_a_limit_in_flight_smeared_by_answers_read_late_is_found(jitter: float) -> None:
    """At 10 ms, an answer read 1 ms late is a tenth of a round trip: the client counts it
    in flight when the service has let it go, so many requests it counted above the edge
    get through. The edge needed most of them refused and never showed; the rate was cut
    instead, and held at 0.75 of 8 / latency."""
    run = Simulation(InFlight(8), latency=0.01, lag=0.001, jitter=jitter, ceiling=256).run(5000)
    assert run.rate() >= 0.9 * 8 / 0.01
    assert run.refused_share() < 0.02
    assert run.pacer.in_flight_limit in (8, 9)


@pytest.mark.parametrize("message", [DUPLICATE, "Too Many Requests"])
@pytest.mark.parametrize("share", [0.02, 0.05, 0.1, 0.2])
def test_random_429s_delay_their_rows_not_the_run(message: str, share: float) -> None:
    """At 2%, the first few 429s (3 of ~50 answers) were gone after the slow-down, and
    that was taken for a limit's; at 10%, 3 of 20 refused was; at 20%, 11 of 30 after the
    slow-down (above 25%, by chance): each time the run crawled at 1-5% of its speed.
    (Refused requests are no rows: good answers come at most ``1 - share`` as fast.)"""
    clean = Simulation(Service(), ceiling=64).run(10_000)
    noisy = Simulation(Random(share, message), ceiling=64, lag=0.004).run(10_000)
    assert noisy.rate() >= 0.85 * (1 - share) * clean.rate()
    assert noisy.pacer.ceiling is None  # restored when the evidence showed it was not the rate


@pytest.mark.parametrize("seed", range(8))
def test_random_429s_delay_no_run_whatever_the_draw(seed: int) -> None:
    """One draw in eight of 10% random 429s (seed 7) had the run crawl at 5% of its speed:
    three refusals among the first answers, judged a limit's, and a background of 0 after
    that cut on every third refusal. A share that stays as the rate grows is no limit."""
    clean = Simulation(Service(), ceiling=64).run(10_000)
    service = Random(0.1, DUPLICATE)
    service.dice = random.Random(seed)
    noisy = Simulation(service, ceiling=64, lag=0.004).run(10_000)
    assert noisy.rate() >= 0.85 * 0.9 * clean.rate()


def test_without_a_limit_in_flight_grows_while_round_trips_stay_flat() -> None:
    run = Simulation(Service(), latency=0.2, ceiling=256).run(20_000)
    assert run.pacer.window == 256
    assert run.rate() >= 0.95 * 256 / 0.2


def test_a_service_that_queues_is_not_read_as_a_limit() -> None:
    """Answers that come later as more are in flight are no refusals: the run keeps what the
    service can do and cuts nothing."""
    run = Simulation(Service(), latency=0.05, ceiling=256, workers=40).run(20_000)
    assert run.rate() >= 0.95 * 40 / 0.05
    assert run.pacer.ceiling is None


def test_a_fixed_rate_is_kept_and_never_exceeded() -> None:
    run = Simulation(Bucket(200), rate=190).run(2000)
    assert run.refused == 0
    assert 185 <= run.good / run.now <= 190


def test_a_pause_holds_back_requests_already_waiting_for_their_turn() -> None:
    now = [0.0]
    slots: list[Slot] = []

    def sleep(seconds: float) -> None:
        if now[0] == 0.0 and seconds > 0:  # while this request waits, a window is spent
            pacer.after_response(slots[0], Answer(429, 0.05, 5.0, "Too Many Attempts.", 10, 0))
        now[0] += seconds

    waited: list[float] = []
    pacer = RatePacer(10, clock=lambda: now[0], sleep=sleep, on_wait=waited.append)
    slots.append(pacer.before_request())  # its turn is now; the next one's is 0.1 s later
    pacer.before_request()
    assert now[0] == pytest.approx(5.02) and pacer.throttled == 1
    assert waited == [pytest.approx(5.02)]


def test_a_late_answer_does_not_reopen_a_spent_window() -> None:
    """Answers reach a busy client out of order: one sent early, with more remaining than
    is known, is an old answer of this window, not a new window (which let a 1,000-a-window
    run send ~30 requests too many each window)."""
    now = [0.0]
    window = Window(lambda: now[0])
    now[0] = 0.05
    window.update(Answer(200, 0.05, remaining=10), in_flight=0, sent_at=0.0)
    now[0] = 0.06
    window.update(Answer(200, 0.05, remaining=50), in_flight=5, sent_at=0.01)
    assert window.remaining == 10
    assert window.allows(in_flight=9) and not window.allows(in_flight=10)
    now[0] = 0.2
    window.update(Answer(200, 0.05, remaining=999), in_flight=0, sent_at=0.15)
    assert window.remaining == 999  # sent after 10 was learnt: a new window


def test_after_a_window_s_reset_one_request_learns_whether_it_came() -> None:
    """A reset said in whole seconds comes up to a second early: the requests let go at it
    were all refused (135 of 5,000 against ../shared/fakebsg's 10 s windows; now 5)."""
    now = [0.0]
    window = Window(lambda: now[0])
    window.update(Answer(429, 0.05, 2.0, "", 1000, 0, 2.0), in_flight=0, sent_at=0.0)
    now[0] = 2.01  # the reset it said
    assert window.allows(in_flight=0) and not window.allows(in_flight=1)
    now[0] = 2.06
    window.update(Answer(429, 0.05, 1.0, "", 1000, 0, 0.9), in_flight=0, sent_at=2.01)
    assert not window.allows(in_flight=0)  # early: wait again, as the refusal says
    now[0] = 2.97
    assert window.allows(in_flight=0) and not window.allows(in_flight=1)
    now[0] = 3.02
    window.update(Answer(200, 0.05, remaining=999), in_flight=1, sent_at=2.97)
    assert window.allows(in_flight=50)


@pytest.mark.parametrize("jitter", [0.3, 0.9])
def test_a_jittery_link_is_not_read_as_load(jitter: float) -> None:
    """Round trips of 50 ms that vary by ±30% (or ±90%) keep as many in flight as flat ones:
    the window follows the rate and the median round trip, never one trip against another
    (a latency-gradient limit stayed at 8 in flight on such a link)."""
    flat = Simulation(Service(), ceiling=256).run(20_000)
    jittery = Simulation(Service(), ceiling=256, jitter=jitter).run(20_000)
    assert jittery.rate() >= 0.9 * flat.rate()


def test_a_sliding_window_behind_a_jittery_link_is_found() -> None:
    run = Simulation(Sliding(200), jitter=0.3).run(200 * 60)
    assert run.rate() >= 0.93 * 200
    assert run.refused_share() < 0.02


def test_a_limiter_that_answers_503_without_retry_after_is_followed() -> None:
    """nginx's limit_req: 503s whose share rises with the rate are refusals, as 429s are."""
    run = Simulation(Nginx(200)).run(200 * 60)
    assert run.rate() >= 0.93 * 200
    assert run.refused_share() < 0.05


def test_a_limit_that_falls_and_comes_back_is_followed() -> None:
    """Followed down within two seconds, found again within ten."""
    run = Simulation(Moving({0.0: 200, 20.0: 50, 40.0: 200})).run(200 * 60)
    assert run.good_between(22, 40) >= 0.85 * 50
    assert run.good_between(50, 60) >= 0.85 * 200
    refused_while_falling = sum(1 for t in run.refused_at if 22 <= t < 40)
    assert refused_while_falling < 0.05 * 50 * 18


@pytest.mark.parametrize("latency", [0.05, 0.1])
def test_a_limit_that_came_back_is_climbed_back_to_not_slow_started_past(latency: float) -> None:
    """200/s, 50/s for 8 s, then 200/s again. The probes up from 50 took three seconds to
    pass 1.25 of every ceiling seen lately, then slow start overshot the limit: 113 and
    62 of the next 8 s refused. A probe let through at 1.1 of the fallen ceiling now
    takes the rate back to the one that held before the fall."""
    run = Simulation(Moving({0.0: 200, 8.0: 50, 16.0: 200}), latency=latency, lag=0.002,
                     ceiling=256).run(5000)  # fmt: skip
    assert sum(1 for t in run.refused_at if 16 <= t < 24) < 0.02 * 200 * 8
    assert run.good_between(19, 22) >= 0.7 * 200


# -- the rules, one at a time -----------------------------------------------------------


def _answer(rate: Rate, now: float, refused: bool) -> None:
    rate.count(Slot(now - 0.01, 4), refused, now)
    if not refused:
        rate.good(now, 0.1)


def test_refusals_after_a_first_cut_at_the_share_slow_start_saw_are_no_limit_s() -> None:
    """5% refused at random all through slow start, then a limit's refusals cut the rate:
    after the cut, the same 5% went on, and were taken for refusals that go on. The rate
    was cut again, to half what got through, and judged a second more (the simulated
    zoo's draw 08: 2 s of 3 at a third of its rate). Now they are weighed against what
    slow start saw."""
    rate, now = Rate(None, 0.0), 0.0
    rate.begin(0.0)
    for i in range(1500):  # 1.5 s, every 20th refused
        now = i * 0.001
        _answer(rate, now, i % 20 == 0)
    rate.cut(now, 0.2, 0.1)
    cut_to = rate.value
    for i in range(1, 1200):  # the same share after it
        _answer(rate, now + i * 0.001, i % 20 == 0)
    assert rate.judge(now + 1.2) is False  # no deeper cut
    assert rate.value >= cut_to
    assert rate.refusals.background == pytest.approx(0.05, abs=0.01)


def test_refusals_that_fell_to_a_third_after_the_first_cut_were_a_limit_s() -> None:
    """A sliding window of 100/s at 100 ms, 2% refused at random: 6 in 106 refused made the
    first cut, 2 in 100 after it. Chance could not tell the two shares apart, so the cut was
    undone, and slow start ran to 2.3 times the limit again (the simulated zoo, seed 17 draw
    31: 185 refused of 1,185). Random faults refuse the same share at any rate: a share
    that fell to half, or less, was the rate's."""
    rate, now = Rate(None, 0.0), 0.0
    rate.begin(0.0)
    for i in range(100):  # slow start: one refused, then five in the last round
        now = i * 0.01
        _answer(rate, now, i in (40, 91, 93, 95, 97, 99))
    rate.cut(now, 0.06, 0.1)
    ceiling = rate.ceiling
    assert ceiling is not None
    for i in range(1, 101):  # from half a second on: 2 in 100 refused
        _answer(rate, now + 0.5 + i / 75, i in (30, 70))
    assert rate.series is not None and rate.series.held()  # by chance, the same share
    assert rate.judge(now + 0.5 + 101 / 75) is False
    assert rate.ceiling == ceiling  # a limit: no slow start again
    assert rate.value <= ceiling


def test_a_background_learnt_from_few_answers_is_weighed_as_a_sample() -> None:
    """A background judged at 3% when it was 5%: each second's 5% (among 400 answers) was
    above it beyond chance a sixth of the time, and each such second cut the rate, lower
    each time (the real zoo's draw 08: from 494/s to 395/s in two seconds)."""
    refusals = Refusals()
    refusals.judged, refusals.judged_from = 0.03, 600
    for i in range(400):  # one second: 25 refused, 6.25%
        refusals.count(i / 400, i % 16 == 0)
    assert refusals.too_many(1.0, 0.1, None, slow_start=False) is None
    for i in range(400, 800):  # the next: 15%, a limit's
        refusals.count(i / 400, i % 7 == 0)
    assert refusals.too_many(2.0, 0.1, None, slow_start=False) is not None


def test_random_refusals_within_an_edge_do_not_drop_it() -> None:
    """An edge at 16 with 5% refused at every level: three random refusals among the first
    30 answers within it were 10%, and the edge was dropped (the rate was cut instead)."""
    edge = InFlightEdge(lambda: 0.0)
    dice = random.Random(3)
    for i in range(600):  # below the edge 5% refused; above it most
        level = 10 + i % 10
        refused = dice.random() < (0.05 if level <= 16 else 0.6)
        edge.add(i * 0.002, Slot(i * 0.002, level), refused)
    assert edge.found(Slot(1.2, 18), 1.2, 0.1, slow_start=False)
    assert edge.held == 16
    for i in range(30):  # within it, 3 of 30 refused
        edge.add(1.3 + i * 0.002, Slot(1.3 + i * 0.002, 12), i % 10 == 0)
    assert edge.held == 16
    for i in range(30):  # then a rate limit's: half of them
        edge.add(1.4 + i * 0.002, Slot(1.4 + i * 0.002, 12), i % 2 == 0)
    assert edge.held is None


def test_a_background_judged_too_high_gives_way_to_what_the_run_shows() -> None:
    """A sliding window of 100/s, no random faults: the first cut's judgement took the 8%
    refused after it (the window's memory of slow start) for the background, and the run
    then kept 9.7% of its requests refused, probing above the limit every five seconds.
    Seconds with none refused, sent below the limit, now show it was no background."""
    refusals = Refusals()
    refusals.judged, refusals.judged_from = 0.08, 100
    for i in range(500):  # five seconds at 100/s, none refused
        refusals.count(i / 100, False)
    assert refusals.background < 0.01
    for i in range(500, 600):  # then 10% refused in a second: a limit's
        refusals.count(i / 100, i % 10 == 0)
    assert refusals.too_many(6.0, 0.1, None, slow_start=False) is not None


def test_a_background_judged_too_high_gives_way_to_seconds_that_are_each_too_few() -> None:
    """A token bucket of 50/s: 5 of the 91 answers slow start saw before the first cut were
    the limit's, and were judged the background (5.5%). No 2 s block at 46/s, none
    refused, was surely below that alone, so the next probe above the limit had to
    reach 19% refused to cut (the simulated zoo, seed 7 draw 00). The blocks, pooled, are."""
    refusals = Refusals()
    refusals.judged, refusals.judged_from = 5 / 91, 91
    for i in range(460):  # ten seconds at 46/s, none refused
        refusals.count(i / 46, False)
    assert refusals.background < 0.01


def test_the_first_cut_s_background_is_what_slow_start_saw_when_that_explains_it() -> None:
    """3 of 130 refused while slow start grew, then a cut; 8 of 133 after it, not beyond
    chance above that: the background is learnt from both, not from the 6% after alone (a
    sliding window's memory of slow start, which the run then took for random faults)."""
    rate, now = Rate(None, 0.0), 0.0
    rate.begin(0.0)
    for i in range(140):
        now = i * 0.01
        _answer(rate, now, i in (20, 60, 100))
    rate.refusals.void()  # an edge's refusals, the window's, void the count
    for i in range(4):  # the last round, mostly refused
        now += 0.01
        _answer(rate, now, i > 0)
    rate.cut(now, 0.75, 0.1)
    for i in range(1, 151):
        _answer(rate, now + 0.4 + i * 0.006, i in range(40, 130, 12))
    assert rate.series is not None and rate.series.after == [132, 8]
    assert rate.judge(now + 1.4) is False
    assert rate.refusals.judged is not None and rate.refusals.judged < 0.05


def test_a_cut_just_after_an_undo_is_measured_on_the_rate_not_on_no_answers() -> None:
    """A first cut judged not the rate's is undone, and the good answers count afresh; a
    cut a few milliseconds later measured what got through on none, and the rate fell to
    1/s (the simulated zoo: a limit that fell from 400/s to 100/s took 20 s to climb back)."""
    rate, now = Rate(None, 0.0), 0.0
    rate.begin(0.0)
    for i in range(1500):  # 5% refused at random all through
        now = i * 0.001
        _answer(rate, now, i % 20 == 0)
    rate.cut(now, 0.05, 0.1)
    undo = rate.series.undo if rate.series else 0.0
    for i in range(1, 1200):
        _answer(rate, now + i * 0.001, i % 20 == 0)
    assert rate.judge(now + 1.2) is False and rate.ceiling is None  # undone
    assert rate.value == undo
    rate.cut(now + 1.205, 0.5, 0.1)
    assert rate.value >= 0.8 * 950  # what got through: 95% of 1,000 a second


def test_a_slow_limit_s_refusals_that_go_on_cut_deeper_without_waiting_for_100() -> None:
    """A token bucket of 50/s whose burst doubled the ceiling: the first cut, to 72/s, was
    still above it, and its judgement waited for 100 answers (two seconds at 72/s, 22
    refused a second) before it cut deeper. Refusals that surely go on need not wait."""
    rate, now = Rate(None, 0.0), 0.0
    rate.begin(0.0)
    for i in range(100):  # slow start: none refused
        now = i * 0.01
        _answer(rate, now, False)
    rate.cut(now, 0.6, 0.1)
    for i in range(1, 37):  # from half a second on: 72/s, a third refused
        _answer(rate, now + 0.5 + i / 72, i % 3 == 0)
    assert rate.judge(now + 1.01) is True  # cut deeper at once


def test_refusals_that_began_as_slow_start_grew_are_a_limit_s_below_the_cut() -> None:
    """A token bucket of 50/s whose burst let 100 through in the run's first second: the
    first cut, to 0.75 of that, was still above it. Refusals went on at the same share
    after the deeper cut too, and that was judged no limit's: slow start again, with 16%
    taken for the background (the simulated zoo, seed 13 draw 01: 0.70 of the limit).
    Slow start saw 1 in 100 refused: refusals that rose with the rate are the rate's."""
    rate, now = Rate(None, 0.0), 0.0
    rate.begin(0.0)
    for i in range(100):  # slow start: one refused
        now = i * 0.01
        _answer(rate, now, i == 50)
    for i in range(4):  # the last round, mostly refused
        now += 0.01
        _answer(rate, now, i > 0)
    rate.cut(now, 0.75, 0.1)
    first = rate.value
    for i in range(1, 91):  # from half a second on, a sixth refused: 50 a second through
        _answer(rate, now + 0.5 + i / 60, i % 6 == 0)
    assert rate.judge(now + 2.1) is True  # cut, to what got through
    assert rate.series is None and rate.ceiling is not None  # judged: no slow start again
    assert rate.refusals.judged is not None and rate.refusals.judged < 0.05
    assert 40 <= rate.value < first


def test_a_probe_shows_a_limit_gone_by_what_got_through_not_by_the_rate_asked() -> None:
    """After a cut at 50/s, the rate probes above it; slow start began again once the rate
    asked for 1.25 of the ceiling, though no more got through than before (a token bucket
    of 50/s with 5% refused at random: its cuts came late, and slow start's burst refused
    15% of the run). A limit is gone when a probe gets through, not when it is sent."""
    rate, now = Rate(None, 0.0), 0.0
    rate.begin(0.0)
    for i in range(100):  # slow start, none refused
        now = i * 0.01
        _answer(rate, now, False)
    rate.cut(now, 0.5, 0.1)
    for i in range(1, 181):  # none refused after the first cut: a limit
        _answer(rate, now + i / 60, False)
    now += 3.0
    assert rate.judge(now) is False and rate.series is None
    rate.cut(now, 0.2, 0.1)  # a limit's refusals: the ceiling is what got through
    ceiling = rate.ceiling
    assert ceiling is not None
    for i in range(1, int(8 * ceiling)):  # eight seconds of probing, no more through
        _answer(rate, now + i / ceiling, False)
    assert rate.value >= 1.25 * ceiling  # the probe asked for more ...
    assert rate.ceiling is not None  # ... and got none: no slow start
