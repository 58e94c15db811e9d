"""What one answer tells the controller (pace.py), and what X-RateLimit-* headers say.

An answer is *refused* when a limiter may have sent it: a 429 whatever its message, or a
502, 503 or 504 (a limiter behind a proxy, nginx's ``limit_req``). Whether refusals are a
limit's is not read from any one answer: the controller judges it from how their share
moves with the rate. ``Retry-After`` and ``X-RateLimit-*`` are hints that say when to try
again and how much of a window is left.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from .wire import Headers

#: What a limiter answers when it refuses a request.
REFUSALS = frozenset({429, 502, 503, 504})


@dataclass(eq=False, slots=True)
class Slot:
    """A request in flight: when it left, how many were in flight with it (itself too), and
    whether it left alone, probing after a pause (rule 7: its level says nothing of a limit)."""

    sent_at: float
    in_flight: int
    alone: bool = False


@dataclass(frozen=True)
class Answer:
    """What an answer tells the pacer."""

    status: int
    rtt: float
    retry_after: float | None = None
    message: str = ""
    limit: int | None = None
    remaining: int | None = None
    reset_in: float | None = None

    @property
    def refused(self) -> bool:
        """Could a limiter have sent it? (Its share, as the rate moves, says if one did.)"""
        return self.status in REFUSALS

    @property
    def has_window(self) -> bool:
        return self.remaining is not None or self.reset_in is not None

    @classmethod
    def from_http(
        cls,
        status: int,
        rtt: float,
        headers: Headers,
        *,
        retry_after: float | None = None,
        message: str = "",
    ) -> Answer:
        """An answer from its status and headers (``X-RateLimit-*``)."""
        return cls(
            status,
            rtt,
            retry_after,
            message,
            _integer(headers.get("X-RateLimit-Limit")),
            _integer(headers.get("X-RateLimit-Remaining")),
            _reset_in(headers.get("X-RateLimit-Reset")),
        )


def _integer(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _reset_in(text: str | None) -> float | None:
    """``X-RateLimit-Reset``: epoch seconds (Laravel, GitHub) or seconds from now."""
    seconds = _integer(text)
    if seconds is None:
        return None
    return seconds - time.time() if seconds > 1e9 else float(seconds)


class Window:
    """What ``X-RateLimit-*`` headers say is left of a fixed window, and when it resets."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.remaining: int | None = None
        self.resets_at: float | None = None
        self._learnt_at = -math.inf
        self._reset_at: float | None = None  # a reset passed; no answer since said so
        self._clock = clock

    def allows(self, in_flight: int) -> bool:
        """May one more request leave with ``in_flight`` already out?"""
        now = self._clock()
        if self.resets_at is not None and now >= self.resets_at:
            self.remaining = self.resets_at = None
            self._reset_at = now
        if self._reset_at is not None:  # one request learns if it did (a reset may be early)
            return in_flight == 0
        if self.remaining is None or self.remaining - in_flight > 0:
            return True
        return in_flight == 0 and self.resets_at is None  # one request learns when it resets

    def update(self, answer: Answer, in_flight: int, sent_at: float) -> None:
        """Learn from an answer to a request sent at ``sent_at``. More remaining than was
        known means a new window only for a request sent after that was learnt: answers
        reach a busy client out of order, and an old one must not reopen a spent window."""
        now = self._clock()
        if answer.refused and answer.has_window:
            self.remaining, self.resets_at, self._learnt_at = 0, now + wait_s(answer), now
            self._reset_at = None
            return
        if self._reset_at is not None and sent_at >= self._reset_at and not answer.refused:
            self._reset_at = None  # the window did reset
        if answer.remaining is None:
            return
        known = self.remaining
        falls = known is None or answer.remaining < known  # within a window it only falls
        new_window = known is not None and answer.remaining > known + in_flight
        if falls or (new_window and sent_at > self._learnt_at):
            self.remaining, self._learnt_at = answer.remaining, now


def wait_s(answer: Answer) -> float:
    """How long a 429 asks the run to wait: to the reset, which Retry-After bounds."""
    wait = answer.retry_after
    if answer.reset_in is not None:
        reset = answer.reset_in
        wait = reset if wait is None else min(wait, max(wait - 1, reset))
    return max(0.0, 1.0 if wait is None else wait)
