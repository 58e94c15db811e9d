"""Rule 6's edge (importer/bsg/edge.py), fed answers by hand."""

from __future__ import annotations

from importer.bsg.edge import InFlightEdge
from importer.bsg.evidence import Slot


def _held_at_seven() -> InFlightEdge:
    """An edge shown at 7 in flight: all through at 1-7, most refused at 8 and 9."""
    edge, now = InFlightEdge(), 0.0
    for level in range(1, 8):
        for _ in range(20):
            edge.add(now, Slot(now, level), refused=False)
    for level in (8, 9):
        for _ in range(3):
            edge.add(now, Slot(now, level), refused=True)
    refused = Slot(now, 8)
    assert edge.found(refused, now)
    assert edge.limit == 7
    return edge


def _probe(edge: InFlightEdge, refused_every: int) -> None:
    """A second on, a probe at 8 in flight: 40 answers, one in ``refused_every`` refused."""
    assert edge.cap(20.0, 10.0, 1.1) == 8.0
    for n in range(40):
        now = 1.2 + n * 0.01
        slot, refused = Slot(now, 8), n % refused_every == refused_every - 1
        edge.add(now + 0.05, slot, refused)
        if refused:
            edge.probe_failed(slot, now + 0.05)


def test_a_probe_above_the_edge_is_not_failed_by_random_refusals() -> None:
    """Two random faults (5%) used to fail any probe: a false edge of 7 in flight, found
    as a sliding window fell to 50/s, held a run at 35 rows/s for half a minute after the
    window came back to 200/s (the bench's zoo 14)."""
    edge = _held_at_seven()
    _probe(edge, refused_every=20)
    assert edge.limit == 8  # the probe held


def test_each_probe_that_goes_through_is_followed_by_one_twice_as_far() -> None:
    """A false edge climbed one a second: 10 to 25 in flight took 15 s of a 30 s run."""
    edge = _held_at_seven()
    _probe(edge, refused_every=20)
    assert edge.cap(20.0, 12.0, 2.3) == 10.0  # 8 went through: 8 + 2
    assert edge.held == 8


def test_a_probe_above_the_edge_that_is_refused_fails() -> None:
    edge = _held_at_seven()
    _probe(edge, refused_every=1)
    assert edge.limit == 7
