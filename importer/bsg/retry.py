"""The retry policy as one value, and the failures it tells apart.

A row gives up after ``max_attempts`` only while others still get answers: when
nothing has succeeded since the row's first attempt, BSG is down rather than
refusing this row, and the row keeps waiting until the whole run has had no
success for ``patience`` seconds since its calls began to fail.

Patience bounds the run's time without answers, not each attempt's: no wait between
attempts, and (through the session) no wait for an answer, goes past it; once it is
spent, a row is not tried at all (``GaveUp``, "not sent"): see ``Health``.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import tenacity

from .errors import NOT_SENT, GaveUp, Throttled, Transient

T = TypeVar("T")


@dataclass
class Health:
    """What the whole run knows of the service: when it last answered well, and since when
    it has not (``failing_since``: the start of the first attempt that then failed, after
    the last good answer; None while none has). Time without calls is no outage: a run
    paused for a window's reset, or waiting between HLR checks, has not been refused.

    ``patience``: how long the run waits out an outage: past it, a row's attempts stop.
    ``hold_s``: past this too (the session makes it one call's timeout), no call is sent
    and no answer awaited any more; a patience shorter than one call still lets each row be
    tried once, as a patience of 0 asks.
    """

    patience: float
    clock: Callable[[], float] = time.monotonic
    hold_s: float = 0.0
    last_success: float = field(default=0.0)
    failing_since: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.last_success = self.clock()

    def success(self) -> None:
        """Record a good answer."""
        with self._lock:
            self.last_success = self.clock()
            self.failing_since = None

    def failure(self, started: float) -> None:
        """Record an attempt started at ``started`` that failed (no answer, or a bad one)."""
        with self._lock:
            since = max(started, self.last_success)
            if self.failing_since is None or since < self.failing_since:
                self.failing_since = since

    @property
    def down_for(self) -> float:
        """Seconds since the service stopped answering well (0 while it has not)."""
        since = self.failing_since
        return 0.0 if since is None else self.clock() - since

    @property
    def exhausted(self) -> bool:
        """True once the run has waited out an outage as long as its patience."""
        return self.failing_since is not None and self.down_for >= self.patience

    def left(self) -> float:
        """Seconds of patience left."""
        return max(0.0, self.patience - self.down_for)

    def give_up_at(self) -> float:
        """When the run stops sending and waiting, unless the service answers well before
        (never, while no attempt has failed)."""
        since = self.failing_since
        return float("inf") if since is None else since + max(self.patience, self.hold_s)

    @property
    def given_up(self) -> bool:
        """True once the run has stopped sending (see ``give_up_at``)."""
        return self.clock() > self.give_up_at()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a call."""

    max_attempts: int = 10
    max_throttled: int = 20
    initial_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def call(self, health: Health, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it succeeds, raises a non-transient error, or we give up.

        Raises the last Transient when the row's attempts are spent, GaveUp past patience
        (before a first attempt when it was spent already: nothing is sent).
        """
        if health.given_up:
            raise GaveUp(NOT_SENT)
        started = health.clock()
        attempt = _told(health, attempt)
        try:
            return attempt()  # most calls succeed at once, with no retry machinery built
        except Transient as failure:
            first = failure
        failures = Counter[bool]()  # by "was it a 429": those have their own budget

        def stop(state: tenacity.RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome else None
            throttled = isinstance(error, Throttled)
            failures[throttled] += 1
            return self._stop(failures[throttled], throttled, health, started)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient),
            stop=stop,
            wait=lambda state: min(self._wait(state), health.left()),  # then stop() says so
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(_replaying(first, attempt, health))
        except Transient as error:
            if health.exhausted:
                down = f"{health.down_for:.0f} s"
                raise GaveUp(f"BSG did not answer for {down} (last: {error.reason})") from None
            raise

    def _stop(self, failures: int, throttled: bool, health: Health, started: float) -> bool:
        """``failures``: this row's failures of the same kind (429 or not) so far."""
        if health.exhausted:
            return True
        if throttled:
            return failures >= self.max_throttled
        others_answered = health.last_success > started
        return failures >= self.max_attempts and others_answered

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        ceiling = min(self.max_delay, self.initial_delay * 2 ** (state.attempt_number - 1))
        backoff = random.uniform(ceiling / 2, ceiling)
        retry_after = error.retry_after if isinstance(error, Transient) else None
        return max(backoff, retry_after or 0.0)


def _told(health: Health, attempt: Callable[[], T]) -> Callable[[], T]:
    """``attempt``, telling ``health`` when it fails as worth retrying (and when it began)."""

    def told() -> T:
        started = health.clock()
        try:
            return attempt()
        except Transient:
            health.failure(started)
            raise

    return told


def _replaying(failure: Transient, attempt: Callable[[], T], health: Health) -> Callable[[], T]:
    """``attempt``, whose first try failed with ``failure`` already: tenacity hears of it
    as its own first attempt (counts it, waits after it), then tries again, unless the
    run's patience ran out during the wait (the last failure then stands).

    A ``Retrying`` holds reference cycles that only the garbage collector frees: built
    for every call, they cost the client a tenth of its CPU when nothing limits it.
    """
    pending = [failure]
    last = failure

    def replay() -> T:
        nonlocal last
        if pending:
            raise pending.pop()
        if health.exhausted:
            raise last
        try:
            return attempt()
        except Transient as error:
            last = error
            raise

    return replay
