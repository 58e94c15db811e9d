"""HLR results, read a page of the list at a time: for hlr-refresh and --wait-hlr.

BSG checks a number against the HLR database after the contact exists, so its status
arrives later than its ID. Reading the list's contacts, 500 a page, costs one request
per 500 contacts; only a contact no longer in the list is fetched on its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from .bsg.calls import Calls
from .bsg.client import LIST_PAGE_LIMIT
from .bsg.errors import CallFailed
from .models import FINAL_HLR, Contact

INVALID_CONTACT = "Invalid contact id"
#: Pauses between reads of the list while waiting: short at first, then longer.
FIRST_PAUSE_S = 1.0
MAX_PAUSE_S = 10.0


@dataclass
class Read:
    """Contacts as BSG has them now; those deleted since; those that could not be read, why."""

    found: dict[int, Contact] = field(default_factory=dict)
    gone: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)


def read_contacts(calls: Calls, list_id: int | None, wanted: Collection[int]) -> Read:
    """The wanted contacts: the list's pages first, then each one not found there on its own."""
    read, wanted_ids = Read(), set(wanted)
    try:
        listed = _list(calls, list_id, wanted_ids) if list_id is not None else []
    except CallFailed as stopped:
        read.failed = dict.fromkeys(wanted_ids, stopped.reason)
        return read
    read.found = {c.id: c for c in listed if c.id in wanted_ids}
    alone = sorted(wanted_ids - read.found.keys())
    for contact_id, answer in calls.each(alone, lambda i: _one(calls, i)):
        if isinstance(answer, Contact):
            read.found[contact_id] = answer
        elif answer == INVALID_CONTACT:
            read.gone.add(contact_id)
        else:
            read.failed[contact_id] = answer
    return read


def _list(calls: Calls, list_id: int, wanted: set[int]) -> list[Contact]:
    """The list's contacts that could be read: the first page, then the others at once,
    unless the list is so much bigger that reading the rest one by one costs less."""
    first = _page(calls, list_id, 0)
    if first is None:
        return []
    contacts, total = first
    offsets = range(len(contacts), total, len(contacts) or LIST_PAGE_LIMIT)
    if len(offsets) > len(wanted - {c.id for c in contacts}):
        return contacts
    for _, page in calls.each(offsets, lambda offset: _page(calls, list_id, offset)):
        contacts += page[0] if page else []
    return contacts


def _page(calls: Calls, list_id: int, offset: int) -> tuple[list[Contact], int] | None:
    """One page; None when it can't be read (its contacts are then fetched one by one).
    CallFailed when the run is stopping."""
    try:
        return calls.call(lambda: calls.client.list_page(list_id, offset, LIST_PAGE_LIMIT))
    except CallFailed as failure:
        if failure.stopped:
            raise
        return None


def _one(calls: Calls, contact_id: int) -> Contact | str:
    try:
        return calls.call(lambda: calls.client.get_contact(contact_id))
    except CallFailed as failure:
        return failure.reason


@dataclass
class Waited:
    """The contacts as BSG last had them, and those still without a final HLR status."""

    latest: dict[int, Contact]
    pending: set[int]


def wait_for_hlr(
    calls: Calls,
    list_id: int | None,
    wanted: Collection[int],
    seconds: float,
    stop: threading.Event,
    progress: Callable[[int, int], None],
) -> Waited:
    """Read the list until every wanted contact has a final HLR status, ``seconds`` have
    passed or ``stop`` is set. ``progress(final so far, wanted)`` after every read."""
    deadline = time.monotonic() + seconds
    latest: dict[int, Contact] = {}
    pending = set(wanted)
    pause = FIRST_PAUSE_S
    while pending:
        read = read_contacts(calls, list_id, pending)
        latest.update(read.found)
        pending -= read.gone | {i for i, c in read.found.items() if c.hlr_status in FINAL_HLR}
        progress(sum(1 for c in latest.values() if c.hlr_status in FINAL_HLR), len(wanted))
        left = deadline - time.monotonic()
        if not pending or left <= 0 or stop.wait(min(pause, left)):
            break
        pause = min(2 * pause, MAX_PAUSE_S)
    return Waited(latest, pending)
