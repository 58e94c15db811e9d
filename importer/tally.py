"""The counts of a run, computed from its rows' outcomes and from nothing else.

One rule, used by everything that counts: the summary line, ``--json``, the completion
notice, the Summary sheet and hlr-refresh's line. Rows are counted per status; contacts per
HLR status, once each (a ``duplicate`` row shows its first row's contact, not counted again);
and the first problem rows are kept, for a notice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from .models import FINAL_HLR, PENDING_HLR, PROBLEM_STATUSES, RowOutcome, Status

#: Problem rows a Tally keeps for a completion notice.
FIRST_ERRORS = 10
C = TypeVar("C")


def hlr_group(status: str | None) -> str:
    """How a contact's HLR status is counted: final, or pending (``sent``, none yet)."""
    return status if status in FINAL_HLR else PENDING_HLR


@dataclass
class Tally:
    """Rows per status, contacts per HLR status, and the first invalid or failed rows as
    (source_row, error)."""

    counts: Counter[str] = field(default_factory=Counter)
    hlr_counts: Counter[str] = field(default_factory=Counter)
    first_errors: list[tuple[int, str]] = field(default_factory=list)

    def add(self, outcome: RowOutcome) -> None:
        """Count one row's outcome."""
        self.counts[outcome.status.value] += 1
        if outcome.contact_id is not None and outcome.status is not Status.DUPLICATE:
            self.hlr_counts[hlr_group(outcome.hlr_status)] += 1
        if outcome.status in PROBLEM_STATUSES and len(self.first_errors) < FIRST_ERRORS:
            self.first_errors.append((outcome.source_row, outcome.error))

    def counting(self, results: Iterable[tuple[C, RowOutcome]]) -> Iterator[tuple[C, RowOutcome]]:
        """The results as they are, each outcome counted as it passes."""
        for cells, outcome in results:
            self.add(outcome)
            yield cells, outcome

    def by_status(self) -> dict[str, int]:
        """Rows per status, every status named (0 when none)."""
        return {s.value: self.counts[s.value] for s in Status}

    @property
    def rows(self) -> int:
        """Rows counted."""
        return sum(self.counts.values())
