"""The controller: how fast requests leave and how many are in flight, from what the
service lets through. Nothing is known of its limit in advance; these are the rules.

1. **Pacing.** Requests leave ``1/rate`` apart, at most ``window`` of them in flight; a
   turn is still taken up to SLACK_S late (a busy machine wakes its threads late).
2-5. **The rate** (rate.py): slow start, then cuts below what got through when refusals
   say the rate is too high (refusals.py), judged once for the background share, and a
   climb back that probes above the ceiling on a schedule.
6. **Window.** Twice the rate times the lower quartile of the last 200 round trips, at
   least 8: no round trip is compared with another (jitter is not load), and this
   machine's own queueing does not grow it. A limit on requests in flight shows as an
   *edge* (edge.py): the window holds at it, and refusals above it cut no rate.
7. **Pauses** (pause.py). When nothing gets through any more (a spent window, an
   outage), the run waits as the refusal says (a second less when in whole seconds;
   0.25 s when it says nothing), then one request probes, alone; a probe refused waits
   0.25 s, doubling, up to what the refusal says (4 s when it says nothing). Unless a
   window's headers say it is spent, or nothing got through in the last second, the rate
   is cut too (rule 3: a limit that fell).
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
from collections.abc import Callable

from .edge import InFlightEdge
from .evidence import Answer, Slot, Window
from .pause import Pause
from .rate import MIN_RATE, Rate
from .samples import MIN_REFUSED, RoundTrips

__all__ = ["MAX_IN_FLIGHT", "Answer", "RatePacer", "Slot"]

START_IN_FLIGHT = 8
MIN_IN_FLIGHT = 8
MAX_IN_FLIGHT = 256
BDP_GAIN = 2.0
#: Waits at least this long are announced ("waiting for BSG: 12 s").
ANNOUNCE_WAIT_S = 1.0
#: The window is sized at most this often.
SIZE_EVERY_S = 0.1
#: A turn is still taken this late (a busy machine wakes threads late), and the turns
#: may run this far behind now: a burst of a few requests at most, and no turn lost.
SLACK_S = 0.02
#: A thread woken this late still takes its turn: one late request is no burst (the
#: turns behind it are reserved from now - SLACK_S), and a turn skipped is lost.
LATE_S = 0.05


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
        self.most_in_flight = concurrency or MAX_IN_FLIGHT
        self.window = float(min(START_IN_FLIGHT, self.most_in_flight))
        self._edge = InFlightEdge(lambda: self._rate.refusals.judged or 0.0)  # rule 6
        self.throttled = 0  # refused answers
        self.sent = 0  # requests in flight
        self.waiting = 0  # requests holding a place, waiting for their turn
        self._clock, self._sleep, self._on_wait = clock, sleep, on_wait
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        now = clock()
        self._next_at, self._turns = 0.0, 0
        self._paused = Pause()  # rule 7
        self._settled_at = now
        self._rate = Rate(rate, now)  # rules 2-5
        self._refused_in_a_row = 0
        self._rtts = RoundTrips()
        self._sized_at = -math.inf
        self.headers = Window(clock)

    @property
    def waiting_s(self) -> float:
        """Seconds the whole run still waits for the service (0 when it is not waiting)."""
        return max(0.0, self._paused.resume_at - self._clock())

    @property
    def rate(self) -> float:
        return self._rate.value

    @property
    def ceiling(self) -> float | None:
        return self._rate.ceiling

    @property
    def background(self) -> float:
        """The share of refusals no rate explains (refusals.py)."""
        return self._rate.refusals.background

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
                on_time = turn is not None and now - turn <= max(LATE_S, 0.5 / self.rate)
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
        """May a request leave: no window spent, and no probe out (rule 7)?"""
        probing = self._paused.on and self.sent > 0
        return not probing and self.headers.allows(self.sent)

    def _leave(self, now: float) -> Slot:
        self.waiting -= 1
        self.sent += 1
        if self.sent > 1:
            self._rate.begin(now)
        return Slot(now, self.sent, self._paused.on)

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
        self._rtts.add(now, answer.rtt)
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
        self._paused.end()
        if slot.sent_at >= self._settled_at:
            self._rate.count(slot, False, now)
        self._confirm_edge(now)
        self._rate.good(now, self._rtts.round())

    def _refused(self, slot: Slot, answer: Answer, now: float) -> None:
        if self._crowded(slot, now):
            return
        if self._nothing_gets_through(slot, now):
            if self._paused.stale(slot):
                return  # sent before the pause: no probe, and no news
            self._pause(now, answer)
            if self._fell(slot, answer, now):
                self._cut(now, share=1.0)
            return
        if slot.sent_at < self._settled_at:
            return
        self._rate.count(slot, True, now)
        share = self._rate.too_many(now, self._rtts.round())
        if share is not None:
            self._cut(now, share)

    def _fell(self, slot: Slot, answer: Answer, now: float) -> bool:
        """Does a pause show a limit that fell? Not a spent window, nor when nothing got
        through lately: no ceiling could be measured (the probes find out)."""
        if not self._rate.adaptive or answer.has_window or self._rate.series is not None:
            return False
        return slot.sent_at >= self._settled_at and self._rate.goods_per_s(now) > 0

    def _crowded(self, slot: Slot, now: float) -> bool:
        """Rule 6: was this refusal the window's (a probe above the edge, an edge it shows,
        or a request in line when one held)? The window holds at the edge at once; a cut
        the edge's refusals made is undone, and the count towards a cut begins afresh, but
        not in slow start: a rate limit's refusals look like an edge there, until requests
        within it are refused too, and its cut would wait for the count."""
        edge, round_s, slow_start = self._edge, self._rtts.round(), self._rate.ceiling is None
        probe = edge.probe_failed(slot, now)
        found = not probe and edge.found(slot, now, round_s, slow_start=slow_start)
        if not probe and not found:
            return edge.in_line(slot, now, round_s)
        self.window = min(self.window, float(edge.limit or self.window))
        if found:
            self._rate.undo_cut(now, round_s)
            if not slow_start:
                self._rate.refusals.void()
        return True

    def _confirm_edge(self, now: float) -> None:
        """Rule 6: an edge that held is the limit: the rate is set free, probing from where
        the window binds."""
        edge = self._edge
        if not edge.due(now):  # cheap, on every good answer; the round trip is sorted
            return
        (rtt,) = self._rtts.at(0.5)
        if edge.held is None or not edge.confirmed(now, self.rate * rtt):
            return
        self._rate.set_free(edge.held / rtt, now)

    def _nothing_gets_through(self, slot: Slot, now: float) -> bool:
        """A window spent, the service out: refused three times in a row, no good answer
        since this request left, nor for a round (or for as long as three would take)."""
        if self._paused.on or self.headers.remaining == 0:
            return True
        last = self._rate.last_good
        in_a_row = self._refused_in_a_row >= MIN_REFUSED
        quiet = max(self._rtts.round(), MIN_REFUSED / max(MIN_RATE, self._rate.goods_per_s(now)))
        return in_a_row and last < slot.sent_at and now - last > quiet

    # -- the rules ----------------------------------------------------------------------

    def _cut(self, now: float, share: float) -> None:
        self._rate.cut(now, share, self._rtts.round())
        self._void_turns(now)

    def _void_turns(self, now: float) -> None:
        """The turns given out at the old rate are void; what was sent in the last round
        was on its way before the change, and counts towards no judgement."""
        self._turns += 1
        self._next_at = now + 1.0 / self.rate
        self._settled_at = now + self._rtts.round()
        self._rate.refusals.void()

    def _judge(self, now: float) -> None:
        if self._rate.judge(now):  # cut again
            self._void_turns(now)

    def _size_window(self, now: float) -> None:
        if now - self._sized_at < SIZE_EVERY_S:
            return
        self._sized_at = now
        # Not the median: it counts the answers' wait for a busy machine's threads.
        quartile, median = self._rtts.at(0.25, 0.5)
        window = max(MIN_IN_FLIGHT, BDP_GAIN * self.rate * quartile)
        window = self._edge.cap(window, self.rate * median, now)
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
