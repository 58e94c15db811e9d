"""Rule 7, the pause, with real threads on the real clock: in a run, many threads wait for a
turn at once, which the virtual-time simulations (one request leaves at a time) never show.
"""

from __future__ import annotations

import threading
import time

from importer.bsg.evidence import Answer
from importer.bsg.pace import RatePacer
from importer.bsg.pause import MOST_PROBE_WAIT_S, Pause

THREADS = 64  # as many as the window lets wait for a turn
ROWS = 1200
OUTAGE_S = 1.5
ROUND_TRIP_S = 0.05
#: The run has paused this long into the outage (a round, 0.1 s, and a round trip).
PAUSED_BY_S = 0.35


class Outage:
    """Every request refused with a bare 429 (no Retry-After, no body) for OUTAGE_S once
    ``after`` have got through, then none."""

    def __init__(self, after: int) -> None:
        self.lock = threading.Lock()
        self.after = after
        self.began: float | None = None
        self.good = 0
        self.refused_at: list[float] = []  # seconds into the outage

    def admit(self) -> bool:
        with self.lock:
            now = time.monotonic()
            if self.good < self.after:
                return True
            self.began = now if self.began is None else self.began
            if now - self.began < OUTAGE_S:
                self.refused_at.append(now - self.began)
                return False
            return True

    def done(self, admitted: bool) -> bool:
        """False once ROWS have got through."""
        with self.lock:
            self.good += admitted
            return self.good < ROWS


def _send(pacer: RatePacer, service: Outage) -> None:
    going = True
    while going:
        slot = pacer.before_request()
        admitted = service.admit()
        time.sleep(ROUND_TRIP_S)
        going = service.done(admitted)
        pacer.after_response(slot, Answer(200 if admitted else 429, ROUND_TRIP_S))


def _run_through(service: Outage) -> RatePacer:
    """ROWS sent by THREADS threads through one pacer, until they are done or hang."""
    pacer = RatePacer()
    threads = [
        threading.Thread(target=_send, args=(pacer, service), daemon=True) for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + OUTAGE_S + 30  # a hang, not a speed: probes are due in 2 s
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), pacer.waiting_s
    assert service.good >= ROWS
    return pacer


def test_an_outage_told_nothing_is_probed_one_request_at_a_time_and_left_when_it_ends() -> None:
    """Threads that held a turn when the pause began used to leave together at its end: each
    refusal counted as a refused probe and doubled the wait, unbounded when the refusal said
    nothing (the bench's zoo 19 waited 1,024 s, and its last 1,329 rows gave up)."""
    service = Outage(after=800)
    _run_through(service)
    # A round of refusals (0.1 s) and their round trip go before the pause; in it, one
    # probe at a time, 0.27, 0.27, 0.52 s... apart: three in the outage (27 when every
    # thread that waited for a turn left at the pause's end).
    in_the_pause = [t for t in service.refused_at if t >= PAUSED_BY_S]
    assert 1 <= len(in_the_pause) <= 6, in_the_pause


def test_an_outage_as_the_run_begins_shows_no_limit() -> None:
    """Nothing got through before the outage, so nothing measures a ceiling: it was 1/s, and
    1,200 rows took 21 s after an outage of 1.5 s (4.5 s now)."""
    pacer = _run_through(Outage(after=0))
    assert pacer.ceiling is None  # never cut: slow start after the pause, as from the start


def test_a_pause_told_nothing_probes_at_least_every_few_seconds() -> None:
    """Refused probes double the wait from 0.25 s, up to what the refusal says; a refusal
    that says nothing (nginx's 503, a bare 429) caps it at MOST_PROBE_WAIT_S, so a service
    that comes back is found again within that."""
    pause, now, waits = Pause(), 0.0, []
    for _ in range(20):
        wait = pause.wait(now, Answer(503, 0.05))
        assert wait is not None
        waits.append(wait)
        now += wait
    assert waits[:3] == [0.27, 0.27, 0.52]
    assert max(waits) <= MOST_PROBE_WAIT_S + 0.02
    assert waits[-1] > MOST_PROBE_WAIT_S / 2


def test_a_pause_told_how_long_waits_no_longer() -> None:
    pause, now = Pause(), 0.0
    for _ in range(20):
        wait = pause.wait(now, Answer(429, 0.05, retry_after=30.0))
        assert wait is not None and wait <= 30.02
        now += wait
