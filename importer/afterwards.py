"""Library entry points for what comes after an import: hlr-refresh and undo.

As ``run_import`` is for an import, ``run_hlr_refresh`` and ``run_undo`` are what the command
line and the web page call: each logs in with the run's settings, does the work of
``followup`` under the retry policy, writes the workbook again and returns a summary.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .errors import Interrupted
from .followup import Caller, ResultsBook, UndoPlan, refresh_hlr, undo
from .pipeline import RunControl, connect
from .settings import Settings


@dataclass(frozen=True)
class RefreshSummary:
    """What hlr-refresh did to one workbook."""

    path: Path
    refreshed: int
    gone: int
    failed: int
    hlr_counts: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """1 when some contacts could not be fetched."""
        return 1 if self.failed else 0

    def line(self) -> str:
        """The summary line the command prints."""
        hlr = ", ".join(f"{n} {s}" for s, n in sorted(self.hlr_counts.items())) or "none yet"
        return (
            f"{self.path}: {self.refreshed} contacts refreshed, {self.gone} no longer exist, "
            f"{self.failed} could not be fetched; hlr_status: {hlr}"
        )


@dataclass(frozen=True)
class UndoSummary:
    """What undo did: how many contacts ended each way (done, already gone, failed…)."""

    path: Path
    results: dict[str, int]

    @property
    def exit_code(self) -> int:
        """1 when some contacts could not be deleted or detached."""
        return 1 if self.results.get("failed") else 0

    def line(self) -> str:
        """The summary line the command prints."""
        done = ", ".join(f"{n} {r}" for r, n in sorted(self.results.items()))
        return f"{self.path}: undo {done}; see its Undo sheet"


def run_hlr_refresh(
    book: ResultsBook,
    settings: Settings,
    *,
    control: RunControl | None = None,
    transport: httpx.BaseTransport | None = None,
) -> RefreshSummary:
    """Fetch every contact of ``book`` again and save its new HLR status in place."""
    with _caller(settings, control, transport) as caller:
        tally = refresh_hlr(book, caller)
    info = book.save()
    return RefreshSummary(book.path, **tally, hlr_counts=dict(info.hlr_counts))


def run_undo(
    book: ResultsBook,
    plan: UndoPlan,
    settings: Settings,
    *,
    control: RunControl | None = None,
    transport: httpx.BaseTransport | None = None,
) -> UndoSummary:
    """Carry out ``plan`` (from ``plan_undo``, shown to the person first); save the Undo sheet."""
    with _caller(settings, control, transport) as caller:
        sheet = undo(book, plan, caller)
    book.save()
    return UndoSummary(book.path, dict(Counter(str(row[4]) for row in sheet)))


@contextmanager
def _caller(
    settings: Settings, control: RunControl | None, transport: httpx.BaseTransport | None
) -> Iterator[Caller]:
    """A logged-in client under the run's policy; Interrupted once a stop was asked for."""
    control = control or RunControl(threading.Event())
    calls = connect(settings, control, transport)
    assert calls is not None  # settings without a key and without dry_run raise in connect
    try:
        yield Caller(calls, settings.sending_threads)
    finally:
        calls.client.close()
    if calls.halted is not None:  # the key refused at a login during the run
        raise calls.halted
    if control.stop.is_set():
        raise Interrupted("interrupted")
