"""Runs in the background: a check, an import or an undo, each in its own thread.

A job outlives the page that started it (reload or close the tab, the run goes on); the
page polls ``Job.status()``. ``stop()`` does what Ctrl-C does for the command.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import FATAL, INTERRUPTED, Interrupted, exit_for
from ..logs import hlr_waited
from ..models import ImportSummary, RowOutcome
from ..runs.control import RunControl

Kind = Literal["check", "import", "undo", "hlr"]
State = Literal["running", "done", "stopped", "failed"]
#: No row settled for this long while sending: the run is waiting for BSG.
WAITING_AFTER_S = 3.0
RATE_WINDOW_S = 10.0
#: What a job runs: given the run's controls, it returns the run's summary.
Work = Callable[[RunControl], Any]


@dataclass
class Job:
    """One run: what it is, how far it got, and how it ended."""

    kind: Kind
    title: str
    upload_id: str | None = None
    id: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    control: RunControl = field(default_factory=lambda: RunControl(threading.Event()))
    state: State = "running"
    error: str = ""
    result: Any = None
    output: Path | None = None  # the results workbook the run writes
    left_list: Any = None  # a leftovers.LeftList: the list a failed import left empty
    journal_key: str | None = None  # an import's journal (its key in History)
    #: a check's invalid rows, read when it ended: (the columns, (cells, outcome) each)
    problems: tuple[list[str], list[tuple[list[str], RowOutcome]]] | None = None
    done: int = 0
    total: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    #: (contacts with a final HLR status, contacts waited for) once the run waits for HLR
    hlr: tuple[int, int] | None = None
    sent: float | None = None  # when the wait for HLR began: the rows' rate ends there
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    _samples: deque[tuple[float, int]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.control.progress = self._progress
        self.control.outcomes = self._outcomes
        self.control.hlr_progress = self._hlr_progress

    def stop(self) -> None:
        """Finish what is in flight, write the results, end as 'stopped' (Ctrl-C)."""
        self.control.stop.set()

    @property
    def summary(self) -> ImportSummary | None:
        """The import's summary, once it has one."""
        return self.result if isinstance(self.result, ImportSummary) else None

    def status(self) -> dict[str, Any]:
        """Everything the page shows, as JSON."""
        with self._lock:
            waiting, running = self._waiting(), self.state == "running"
            elapsed = (self.ended or time.monotonic()) - self.started
            if not running:  # the average over the sending; nothing left to wait for
                sending = (self.sent or self.ended or time.monotonic()) - self.started
                rate, left = (self.done / sending if sending else None), None
            else:
                rate = None if waiting or self.hlr else self._rate()
                left = (self.total - self.done) / rate if rate and self.total else None
            return {
                "state": self.state,
                "stopping": self.control.stop.is_set() and running,
                "done": self.done,
                "total": self.total,
                "rate": round(rate, 1) if rate else None,
                "seconds_left": round(left) if left is not None else None,
                "elapsed": round(elapsed, 1),
                "counts": dict(self.counts),
                "waiting": waiting,
                "hlr_waiting": hlr_waited(*self.hlr) if self.hlr and running else None,
                "error": self.error,
            }

    def _progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        with self._lock:
            self.done, self.total = done, total
            self._samples.append((now, done))
            while self._samples and now - self._samples[0][0] > RATE_WINDOW_S:
                self._samples.popleft()

    def _hlr_progress(self, done: int, total: int) -> None:
        with self._lock:
            self.hlr = (done, total)
            self.sent = self.sent or time.monotonic()

    def _outcomes(self, outcomes: Sequence[RowOutcome]) -> None:
        with self._lock:
            self.counts.update(o.status.value for o in outcomes)

    def _rate(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else None

    def _waiting(self) -> bool:
        if self.state != "running" or not self._samples or self.kind in ("undo", "hlr"):
            return False
        if self.hlr:  # every row sent: the run waits for the HLR checks, not for BSG
            return False
        return time.monotonic() - self._samples[-1][0] > WAITING_AFTER_S

    def finish(self, state: State, result: Any = None, error: str = "") -> None:
        with self._lock:
            self.state, self.result, self.error = state, result, error
            self.ended = time.monotonic()


class Jobs:
    """Every job of this server, by id."""

    def __init__(self, scrub: Callable[[str], str]) -> None:
        self._jobs: dict[str, Job] = {}
        self._threads: list[threading.Thread] = []
        self._scrub = scrub

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def running(self) -> list[Job]:
        return [j for j in self._jobs.values() if j.state == "running"]

    def running_import(self, journal_key: str | None) -> Job | None:
        """The running import (or resume) writing this journal, if any."""
        return next((j for j in self.running() if j.kind == "import" and journal_key
                     and j.journal_key == journal_key), None)  # fmt: skip

    def imported_after(self, check: Job) -> Job | None:
        """The import of a check's file started after the check, if any."""
        return next((j for j in reversed(self.latest()) if j.kind == "import"
                     and j.upload_id == check.upload_id and j.started > check.started
                     and check.kind == "check"), None)  # fmt: skip

    def latest(self) -> list[Job]:
        """Jobs newest first."""
        return sorted(self._jobs.values(), key=lambda j: j.started, reverse=True)

    def start(self, job: Job, work: Work, after: Callable[[State], None]) -> Job:
        """Run ``work`` in a thread; ``after`` runs once it has ended, with how it ended,
        before the job shows it (a page that sees "done" sees what ``after`` did)."""
        self._jobs[job.id] = job
        thread = threading.Thread(target=self._run, args=(job, work, after), daemon=True)
        self._threads.append(thread)
        thread.start()
        return job

    def _run(self, job: Job, work: Work, after: Callable[[State], None]) -> None:
        state, result, error = self._outcome(job, work)
        try:
            after(state)
        finally:
            job.finish(state, result, error)

    def _outcome(self, job: Job, work: Work) -> tuple[State, Any, str]:
        try:
            return "done", work(job.control), ""
        except FATAL as error:  # as the command ends: 130 is a stop, another code a failure
            ending = exit_for(error)
            if ending.code == INTERRUPTED:
                summary = error.summary if isinstance(error, Interrupted) else None
                return "stopped", summary, self._scrub(ending.message)
            return "failed", None, self._scrub(ending.message)
        except Exception as error:  # the page must show something, never a traceback
            return "failed", None, f"unexpected error: {type(error).__name__}"

    def stop_all(self, wait_s: float = 30.0) -> None:
        """Stop every run (the server is shutting down) and let each write its results."""
        for job in self.running():
            job.stop()
        deadline = time.monotonic() + wait_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
