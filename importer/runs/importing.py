"""run_import(): the only place that knows the order of the stages.

    read -> plan -> normalise -> journal -> send -> journal -> report

A dry run without a key touches no service and needs no journal: its rows go
straight from the normaliser to the report.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import time
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

import httpx

from ..bsg.calls import Calls
from ..bsg.client import BsgClient
from ..bsg.errors import Stopped
from ..bsg.pace import MAX_IN_FLIGHT, RatePacer
from ..bsg.retry import Health, RetryPolicy
from ..errors import (
    BsgImportError,
    InputChanged,
    Interrupted,
    JournalError,
    JournalStopped,
    ResultsNotWritten,
    UsageError,
)
from ..folders import (
    check_journal_folder,
    check_output,
    journal_room,
    results_room,
    write_somewhere,
)
from ..hlr import wait_for_hlr
from ..journal import Journal
from ..locks import import_lock
from ..models import (
    ALREADY_IN_LIST,
    Cell,
    ImportSummary,
    JournalState,
    PreparedRow,
    RowOutcome,
    SourceRow,
    Status,
)
from ..normalise import Normaliser, prepare_rows
from ..pin import CHANGED, Pin
from ..plan import ImportPlan, make_plan
from ..read import Table, open_table
from ..report import EXCEL_MAX_ROWS, ReportInfo, write_report
from ..send import Resumed, RowSender, dispatch
from ..settings import Settings
from .history import PastImport, earlier_import, first_start, journal_path, past_phones, run_facts

CHUNK = 1000
#: Files at least this long are normalised in a worker process as well.
PARALLEL_FROM_ROWS = 50_000
#: At the start a service that can't be reached at all is reported soon (exit 3).
LOGIN_PATIENCE_S = 30.0
#: The built-in sandbox (--sandbox) finishes its HLR checks this soon: a demo doesn't wait long.
IN_PROCESS_HLR_DELAY_S = 1.0
INTERRUPTED = "the import was interrupted: run the same command again to resume"
STOPPED_AFTER_SENDING = "interrupted after the last row was sent: every row is in the results"
NOT_SENT = "not sent yet: the import was interrupted; run the same command again to resume"

#: progress(rows settled so far, rows in the file)
Progress = Callable[[int, int], None]
#: outcomes(rows just settled): for live counts by status
Outcomes = Callable[[Sequence[RowOutcome]], None]
Result = tuple[Sequence[Cell], RowOutcome]


@dataclass
class RunControl:
    """How the caller steers a run: a stop event (Ctrl-C) and callbacks for progress."""

    stop: threading.Event
    progress: Progress | None = None
    #: hlr_progress(contacts with a final HLR status, contacts waited for)
    hlr_progress: Progress | None = None
    outcomes: Outcomes | None = None
    #: paused(seconds): the whole run waits that long for the service (a window's reset)
    paused: Callable[[float], None] | None = None

    def sleep(self, seconds: float) -> None:
        """Sleep unless the run is stopping; raise Stopped when it is."""
        if self.stop.wait(seconds):
            raise Stopped


def run_import(
    settings: Settings,
    *,
    control: RunControl | None = None,
    transport: httpx.BaseTransport | None = None,
    table: Table | None = None,
) -> ImportSummary:
    """Import one file (or a ``table`` read from elsewhere) into one list; return the summary.

    Raises Interrupted after a stop, or the error that halted the sending (the key refused
    at a new login), once the results are written.
    """
    control = control or RunControl(threading.Event())
    started, clock = dt.datetime.now().astimezone(), time.monotonic()
    pinned = table is None and settings.file.is_file()  # else the reader says what is wrong
    watch = _Watch(Pin.take(settings.file) if pinned else None, control.stop)
    table = table or _open(settings)
    _check_output(settings, table, watch.pin)
    with ExitStack() as stack:
        journal = _journal(settings, table, watch.pin, stack, control) if settings.key else None
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
        progress = _Counter(table.row_count, control.progress)
        normaliser = _normaliser(table, plan, settings)
        if calls is None or journal is None:
            results = _validated(table, normaliser, control, progress, watch)
            output, warning = _write_once(settings, table, results, info)
            failure: BsgImportError | None = None
        else:
            sender = RowSender(
                calls, info.list_id, on_existing=settings.on_existing, dry_run=settings.dry_run
            )
            run = _Journaled(journal, settings, control, info, watch)
            failure = run.rows(table, normaliser, sender, progress, calls, started)
            output, warning = run.write(table)
    summary = _summary(settings, info, time.monotonic() - clock, output, warning)
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


@dataclass
class _Watch:
    """The input's pin, checked as its rows are read; a change stops the run."""

    pin: Pin | None
    stop: threading.Event
    changed: bool = False

    def unchanged(self) -> bool:
        """False (and the run told to stop) once the file changed since it was pinned."""
        if not self.changed and self.pin is not None and self.pin.changed():
            self.changed = True
            self.stop.set()
        return not self.changed


def _changed(settings: Settings, output: Path, summary: ImportSummary) -> InputChanged:
    done = sum(summary.counts.values())
    return InputChanged(
        f"{settings.file}: {CHANGED}. The import stopped: the {done:,} rows read before the "
        f"change are in the results ({output}); the rest were not read. Run the same "
        "command again to import the file as it is now (a new import)"
    )


@dataclass
class _Journaled:
    """An import that keeps its rows in a journal: sending, and writing the results."""

    journal: Journal
    settings: Settings
    control: RunControl
    info: ReportInfo
    watch: _Watch

    def rows(
        self,
        table: Table,
        normaliser: Normaliser,
        sender: RowSender,
        progress: _Counter,
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
            earlier = _earlier(settings, journal)
            finished = _send(
                table, normaliser, journal, sender, settings, self.control, progress,
                self.watch, earlier,
            )  # fmt: skip
            journal.set_meta(finished=finished, ended=dt.datetime.now().astimezone().isoformat())
        except JournalError as error:
            self.control.stop.set()  # calls in flight give up at once
            info.notes = [*info.notes, INTERRUPTED]
            return JournalStopped(f"{error}. The import stopped there")
        info.notes = [*info.notes, *_earlier_note(journal, earlier)]
        if finished and settings.wait_hlr is not None and not settings.dry_run:
            info.notes = [*info.notes, *_await_hlr(journal, calls, info, settings, self.control)]
        if not finished:
            info.notes = [*info.notes, INTERRUPTED]
        return None

    def write(self, table: Table) -> tuple[Path, str]:
        """Write the results, elsewhere when their folder refuses them."""

        def write(path: Path) -> None:
            _recount(self.info)
            write_report(path, table.columns, self.journal.results(NOT_SENT), self.info)

        return write_somewhere(self.settings.output_path, self.settings.file, write)


def _recount(info: ReportInfo) -> None:
    info.counts.clear()
    info.hlr_counts.clear()
    info.first_errors.clear()


def _write_once(
    settings: Settings, table: Table, results: Iterable[Result], info: ReportInfo
) -> tuple[Path, str]:
    """Rows that can be read once only (no journal): their folder, or nowhere."""
    output = settings.output_path
    try:
        write_report(output, table.columns, results, info)
    except OSError as error:
        raise ResultsNotWritten(
            f"the results could not be written to {output}: {error.strerror or error}"
        ) from error
    return output, ""


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


#: phone -> (source row, status) of an earlier import of this file before it changed.
Earlier = tuple[PastImport, dict[int, tuple[int, Status]]] | None


def _earlier(settings: Settings, journal: Journal) -> Earlier:
    """The latest import of this file's earlier content into the same list, if any."""
    past = earlier_import(settings, journal.path)
    if past is None:
        return None
    return past, past_phones(past)


def _earlier_note(journal: Journal, earlier: Earlier) -> list[str]:
    if earlier is None:
        return []
    past, phones = earlier
    count = len(journal.phones() & phones.keys())
    return [
        f"this file changed since it was imported into list {past.list_name!r} on "
        f"{past.started:%Y-%m-%d %H:%M}: {count:,} of its rows were in that import, and their "
        "contacts are that import's (their error column says so); undo of that import's "
        f"results ({past.output}) takes them back"
    ]


def _in_earlier(outcome: RowOutcome, earlier: Earlier) -> RowOutcome:
    """A row whose phone an earlier import of this file (before it changed) imported."""
    if earlier is None or outcome.phone not in earlier[1]:
        return outcome
    if outcome.status not in (Status.EXISTING, Status.SKIPPED):
        return outcome
    past, phones = earlier
    row, status = phones[outcome.phone]
    note = (
        f"{status} by the earlier import of this file, before it changed "
        f"({past.started:%Y-%m-%d %H:%M}, its row {row})"
    )
    kept = [e for e in outcome.error.split("; ") if e and e != ALREADY_IN_LIST]
    return replace(outcome, error="; ".join([*kept, note]))


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


def _open(settings: Settings) -> Table:
    return open_table(
        settings.file,
        sheet=settings.sheet,
        phone_column=settings.phone_column,
        max_unpacked_bytes=settings.max_unpacked_mb << 20,
        max_rows=settings.max_rows,
        region=settings.default_region,
        region_column=settings.region_column,
    )


def _summary(
    settings: Settings, info: ReportInfo, elapsed_s: float, output: Path, warning: str
) -> ImportSummary:
    return ImportSummary(
        list_name=settings.list_name,
        list_id=info.list_id,
        counts={s.value: info.counts.get(s.value, 0) for s in Status},
        output=str(output),
        warnings=(warning,) if warning else (),
        elapsed_s=elapsed_s,
        hlr_counts=dict(info.hlr_counts),
        notes=tuple(info.notes),
        first_errors=tuple(info.first_errors),
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


def connect(
    settings: Settings, control: RunControl, transport: httpx.BaseTransport | None
) -> Calls | None:
    """Calls to BSG, logged in, under the run's policy; None for a dry run without a key."""
    key = settings.key
    if key is None:
        if settings.dry_run:
            return None
        raise UsageError("no API key: set BSG_API_KEY (or use --sandbox to try the tool)")
    if transport is None and settings.sandbox:
        from ..sandbox import HlrModel, Sandbox

        transport = Sandbox(hlr=HlrModel(delay=IN_PROCESS_HLR_DELAY_S)).transport()
    client = BsgClient(
        settings.api_root,
        key,
        transport=transport,
        timeout=settings.timeout,
        pacer=RatePacer(
            settings.rate,
            concurrency=settings.concurrency,
            sleep=control.sleep,
            on_wait=control.paused,
        ),
        stop=control.stop,
    )
    try:
        patience = Health(min(settings.patience, LOGIN_PATIENCE_S))
        first = Calls(client, RetryPolicy(max_attempts=3), patience, control.stop)
        first.needed(f"reach BSG at {settings.api_root}", client.login)
    except BaseException:
        client.close()
        raise
    policy = RetryPolicy(max_attempts=settings.max_attempts)
    health = Health(settings.patience)
    return Calls(client, policy, health, control.stop, concurrency=sending_threads(settings))


def sending_threads(settings: Settings) -> int:
    """Threads that send: ``--concurrency``, or as many as the controller may keep in flight."""
    return settings.concurrency or MAX_IN_FLIGHT


def _normaliser(table: Table, plan: ImportPlan, settings: Settings) -> Normaliser:
    return Normaliser(
        table.phone_indexes or table.phone_index,
        plan.field_columns,
        region=settings.default_region,
        region_column=table.region_column,
        date_order=settings.date_order,
        bad_values=settings.bad_values,
    )


def _chunks(
    table: Table, normaliser: Normaliser
) -> Iterator[tuple[Sequence[SourceRow], list[PreparedRow]]]:
    source = table.rows()
    chunks = iter(lambda: list(islice(source, CHUNK)), [])
    workers = 1 if table.row_count >= PARALLEL_FROM_ROWS else 0
    return prepare_rows(chunks, normaliser, workers=workers)


def _validated(
    table: Table, normaliser: Normaliser, control: RunControl, progress: _Counter, watch: _Watch
) -> Iterator[Result]:
    """A dry run without a key: every row's verdict, straight from the normaliser."""
    for chunk, prepared in _chunks(table, normaliser):
        if not watch.unchanged():
            return
        outcomes = [
            _decided(ready) if ready.status else _validated_outcome(ready) for ready in prepared
        ]
        yield from zip((row.cells for row in chunk), outcomes, strict=True)
        if control.outcomes is not None:
            control.outcomes(outcomes)
        progress.add(len(chunk))
        if control.stop.is_set():
            return


def _journal(
    settings: Settings, table: Table, pin: Pin | None, stack: ExitStack, control: RunControl
) -> Journal:
    """The import's journal, its folder checked and the import's lock held; a throwaway one
    when nothing is kept between runs.

    A dry run sends nothing to resume, and the built-in sandbox starts empty every run.
    """
    if settings.dry_run or settings.sandbox:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bsg-import-")))
        return stack.enter_context(Journal(folder / "journal.sqlite"))
    content = pin.sha256 if pin else table.content_hash() if table.content_hash else None
    path = journal_path(settings, content)
    size = pin.size if pin else 0
    check_journal_folder(path.parent, 0 if path.exists() else journal_room(size, table.row_count))
    what = f"importing {settings.file} into list {settings.list_name!r}"
    wait = settings.if_running == "wait"
    stack.enter_context(import_lock(path.stem, what, wait=wait, stop=control.stop))
    if not settings.resume:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return stack.enter_context(Journal(path))


def _send(
    table: Table,
    normaliser: Normaliser,
    journal: Journal,
    sender: RowSender,
    settings: Settings,
    control: RunControl,
    progress: _Counter,
    watch: _Watch,
    earlier: Earlier,
) -> bool:
    """Normalise every row and send what must be sent; False when stopped early."""
    journal.forget_unconfirmed()
    carried = journal.carried_over()
    progress.add(sum(1 for state in carried.values() if state is JournalState.DONE))

    def record(outcomes: Sequence[RowOutcome]) -> None:
        outcomes = [_in_earlier(o, earlier) for o in outcomes] if earlier else outcomes
        journal.record(outcomes)
        if control.outcomes is not None:
            control.outcomes(outcomes)
        progress.add(len(outcomes))

    earlier_phones = earlier[1] if earlier else {}
    rows = _to_send(_chunks(table, normaliser), journal, carried, record, watch, earlier_phones)
    finished = dispatch(
        rows, sender, concurrency=sending_threads(settings), marks=journal, record=record,
        stop=control.stop,
    )  # fmt: skip
    for _ in rows:  # stopped early: the rows not read yet go into the journal, as not sent
        pass
    return finished


#: Journal states a dead run left, as the sender takes them.
RESUMED: dict[JournalState | None, Resumed] = {
    JournalState.SENDING: JournalState.SENDING, JournalState.FOUND: JournalState.FOUND,
}  # fmt: skip


def _to_send(
    chunks: Iterable[tuple[Sequence[SourceRow], list[PreparedRow]]],
    journal: Journal,
    carried: dict[int, JournalState],
    record: Callable[[Sequence[RowOutcome]], None],
    watch: _Watch,
    earlier: Container[int | None] = (),
) -> Iterator[tuple[PreparedRow, Resumed]]:
    """Rows to send, with what a run that died left them as; decided rows go to the journal.
    A chunk read after the file changed is left out, and the run stops. A phone an earlier
    import of this file (before it changed) holds is looked up, not sent to create again."""
    for chunk, prepared in chunks:
        if not watch.unchanged():
            return
        journal.add((row, p.phone) for row, p in zip(chunk, prepared, strict=True))
        record([_decided(p) for p in prepared if p.status and p.source_row not in carried])
        for row in prepared:
            state = carried.get(row.source_row)
            if row.status is None and state is not JournalState.DONE:
                resumed = RESUMED.get(state)
                yield row, resumed or (JournalState.FOUND if row.phone in earlier else None)


def _decided(row: PreparedRow) -> RowOutcome:
    assert row.status is not None
    return RowOutcome(
        row.source_row, row.status, row.phone, error=row.error, duplicate_of=row.duplicate_of
    )


def _validated_outcome(row: PreparedRow) -> RowOutcome:
    return RowOutcome(row.source_row, Status.VALIDATED, row.phone, error=row.error)


class _Counter:
    """Counts settled rows and tells the progress callback."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress

    def add(self, count: int) -> None:
        self.done += count
        if self.progress and count:
            self.progress(self.done, self.total)
