"""How the caller steers a run: the stop event (Ctrl-C) and the callbacks that report its
progress. Every run takes one: ``run_import``, ``run_undo``, ``run_hlr_refresh``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import logs
from ..bsg.errors import Stopped
from ..models import RowOutcome

#: progress(rows settled so far, rows in the file)
Progress = Callable[[int, int], None]
#: outcomes(rows just settled): for live counts by status
Outcomes = Callable[[Sequence[RowOutcome]], None]


@dataclass
class RunControl:
    """How the caller steers a run: a stop event (Ctrl-C) and callbacks for progress."""

    stop: threading.Event
    progress: Progress | None = None
    #: hlr_progress(contacts with a final HLR status, contacts waited for)
    hlr_progress: Progress | None = None
    outcomes: Outcomes | None = None
    #: paused(seconds): the whole run waits that long for the service (a window's reset)
    paused: Callable[[float], None] | None = None
    #: warn(problem): what went wrong without changing how the run ends (a completion
    #: notice not delivered); by default a warning in the log
    warn: Callable[[str], None] | None = None

    def sleep(self, seconds: float) -> None:
        """Sleep unless the run is stopping; raise Stopped when it is."""
        if seconds <= 0:  # the pacer's check before every request: no Condition to wait on
            if self.stop.is_set():
                raise Stopped
            return
        if self.stop.wait(seconds):
            raise Stopped

    def warned(self, problem: str) -> None:
        """Tell the caller of ``problem`` (``warn``), or the log when it listens for none."""
        if self.warn is not None:
            self.warn(problem)
        else:
            logs.event("warning", f"Warning: {problem}", level=logging.WARNING)
