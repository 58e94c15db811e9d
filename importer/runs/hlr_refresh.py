"""``bsg-import hlr-refresh``: read every contact of a results workbook again, a page of its
list at a time (same retries, concurrency and pace as an import), and write their HLR
status into the workbook again, in place, atomically, with everything else kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from ..bsg.calls import Calls
from ..errors import rows_exit_code
from ..hlr import read_contacts
from ..settings import Account
from .connecting import session
from .control import RunControl
from .results_book import ResultsBook


def refresh_hlr(book: ResultsBook, calls: Calls) -> dict[str, int]:
    """Read every contact of the workbook again, a page of its list at a time, and update
    hlr_status and hlr_last_check; a duplicate row shows its contact's. Counts per contact."""
    ids = {o.contact_id for _, o in book.rows if o.contact_id}
    read = read_contacts(calls, book.info.list_id, ids)
    rows, refreshed, mismatched = [], set(), 0
    for cells, outcome in book.rows:
        contact = read.found.get(outcome.contact_id) if outcome.contact_id else None
        if contact is not None and outcome.phone is not None and contact.phone != outcome.phone:
            mismatched += 1  # the row's ID is another contact's: that status isn't the row's
            contact = None
        if contact is not None:
            refreshed.add(contact.id)
            outcome = replace(
                outcome, hlr_status=contact.hlr_status, hlr_last_check=contact.hlr_last_check
            )
        rows.append((cells, outcome))
    book.rows = rows
    return {
        "refreshed": len(refreshed),
        "gone": len(read.gone),
        "failed": len(read.failed),
        "mismatched": mismatched,
    }


@dataclass(frozen=True)
class RefreshSummary:
    """What hlr-refresh did to one workbook."""

    path: Path
    refreshed: int
    gone: int
    failed: int
    hlr_counts: dict[str, int] = field(default_factory=dict)
    #: Rows whose contact ID names a contact with another phone: left as they were.
    mismatched: int = 0

    @property
    def exit_code(self) -> int:
        """1 when some contacts could not be fetched, or have another phone than their row."""
        return rows_exit_code(bool(self.failed or self.mismatched))

    def line(self) -> str:
        """The summary line the command prints."""
        hlr = ", ".join(f"{n} {s}" for s, n in sorted(self.hlr_counts.items())) or "none yet"
        other = (
            f", {self.mismatched} have another phone than their row (left as they were)"
            if self.mismatched
            else ""
        )
        return (
            f"{self.path}: {self.refreshed} contacts refreshed, {self.gone} no longer exist, "
            f"{self.failed} could not be fetched{other}; hlr_status: {hlr}"
        )


def run_hlr_refresh(
    book: ResultsBook,
    account: Account,
    *,
    control: RunControl | None = None,
    transport: httpx.BaseTransport | None = None,
) -> RefreshSummary:
    """Fetch every contact of ``book`` again and save its new HLR status in place."""
    with session(account, control, transport) as calls:
        tally = refresh_hlr(book, calls)
    counted = book.save()
    return RefreshSummary(book.path, **tally, hlr_counts=dict(counted.hlr_counts))
