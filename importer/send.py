"""Send stage: one request per row, many in flight, every answer turned into an outcome.

``RowSender`` knows what to do with one row; ``dispatch`` runs many of them at once
on a thread pool and hands outcomes back, as they come, to the caller's record
function (the journal). Existing contacts are attached to the list in batches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import islice
from queue import Empty, SimpleQueue
from typing import Any, Literal, Protocol

from .bsg.calls import Calls
from .bsg.errors import CallFailed, Transient
from .models import (
    ALREADY_IN_LIST,
    MAYBE_SENT_NOTE,
    Contact,
    JournalState,
    PreparedRow,
    RowOutcome,
    Status,
)
from .settings import OnExisting

#: What a run that died left a row as: SENDING (its create may have gone through) or
#: FOUND (its phone was in the book already); None for a row never tried.
Resumed = Literal[JournalState.SENDING, JournalState.FOUND] | None
#: Why a contact already in the list may be this import's doing.
Ours = Literal["created", "attached"]
#: BSG's answer to a create for a phone in the book: "Phone number is already exist in …".
ALREADY_EXISTS = "already exist"
ATTACH_BATCH = 100
ATTACH_EVERY_S = 2.0


@dataclass(frozen=True, slots=True)
class Found:
    """A row whose phone is already in the contact book: to attach (or update) it, the
    run's main thread first marks it in the journal, then sends the work."""

    row: PreparedRow
    contact: Contact
    note: str = ""


Result = RowOutcome | Found


class RowSender:
    """Creates, finds, attaches or checks the contact of one row."""

    def __init__(
        self,
        calls: Calls,
        list_id: int | None,
        *,
        on_existing: OnExisting = "attach",
        dry_run: bool = False,
    ) -> None:
        self.calls = calls
        self.client = calls.client
        self.list_id = list_id
        self.on_existing = on_existing
        self.dry_run = dry_run

    def handle(self, row: PreparedRow, *, resumed: Resumed = None) -> list[Result]:
        """The outcome of one row; a row a dead run left unsettled is looked up first.

        A row that fails after a create of it may have been carried out (now, or by the run
        that left it ``sending``) is failed ``maybe_sent``: the next run looks it up first.
        """
        sent = _Sent(resumed is JournalState.SENDING)
        try:
            if self.dry_run:
                return [self._check(row)]
            if resumed is not None:
                contact = self.calls.call(lambda: self.client.find_contact(_phone(row)))
                if contact is not None:
                    ours: Ours = "created" if resumed is JournalState.SENDING else "attached"
                    return [self._existing(row, contact, ours=ours)]
            return [self._create(row, sent)]
        except CallFailed as failure:
            if failure.stopped:
                return []
            refused = "BSG refused it: " if failure.refused else ""
            failed = _failed(row, refused + failure.reason)
            if sent.maybe:
                failed = replace(failed, maybe_sent=True, error=failed.error + MAYBE_SENT_NOTE)
            return [failed]

    def attach(self, found: Sequence[Found]) -> list[Result]:
        """Add a batch of existing contacts to the list in one call."""
        if self.list_id is None:
            return [_outcome(f.row, f.contact, Status.EXISTING, f.note) for f in found]
        ids = [f.contact.id for f in found]
        list_id = self.list_id
        try:
            self.calls.call(lambda: self.client.attach(ids, list_id))
        except CallFailed as failure:
            if failure.stopped:
                return []
            return [
                _failed(f.row, f"could not add it to the list: {failure.reason}") for f in found
            ]
        return [_outcome(f.row, f.contact, Status.EXISTING, f.note) for f in found]

    def update(self, found: Found) -> list[Result]:
        """Overwrite the fields of one existing contact and add it to the list."""
        try:
            contact = self._update(found.row, found.contact)
        except CallFailed as failure:
            return (
                []
                if failure.stopped
                else [_failed(found.row, f"could not update it: {failure.reason}")]
            )
        return [_outcome(found.row, contact, Status.EXISTING, found.note)]

    def _create(self, row: PreparedRow, sent: _Sent) -> Result:
        """Create the contact; a phone in the book already (perhaps by our own attempt whose
        answer was lost) is looked up instead. ``sent`` learns whether an attempt may have
        been carried out without its answer."""
        phone = _phone(row)

        def create() -> Contact:
            try:
                return self.client.create_contact(phone, self.list_id, row.fields)
            except Transient as error:
                sent.maybe = sent.maybe or error.outcome_unknown
                raise

        made = self.calls.create(
            create,
            lambda: self.client.find_contact(phone),
            exists=ALREADY_EXISTS,
            what="the phone",
        )
        if not made.found:
            return _outcome(row, made.value, Status.CREATED)
        return self._existing(row, made.value, ours="created" if made.maybe_ours else None)

    def _existing(self, row: PreparedRow, contact: Contact, *, ours: Ours | None) -> Result:
        """A phone already in the book. In the list, it is ours when an earlier attempt of
        ours may have created it (``ours="created"``) or attached it (``"attached"``)."""
        in_list = self.list_id in contact.groups
        if in_list and ours == "created":
            return _outcome(row, contact, Status.CREATED)
        if self.on_existing == "skip":
            return _outcome(row, contact, Status.SKIPPED, "already in the contact book; left alone")
        note = ALREADY_IN_LIST if in_list and ours != "attached" else ""
        if in_list and self.on_existing == "attach":
            return _outcome(row, contact, Status.EXISTING, note)
        return Found(row, contact, note)

    def _update(self, row: PreparedRow, contact: Contact) -> Contact:
        groups = list(dict.fromkeys([*contact.groups, *([self.list_id] if self.list_id else [])]))
        values = {**contact.fields, **dict(row.fields)}
        return self.calls.call(lambda: self.client.update_contact(contact, groups, values))

    def _check(self, row: PreparedRow) -> RowOutcome:
        found = self.calls.call(lambda: self.client.find_contact(_phone(row)))
        if found is not None:
            return _outcome(row, found, Status.EXISTING)
        return RowOutcome(row.source_row, Status.VALIDATED, row.phone, error=row.error)


@dataclass(slots=True)
class _Sent:
    """Whether a create of the row may have been carried out without its answer."""

    maybe: bool


def _phone(row: PreparedRow) -> int:
    assert row.phone is not None
    return row.phone


def _outcome(row: PreparedRow, contact: Contact, status: Status, note: str = "") -> RowOutcome:
    return RowOutcome(
        row.source_row,
        status,
        row.phone,
        contact.id,
        contact.hlr_status,
        contact.hlr_last_check,
        error="; ".join(filter(None, [row.error, note])),
    )


def _failed(row: PreparedRow, reason: str) -> RowOutcome:
    return RowOutcome(row.source_row, Status.FAILED, row.phone, error=reason)


class RowMarks(Protocol):
    """Where a row's progress is marked before its requests leave (the journal)."""

    def sending(self, source_rows: Sequence[int]) -> None: ...

    def found(self, source_rows: Sequence[int]) -> None: ...


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
    """Send rows (with what a dead run left them as) until done or stopped.

    Returns False when the stop event cut the run short.
    """
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bsg-send")
    queue = _Window(pool, sender, marks)
    source = iter(rows)
    try:
        exhausted = False
        while True:
            if not exhausted and not stop.is_set():
                exhausted = queue.fill(source, concurrency * 2)
            final = exhausted or stop.is_set()
            queue.flush_found(final=final)
            if queue.idle:
                return not stop.is_set()
            record(queue.collect(timeout=0.2))
            if stop.is_set() and queue.past_grace(grace_s):
                return False
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


class _Window:
    """The work in flight, and existing contacts waiting to be attached or updated.

    Finished work arrives on a queue (O(1) each), not through wait() over every future.
    """

    def __init__(self, pool: ThreadPoolExecutor, sender: RowSender, marks: RowMarks) -> None:
        self.pool = pool
        self.sender = sender
        self.marks = marks
        self.pending = 0
        self.finished: SimpleQueue[Future[list[Result]]] = SimpleQueue()
        self.found: list[Found] = []
        self.attaching: set[Future[list[Result]]] = set()
        self.attached_at = time.monotonic()
        self.stopping_since: float | None = None

    @property
    def idle(self) -> bool:
        return not self.pending and not self.found

    def _submit(
        self, work: Callable[..., list[Result]], *args: Any, **kwargs: Any
    ) -> Future[list[Result]]:
        future = self.pool.submit(work, *args, **kwargs)
        self.pending += 1
        future.add_done_callback(self.finished.put)
        return future

    def fill(self, source: Iterator[tuple[PreparedRow, Resumed]], limit: int) -> bool:
        """Start rows until ``limit`` are in flight; True once the source is exhausted."""
        room = limit - self.pending
        if room < max(1, limit // 4):
            return False  # fill in batches: one journal transaction for many rows
        batch = list(islice(source, room))
        if batch:
            self.marks.sending([row.source_row for row, _ in batch])
        for row, resumed in batch:
            self._submit(self.sender.handle, row, resumed=resumed)
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
        if not self.pending:
            return []
        try:
            futures = [self.finished.get(timeout=timeout)]
        except Empty:
            return []
        while not self.finished.empty():
            futures.append(self.finished.get_nowait())
        self.pending -= len(futures)
        outcomes: list[RowOutcome] = []
        found: list[Found] = []
        for future in futures:
            self.attaching.discard(future)
            for result in future.result():
                if isinstance(result, Found):
                    found.append(result)
                else:
                    outcomes.append(result)
        if found:
            self.marks.found([f.row.source_row for f in found])
            self.found += found
        return outcomes

    def past_grace(self, grace_s: float) -> bool:
        now = time.monotonic()
        self.stopping_since = self.stopping_since or now
        return now - self.stopping_since >= grace_s
