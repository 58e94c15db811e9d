"""How fast the whole run sends: a fixed cap, or one that finds the service's limit.

Requests are spaced evenly (1/rate apart) rather than sent in bursts, so that a
service's token bucket sees a steady stream. A 429 that asks for a pause
(``Retry-After`` above 0, or none) pauses every request until it has passed.

Without ``--rate`` the run starts unlimited. A 429 that asks for a pause means
the run is above the service's limit: the limit is then estimated as the rate
of good answers over the last seconds (the *ceiling*), and the rate drops to
90% of it. The rate then climbs back quickly to 97% of the ceiling and stays
there; only after a long quiet spell does it probe above, slowly, in case the
limit has risen. A 429 with ``Retry-After: 0`` is a refusal to retry at once,
not a request to slow down.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

DECREASE = 0.90
CRUISE = 0.97
RECOVER_PER_S = 0.10
PROBE_AFTER_S = 30.0
PROBE_PER_S = 0.01
MIN_RATE = 1.0
WINDOW_S = 2.0


class RatePacer:
    """A Pacer shared by every thread of a run."""

    def __init__(
        self,
        rate: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.rate = rate
        self.adaptive = rate is None
        self.ceiling: float | None = None
        self.throttled = 0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_at = 0.0
        self._resume_at = 0.0
        self._good: deque[float] = deque()
        self._started = clock()
        self._adjusted_at = self._started
        self._quiet_since = self._started

    def before_request(self) -> None:
        """Wait for this request's turn."""
        with self._lock:
            now = self._clock()
            start = max(now, self._resume_at, self._next_at)
            if self.rate:
                self._next_at = start + 1.0 / self.rate
        if start > now:
            self._sleep(start - now)

    def after_response(self, throttled: bool, retry_after: float | None) -> None:
        """Learn from an answer: pause and slow down on 429, recover while answers are good."""
        with self._lock:
            now = self._clock()
            if not throttled:
                self._good.append(now)
                self._climb(now)
            elif retry_after is None or retry_after > 0:
                self.throttled += 1
                self._resume_at = max(self._resume_at, now + (retry_after or 1.0))
                self._slow_down(now)

    def _slow_down(self, now: float) -> None:
        if not self.adaptive:
            return
        if self.rate is not None and now - self._adjusted_at < 0.5:
            return  # the answers of one burst count once
        seen = self._good_rate(now)
        self.ceiling = (
            seen if self.ceiling is None else min(max(seen, MIN_RATE), self.ceiling * 1.5)
        )
        self.rate = max(MIN_RATE, self.ceiling * DECREASE)
        self._adjusted_at = self._quiet_since = now

    def _climb(self, now: float) -> None:
        if self.rate is None or self.ceiling is None:
            return
        elapsed = now - self._adjusted_at
        if elapsed < 0.25:
            return
        self._adjusted_at = now
        cruise = self.ceiling * CRUISE
        if self.rate < cruise:
            self.rate = min(cruise, self.rate * (1 + RECOVER_PER_S * elapsed))
        elif now - self._quiet_since > PROBE_AFTER_S:
            self.rate *= 1 + PROBE_PER_S * elapsed

    def _good_rate(self, now: float) -> float:
        while self._good and self._good[0] < now - WINDOW_S:
            self._good.popleft()
        span = min(WINDOW_S, max(now - self._started, 0.25))
        return len(self._good) / span
