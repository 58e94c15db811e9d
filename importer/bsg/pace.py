"""How fast the whole run sends: requests in flight, requests a second, and 429s read as evidence.

Nothing is known of the service's limit in advance, so the pacer finds it:

- **In flight.** A limit on requests in flight grows while round trips stay flat and
  shrinks when they stretch (a latency-gradient limit, as TCP Vegas or Netflix's
  concurrency-limits keep): a far-away link gets many requests in flight, a
  saturated service few. ``--concurrency N`` is its ceiling.
- **Rate.** Requests leave evenly spaced, 1/rate apart. The rate grows 50% every 0.2 s
  until a rate limit shows; then the *ceiling* is the rate of good answers over the
  last second (what the service let through), the rate drops below it (to half the
  first time, which ends the slow start; to 93% later), climbs back to 98% and stays
  there. After the first slow-down the rate climbs only while requests sent at the new
  rate are not refused; once one sent after a step is refused, the ceiling is what the
  service let through in the last second, and the rate holds below it. Still refused
  when the slow-down is judged (2 s on), the ceiling is taken anew too: the first,
  measured as the rate overshot, may hold a token bucket's saved burst. A first ceiling
  not taken anew at the limit is probed at once (10%/s); later ones after 10 quiet
  seconds, 2%/s and faster the longer no 429 comes. 429s that keep coming in cruise,
  too few to slow down for, lower the ceiling to what got through, once per slow-down.
- **429s** are read by :mod:`importer.evidence`: the headers of a fixed window pause
  the run until the window's reset (the run spends each window's allowance and never
  waits longer than the server asked); 429s that all come with one number in flight
  lower the in-flight ceiling; a rising share of 429s lowers the rate; a 429 about one
  request (BSG's duplicate-request message, or a share of 429s that stays put when the
  rate drops) only delays its own row, which the retry policy sends again after its
  ``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from .evidence import MIN_THROTTLED, Answer, Evidence, Kind, Slot, wait_s

__all__ = ["Answer", "RatePacer", "Slot"]

START_RATE = 100.0
GROW_EVERY_S = 0.2
#: Until a rate limit shows, the rate grows this much every GROW_EVERY_S (slow start).
SLOW_START = 1.5
MAX_RATE = 10_000.0
DECREASE = 0.93
#: The first rate limit met ends the slow start: the rate halves, then climbs back.
FIRST_DECREASE = 0.5
CRUISE = 0.98
#: While the first slow-down is judged, the rate stays below this share of the ceiling.
JUDGED_AT = 0.9
#: Above the first ceiling (measured as the run began, often too low), the rate grows this
#: much a second until the next 429s show where the limit is.
TENTATIVE_PROBE_PER_S = 0.1
RECOVER_PER_S = 0.5
PROBE_AFTER_S = 10.0
PROBE_PER_S = 0.02
MIN_RATE = 1.0
START_IN_FLIGHT = 8
MAX_IN_FLIGHT = 256
#: A window's wait ends this long after its reset, so that the first request lands in the new one.
RESET_MARGIN_S = 0.02
#: A 429 to a request sent this long after a slow-down is one the new rate met.
SETTLED_S = 1.0
#: Waits at least this long are announced ("waiting for BSG: 12 s").
ANNOUNCE_WAIT_S = 1.0


class RatePacer:
    """The Pacer shared by every thread of a run (see client.Pacer)."""

    def __init__(
        self,
        rate: float | None = None,
        *,
        concurrency: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.adaptive = rate is None
        self.rate = START_RATE if rate is None else rate
        self.ceiling: float | None = None
        self.limit = InFlightLimit(concurrency or MAX_IN_FLIGHT, clock)
        self.evidence = Evidence(clock)
        self.throttled = 0
        self._clock = clock
        self._sleep = sleep
        self._on_wait = on_wait
        self._lock = threading.Lock()
        self._slot_freed = threading.Condition(self._lock)
        self._next_at = 0.0
        self._resume_at = 0.0
        self._pauses = 0
        self._adjusted_at = self._slowed_at = clock()
        self._saved: tuple[float, float | None] | None = None
        self._tentative = False
        self._refused_at = -math.inf  # the last 429 to a request sent since the slow-down
        self._stepped = (math.inf, 0.0)  # the last climb while judged: when, from what rate
        self._overshot = False  # a request sent after a climb while judged was refused
        self._refused_since_settled = 0  # 429s too few to slow down for, since the slow-down

    @property
    def waiting_s(self) -> float:
        """Seconds the whole run still waits for the service (0 when it is not waiting)."""
        return max(0.0, self._resume_at - self._clock())

    @property
    def _judging(self) -> bool:
        """Is the first slow-down being judged (rate limit or noise)?"""
        return self._saved is not None

    # -- before a request ---------------------------------------------------------------

    def before_request(self) -> Slot:
        """Wait for a place in flight and this request's turn; the slot to hand back."""
        self._take_place()
        try:
            self._sleep(0)  # a run that is stopping sends nothing more
            return self._wait_turn()
        except BaseException:
            with self._lock:  # never sent: its place is free again
                self.limit.waiting -= 1
                self._slot_freed.notify()
            raise

    def _take_place(self) -> None:
        with self._lock:
            while not self.limit.has_room():
                self._slot_freed.wait(0.25)
            self.limit.waiting += 1

    def _wait_turn(self) -> Slot:
        """Wait for the next turn; a pause that begins meanwhile means a new turn."""
        while True:
            with self._lock:
                now = self._clock()
                turn = self._reserve(now)
                if turn is not None and turn <= now:
                    return self.limit.send()
                pauses = self._pauses
            until = max(now + 0.02, self._resume_at) if turn is None else turn
            self._sleep(until - now)
            with self._lock:
                if turn is not None and self._pauses == pauses and self._window_open():
                    return self.limit.send()

    def _reserve(self, now: float) -> float | None:
        """The next turn, reserved; None while a spent window holds every request back."""
        if not self._window_open():
            return None
        turn = max(now, self._resume_at, self._next_at)
        self._next_at = turn + 1.0 / self.rate
        return turn

    def _window_open(self) -> bool:
        return self.evidence.window.allows(self.limit.sent)

    # -- after an answer ----------------------------------------------------------------

    def after_response(self, slot: Slot, answer: Answer | None) -> None:
        """Learn from an answer (None: no answer came) and hand the slot back."""
        with self._lock:
            now = self._clock()
            places = self.limit.places
            self.limit.answered(slot, answer)
            self._slot_freed.notify(1 + max(0, self.limit.places - places))
            if answer is None:
                return
            rate_found = self.ceiling is not None
            kind = self.evidence.record(slot, answer, self.limit.sent, rate_found=rate_found)
            if answer.throttled:
                self._throttled(kind, slot, answer, now)
            else:
                self._climb(now)
            self._check_noise(now)

    def _throttled(self, kind: Kind, slot: Slot, answer: Answer, now: float) -> None:
        if slot.sent_at >= self._slowed_at:
            self._refused_at = now
        if self._judging and not self._overshot and slot.sent_at >= self._stepped[0]:
            self._overshot = True  # the climb met the limit: what it let through is the limit
            self.rate = min(self._stepped[1], self._remeasure() * JUDGED_AT)
        if kind == "row":
            self._refused_in_cruise(slot, answer)
            return
        self.throttled += 1
        if kind == "window":
            self._pause(now, wait_s(answer) + RESET_MARGIN_S)
        elif kind == "in-flight":
            self.limit.cap(slot.served_with - 1)
        elif kind == "rate":
            self._slow_down(now)

    def _refused_in_cruise(self, slot: Slot, answer: Answer) -> None:
        """Too few 429s to slow down for, but they keep coming at a rate below a ceiling
        found a while ago: the ceiling, measured as a token bucket spent its saved burst,
        is a little high. Lowered once per slow-down, and by no more than a slow-down, so
        that random 429s, or requests that bunched up, cost it little."""
        if (self._judging or self._tentative or self.ceiling is None or answer.about_one_request
                or slot.sent_at < self._slowed_at + SETTLED_S):  # fmt: skip
            return
        self._refused_since_settled += 1
        if self._refused_since_settled == MIN_THROTTLED:
            floor = self.ceiling * DECREASE
            self._remeasure()
            self.ceiling = max(self.ceiling, floor)

    def _pause(self, now: float, seconds: float) -> None:
        resume_at = now + seconds
        if resume_at <= self._resume_at:
            return
        self._resume_at = resume_at
        self._next_at = max(self._next_at, resume_at)
        self._pauses += 1
        if self._on_wait and seconds >= ANNOUNCE_WAIT_S:
            self._on_wait(seconds)

    def _slow_down(self, now: float) -> None:
        if not self.adaptive:
            return
        first = self.ceiling is None
        # The first slow-down is deep enough to tell a rate limit from noise; one that
        # comes while it is judged ends the judging: noise never refuses that many.
        self._saved = (self.rate, self.ceiling) if first else None
        self._tentative = first
        self.ceiling = max(MIN_RATE, self.evidence.good_per_s())
        self.rate = max(
            MIN_RATE, min(self.rate, self.ceiling) * (FIRST_DECREASE if first else DECREASE)
        )
        self._adjusted_at = self._slowed_at = now
        self._stepped, self._overshot, self._refused_since_settled = (math.inf, 0.0), False, 0
        self.evidence.changed(now, deep=first)

    def _check_noise(self, now: float) -> None:
        """Undo a slow-down that did not lower the share of 429s: they were not the rate's."""
        if self._saved is None or not self.evidence.verdict_due(now):
            return
        if self.evidence.share_held():
            self.rate, self.ceiling = self._saved
        elif self._overshot:
            self._tentative = False  # measured where the climb back met the limit
        elif self.ceiling is not None and now - self._refused_at < 1.0:
            # Still refused: the first ceiling, measured as the rate overshot, held the
            # burst a token bucket had saved; this one does not.
            self._remeasure()
        self._saved = None

    def _remeasure(self) -> float:
        """The ceiling is what the service let through in the last second, if lower."""
        assert self.ceiling is not None
        self.ceiling = max(MIN_RATE, min(self.ceiling, self.evidence.good_per_s()))
        self.rate = min(self.rate, self.ceiling * CRUISE)
        return self.ceiling

    def _climb(self, now: float) -> None:
        if not self.adaptive:
            return
        elapsed = now - self._adjusted_at
        if elapsed < GROW_EVERY_S:
            return
        self._adjusted_at = now
        if self.ceiling is None:
            self.rate = min(MAX_RATE, self.rate * SLOW_START)
            return
        # While a slow-down is judged, stay below the rate that met 429s, and climb only
        # while requests sent since are not refused; once one sent after a step is
        # refused, step back and climb no more.
        judging = self._judging
        cruise = self.ceiling * (JUDGED_AT if judging else CRUISE)
        refused = now - self._refused_at < GROW_EVERY_S
        if judging and (self.rate >= cruise or refused or self._overshot):
            return
        if self.rate < cruise:
            if judging:
                self._stepped = (now, self.rate)
            self.rate = min(cruise, self.rate * (1 + RECOVER_PER_S * elapsed))
        elif self._tentative:  # the first ceiling, measured as the run began: probe it now
            self.rate *= 1 + TENTATIVE_PROBE_PER_S * elapsed
        elif now - self._slowed_at > PROBE_AFTER_S:  # faster the longer it stays quiet
            quiet = (now - self._slowed_at) / PROBE_AFTER_S
            self.rate *= 1 + PROBE_PER_S * quiet * elapsed


class InFlightLimit:
    """How many requests may be in flight: grown while round trips stay flat (gradient)."""

    GROW_WHILE = 0.8  # min round trip / recent round trip above this: flat
    SHRINK_BELOW = 0.5  # ... below this: the service (or this machine) is queueing,
    STRETCHED = 3  # ... when it stays so for this many periods (not a pause of this machine's)
    PERIOD_S = 0.1
    MIN = 2

    def __init__(self, ceiling: int, clock: Callable[[], float]) -> None:
        self.ceiling = ceiling
        self.limit = float(min(START_IN_FLIGHT, ceiling))
        self.waiting = 0  # requests holding a place, waiting for their turn
        self.sent = 0  # requests sent and not yet answered
        self.capped: int | None = None  # the ceiling an in-flight 429 showed
        self._live: set[Slot] = set()
        self._clock = clock
        self._capped_at = 0.0
        self._slow_start = True
        self._min_rtt = math.inf
        self._rtts: list[float] = []
        self._busiest = 0
        self._stretched = 0
        self._period_from = clock()

    @property
    def places(self) -> int:
        return max(1, int(self.limit))

    def has_room(self) -> bool:
        return self.sent + self.waiting < self.places

    def send(self) -> Slot:
        """A waiting request leaves."""
        self.waiting -= 1
        self.sent += 1
        self._busiest = max(self._busiest, self.sent)
        slot = Slot(self._clock(), self.sent)
        self._live.add(slot)
        return slot

    def cap(self, places: int) -> None:
        """An in-flight 429 with ``places + 1`` in flight: never go above ``places``."""
        self.capped = max(1, min(places, self.capped or places))
        self.limit = min(self.limit, float(self.capped))
        self._capped_at = self._clock()
        self._slow_start = False

    def answered(self, slot: Slot, answer: Answer | None) -> None:
        self.sent -= 1
        self._live.discard(slot)
        if answer is None or answer.throttled:
            for later in self._live:  # counted this one, which the service never held
                later.refused_with += later.sent_at >= slot.sent_at
        if answer is None:
            return
        self._min_rtt = min(self._min_rtt, answer.rtt)
        self._rtts.append(answer.rtt)
        now = self._clock()
        period = max(self._min_rtt, self.PERIOD_S)
        if len(self._rtts) >= max(8, self.places // 2) and now - self._period_from >= period:
            self._adjust(now)

    def _adjust(self, now: float) -> None:
        recent = sorted(self._rtts)[len(self._rtts) // 2]
        gradient = self._min_rtt / recent if recent > 0 else 1.0
        used = self._busiest >= self.places - 1
        self._rtts, self._busiest, self._period_from = [], self.sent, now
        self._stretched = self._stretched + 1 if gradient < self.SHRINK_BELOW else 0
        if self._stretched >= self.STRETCHED:
            self.limit = max(float(self.MIN), self.limit * 0.9)
            self._slow_start, self._stretched = False, 0
        elif gradient >= self.GROW_WHILE and used:
            step = self.limit if self._slow_start else max(1.0, math.sqrt(self.limit))
            self.limit = min(self._top(now), self.limit + step)

    def _top(self, now: float) -> float:
        if self.capped is not None and now - self._capped_at > PROBE_AFTER_S:
            self.capped, self._capped_at = self.capped + 1, now
        return float(min(self.ceiling, self.capped or self.ceiling))
