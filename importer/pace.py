"""How fast the whole run sends: a fixed cap, or one that finds the service's limit.

Requests are spaced evenly (1/rate apart) rather than sent in bursts, so that a
service's token bucket sees a steady stream. A 429 that asks for a pause
(``Retry-After`` above 0, or none) pauses every request until it has passed,
including those already waiting for their turn.

Without ``--rate`` the run finds the limit. It starts at 100 requests a second and
doubles the rate every 0.2 s while answers are good (*slow start*), so that an
unknown limit is met by a small overshoot rather than a flood. A 429 that asks for a pause
means the run is above the service's limit: the limit is then estimated as the
rate of good answers since the previous 429 (the *ceiling*), and the rate drops to
90% of it. Measured over a whole cycle (a pause, then sending until the next 429),
that rate is what a token bucket lets through, burst included, so the second
estimate is already close to the real limit. The rate climbs back to 97% of the
ceiling and stays there; only after a long quiet spell does it probe above, slowly,
in case the limit has risen. A 429 with ``Retry-After: 0`` is a refusal to retry at
once, not a request to slow down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

START_RATE = 100.0
DOUBLE_EVERY_S = 0.2
MAX_RATE = 10_000.0
DECREASE = 0.90
CRUISE = 0.97
RECOVER_PER_S = 0.10
PROBE_AFTER_S = 30.0
PROBE_PER_S = 0.01
MIN_RATE = 1.0
#: 429s this soon after a slow-down answer requests sent before it: they count once.
SETTLE_S = 0.5


class RatePacer:
    """A Pacer shared by every thread of a run."""

    def __init__(
        self,
        rate: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.adaptive = rate is None
        self.rate = START_RATE if rate is None else rate
        self.ceiling: float | None = None
        self.throttled = 0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_at = 0.0
        self._resume_at = 0.0
        self._pauses = 0
        self._started = clock()
        self._adjusted_at = self._started
        self._slowed_at = self._started
        self._good_since_slowed = 0

    def before_request(self) -> None:
        """Wait for this request's turn; a pause that begins meanwhile means a new turn."""
        while True:
            with self._lock:
                now = self._clock()
                start = max(now, self._resume_at, self._next_at)
                self._next_at = start + 1.0 / self.rate
                pauses = self._pauses
            if start <= now:
                return
            self._sleep(start - now)
            with self._lock:
                if self._pauses == pauses:
                    return

    def after_response(self, throttled: bool, retry_after: float | None) -> None:
        """Learn from an answer: pause and slow down on 429, speed up while answers are good."""
        with self._lock:
            now = self._clock()
            if not throttled:
                self._good_since_slowed += 1
                self._climb(now)
            elif retry_after is None or retry_after > 0:
                self.throttled += 1
                resume_at = now + (retry_after or 1.0)
                if resume_at > self._resume_at:
                    self._resume_at = resume_at
                    self._next_at = max(self._next_at, resume_at)
                    self._pauses += 1
                self._slow_down(now)

    def _slow_down(self, now: float) -> None:
        if not self.adaptive:
            return
        if self.ceiling is not None and now - self._slowed_at < SETTLE_S:
            return
        elapsed = max(now - self._slowed_at, DOUBLE_EVERY_S)
        self.ceiling = max(MIN_RATE, self._good_since_slowed / elapsed)
        self.rate = max(MIN_RATE, self.ceiling * DECREASE)
        self._adjusted_at = self._slowed_at = now
        self._good_since_slowed = 0

    def _climb(self, now: float) -> None:
        if not self.adaptive:
            return
        elapsed = now - self._adjusted_at
        if elapsed < DOUBLE_EVERY_S:
            return
        self._adjusted_at = now
        if self.ceiling is None:
            self.rate = min(MAX_RATE, self.rate * 2)
            return
        cruise = self.ceiling * CRUISE
        if self.rate < cruise:
            self.rate = min(cruise, self.rate * (1 + RECOVER_PER_S * elapsed))
        elif now - self._slowed_at > PROBE_AFTER_S:
            self.rate *= 1 + PROBE_PER_S * elapsed
