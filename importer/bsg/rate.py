"""Rules 2-5 of the controller (pace.py): the rate, from what the service lets through.

2. **Slow start.** Until the first cut, the rate grows x1.5 every 0.2 s, or every two
   rounds when that is longer (refusals take a round to come back: at 300 ms the rate
   grew x1.8 before the first was heard), and never runs more than twice ahead of what
   the service delivers.
3. **Cut** (refusals.py says when). The rate is cut to 0.93 of what the service let
   through in the last second (the *ceiling*; the first cut's counted over a whole
   second even when the run is younger, unless an undo began it afresh; the rate, when
   nothing was counted for a quarter second), and below the rate less the share refused
   (a quarter off at most).
4. **Background.** The first cut goes to 0.75 of the ceiling, and is judged a second on,
   on the requests sent from half a second after it (a window keeps its last second), once
   100 have answered or refusals surely went on: none refused (or no more than while slow
   start grew, when that is known; then the background is learnt from both), a limit: the
   rate climbs back to what got through; more than while slow start grew, beyond chance,
   a limit below the cut (a window's burst made the ceiling): cut below what got through
   (half the ceiling at least), the background slow start's; refusals that go on
   otherwise, a deeper cut (0.5) judged
   again against the share at the first cut: at that share (as far as chance can tell),
   they were not the rate's and the cut is undone, unless the share since fell to half
   the one that made the first cut or less (a limit's, climbed back to); fewer, a limit
   between the cuts, probed for from there. Either way, that share is the background
   (refusals.py).
5. **Climb.** After a cut the rate climbs back to 0.98 of the ceiling within a second,
   holds a second, then probes above it: +5%/s, doubling every second, so that a limit
   that comes back is found again within ten seconds. A probe let through (good answers
   a second, not the rate asked) at 1.1 of the ceiling, when a higher one held (two
   seconds or more) in the last 30, shows a limit that fell come back: the ceiling goes
   back to that one. At 1.25 of every ceiling that refusals showed in the last ten seconds
   (not one a judgement guessed) and of every one that held, the limit is gone: slow start
   again, where the known background also cuts.
"""

from __future__ import annotations

import math
from collections import deque

from .evidence import Slot
from .refusals import Refusals
from .samples import Series

START_RATE = 100.0
MIN_RATE = 1.0
MAX_RATE = 20_000.0
SLOW_START = 1.5  # ... every GROW_EVERY_S, or GROW_ROUNDS rounds when longer
GROW_EVERY_S = 0.2
GROW_ROUNDS = 2
#: The rate never runs further ahead of what the service delivers than this.
AHEAD = 2.0
CUT = 0.93
FIRST_CUT = 0.75
#: ... and when refusals go on there, to this (of the same ceiling), judged again.
DEEP_CUT = 0.5
CRUISE = 0.98
CLIMB_S = 1.0
HOLD_S = 1.0
PROBE = 0.05  # a second, doubling every second
#: A probe this far above the ceiling, let through, shows the limit gone: slow start again.
GONE = 1.25
#: ... above every ceiling refusals showed over this long.
SEEN_S = 10.0
#: A probe this far above the ceiling, let through, shows a limit that fell come back ...
BACK = 1.1
#: ... to the highest ceiling that held over this long.
HELD_S = 30.0
#: The ceiling is what got through over this long before a cut (counted this long at least).
CEILING_S = 1.0
MEASURED_S = 0.25


class Rate:
    """The rate and its ceiling, the first cut's judgement and the good answers."""

    def __init__(self, rate: float | None, now: float) -> None:
        self.adaptive = rate is None
        self.value = START_RATE if rate is None else rate
        self.ceiling: float | None = None
        self.refusals = Refusals()
        self.series: Series | None = None  # the first cut, judged
        self._seen: deque[tuple[float, float]] = deque()  # ceilings refusals showed, when
        self._held: deque[tuple[float, float]] = deque()  # ceilings that held until a cut
        self._grown_at = self._cut_at = now
        self._counted_from = math.inf  # the rows began (or the last undo): goods count from
        self._undone = False  # a judgement undid the first cut: goods count from then
        self._goods: deque[float] = deque()
        self._before_cut: tuple[float, float | None, float, int] | None = None

    def begin(self, now: float) -> None:
        """The rows began (the login and lists go one at a time)."""
        if self._counted_from == math.inf:
            self._counted_from = now

    @property
    def last_good(self) -> float:
        return self._goods[-1] if self._goods else -math.inf

    def good(self, now: float, round_s: float) -> None:
        """A good answer; ``round_s``: how long one round of answers takes."""
        self._goods.append(now)
        self._climb(now, max(GROW_EVERY_S, GROW_ROUNDS * round_s))

    def count(self, slot: Slot, refused: bool, now: float) -> None:
        """An answer to a request sent once the last cut settled."""
        self.refusals.count(now, refused)
        if self.series is not None:
            self.series.add(slot, refused)

    def too_many(self, now: float, round_s: float) -> float | None:
        """The share refused, when it shows the rate too high (refusals.py)."""
        if not self.adaptive:
            return None
        slow_start = self.ceiling is None
        return self.refusals.too_many(now, round_s, self.series, slow_start=slow_start)

    def cut(self, now: float, share: float, round_s: float) -> None:
        """Rule 3: below what got through (of which ``share`` was refused); ``round_s``: how
        long one round of answers takes."""
        first = self.refusals.judged is None and self.series is None  # never judged
        self._before_cut = (self.value, self.ceiling, self._cut_at, len(self._seen))
        if first or self.series is not None:
            self._before_cut = None  # judged: not undone
        if first:
            prior = self.refusals.grew(now, round_s)
            self.series = Series(now, self.value, self.refusals.counts(), FIRST_CUT, prior)
        elif self.series is not None:  # judged from this cut on
            self.series.started, self.series.after = now, [0, 0]
        # Below what got through, and below the rate less what was refused (a quarter at
        # most): answers from before a limit fell still count in the measure. The ceiling
        # stays what got through: a window that remembers a burst refuses below it a while.
        self.refusals.cut()
        if self.ceiling is not None and now - self._cut_at >= CLIMB_S + HOLD_S:
            self._held.append((now, self.ceiling))  # it held while the rate climbed to it
        self.ceiling = self._through(now)
        if not first:  # a limit refused here (the first cut's ceiling is judged, a guess)
            self._seen.append((now, self.ceiling))
        through = min(self.value * max(FIRST_CUT, 1 - share), self.ceiling)
        self.value = max(MIN_RATE, through * (FIRST_CUT if first else CUT))
        self._cut_at = now

    def undo_cut(self, now: float, within_s: float) -> None:
        """The refusals of a cut made within ``within_s`` were a window's (rule 6): undo it
        (not one that is judged: the first, or one while it is)."""
        if self._before_cut is None or self.series is not None or now - self._cut_at > within_s:
            return
        self.value, self.ceiling, self._cut_at, seen = self._before_cut
        self._before_cut = None
        while len(self._seen) > seen:
            self._seen.pop()

    def _through(self, now: float) -> float:
        """What the service let through: good answers a second over the last second, or
        since the last cut when that is less (a token bucket's saved burst is no limit;
        before the first cut there is none: an edge that begins the count afresh in a
        slow start still growing reads low). Neither counted for MEASURED_S (an undo
        starts the goods afresh): the rate."""
        measured = now - self._counted_from >= MEASURED_S
        # The first cut's over a whole second, in a run younger too: a window lets its
        # second's worth through early (100 answers in 0.72 s are no limit of 139/s). Not
        # after an undo: the goods count afresh from then, a whole second would halve them.
        first = self.ceiling is None and not self._undone
        goods = self.goods_per_s(now, CEILING_S, whole=first) if measured else math.inf
        through = goods if first else min(goods, self.refusals.through(now))
        return max(MIN_RATE, through if through < math.inf else self.value)

    def judge(self, now: float) -> bool:
        """Rule 4, when the first cut's judgement is due; True when it cut again."""
        series = self.series
        if series is None or not series.due(now):
            return False
        self.series = None
        if series.began() and self.ceiling is not None:
            # More refused than while slow start grew, beyond chance: the rate's, a limit
            # below this cut (a window's burst made the ceiling), at what got through.
            self.refusals.judged, self.refusals.judged_from = series.prior_share()
            self.ceiling = max(self._through(now), self.ceiling * DEEP_CUT)
            self.value, self._cut_at = max(MIN_RATE, self.ceiling * CUT), now
            self._seen.append((now, self.ceiling))
            return True
        if series.went_on() and series.depth > DEEP_CUT and self.ceiling is not None:
            # Refusals went on: cut deeper and judge again (a background refuses at any
            # rate, a limit not below it).
            after = (series.after[0], series.after[1])
            self.series = Series(now, series.undo, after, DEEP_CUT, series.prior, series.before)
            self.value = max(MIN_RATE, min(self.value, self.ceiling * DEEP_CUT))
            return True
        held = series.held()
        self.refusals.judged, self.refusals.judged_from = series.background(held)
        if held and not series.cut_was_a_limit():  # not the rate's: slow start goes on
            self.value, self.ceiling = series.undo, None
            self._goods.clear()
            self._counted_from, self._undone = now, True
        elif (held or series.depth == FIRST_CUT) and self.ceiling is not None:
            self._cut_at = now  # none refused below it: climbing back to what got through
        else:  # a limit between the two cuts
            self.ceiling = self.value / CRUISE
            self._cut_at = now - CLIMB_S - HOLD_S  # probing from here
        return False

    def set_free(self, ceiling: float, now: float) -> None:
        """A limit in flight is the limit (rule 6): the rate probes from where it binds."""
        self.ceiling = max(self.ceiling or 0.0, ceiling)
        self.value, self.series = max(self.value, self.ceiling * CRUISE), None
        self._cut_at = now - CLIMB_S - HOLD_S

    def _climb(self, now: float, grow_every_s: float) -> None:
        if not self.adaptive or now - self._grown_at < GROW_EVERY_S / 4:
            return
        elapsed, self._grown_at = now - self._grown_at, now
        ahead = AHEAD * self.goods_per_s(now) + START_RATE
        if self.series is not None:  # a cut is held while it is judged
            return
        if self.ceiling is None:
            grown = self.value * SLOW_START ** (elapsed / grow_every_s)
            self.value = min(MAX_RATE, ahead, max(self.value, grown))
            return
        self.value = min(max(self.value, self.ceiling * _climbed(now - self._cut_at)), ahead)
        self._came_back(now)

    def _came_back(self, now: float) -> None:
        """Has a probe got through above the ceiling? Well above every one refusals showed
        lately, and every one that held, the limit is gone: slow start again. Above this
        one, when a higher one held in the last HELD_S, a limit that fell came back: the
        ceiling goes back to it, climbed to within a second (probing up from the fallen
        one took seconds, and the slow start that followed overshot it)."""
        seen, held = self._seen, self._held
        while seen and seen[0][0] < now - SEEN_S:
            seen.popleft()
        while held and held[0][0] < now - HELD_S:
            held.popleft()
        goods, ceiling = self.goods_per_s(now), self.ceiling
        highest_held = max((c for _, c in held), default=0.0)
        if seen and goods >= GONE * max(highest_held, *(c for _, c in seen)):
            self.ceiling = None  # slow start again
        elif ceiling is not None and goods >= BACK * ceiling and highest_held > goods:
            self.ceiling, self._cut_at = highest_held, now

    def goods_per_s(self, now: float, span: float = 1.0, *, whole: bool = False) -> float:
        """Good answers a second over the last ``span`` seconds, or since they count when
        that is less (unless ``whole``)."""
        goods = self._goods
        while goods and goods[0] < now - 1.0:
            goods.popleft()
        if not whole:
            span = min(span, max(0.1, now - self._counted_from))
        if span >= 1.0:
            return len(goods) / span
        return sum(1 for t in reversed(goods) if t >= now - span) / span


def _climbed(since_cut: float) -> float:
    """Rule 5: the rate as a share of the ceiling, ``since_cut`` seconds after a cut."""
    if since_cut < CLIMB_S:
        return CUT + (CRUISE - CUT) * since_cut / CLIMB_S
    probing = since_cut - CLIMB_S - HOLD_S
    if probing <= 0:
        return CRUISE
    return CRUISE * (1 + PROBE * (2**probing - 1) / math.log(2))
