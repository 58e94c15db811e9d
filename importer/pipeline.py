"""run_import(): the only place that knows the order of the stages.

read -> plan -> normalise -> journal -> send -> journal -> report
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TypeVar

import httpx
import platformdirs

from .client import BsgClient
from .errors import ApiError, Interrupted, UnreachableError, UsageError
from .journal import Journal, file_hash, import_key
from .models import ImportSummary, PreparedRow, RowOutcome, Status
from .normalise import Normaliser
from .pace import RatePacer
from .plan import ImportPlan, make_plan
from .read import Table, open_table
from .report import EXCEL_MAX_ROWS, ReportInfo, write_report
from .retry import GaveUp, Health, RetryPolicy, Stopped, Transient
from .send import RowSender, dispatch
from .settings import Settings

T = TypeVar("T")
CHUNK = 500

#: progress(rows settled so far, rows in the file)
Progress = Callable[[int, int], None]


@dataclass
class RunControl:
    """How the caller steers a run: a stop event (Ctrl-C) and a progress callback."""

    stop: threading.Event
    progress: Progress | None = None

    def sleep(self, seconds: float) -> None:
        """Sleep unless the run is stopping; raise Stopped when it is."""
        if self.stop.wait(seconds):
            raise Stopped


def run_import(
    settings: Settings,
    *,
    control: RunControl | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ImportSummary:
    """Import one file into one list; return the summary (raise Interrupted after a stop)."""
    control = control or RunControl(threading.Event())
    started = dt.datetime.now().astimezone()
    clock = time.monotonic()
    table = open_table(settings.file, sheet=settings.sheet, phone_column=settings.phone_column)
    _check_output(settings, table)
    with ExitStack() as stack:
        client = _client(settings, control, transport)
        if client is not None:
            stack.callback(client.close)
        health = Health(settings.patience)
        policy = RetryPolicy(max_attempts=settings.max_attempts, sleep=control.sleep)
        plan = make_plan(table, settings, client, lambda a: _retry(policy, health, a))
        journal = stack.enter_context(_journal(settings, stack))
        completed = _process(settings, table, plan, journal, client, policy, health, control)
        info = ReportInfo(
            input_name=settings.file.name,
            sheet=table.sheet,
            list_name=settings.list_name,
            list_id=plan.contact_list.id if plan.contact_list else None,
            started=started,
            notes=[*table.notes, *plan.notes] + ([] if completed else [INTERRUPTED]),
        )
        write_report(settings.output_path, table.columns, journal.results(NOT_SENT), info)
    summary = ImportSummary(
        list_name=settings.list_name,
        list_id=info.list_id,
        counts={s.value: info.counts.get(s.value, 0) for s in Status},
        output=str(settings.output_path),
        elapsed_s=time.monotonic() - clock,
        hlr_counts=dict(info.hlr_counts),
        notes=tuple(info.notes),
    )
    if not completed:
        raise Interrupted(f"interrupted; {INTERRUPTED}", summary)
    return summary


INTERRUPTED = "the import was interrupted: run the same command again to resume"
NOT_SENT = "not sent yet: the import was interrupted; run the same command again to resume"


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


def _client(
    settings: Settings, control: RunControl, transport: httpx.BaseTransport | None
) -> BsgClient | None:
    key = settings.key
    if key is None:
        if settings.dry_run:
            return None
        raise UsageError("no API key: set BSG_API_KEY (or use --sandbox to try the tool)")
    if transport is None and settings.sandbox:
        from .sandbox import Sandbox

        transport = Sandbox().transport()
    pacer = RatePacer(settings.rate, sleep=control.sleep)
    client = BsgClient(
        settings.api_root,
        key,
        transport=transport,
        timeout=settings.timeout,
        pool_size=settings.concurrency,
        pacer=pacer,
    )
    try:
        _retry(RetryPolicy(max_attempts=3, sleep=control.sleep), Health(30.0), client.login)
    except (Transient, GaveUp) as error:
        client.close()
        reason = getattr(error, "reason", str(error))
        raise UnreachableError(f"could not reach BSG at {settings.api_root}: {reason}") from None
    except BaseException:
        client.close()
        raise
    return client


def _retry(policy: RetryPolicy, health: Health, attempt: Callable[[], T]) -> T:
    def tracked() -> T:
        result = attempt()
        health.success()
        return result

    try:
        return policy.call(health, tracked)
    except (Transient, GaveUp) as error:
        raise ApiError(f"BSG did not answer: {getattr(error, 'reason', error)}") from None


def _journal(settings: Settings, stack: ExitStack) -> Journal:
    """The import's journal; a throwaway one when nothing is kept between runs.

    A dry run sends nothing to resume, and the built-in sandbox starts empty every run.
    """
    if settings.dry_run or settings.sandbox:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bsg-import-")))
        return Journal(folder / "dry-run.sqlite")
    root = settings.journal_dir or platformdirs.user_data_path("bsg-import") / "journals"
    key = import_key(file_hash(settings.file), settings.list_name, settings.api_root)
    path = root / f"{key}.sqlite"
    if not settings.resume:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Journal(path)


def _process(
    settings: Settings,
    table: Table,
    plan: ImportPlan,
    journal: Journal,
    client: BsgClient | None,
    policy: RetryPolicy,
    health: Health,
    control: RunControl,
) -> bool:
    """Normalise every row and send what must be sent; False when stopped early."""
    journal.forget_unconfirmed()
    carried = journal.carried_over()
    normaliser = Normaliser(
        table.phone_index,
        plan.field_columns,
        region=settings.default_region,
        date_order=settings.date_order,
        bad_values=settings.bad_values,
    )
    settled = _Counter(table.row_count, control.progress)
    settled.add(sum(1 for state in carried.values() if state == "done"))
    rows = _prepared(table, normaliser, journal, carried, settled)

    def record(outcomes: Sequence[RowOutcome]) -> None:
        journal.record(outcomes)
        settled.add(len(outcomes))

    if client is None:
        for row, _ in rows:
            record([RowOutcome(row.source_row, Status.VALIDATED, row.phone, error=row.error)])
            if control.stop.is_set():
                return False
        return True
    sender = RowSender(
        client,
        plan.contact_list.id if plan.contact_list else None,
        policy,
        health,
        on_existing=settings.on_existing,
        dry_run=settings.dry_run,
    )
    return dispatch(
        rows,
        sender,
        concurrency=settings.concurrency,
        mark_sending=journal.sending,
        record=record,
        stop=control.stop,
    )


def _prepared(
    table: Table,
    normaliser: Normaliser,
    journal: Journal,
    carried: dict[int, str],
    settled: _Counter,
) -> Iterator[tuple[PreparedRow, bool]]:
    """Rows to send, with 'was in flight when a run died'; decided rows go to the journal."""
    source = table.rows()
    while chunk := list(islice(source, CHUNK)):
        prepared = [normaliser.prepare(row) for row in chunk]
        journal.add((row, p.phone) for row, p in zip(chunk, prepared, strict=True))
        decided = [_decided(p) for p in prepared if p.status and p.source_row not in carried]
        journal.record(decided)
        settled.add(len(decided))
        for row in prepared:
            state = carried.get(row.source_row)
            if row.status is None and state != "done":
                yield row, state == "sending"


def _decided(row: PreparedRow) -> RowOutcome:
    assert row.status is not None
    return RowOutcome(
        row.source_row, row.status, row.phone, error=row.error, duplicate_of=row.duplicate_of
    )


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress

    def add(self, count: int) -> None:
        self.done += count
        if self.progress and count:
            self.progress(self.done, self.total)
