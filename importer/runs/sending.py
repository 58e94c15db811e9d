"""An import's rows on their way: read in chunks, normalised (in a worker process as well
for a big file), recorded in the journal and handed to the sender; for a dry run without a
key, straight from the normaliser to the report.

Rows a run that died left ``sending`` or ``found`` go to the sender as such. A chunk read
after the file changed is left out, and the run stops (``Watch``).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

from ..folders import check_journal_folder, journal_room
from ..journal import Journal
from ..locks import import_lock
from ..models import ALREADY_IN_LIST, Cell, JournalState, PreparedRow, RowOutcome, SourceRow, Status
from ..normalise import Normaliser, prepare_rows
from ..pin import Pin
from ..plan import ImportPlan
from ..read import Table, open_table
from ..send import Resumed, RowSender, dispatch
from ..settings import Settings
from .connecting import sending_threads
from .control import Progress, RunControl
from .history import PastImport, earlier_import, journal_path, past_phones

CHUNK = 1000
#: Files at least this long are normalised in a worker process as well.
PARALLEL_FROM_ROWS = 50_000


Result = tuple[Sequence[Cell], RowOutcome]


@dataclass
class Watch:
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


#: phone -> (source row, status) of an earlier import of this file before it changed;
#: ``failed`` for a row whose create may have been carried out unanswered.
Earlier = tuple[PastImport, dict[int, tuple[int, Status]]] | None


def earlier_of(settings: Settings, journal: Journal) -> Earlier:
    """The latest import of this file's earlier content into the same list, if any."""
    past = earlier_import(settings, journal.path)
    if past is None:
        return None
    return past, past_phones(past)


def earlier_note(journal: Journal, earlier: Earlier) -> list[str]:
    if earlier is None:
        return []
    past, phones = earlier
    kept = {phone for phone, (_, status) in phones.items() if status is not Status.FAILED}
    count = len(journal.phones() & kept)
    return [
        f"this file changed since it was imported into list {past.list_name!r} on "
        f"{past.started:%Y-%m-%d %H:%M}: {count:,} of its rows were in that import, and their "
        "contacts are that import's (their error column says so); undo of that import's "
        f"results ({past.output}) takes them back"
    ]


def _in_earlier(outcome: RowOutcome, earlier: Earlier) -> RowOutcome:
    """A row whose phone an earlier import of this file (before it changed) imported, or
    was sending when it stopped."""
    if earlier is None or outcome.phone not in earlier[1]:
        return outcome
    past, phones = earlier
    row, status = phones[outcome.phone]
    when = f"({past.started:%Y-%m-%d %H:%M}, its row {row})"
    if status is Status.FAILED and outcome.status is Status.CREATED:
        note = (
            "the earlier import of this file, before it changed, was sending it when it "
            f"stopped {when}: settled by this import"
        )
        return replace(outcome, error="; ".join(filter(None, [outcome.error, note])))
    if status is Status.FAILED or outcome.status not in (Status.EXISTING, Status.SKIPPED):
        return outcome
    note = f"{status} by the earlier import of this file, before it changed {when}"
    kept = [e for e in outcome.error.split("; ") if e and e != ALREADY_IN_LIST]
    return replace(outcome, error="; ".join([*kept, note]))


def read_table(settings: Settings) -> Table:
    return open_table(
        settings.file,
        sheet=settings.sheet,
        phone_column=settings.phone_column,
        max_unpacked_bytes=settings.max_unpacked_mb << 20,
        max_rows=settings.max_rows,
        region=settings.default_region,
        region_column=settings.region_column,
    )


def normaliser_for(table: Table, plan: ImportPlan, settings: Settings) -> Normaliser:
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


def validated(
    table: Table, normaliser: Normaliser, control: RunControl, progress: RowCount, watch: Watch
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


def open_journal(
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


def send_rows(
    table: Table,
    normaliser: Normaliser,
    journal: Journal,
    sender: RowSender,
    settings: Settings,
    control: RunControl,
    progress: RowCount,
    watch: Watch,
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
    watch: Watch,
    earlier: Mapping[int, tuple[int, Status]],
) -> Iterator[tuple[PreparedRow, Resumed]]:
    """Rows to send, with what a run that died left them as; decided rows go to the journal.
    A chunk read after the file changed is left out, and the run stops. A phone an earlier
    import of this file (before it changed) holds is looked up, not sent to create again;
    so is one it was sending, as a dead run's row (``sending``) would be."""
    for chunk, prepared in chunks:
        if not watch.unchanged():
            return
        journal.add((row, p.phone) for row, p in zip(chunk, prepared, strict=True))
        record([_decided(p) for p in prepared if p.status and p.source_row not in carried])
        for row in prepared:
            state = carried.get(row.source_row)
            if row.status is None and state is not JournalState.DONE:
                yield row, RESUMED.get(state) or _resumed_as(row.phone, earlier)


def _resumed_as(phone: int | None, earlier: Mapping[int, tuple[int, Status]]) -> Resumed:
    """How a row is sent whose phone an earlier import of this file (before it changed)
    had: looked up first, as found, or as maybe sent (``failed``)."""
    if phone is None or phone not in earlier:
        return None
    _, status = earlier[phone]
    return JournalState.SENDING if status is Status.FAILED else JournalState.FOUND


def _decided(row: PreparedRow) -> RowOutcome:
    assert row.status is not None
    return RowOutcome(
        row.source_row, row.status, row.phone, error=row.error, duplicate_of=row.duplicate_of
    )


def _validated_outcome(row: PreparedRow) -> RowOutcome:
    return RowOutcome(row.source_row, Status.VALIDATED, row.phone, error=row.error)


class RowCount:
    """Counts settled rows and tells the progress callback."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress

    def add(self, count: int) -> None:
        self.done += count
        if self.progress and count:
            self.progress(self.done, self.total)
