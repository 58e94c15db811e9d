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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import filelock
import httpx

from .bsg.calls import Calls
from .bsg.client import BsgClient
from .bsg.errors import Stopped
from .bsg.pace import RatePacer
from .bsg.retry import Health, RetryPolicy
from .errors import AlreadyRunning, Interrupted, UsageError
from .followup import Caller
from .history import first_start, journal_path, run_facts
from .hlr import wait_for_hlr
from .journal import Journal
from .models import Cell, ImportSummary, PreparedRow, RowOutcome, SourceRow, Status
from .normalise import Normaliser, prepare_rows
from .plan import ImportPlan, make_plan
from .read import Table, open_table
from .report import EXCEL_MAX_ROWS, ReportInfo, write_report
from .send import Resumed, RowSender, dispatch
from .settings import Settings

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
    table = table or _open(settings)
    _check_output(settings, table)
    with ExitStack() as stack:
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
        if calls is None:
            results: Iterable[Result] = _validated(table, normaliser, control, progress)
        else:
            journal = stack.enter_context(_journal(settings, table, stack, control))
            sender = RowSender(
                calls, info.list_id, on_existing=settings.on_existing, dry_run=settings.dry_run
            )
            journal.set_meta(**run_facts(settings, table.sheet, first_start(journal, started)))
            finished = _send(table, normaliser, journal, sender, settings, control, progress)
            journal.set_meta(finished=finished, ended=dt.datetime.now().astimezone().isoformat())
            if finished and settings.wait_hlr is not None and not settings.dry_run:
                caller = Caller(calls, settings.sending_threads)
                info.notes = [*info.notes, *_await_hlr(journal, caller, info, settings, control)]
            results = journal.results(NOT_SENT)
            if not finished:
                info.notes = [*info.notes, INTERRUPTED]
        write_report(settings.output_path, table.columns, results, info)
    summary = _summary(settings, info, time.monotonic() - clock)
    if calls is not None and calls.halted is not None:
        raise calls.halted
    if control.stop.is_set():
        unfinished = INTERRUPTED in info.notes
        raise Interrupted(INTERRUPTED if unfinished else STOPPED_AFTER_SENDING, summary)
    return summary


def _await_hlr(
    journal: Journal, caller: Caller, info: ReportInfo, settings: Settings, control: RunControl
) -> list[str]:
    """Wait for the final HLR status of the import's contacts and record it; a note for
    the Summary when some never came."""
    assert settings.wait_hlr is not None
    wanted = journal.awaiting_hlr()
    if not wanted:
        return []
    progress = control.hlr_progress or (lambda done, total: None)
    waited = wait_for_hlr(caller, info.list_id, wanted, settings.wait_hlr, control.stop, progress)
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
    )


def _summary(settings: Settings, info: ReportInfo, elapsed_s: float) -> ImportSummary:
    return ImportSummary(
        list_name=settings.list_name,
        list_id=info.list_id,
        counts={s.value: info.counts.get(s.value, 0) for s in Status},
        output=str(settings.output_path),
        elapsed_s=elapsed_s,
        hlr_counts=dict(info.hlr_counts),
        notes=tuple(info.notes),
        first_errors=tuple(info.first_errors),
    )


def _check_output(settings: Settings, table: Table) -> None:
    output = settings.output_path
    if output.resolve() == settings.file.resolve():
        raise UsageError(f"--output {output} is the input file; choose another name")
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
        from .sandbox import HlrModel, Sandbox

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
    return Calls(client, policy, Health(settings.patience), control.stop)


def _normaliser(table: Table, plan: ImportPlan, settings: Settings) -> Normaliser:
    return Normaliser(
        table.phone_indexes or table.phone_index,
        plan.field_columns,
        region=settings.default_region,
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
    table: Table, normaliser: Normaliser, control: RunControl, progress: _Counter
) -> Iterator[Result]:
    """A dry run without a key: every row's verdict, straight from the normaliser."""
    for chunk, prepared in _chunks(table, normaliser):
        outcomes = [
            _decided(ready) if ready.status else _validated_outcome(ready) for ready in prepared
        ]
        yield from zip((row.cells for row in chunk), outcomes, strict=True)
        if control.outcomes is not None:
            control.outcomes(outcomes)
        progress.add(len(chunk))
        if control.stop.is_set():
            return


def _journal(settings: Settings, table: Table, stack: ExitStack, control: RunControl) -> Journal:
    """The import's journal; a throwaway one when nothing is kept between runs.

    A dry run sends nothing to resume, and the built-in sandbox starts empty every run.
    """
    if settings.dry_run or settings.sandbox:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bsg-import-")))
        return Journal(folder / "journal.sqlite")
    content = table.content_hash() if table.content_hash else None
    path = journal_path(settings, content)
    path.parent.mkdir(parents=True, exist_ok=True)
    stack.enter_context(_exclusive(path.with_suffix(".lock"), settings, control))
    if not settings.resume:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Journal(path)


@contextmanager
def _exclusive(path: Path, settings: Settings, control: RunControl) -> Iterator[None]:
    """Hold the import's lock: two runs must never send the same file to the same list."""
    lock = filelock.FileLock(path)
    while True:
        try:
            lock.acquire(timeout=0 if settings.if_running == "exit" else 1)
            break
        except filelock.Timeout:
            if settings.if_running == "exit":
                raise AlreadyRunning(
                    f"another bsg-import is already importing {settings.file} into list "
                    f"{settings.list_name!r}; wait for it, or use --if-running wait"
                ) from None
            if control.stop.is_set():
                raise Interrupted("stopped while waiting for the other run") from None
    try:
        yield
    finally:
        lock.release()


def _send(
    table: Table,
    normaliser: Normaliser,
    journal: Journal,
    sender: RowSender,
    settings: Settings,
    control: RunControl,
    progress: _Counter,
) -> bool:
    """Normalise every row and send what must be sent; False when stopped early."""
    journal.forget_unconfirmed()
    carried = journal.carried_over()
    progress.add(sum(1 for state in carried.values() if state == "done"))

    def record(outcomes: Sequence[RowOutcome]) -> None:
        journal.record(outcomes)
        if control.outcomes is not None:
            control.outcomes(outcomes)
        progress.add(len(outcomes))

    rows = _to_send(_chunks(table, normaliser), journal, carried, record)
    finished = dispatch(
        rows, sender, concurrency=settings.sending_threads, marks=journal, record=record,
        stop=control.stop,
    )  # fmt: skip
    for _ in rows:  # stopped early: the rows not read yet go into the journal, as not sent
        pass
    return finished


#: Journal states a dead run left, as the sender takes them.
RESUMED: dict[str, Resumed] = {"sending": "sending", "found": "found"}


def _to_send(
    chunks: Iterable[tuple[Sequence[SourceRow], list[PreparedRow]]],
    journal: Journal,
    carried: dict[int, str],
    record: Callable[[Sequence[RowOutcome]], None],
) -> Iterator[tuple[PreparedRow, Resumed]]:
    """Rows to send, with what a run that died left them as; decided rows go to the journal."""
    for chunk, prepared in chunks:
        journal.add((row, p.phone) for row, p in zip(chunk, prepared, strict=True))
        record([_decided(p) for p in prepared if p.status and p.source_row not in carried])
        for row in prepared:
            state = carried.get(row.source_row)
            if row.status is None and state != "done":
                yield row, RESUMED.get(state or "")


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
