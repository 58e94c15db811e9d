"""Rule 6 of the controller (pace.py): a limit on requests in flight, found as an edge.

Over two seconds, answers are counted by the number in flight when each request left
(samples.Levels; not a probe sent alone after a pause). An edge is the number that best
splits them into nearly all through at or below it and many refused above it, beyond
chance: the window holds at it, and refusals above it cut no rate. The client counts
answers the service has already let go, so at short round trips the refusals are smeared
over a level or two above the edge; random faults refuse on both sides alike. In slow
start only the last few rounds count: the number in flight rises with the rate there, so
over longer a rate limit's refusals come at the highest levels too. Once the edge binds
for a second with no more refused at or below it than the background, it is the limit,
and the rate is set free. When it binds, it is probed above: one above after a second,
twice as long after each probe that fails (at most LIMIT_PROBE_S); a probe that went
through is followed at once by one twice as far. A probe fails at its second refusal
above the edge, when more are refused there than the background explains. Refusals that
go on within it (a rate limit's), more than the background or the share within it when it
showed explains, show it was no edge: it is dropped."""

from __future__ import annotations

import math
from collections.abc import Callable

from .evidence import Slot
from .samples import EDGE_BELOW, MIN_REFUSED, Levels, above_background

#: A probe above the edge fails at this many refusals above it.
PROBE_REFUSALS = 2
#: A limit on requests in flight is probed (one above it) at most this seldom.
LIMIT_PROBE_S = 8.0
#: In slow start an edge shows among the requests sent within this many rounds of the one
#: refused: the number in flight rises with the rate, so over longer a rate limit's
#: refusals come at the highest levels too (a token bucket's, once its burst is spent).
RECENT_ROUNDS = 4
#: A probe went through when this many were answered above the edge, and it did not fail.
PASS_ANSWERS = 20
#: Refusals above the edge of requests in line before it held (sent up to a round after)
#: are the window's this long.
HELD_LATE_S = 1.0
#: An edge is the limit when it has held this long with no refusal at or below it.
CONFIRM_S = 1.0


class InFlightEdge:
    """The edge held, its probe, and whether a rate limit refused within it."""

    def __init__(self, background: Callable[[], float]) -> None:
        self._background = background  # the share of refusals no rate explains
        self.limit: int | None = None  # the window's ceiling: the edge, or its probe
        self.held: int | None = None  # the edge below the probe
        self.levels = Levels()
        self._limit_at = self._found_at = self._first_at = -math.inf
        self._probed_at = math.inf  # when the last probe above the edge began
        self._probe = [0, 0]  # answers, refused: above the edge, sent since then
        self._probe_s = 1.0
        self._step = 1  # how far above the edge the next probe goes
        self._confirmed = True  # or not yet, for the edge held
        self._within = [0, 0]  # answers, refused: at or below the edge, sent since found
        self._below = (1, 0)  # answers, refused: at or below the edge when it showed

    def add(self, now: float, slot: Slot, refused: bool) -> None:
        """Count an answer; drop the edge when refusals within it show none."""
        if not slot.alone:
            self.levels.add(now, slot, refused)
        held = self.held
        if held is not None and slot.in_flight > held and slot.sent_at >= self._probed_at:
            self._probe[0] += 1
            self._probe[1] += refused
        if held is None or slot.in_flight > held or slot.sent_at < self._found_at:
            return
        within = self._within
        within[0] += 1
        within[1] += refused
        if within[1] >= MIN_REFUSED and self._more_within(*within):
            self.held = self.limit = None
            self.levels = Levels()

    def _more_within(self, answers: int, refused: int) -> bool:
        """Are more refused within the edge than EDGE_BELOW, and than the background or the
        share within it when it showed explains (random faults refuse at every level)?"""
        if refused <= EDGE_BELOW * answers:
            return False
        background, (n, k) = self._background(), self._below
        if background >= k / n:
            return above_background(background, answers, refused)
        return above_background(k / n, answers, refused, n)

    def probe_failed(self, slot: Slot, now: float) -> bool:
        """Was this refusal the probe's (above the held edge, sent since the probe)? At the
        second, when more are refused there than the background explains, the window holds
        at the edge again, and the next probe waits twice as long."""
        held = self.held
        if held is None or slot.in_flight <= held or slot.sent_at < self._probed_at:
            return False
        answers, refused = self._probe
        if (
            self.limit != held
            and refused >= PROBE_REFUSALS
            and above_background(self._background(), answers, refused)
        ):
            self.limit, self._limit_at = held, now
            self._probe_s, self._step = min(LIMIT_PROBE_S, 2 * self._probe_s), 1
        return True

    def found(self, slot: Slot, now: float, round_s: float, *, slow_start: bool) -> bool:
        """Was this refusal above an edge: one it shows (below any held: the window holds at
        it), or the one held? A refusal within the edge shows a rate limit too. In slow start
        only the last RECENT_ROUNDS rounds (of ``round_s``) count."""
        since = slot.sent_at - RECENT_ROUNDS * round_s if slow_start else -math.inf
        split, held = self.levels.edge(self._background(), since), self.held
        edge = math.inf if split is None else split.level
        if split is not None and slot.in_flight > edge and (held is None or edge < held):
            if held is None:
                self._first_at = now
            self._below = (split.answers, split.refused)
            self.held = self.limit = max(1, split.level)
            self._limit_at = self._found_at = now
            self._probe_s, self._step, self._confirmed, self._within = 1.0, 1, False, [0, 0]
            return held is None  # a lower one: a rate limit may be refusing too
        return False

    def in_line(self, slot: Slot, now: float, round_s: float) -> bool:
        """Was this refusal above the edge held, of a request in line when it held (sent up
        to a round after, ``round_s``)? It is the window's, as those that showed it."""
        held, first = self.held, self._first_at
        late = held is not None and slot.in_flight > held and slot.sent_at < first + round_s
        return late and now - first < HELD_LATE_S

    def due(self, now: float) -> bool:
        """Has the edge held CONFIRM_S with no more refused within it than the background
        (not yet confirmed)?"""
        if self.held is None or self._confirmed or now - self._found_at < CONFIRM_S:
            return False
        answers, refused = self._within
        return refused == 0 or not above_background(self._background(), answers, refused)

    def confirmed(self, now: float, in_flight: float) -> bool:
        """True once: the edge is ``due`` and the rate would put more in flight
        (``in_flight``) than it lets (it binds)."""
        if not self.due(now) or self.held is None or in_flight < self.held:
            return False
        self._confirmed = True
        return True

    def cap(self, window: float, in_flight: float, now: float) -> float:
        """The window, held at the edge; probed one above when the rate would put more
        in flight (``in_flight``) than the edge lets."""
        limit = self.limit
        if limit is None or window <= limit:
            return window
        if limit != self.held and self._probe[0] >= PASS_ANSWERS:  # the probe went through
            self.held, self._probe_s, self._step = limit, 1.0, 2 * self._step
            self._limit_at = -math.inf
        if in_flight >= limit and now - self._limit_at >= self._probe_s:
            self.held, self.limit = limit, limit + self._step
            self._limit_at = self._probed_at = now
            self._probe = [0, 0]
        return min(window, float(self.limit or limit))
