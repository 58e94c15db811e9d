"""What 429s mean, decided from evidence rather than from one answer.

A 429 is one of four things, and each calls for its own response (see pace.py):

- ``window``: it carries a framework's ``X-RateLimit-*`` headers: the fixed window is
  spent; the run waits for its reset, as the headers say.
- ``in-flight``: 429s come only with some number of requests in flight (the service
  had a given number in hand), none with fewer: a limit on concurrent requests.
- ``rate``: the share of 429s among the answers to requests sent since the rate last
  changed stands above the background share, by more than chance: the run is above a
  rate limit.
- ``row``: about this request only, which the retry policy sends again after its
  ``Retry-After``: BSG's duplicate-request message while most requests get through, or
  too few 429s to tell. A slow-down that leaves the share of 429s where it was shows
  that they are not the rate's: that share (before and after it) becomes the
  background, and the slow-down is undone.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from .wire import Headers

Kind = Literal["good", "window", "in-flight", "rate", "row"]

LOOKBACK_S = 4.0
#: A share of 429s this far above the background (and beyond chance) is a rate signal...
MARGIN = 0.02
#: ... once at least this many requests sent since the last change were refused.
MIN_THROTTLED = 3
#: ... among the answers to requests sent this long after the change (a window remembers)...
SETTLE_S = 0.5
#: ... at least this many.
MIN_ANSWERS = 20
#: A slow-down's effect is judged on the requests sent from JUDGE_FROM_S after it (a window
#: keeps the requests of its last second) to VERDICT_AFTER_S.
JUDGE_FROM_S = 1.0
VERDICT_AFTER_S = 2.0
#: ... on at least this many answers (waiting up to LOOKBACK_S for them).
MIN_JUDGED = 30
#: Above this share of 429s, even BSG's duplicate-request message is about the rate.
MOST = 0.5
#: Random refusals above this share (beyond chance) are not believed: that many 429s are
#: the rate's.
MOST_NOISE = 0.25
#: An in-flight limit: this share of the 429s came with one number in flight (or one more)
NEARLY_ALL = 0.9
#: ... at least this many, and a rate limit (refusing that share of requests with any number
#: in flight) would have spared every one sent with fewer by at most this chance.
MIN_AT_EDGE = 5
CHANCE = 0.05
#: How long to wait for evidence of an in-flight limit before taking 429s for the rate's.
UNDECIDED_S = 0.1


@dataclass(eq=False)
class Slot:
    """A request in flight: when it left, and how many were in flight with it (itself too).

    ``refused_with`` counts those that turned out refused: they never held a place at the
    service, so ``in_flight - refused_with`` is what the service had in hand with it.
    """

    sent_at: float
    in_flight: int
    refused_with: int = 0

    @property
    def served_with(self) -> int:
        return self.in_flight - self.refused_with


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
    def throttled(self) -> bool:
        return self.status == 429

    @property
    def about_one_request(self) -> bool:
        return "duplicate request" in self.message.lower()

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
        self._clock = clock

    def allows(self, in_flight: int) -> bool:
        """May one more request leave with ``in_flight`` already out?"""
        if self.resets_at is not None and self._clock() >= self.resets_at:
            self.remaining = self.resets_at = None
        if self.remaining is None or self.remaining - in_flight > 0:
            return True
        return in_flight == 0 and self.resets_at is None  # one request learns when it resets

    def update(self, answer: Answer, in_flight: int, sent_at: float) -> None:
        """Learn from an answer to a request sent at ``sent_at``. More remaining than was
        known means a new window only for a request sent after that was learnt: answers
        reach a busy client out of order, and an old one must not reopen a spent window."""
        now = self._clock()
        if answer.throttled and answer.has_window:
            self.remaining, self.resets_at, self._learnt_at = 0, now + wait_s(answer), now
            return
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


class _Record(NamedTuple):
    answered_at: float
    sent_at: float
    in_flight: int
    throttled: bool
    about_one: bool


class Evidence:
    """Recent answers, and what their 429s mean."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.window = Window(clock)
        self.background = 0.0
        self._clock = clock
        self._records: deque[_Record] = deque()
        self._changed_at = -math.inf
        self._before: list[_Record] = []
        self._awaiting = False
        self._undecided_since = math.inf
        self._edge: int | None = None  # the fewest in flight an in-flight limit refused

    def record(self, slot: Slot, answer: Answer, in_flight: int, *, rate_found: bool) -> Kind:
        """Add an answer; what it means. Once a rate limit is found, the number in flight
        follows the rate, and its 429s come with the most in flight (when requests bunch):
        they are no longer read as an in-flight limit's."""
        now = self._clock()
        record = _Record(now, slot.sent_at, slot.served_with, answer.throttled,
                         answer.about_one_request)  # fmt: skip
        self._records.append(record)
        while self._records[0].answered_at < now - LOOKBACK_S:
            self._records.popleft()
        self.window.update(answer, in_flight, slot.sent_at)
        return self._kind(answer, slot, now, rate_found) if answer.throttled else "good"

    def _kind(self, answer: Answer, slot: Slot, now: float, rate_found: bool) -> Kind:
        if answer.has_window:
            return "window"
        last_second = [r for r in self._records if r.answered_at >= now - 1.0]
        if answer.about_one_request and _share(last_second) < MOST:
            return "row"
        if self._edge is not None and slot.served_with >= self._edge:
            return "in-flight"  # an in-flight limit already found, probed
        counted = [r for r in last_second if not r.about_one]
        settled = self._changed_at + SETTLE_S
        since = [r for r in counted if r.sent_at >= settled]
        refused = sum(r.throttled for r in since)
        enough = refused >= MIN_THROTTLED and len(since) >= MIN_ANSWERS
        if not enough or not self._above_background(since):
            return "row"
        bound = False if rate_found else self._in_flight_bound()
        if bound is None:  # too few refused yet to tell: wait a little
            self._undecided_since = min(self._undecided_since, now)
            if now - self._undecided_since < UNDECIDED_S:
                return "row"
        self._undecided_since = math.inf
        if bound:
            return "in-flight"
        if self._awaiting:  # while a slow-down is judged, only a share no noise has counts
            if _share(since) <= MOST_NOISE:
                return "row"
            self._awaiting = False
        # Before the slow-down: from the first refusal on (the slow start's answers before
        # it, never refused, would dilute a limit's share into a noise-like one).
        first = min(r.sent_at for r in counted if r.throttled)
        self._before = [r for r in counted if r.sent_at >= first]
        return "rate"

    def _above_background(self, records: list[_Record]) -> bool:
        """Is their share of 429s above the background by more than chance (2.5 standard
        errors of a sample that size) and MARGIN? 3 of 20 refused is no sign of a limit
        when one in ten is refused at random."""
        background = self.background
        error = math.sqrt(background * (1 - background) / len(records))
        return _share(records) > background + max(MARGIN, 2.5 * error)

    def _in_flight_bound(self) -> bool | None:
        """Refused only from some number in flight up, and nearly all with that number: a
        limit of N refuses a request that finds N in hand, so each refused one was sent
        with N + 1 (or one more: an answer still on its way back); a rate limit refuses
        with any number, and would hardly have spared every request sent with fewer.
        None while too few were refused to tell."""
        counted = [r for r in self._records if not r.about_one]
        refused = [r.in_flight for r in counted if r.throttled]
        edge = min(refused)
        at_edge = sum(1 for n in refused if n <= edge + 1)
        if at_edge < len(refused) * NEARLY_ALL:
            return False
        if at_edge < MIN_AT_EDGE:
            return None
        below = sum(1 for r in counted if r.in_flight < edge)
        if (1 - len(refused) / len(counted)) ** below > CHANCE:
            return False
        self._edge = edge
        return True

    def changed(self, now: float, *, deep: bool) -> None:
        """The rate was lowered now; a deep cut is judged in a while: did it lower the 429s?
        (A small one can leave a rate limit's share of 429s where it was.)"""
        self._changed_at = now
        self._awaiting = deep

    def verdict_due(self, now: float) -> bool:
        """Time to judge the slow-down: long enough after it, with enough answers since."""
        if not self._awaiting or now - self._changed_at < VERDICT_AFTER_S:
            return False
        return len(self._judged()) >= MIN_JUDGED or now - self._changed_at >= LOOKBACK_S

    def _judged(self) -> list[_Record]:
        judged = self._changed_at + JUDGE_FROM_S
        return [r for r in self._records if r.sent_at >= judged and not r.about_one]

    def share_held(self) -> bool:
        """After a slow-down: did the share of 429s stay (as far as chance can tell)? If so
        it is the background. (A few 429s among few answers, gone after the slow-down,
        are as likely noise as a limit.)"""
        self._awaiting = False
        since = self._judged()
        if len(since) < MIN_JUDGED or not _alike(self._before, since):
            return False
        pooled = self._before + since  # the background, from as many answers as there are
        share = _share(pooled)
        if share - 2.5 * math.sqrt(share * (1 - share) / len(pooled)) > MOST_NOISE:
            return False
        self.background = share
        return True

    def good_per_s(self) -> float:
        """Good answers in the last second: what the service let through."""
        since = self._clock() - 1.0
        return float(sum(1 for r in self._records if r.answered_at >= since and not r.throttled))


def _alike(before: list[_Record], after: list[_Record]) -> bool:
    """Are the two shares of 429s the same but for chance (within 2.5 standard errors)?"""
    pooled = _share(before + after)
    error = math.sqrt(pooled * (1 - pooled) * (1 / max(1, len(before)) + 1 / len(after)))
    return abs(_share(before) - _share(after)) <= max(2.5 * error, MARGIN)


def _share(records: list[_Record]) -> float:
    return sum(r.throttled for r in records) / len(records) if records else 0.0
