"""run_import(): the only place that knows the order of the stages.

    read -> plan -> normalise -> journal -> send -> journal -> report

``connecting`` logs in, ``sending`` takes the rows from the file to the sender and the
journal; here the run is put together, waits for HLR, and writes the results.

A dry run without a key touches no service and needs no journal: its rows go
straight from the normaliser to the report.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx

from ..bsg.calls import Calls
from ..errors import (
    BsgImportError,
    InputChanged,
    Interrupted,
    JournalError,
    JournalStopped,
    ResultsNotWritten,
    UsageError,
)
from ..folders import check_output, results_room, write_somewhere
from ..hlr import wait_for_hlr
from ..journal import Journal
from ..models import ImportSummary
from ..normalise import Normaliser
from ..pin import CHANGED, Pin
from ..plan import make_plan
from ..read import Table
from ..report import EXCEL_MAX_ROWS, ReportInfo, write_report
from ..send import RowSender
from ..settings import Settings
from ..tally import Tally
from .connecting import connect
from .control import RunControl
from .history import first_start, run_facts
from .notify import notified
from .sending import (
    Result,
    RowCount,
    Watch,
    earlier_note,
    earlier_of,
    normaliser_for,
    open_journal,
    read_table,
    send_rows,
    validated,
)

INTERRUPTED = "the import was interrupted: run the same command again to resume"
GAVE_UP = (
    "BSG stopped answering for longer than the run's patience (--patience): the rows sent "
    "then are failed, and may have been created (the next run looks them up); the rest were "
    "not sent. Run the same command again to send them"
)
STOPPED_AFTER_SENDING = "interrupted after the last row was sent: every row is in the results"
NOT_SENT = "not sent yet: the import was interrupted; run the same command again to resume"
#: After a change the same command is a new import (of the file as it is now), no resume.
AS_IT_IS_NOW = "run the same command again to import the file as it is now (a new import)"
CHANGED_NOTE = f"{CHANGED}: it stopped, and only the rows read before are here; {AS_IT_IS_NOW}"
NOT_SENT_CHANGED = f"not sent: {CHANGED}; {AS_IT_IS_NOW}"


def run_import(
    settings: Settings,
    *,
    control: RunControl | None = None,
    transport: httpx.BaseTransport | None = None,
    table: Table | None = None,
) -> ImportSummary:
    """Import one file (or a ``table`` read from elsewhere) into one list; return the summary.

    Raises Interrupted after a stop, or the error that halted the sending (the key refused
    at a new login), once the results are written. However the run ends, its completion
    notice goes to ``settings.notify_url`` when one is set (``control.warn`` hears of one
    that could not be delivered): the command, the page and the pandas API all send it.
    """
    control = control or RunControl(threading.Event())
    run = partial(_import, settings, control, transport, table)
    return notified(settings, run, control.warned)


def _import(
    settings: Settings,
    control: RunControl,
    transport: httpx.BaseTransport | None,
    table: Table | None,
) -> ImportSummary:
    started, clock = dt.datetime.now().astimezone(), time.monotonic()
    pinned = table is None and settings.file.is_file()  # else the reader says what is wrong
    watch = Watch(Pin.take(settings.file) if pinned else None, control.stop)
    table = table or read_table(settings)
    _check_output(settings, table, watch.pin)
    with ExitStack() as stack:
        journal = open_journal(settings, table, watch.pin, stack, control) if settings.key else None
        calls = connect(settings, control, transport)
        if calls is not None:
            stack.callback(calls.client.close)
        plan = make_plan(table, settings, calls)
        info = ReportInfo(
            input_name=settings.file.name,
            sheet=table.sheet,
            list_name=settings.list_name,
            list_id=plan.contact_list.id if plan.contact_list else None,
            started=started,
            notes=[*table.notes, *plan.notes],
        )
        progress = RowCount(table.row_count, control.progress)
        normaliser = normaliser_for(table, plan, settings)
        if calls is None or journal is None:
            results = validated(table, normaliser, control, progress, watch)
            output, warning, counted = _write_once(settings, table, results, info)
            failure: BsgImportError | None = None
        else:
            sender = RowSender(
                calls, info.list_id, on_existing=settings.on_existing, dry_run=settings.dry_run
            )
            run = _Journaled(journal, settings, control, info, watch)
            failure = run.rows(table, normaliser, sender, progress, calls, started)
            output, warning, counted = run.write(table)
    summary = _summary(settings, info, counted, time.monotonic() - clock, output, warning)
    if watch.changed:
        raise _changed(settings, output, summary)
    if failure is not None:
        raise failure
    if calls is not None and calls.halted is not None:
        raise calls.halted
    if control.stop.is_set():
        unfinished = INTERRUPTED in info.notes
        raise Interrupted(INTERRUPTED if unfinished else STOPPED_AFTER_SENDING, summary)
    return summary


def _changed(settings: Settings, output: Path, summary: ImportSummary) -> InputChanged:
    done = sum(summary.counts.values())
    return InputChanged(
        f"{settings.file}: {CHANGED}. The import stopped: the {done:,} rows read before the "
        f"change are in the results ({output}); the rest were not read. "
        f"{AS_IT_IS_NOW.capitalize()}"
    )


@dataclass
class _Journaled:
    """An import that keeps its rows in a journal: sending, and writing the results."""

    journal: Journal
    settings: Settings
    control: RunControl
    info: ReportInfo
    watch: Watch

    def rows(
        self,
        table: Table,
        normaliser: Normaliser,
        sender: RowSender,
        progress: RowCount,
        calls: Calls,
        started: dt.datetime,
    ) -> BsgImportError | None:
        """Send what must be sent; the error that stopped it, if the journal failed."""
        journal, settings, info = self.journal, self.settings, self.info
        try:
            journal.set_meta(**run_facts(settings, table.sheet, first_start(journal, started)))
            journal.set_meta(**self.watch.pin.facts() if self.watch.pin else {})
            journal.set_meta(list_id=info.list_id, columns=list(table.columns))
            info.notes = [*info.notes, *_undone_note(journal, settings.redo_undone)]
            earlier = earlier_of(settings, journal)
            finished = send_rows(
                table, normaliser, journal, sender, settings, self.control, progress,
                self.watch, earlier,
            )  # fmt: skip
            journal.set_meta(finished=finished, ended=dt.datetime.now().astimezone().isoformat())
        except JournalError as error:
            self.control.stop.set()  # calls in flight give up at once
            info.notes = [*info.notes, INTERRUPTED]
            return JournalStopped(f"{error}. The import stopped there")
        info.notes = [*info.notes, *earlier_note(journal, earlier)]
        if calls.health.given_up:
            info.notes = [*info.notes, GAVE_UP]
        if finished and settings.wait_hlr is not None and not settings.dry_run:
            info.notes = [*info.notes, *_await_hlr(journal, calls, info, settings, self.control)]
        if not finished:
            info.notes = [*info.notes, CHANGED_NOTE if self.watch.changed else INTERRUPTED]
        return None

    def write(self, table: Table) -> tuple[Path, str, Tally]:
        """Write the results, elsewhere when their folder refuses them; the rows' counts."""
        written: list[Tally] = []

        def write(path: Path) -> None:
            rows = self.journal.results(NOT_SENT_CHANGED if self.watch.changed else NOT_SENT)
            written.append(write_report(path, table.columns, rows, self.info))

        output, warning = write_somewhere(self.settings.output_path, self.settings.file, write)
        return output, warning, written[-1]


def _write_once(
    settings: Settings, table: Table, results: Iterable[Result], info: ReportInfo
) -> tuple[Path, str, Tally]:
    """Rows that can be read once only (no journal): their folder, or nowhere."""
    output = settings.output_path
    try:
        counted = write_report(output, table.columns, results, info)
    except OSError as error:
        raise ResultsNotWritten(
            f"the results could not be written to {output}: {error.strerror or error}"
        ) from error
    return output, "", counted


def _undone_note(journal: Journal, redo: bool) -> list[str]:
    """Rows undo took back: sent again with --redo-undone, else skipped, and a note."""
    if redo:
        count = journal.redo_undone()
        return [f"{count:,} rows taken back by undo are sent again (--redo-undone)"] * bool(count)
    count = journal.undone()
    if not count:
        return []
    return [
        f"{count:,} rows were undone (`bsg-import undo` took their contacts back) since they "
        "were imported: they are `skipped` and not sent again; --redo-undone sends them again"
    ]


def _await_hlr(
    journal: Journal, calls: Calls, info: ReportInfo, settings: Settings, control: RunControl
) -> list[str]:
    """Wait for the final HLR status of the import's contacts and record it; a note for
    the Summary when some never came."""
    assert settings.wait_hlr is not None
    wanted = journal.awaiting_hlr()
    if not wanted:
        return []
    progress = control.hlr_progress or (lambda done, total: None)
    waited = wait_for_hlr(calls, info.list_id, wanted, settings.wait_hlr, control.stop, progress)
    journal.record_hlr(waited.latest.values())
    if not waited.pending:
        return []
    when = "when the wait was stopped" if control.stop.is_set() else "at the end of the wait"
    return [
        f"HLR: {len(waited.pending):,} numbers not checked yet {when} "
        f"(--wait-hlr {settings.wait_hlr:g}); `bsg-import hlr-refresh` on the results "
        "fetches their status later"
    ]


def _summary(
    settings: Settings,
    info: ReportInfo,
    counted: Tally,
    elapsed_s: float,
    output: Path,
    warning: str,
) -> ImportSummary:
    return ImportSummary(
        list_name=settings.list_name,
        list_id=info.list_id,
        counts=counted.by_status(),
        output=str(output),
        warnings=(warning,) if warning else (),
        elapsed_s=elapsed_s,
        hlr_counts=dict(counted.hlr_counts),
        notes=tuple(info.notes),
        first_errors=tuple(counted.first_errors),
    )


def _check_output(settings: Settings, table: Table, pin: Pin | None) -> None:
    """The results' name and place, before anything is sent: UsageError when they can't be
    written there."""
    output = settings.output_path
    if output.resolve() == settings.file.resolve():
        raise UsageError(f"--output {output} is the input file; choose another name")
    check_output(output, results_room(pin.size if pin else 0, table.row_count))
    if output.suffix.lower() not in (".xlsx", ".csv"):
        raise UsageError(f"--output {output}: the results are written as .xlsx or .csv")
    if output.suffix.lower() == ".xlsx" and table.row_count + 1 > EXCEL_MAX_ROWS:
        raise UsageError(
            f"{table.where} has {table.row_count:,} rows, more than an Excel sheet holds "
            f"({EXCEL_MAX_ROWS - 1:,}); write the results as CSV: --output results.csv"
        )
