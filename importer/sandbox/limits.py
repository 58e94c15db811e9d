"""Rate limiters as services put them in front of an API, each answering 429 its own way.

- ``TokenBucket``: ``rate`` a second with a burst of one second's worth.
- ``SlidingWindow``: at most ``limit`` accepted requests in any ``seconds``; a whole-second
  ``Retry-After`` of at least 1.
- ``FixedWindow``: Laravel's ``throttle``: ``limit`` requests per window of ``seconds`` that
  starts with the first request (windows begin and end on whole seconds, as Laravel counts
  time), ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` on every answer, ``Retry-After``
  to the window's end and ``X-RateLimit-Reset`` (epoch seconds) on the 429.
- ``InFlight``: a gateway's limit on requests being served at once.

Each is called under the fault plan's lock, except ``InFlight``, which has its own.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field

TOO_MANY_ATTEMPTS = "Too Many Attempts."
TOO_MANY_REQUESTS = "Too Many Requests"


@dataclass(frozen=True)
class Admission:
    """A limiter's verdict on one request: refused or not, and the headers of the answer."""

    refused: bool = False
    retry_after: int = 1
    message: str = TOO_MANY_REQUESTS
    headers: dict[str, str] = field(default_factory=dict)
    exact_wait: float = 1.0  # the wait before a request would be let in, unrounded


ADMITTED = Admission()


def _whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))


class TokenBucket:
    """``rate`` requests a second, a burst of one second's worth."""

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.at = now

    def admit(self, now: float) -> Admission:
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            wait = (1 - self.tokens) / self.rate
            return Admission(True, _whole_seconds(wait), exact_wait=wait)
        self.tokens -= 1
        return ADMITTED


class SlidingWindow:
    """At most ``limit`` accepted requests in any ``seconds``."""

    def __init__(self, limit: int, seconds: float = 1.0) -> None:
        self.limit = limit
        self.seconds = seconds
        self.accepted: deque[float] = deque()

    def admit(self, now: float) -> Admission:
        while self.accepted and self.accepted[0] <= now - self.seconds:
            self.accepted.popleft()
        if len(self.accepted) >= self.limit:
            wait = self.accepted[-self.limit] + self.seconds - now
            return Admission(True, _whole_seconds(wait), exact_wait=wait)
        self.accepted.append(now)
        return ADMITTED


class FixedWindow:
    """Laravel's throttle: ``limit`` hits per window of ``seconds`` from the first hit.

    ``wall`` is the epoch clock Laravel reads (``time()``): windows start and end on its
    whole seconds, so ``Retry-After`` = reset - floor(now) is exact in whole seconds.
    """

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.hits = 0
        self.resets_at = 0  # epoch seconds

    def admit(self, wall: float) -> Admission:
        now = math.floor(wall)
        if now >= self.resets_at:
            self.hits, self.resets_at = 0, now + math.ceil(self.seconds)
        if self.hits >= self.limit:
            headers = {
                **self._counts(0),
                "Retry-After": str(self.resets_at - now),
                "X-RateLimit-Reset": str(self.resets_at),
            }
            wait = self.resets_at - wall
            return Admission(True, self.resets_at - now, TOO_MANY_ATTEMPTS, headers, wait)
        self.hits += 1
        return Admission(headers=self._counts(self.limit - self.hits))

    def _counts(self, remaining: int) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(remaining)}


class InFlight:
    """At most ``limit`` requests served at once, counted across the server's threads from
    reading a request to the end of its answer, the refused ones too (as an application
    counts them: it reads each request before it can refuse it)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.serving = 0
        self.peak = 0
        self._lock = threading.Lock()

    def enter(self) -> Admission:
        """Count this request in, and refuse it when over the limit; every request that
        entered must ``leave()``."""
        with self._lock:
            self.serving += 1
            if self.serving > self.limit:
                return Admission(True, 1)
            self.peak = max(self.peak, self.serving)
            return ADMITTED

    def leave(self) -> None:
        with self._lock:
            self.serving -= 1
