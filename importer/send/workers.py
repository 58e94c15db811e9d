"""The sending threads: a plain pool of workers taking jobs from one queue and handing
them back, finished, on another.

concurrent.futures' pool cost ~29 µs of CPU a job (a Future with its Condition and RLock, a
work item, an idle semaphore taken on every submit and given back after every job, the done
callbacks under the future's lock); this one costs ~1 µs, measured with a job that does
nothing. Threads start as jobs wait for them, up to ``size``, and are not daemons: the
interpreter waits for a job under way at exit, as it does for concurrent.futures'.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from queue import Empty, SimpleQueue
from typing import Generic, TypeVar

T = TypeVar("T")


class Job(Generic[T]):
    """One piece of work, and what became of it once done."""

    __slots__ = ("error", "result", "work")

    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self.result: T | None = None
        self.error: BaseException | None = None

    def outcome(self) -> T:
        """The work's result; what it raised, raised again."""
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class Workers(Generic[T]):
    """Up to ``size`` threads named ``name_N``, used from one thread (the run's)."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._jobs: SimpleQueue[Job[T] | None] = SimpleQueue()
        self._done: SimpleQueue[Job[T]] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        #: Jobs given and not collected yet.
        self.pending = 0

    def submit(self, work: Callable[[], T]) -> Job[T]:
        job = Job(work)
        self._jobs.put(job)
        self.pending += 1
        if len(self._threads) < min(self._size, self.pending):
            thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}")
            thread.start()
            self._threads.append(thread)
        return job

    def collect(self, timeout: float) -> list[Job[T]]:
        """The jobs done by now, waiting up to ``timeout`` for the first."""
        if not self.pending:
            return []
        try:
            jobs = [self._done.get(timeout=timeout)]
        except Empty:
            return []
        while not self._done.empty():
            jobs.append(self._done.get_nowait())
        self.pending -= len(jobs)
        return jobs

    def shutdown(self) -> list[Job[T]]:
        """Drop the jobs not started (returned), and let every thread end after the job it
        is doing."""
        dropped = []
        try:
            while (job := self._jobs.get_nowait()) is not None:
                dropped.append(job)
        except Empty:
            pass
        for _ in self._threads:
            self._jobs.put(None)
        return dropped

    def _work(self) -> None:
        jobs, done = self._jobs, self._done
        while (job := jobs.get()) is not None:
            try:
                job.result = job.work()
            except BaseException as error:  # raised again by outcome(), in the run's thread
                job.error = error
            done.put(job)
            del job
