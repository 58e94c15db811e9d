"""Many rows at once: ``dispatch`` runs a RowSender on a thread pool and hands outcomes back,
as they come, to the caller's record function (the journal); existing contacts wait to be
attached to the list in batches."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import islice
from typing import Any, Protocol

from ..models import PreparedRow, RowOutcome
from .collector import collector_held
from .row import ATTACH_BATCH, ATTACH_EVERY_S, Found, Result, Resumed, RowSender, Unsent
from .workers import Job, Workers


class RowMarks(Protocol):
    """Where a row's progress is marked before its requests leave (the journal)."""

    def sending(self, source_rows: Sequence[int]) -> None: ...

    def unsent(self, source_rows: Sequence[int]) -> None: ...

    def found(self, source_rows: Sequence[int]) -> None: ...


@collector_held()
def dispatch(
    rows: Iterable[tuple[PreparedRow, Resumed]],
    sender: RowSender,
    *,
    concurrency: int,
    marks: RowMarks,
    record: Callable[[Sequence[RowOutcome]], None],
    stop: threading.Event,
    grace_s: float = 5.0,
) -> bool:
    """Send rows (with what a dead run left them as) until done or stopped, the garbage
    collector held back meanwhile (collector.py).

    Returns False when the stop event cut the run short.
    """
    pool: Workers[list[Result]] = Workers(concurrency, "bsg-send")
    queue = _Window(pool, sender, marks)
    try:
        finished = _sent(queue, iter(rows), concurrency * 2, record, stop, grace_s)
    except BaseException:
        pool.shutdown()
        raise
    queue.dropped(pool.shutdown())
    return finished


def _sent(
    queue: _Window,
    source: Iterator[tuple[PreparedRow, Resumed]],
    limit: int,
    record: Callable[[Sequence[RowOutcome]], None],
    stop: threading.Event,
    grace_s: float,
) -> bool:
    exhausted = False
    while True:
        if not exhausted and not stop.is_set():
            exhausted = queue.fill(source, limit)
        final = exhausted or stop.is_set()
        queue.flush_found(final=final)
        if queue.idle:
            return not stop.is_set()
        record(queue.collect(timeout=0.2))
        if stop.is_set() and queue.past_grace(grace_s):
            return False


class _Window:
    """The work in flight, and existing contacts waiting to be attached or updated.

    Finished work arrives on a queue (O(1) each), not through wait() over every job.
    """

    def __init__(self, pool: Workers[list[Result]], sender: RowSender, marks: RowMarks) -> None:
        self.pool = pool
        self.sender = sender
        self.marks = marks
        self.found: list[Found] = []
        self.attaching: set[Job[list[Result]]] = set()
        self.attached_at = time.monotonic()
        self.stopping_since: float | None = None
        #: The source row of each new row's job, until it is collected.
        self.new_rows: dict[Job[list[Result]], int] = {}

    @property
    def pending(self) -> int:
        return self.pool.pending

    @property
    def idle(self) -> bool:
        return not self.pending and not self.found

    def _submit(
        self, work: Callable[..., list[Result]], *args: Any, **kwargs: Any
    ) -> Job[list[Result]]:
        return self.pool.submit(partial(work, *args, **kwargs))

    def fill(self, source: Iterator[tuple[PreparedRow, Resumed]], limit: int) -> bool:
        """Start rows until ``limit`` are in flight; True once the source is exhausted."""
        room = limit - self.pending
        if room < max(1, limit // 4):
            return False  # fill in batches: one journal transaction for many rows
        batch = list(islice(source, room))
        if batch:
            self.marks.sending([row.source_row for row, _ in batch])
        for row, resumed in batch:
            job = self._submit(self.sender.handle, row, resumed=resumed)
            if resumed is None:
                self.new_rows[job] = row.source_row
        return len(batch) < room

    def flush_found(self, *, final: bool) -> None:
        """Update each existing contact (``--on-existing update``), or attach them: full
        batches, or what has waited long enough; at the end, the rest once no row is in
        flight any more (earlier, more existing contacts may still come)."""
        if self.sender.on_existing == "update":
            for found in self.found:
                self.attaching.add(self._submit(self.sender.update, found))
            self.found = []
            return
        due = time.monotonic() - self.attached_at >= ATTACH_EVERY_S
        last = final and self.pending == len(self.attaching)
        while self.found and (len(self.found) >= ATTACH_BATCH or last or due):
            batch, self.found = self.found[:ATTACH_BATCH], self.found[ATTACH_BATCH:]
            self.attaching.add(self._submit(self.sender.attach, batch))
            self.attached_at = time.monotonic()

    def collect(self, timeout: float) -> list[RowOutcome]:
        """Outcomes of the work finished by now, waiting up to ``timeout`` for the first."""
        jobs = self.pool.collect(timeout)
        outcomes: list[RowOutcome] = []
        found: list[Found] = []
        unsent: list[int] = []
        for job in jobs:
            self.attaching.discard(job)
            self.new_rows.pop(job, None)
            for result in job.outcome():
                if isinstance(result, Found):
                    found.append(result)
                elif isinstance(result, Unsent):
                    unsent.append(result.row.source_row)
                else:
                    outcomes.append(result)
        if unsent:
            self.marks.unsent(unsent)
        if found:
            self.marks.found([f.row.source_row for f in found])
            self.found += found
        return outcomes

    def dropped(self, jobs: Sequence[Job[list[Result]]]) -> None:
        """New rows whose jobs never started (the run stopped) were not sent after all."""
        rows = [self.new_rows[job] for job in jobs if job in self.new_rows]
        if rows:
            self.marks.unsent(rows)

    def past_grace(self, grace_s: float) -> bool:
        now = time.monotonic()
        self.stopping_since = self.stopping_since or now
        return now - self.stopping_since >= grace_s
