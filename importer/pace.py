"""How fast the whole run sends: a fixed cap, or one that adapts to the service's 429s.

Requests are spaced evenly (1/rate apart) rather than sent in bursts, so that a
service's token bucket sees a steady stream. A 429 pauses every request until
its ``Retry-After`` has passed. Without ``--rate``, the pace starts unlimited;
the first 429 sets the rate to just under what was getting through, and from
then on the rate grows a little each second without 429 and shrinks by a
tenth at each 429 (additive increase, multiplicative decrease).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

DECREASE = 0.9
INCREASE_PER_S = 0.02
MIN_RATE = 1.0
WINDOW_S = 2.0


class RatePacer:
    """A Pacer shared by every thread of a run."""

    def __init__(
        self,
        rate: float | None = None,
        *,
        adaptive: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.cap = rate
        self.rate = rate
        self.adaptive = adaptive and rate is None
        self.throttled = 0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_at = 0.0
        self._resume_at = 0.0
        self._answers: deque[float] = deque()
        self._grown_at = 0.0

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
        """Learn from an answer: slow everyone down on 429, speed up carefully otherwise."""
        with self._lock:
            now = self._clock()
            if throttled:
                self._throttle(now, retry_after)
            else:
                self._answers.append(now)
                self._grow(now)

    def _throttle(self, now: float, retry_after: float | None) -> None:
        self.throttled += 1
        self._resume_at = max(self._resume_at, now + (retry_after or 0.0))
        if not self.adaptive:
            return
        seen = self._recent_rate(now)
        current = self.rate if self.rate is not None else seen
        self.rate = max(MIN_RATE, min(current, seen or current) * DECREASE)
        self._grown_at = now

    def _grow(self, now: float) -> None:
        if not self.adaptive or self.rate is None:
            return
        elapsed = now - self._grown_at
        if elapsed >= 1.0:
            self.rate *= 1 + INCREASE_PER_S * elapsed
            self._grown_at = now

    def _recent_rate(self, now: float) -> float:
        while self._answers and self._answers[0] < now - WINDOW_S:
            self._answers.popleft()
        return len(self._answers) / WINDOW_S
