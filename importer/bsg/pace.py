"""The controller: how fast requests leave and how many are in flight, from what the
service lets through. Nothing is known of its limit in advance; these are the rules.

1. **Pacing.** Requests leave ``1/rate`` apart, at most ``window`` of them in flight; a
   turn is still taken up to SLACK_S late (a busy machine wakes its threads late).
2. **Slow start.** Until the first cut, the rate grows x1.5 every 0.2 s.
3. **Cut** (refusals.py). An answer is *refused* when a limiter could have sent it. When
   the share of refused answers, among those to requests sent since the last cut and in
   the last second, stands above the background share by more than chance, the rate is
   cut to 0.93 of what the service let through in the last second (the *ceiling*),
   or by the share refused when more were (at most by half; by half when nothing gets
   through). Only requests sent a round after a cut count towards the next one: at most
   one cut a round trip. In slow start, where no background is known yet, the share must
   rise as the rate grows: the last round's above the share before it (so many would come
   by chance once in 10,000), or above 25%.
4. **Background.** The first cut goes to 0.75 of the ceiling, and is judged a second on
   on the requests sent from half a second after it (a window keeps its last second): none
   refused, a limit, probed for from there (slow start overstates it); refusals that go
   on, a deeper cut (0.5) judged again: at the share of before (as far as chance can
   tell), they were not the rate's and the cut is undone. Either way, that share is the
   background. While a cut is judged, only a share that rises above the one before it,
   or above 25% (more than random faults refuse), cuts again. The background is never
   below the least share of the last ten seconds' 2 s blocks of refusals that caused no
   cut: random refusals that a judgement missed cut no rate later.
5. **Climb.** After a cut the rate climbs back to 0.98 of the ceiling within a second,
   holds a second, then probes above it: +5%/s, doubling every second, so that a limit
   that comes back is found again within ten seconds. A probe let through at 1.25 of a
   ceiling that refusals showed (not one a judgement guessed) shows the limit gone: slow
   start again, where the known background also cuts.
6. **Window.** Twice the rate times the median of the last 200 round trips (two
   bandwidth-delay products, by Little's law), at least 8. No round trip is compared
   with another: a jittery link is not read as load, and a service that answers later
   meets fewer requests only through the rate. A limit on requests in flight shows as an
   *edge* (edge.py): a number in flight at which nearly all get through and above which
   most are refused (looked for once slow start is over: there the number in flight
   rises with the rate). The window holds at it, refusals above it cut no rate; refusals
   that go on within it (over 10%) show it was no edge, and it is dropped. Once it has
   held a second with none refused within it, the rate is set free. It is probed one
   above when it binds: after a second, twice as long after each probe that fails.
7. **Pauses** (pause.py). When nothing gets through any more (a spent window, an
   outage), the run waits as the refusal says (a second less when in whole seconds;
   0.25 s when it says nothing), then one request probes; a probe refused waits 0.25 s,
   doubling, up to what the refusal says. No rate is cut for a pause.
8. **Headers.** ``X-RateLimit-Remaining`` is spent and never overdrawn: at 0 the run
   waits for the window's reset as in 7.

Hints (a refusal's message, its status, ``Retry-After``) say how long to wait; only the
share of refusals as the rate moves says whether the rate is too high. ``--rate`` fixes
the rate (rules 2-5 off); ``--concurrency`` is the window's ceiling.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from .edge import InFlightEdge
from .evidence import Answer, Slot, Window
from .pause import Pause
from .refusals import Refusals
from .samples import MIN_REFUSED, Minimum, Series

__all__ = ["MAX_IN_FLIGHT", "Answer", "RatePacer", "Slot"]

START_RATE = 100.0
MIN_RATE = 1.0
MAX_RATE = 20_000.0
SLOW_START = 1.5  # ... every GROW_EVERY_S
GROW_EVERY_S = 0.2
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
START_IN_FLIGHT = 8
MIN_IN_FLIGHT = 8
MAX_IN_FLIGHT = 256
BDP_GAIN = 2.0
RTT_WINDOW_S = 10.0
RTT_SAMPLES = 200
#: Waits at least this long are announced ("waiting for BSG: 12 s").
ANNOUNCE_WAIT_S = 1.0
#: The window is sized at most this often.
SIZE_EVERY_S = 0.1
#: A thread that wakes this much after its turn takes a new one.
#: A turn is still taken this late (a busy machine wakes threads late), and the turns
#: may run this far behind now: a burst of a few requests at most, and no turn lost.
SLACK_S = 0.02
#: The ceiling is what got through over this long before a cut.
CEILING_S = 1.0


class RatePacer:
    """The controller shared by every thread of a run (see client.Pacer)."""

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
        self.most_in_flight = concurrency or MAX_IN_FLIGHT
        self.window = float(min(START_IN_FLIGHT, self.most_in_flight))
        self._edge = InFlightEdge()  # rule 6
        self.throttled = 0  # refused answers
        self.sent = 0  # requests in flight
        self.waiting = 0  # requests holding a place, waiting for their turn
        self._clock, self._sleep, self._on_wait = clock, sleep, on_wait
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        now = clock()
        self._next_at = 0.0
        self._paused = Pause()  # rule 7
        self._turns = 0
        self._grown_at = self._cut_at = self._settled_at = now
        self._series: Series | None = None
        self._ceiling_seen = False
        self._busy_since = math.inf  # when a second request first went with one in flight
        self._refused_in_a_row = 0
        self._refusals = Refusals()  # rules 3 and 4
        self._goods: deque[float] = deque()
        self._rtt = Minimum(RTT_WINDOW_S)
        self._rtts: deque[float] = deque(maxlen=RTT_SAMPLES)
        self._sized_at = -math.inf
        self.headers = Window(clock)

    @property
    def waiting_s(self) -> float:
        """Seconds the whole run still waits for the service (0 when it is not waiting)."""
        return max(0.0, self._paused.resume_at - self._clock())

    @property
    def background(self) -> float:
        """The share of refusals no rate explains (refusals.py)."""
        return self._refusals.background

    @property
    def in_flight_limit(self) -> int | None:
        """Rule 6's limit on requests in flight, when one showed."""
        return self._edge.limit

    def has_room(self) -> bool:
        return self.sent + self.waiting < self._places()

    def _places(self) -> int:
        return 1 if self._paused.on else max(1, int(self.window))

    # -- before a request ---------------------------------------------------------------

    def before_request(self) -> Slot:
        """Wait for a place in flight and this request's turn; the slot to hand back."""
        with self._lock:
            while not self.has_room():
                self._room.wait(0.25)
            self.waiting += 1
        try:
            self._sleep(0)  # a run that is stopping sends nothing more
            return self._wait_turn()
        except BaseException:
            with self._lock:  # never sent: its place is free again
                self.waiting -= 1
                self._room.notify()
            raise

    def _wait_turn(self) -> Slot:
        """Wait for the next turn. A pause or a cut that comes meanwhile voids the turns
        given out; so does waking more than SLACK_S late: turns missed by more are not
        owed, or the requests they held back would leave at once, in a burst."""
        while True:
            with self._lock:
                now = self._clock()
                turn = self._reserve(now)
                if turn is not None and turn <= now:
                    return self._leave(now)
                turns = self._turns
            until = max(now + 0.02, self._paused.resume_at) if turn is None else turn
            self._sleep(until - now)
            with self._lock:
                now = self._clock()
                on_time = turn is not None and now - turn <= max(SLACK_S, 0.5 / self.rate)
                if on_time and self._turns == turns and self._open():
                    return self._leave(now)

    def _reserve(self, now: float) -> float | None:
        """The next turn, reserved; None while a spent window holds every request back."""
        if not self._open():
            return None
        turn = max(now - SLACK_S, self._paused.resume_at, self._next_at)
        self._next_at = turn + 1.0 / self.rate
        return max(now, turn)

    def _open(self) -> bool:
        return self.headers.allows(self.sent)

    def _leave(self, now: float) -> Slot:
        self.waiting -= 1
        self.sent += 1
        if self.sent > 1 and self._busy_since == math.inf:
            self._busy_since = now  # the rows began (the login and lists go one at a time)
        return Slot(now, self.sent)

    # -- after an answer ----------------------------------------------------------------

    def after_response(self, slot: Slot, answer: Answer | None) -> None:
        """Learn from an answer (None: no answer came) and hand the slot back."""
        with self._lock:
            self.sent -= 1
            places = self._places()
            if answer is not None:
                self._learn(slot, answer, self._clock())
            self._room.notify(1 + max(0, self._places() - places))

    def _learn(self, slot: Slot, answer: Answer, now: float) -> None:
        self.headers.update(answer, self.sent, slot.sent_at)
        self._rtt.add(now, answer.rtt)
        self._rtts.append(answer.rtt)
        self._edge.add(now, slot, answer.refused)
        if answer.refused:
            self.throttled += 1
            self._refused_in_a_row += 1
            self._refused(slot, answer, now)
        else:
            self._refused_in_a_row = 0
            self._good(slot, now)
        self._judge(now)
        self._size_window(now)

    def _good(self, slot: Slot, now: float) -> None:
        self._goods.append(now)
        self._paused.end()
        if slot.sent_at >= self._settled_at:
            self._count(slot, refused=False, now=now)
        self._confirm_edge(now)
        self._climb(now)

    def _refused(self, slot: Slot, answer: Answer, now: float) -> None:
        if self._crowded(slot, now):
            return
        if self._nothing_gets_through(slot, now):
            if self._paused.stale(slot):
                return  # sent before the pause: no probe, and no news
            self._pause(now, answer)
            fell = slot.sent_at >= self._settled_at and self._series is None
            if self.adaptive and fell and not answer.has_window:  # a spent window says so
                self._cut(now, share=1.0)
            return
        if slot.sent_at < self._settled_at:
            return
        self._count(slot, refused=True, now=now)
        if not self.adaptive:
            return
        slow_start = self.ceiling is None
        share = self._refusals.too_many(now, self._round(), self._series, slow_start=slow_start)
        if share is not None:
            self._cut(now, share)

    def _crowded(self, slot: Slot, now: float) -> bool:
        """Rule 6: was this refusal the window's, not the rate's (a probe above the edge, or
        an edge it shows)? The window holds at the edge at once."""
        edge = self._edge
        if edge.probe_failed(slot, now):
            self.window = min(self.window, float(edge.limit or self.window))
            return True
        if self.ceiling is None or not edge.found(slot, now):
            return False  # in slow start, the number in flight rises with the rate
        self.window = min(self.window, float(edge.limit or self.window))
        self._refusals.void()
        return True

    def _confirm_edge(self, now: float) -> None:
        """Rule 6: an edge that held is the limit: the rate is set free, probing from where
        the window binds."""
        edge = self._edge
        if not edge.due(now):  # cheap, on every good answer; the round trip is sorted
            return
        rtt = self._typical_rtt()
        if edge.held is None or not edge.confirmed(now, self.rate * rtt):
            return
        self.ceiling = max(self.ceiling or 0.0, edge.held / rtt)
        self.rate, self._series = max(self.rate, self.ceiling * CRUISE), None
        self._cut_at = now - CLIMB_S - HOLD_S

    def _round(self) -> float:
        """Twice the shortest round trip, at least 0.1 s: what one round of answers takes."""
        return max(0.1, 2 * self._rtt.value(0.0))

    def _count(self, slot: Slot, *, refused: bool, now: float) -> None:
        self._refusals.count(now, refused)
        if self._series is not None:
            self._series.add(slot, refused)

    def _ceiling(self, now: float) -> float:
        """What the service let through: good answers a second in the last half second (the
        run's first moments went to its login and lists), or since the last cut when that is
        less (a token bucket's saved burst is no limit)."""
        through = self._refusals.through(now)
        return max(MIN_RATE, min(self._goods_per_s(now, CEILING_S), through))

    def _nothing_gets_through(self, slot: Slot, now: float) -> bool:
        """A window spent, the service out: refused three times in a row, no good answer
        since this request left, nor for a round (or for as long as three would take)."""
        if self._paused.on or self.headers.remaining == 0:
            return True
        last = self._goods[-1] if self._goods else -math.inf
        in_a_row = self._refused_in_a_row >= MIN_REFUSED
        quiet = max(self._round(), MIN_REFUSED / max(MIN_RATE, self._goods_per_s(now)))
        return in_a_row and last < slot.sent_at and now - last > quiet

    # -- the rules ----------------------------------------------------------------------

    def _cut(self, now: float, share: float) -> None:
        """Rule 3: below what got through (of which ``share`` was refused)."""
        first = self.ceiling is None and self._refusals.judged is None
        if first:
            self._series = Series(now, self.rate, self._refusals.counts(), FIRST_CUT)
        elif self._series is not None:  # judged from this cut on
            self._series.started, self._series.after = now, [0, 0]
        # Below what got through, and below the rate less what was refused (at most half):
        # answers from before a limit fell still count in the measure.
        self.ceiling = self._ceiling(now)
        self._refusals.cut()
        through = min(self.rate * max(FIRST_CUT, 1 - share), self.ceiling)
        self.ceiling = through  # climb to what got through, not above it
        self._ceiling_seen = not first  # a limit refused at it (a judged one is a guess)
        self.rate = max(MIN_RATE, through * (FIRST_CUT if first else CUT))
        self._cut_at = now
        self._void_turns(now)

    def _void_turns(self, now: float) -> None:
        """The turns given out at the old rate are void; what was sent in the last round
        was on its way before the change, and counts towards no judgement."""
        self._turns += 1
        self._next_at = now + 1.0 / self.rate
        self._settled_at = now + self._round()
        self._refusals.void()

    def _judge(self, now: float) -> None:
        series = self._series
        if series is None or not series.due(now):
            return
        self._series = None
        if series.after[1] and series.depth > DEEP_CUT and self.ceiling is not None:
            self._deepen(now, series, self.ceiling)
            return
        held = series.held()
        self._refusals.judged = series.background(held)
        if held:  # not the rate's: slow start goes on
            self.rate, self.ceiling = series.undo, None
        else:  # a limit, somewhere above: what slow start let through may overstate it
            self.ceiling, self._ceiling_seen = self.rate / CRUISE, False
            self._cut_at = now - CLIMB_S - HOLD_S  # probing from here

    def _deepen(self, now: float, series: Series, ceiling: float) -> None:
        """Refusals went on after the first cut: cut deeper and judge again (a background
        refuses at any rate, a limit not below it)."""
        self._series = Series(now, series.undo, series.before, DEEP_CUT)
        self.rate = max(MIN_RATE, min(self.rate, ceiling * DEEP_CUT))
        self._void_turns(now)

    def _climb(self, now: float) -> None:
        if not self.adaptive or now - self._grown_at < GROW_EVERY_S / 4:
            return
        elapsed, self._grown_at = now - self._grown_at, now
        ahead = AHEAD * self._goods_per_s(now) + START_RATE
        if self._series is not None:  # a cut is held while it is judged
            return
        if self.ceiling is None:
            grown = self.rate * SLOW_START ** (elapsed / GROW_EVERY_S)
            self.rate = min(MAX_RATE, ahead, max(self.rate, grown))
            return
        self.rate = min(max(self.rate, self.ceiling * _climbed(now - self._cut_at)), ahead)
        if self._ceiling_seen and self.rate >= GONE * self.ceiling:
            self.ceiling = None  # probed well above where it refused, all let through: gone

    def _typical_rtt(self) -> float:
        return sorted(self._rtts)[len(self._rtts) // 2]

    def _size_window(self, now: float) -> None:
        if now - self._sized_at < SIZE_EVERY_S:
            return
        self._sized_at = now
        rtt = self._typical_rtt()
        window = max(MIN_IN_FLIGHT, BDP_GAIN * self.rate * rtt)
        window = self._edge.cap(window, self.rate * rtt, now)
        self.window = float(min(self.most_in_flight, window))

    def _pause(self, now: float, answer: Answer) -> None:
        """Rule 7: wait as the refusal says, then probe with one request."""
        wait = self._paused.wait(now, answer)
        if wait is None:
            return
        self._next_at = max(self._next_at, self._paused.resume_at)
        self._turns += 1
        if self._on_wait and wait >= ANNOUNCE_WAIT_S:
            self._on_wait(wait)

    def _goods_per_s(self, now: float, span: float = 1.0) -> float:
        """Good answers a second over the last ``span`` seconds (or since the rows began)."""
        goods = self._goods
        while goods and goods[0] < now - 1.0:
            goods.popleft()
        span = min(span, max(0.1, now - self._busy_since))
        return (
            sum(1 for t in reversed(goods) if t >= now - span) / span
            if span < 1
            else (len(goods) / span)
        )


def _climbed(since_cut: float) -> float:
    """Rule 5: the rate as a share of the ceiling, ``since_cut`` seconds after a cut."""
    if since_cut < CLIMB_S:
        return CUT + (CRUISE - CUT) * since_cut / CLIMB_S
    probing = since_cut - CLIMB_S - HOLD_S
    if probing <= 0:
        return CRUISE
    return CRUISE * (1 + PROBE * (2**probing - 1) / math.log(2))
