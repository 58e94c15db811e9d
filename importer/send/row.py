"""One row to BSG: what to do with it, by what it is and what a dead run left it as, and
the outcome every answer comes to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ..bsg.calls import Calls
from ..bsg.errors import CallFailed, Stopped, Transient
from ..models import (
    ALREADY_IN_LIST,
    MAYBE_SENT_NOTE,
    Contact,
    JournalState,
    PreparedRow,
    RowOutcome,
    Status,
)
from ..settings import OnExisting

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


@dataclass(frozen=True, slots=True)
class Unsent:
    """A row the run stopped before any request to create it left: not sent, as before."""

    row: PreparedRow


Result = RowOutcome | Found | Unsent


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
        A row the run stopped before a create of it left is ``Unsent``.
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
                return [] if sent.maybe or resumed is not None else [Unsent(row)]
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
            except Stopped as stopped:  # sent, and its answer not awaited
                sent.maybe = sent.maybe or stopped.maybe_sent
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
