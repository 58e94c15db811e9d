"""Rule 7 of the controller (pace.py): when nothing gets through, the run pauses.

It waits as the refusal says (``X-RateLimit-Reset``; ``Retry-After``, a second less when
in whole seconds, since ``Retry-After: 1`` says anything up to a second; 0.25 s when it
says nothing), then one request probes, and nothing else leaves while it is out; a probe
refused waits 0.25 s, doubling, never longer than the refusal says (MOST_PROBE_WAIT_S when
it says nothing). Refusals to requests sent before the pause are no news.
"""

from __future__ import annotations

import math

from .evidence import Answer, Slot, wait_s

PROBE_WAIT_S = 0.25
#: A probe refused by a refusal that says nothing waits at most this long: an outage's
#: end is found within it, at one request per wait.
MOST_PROBE_WAIT_S = 4.0
#: A wait ends this long after the reset it was told, so the first request lands in it.
RESET_MARGIN_S = 0.02


class Pause:
    """Whether the run is paused (probing with one request), and until when."""

    def __init__(self) -> None:
        self.probes = -1  # refused probes since the pause began; -1: not paused
        self.resume_at = 0.0
        self._began_at = -math.inf

    @property
    def on(self) -> bool:
        return self.probes >= 0

    def end(self) -> None:
        """Something got through."""
        self.probes = -1

    def stale(self, slot: Slot) -> bool:
        """Was this request sent before the pause began (so its refusal is no probe's)?"""
        return self.on and slot.sent_at < self._began_at

    def wait(self, now: float, answer: Answer) -> float | None:
        """Pause, or wait longer after a refused probe: the wait, or None when the pause
        already lasts longer."""
        told = wait_s(answer) if answer.retry_after or answer.has_window else None
        if self.on:  # a probe refused: soon again, never later than told
            wait = PROBE_WAIT_S * 2.0**self.probes
            self.probes += 1
            wait = min(wait, MOST_PROBE_WAIT_S if told is None else told)
        else:
            self.probes, self._began_at = 0, now
            wait = told if answer.has_window and told is not None else first_probe(told)
        wait += RESET_MARGIN_S
        if now + wait <= self.resume_at:
            return None
        self.resume_at = now + wait
        return wait


def first_probe(told: float | None) -> float:
    """When a pause's probe goes: as told, but a second early when told in whole seconds,
    and soon when told nothing."""
    if told is None:
        return PROBE_WAIT_S
    return max(PROBE_WAIT_S, told - 1) if told == int(told) else told
