"""Past imports, read back from their journals: what was imported where, and how it ended.

Each run that keeps a journal writes its facts there (``run_facts``): the input and results
files, the list, the service, and the settings that decide the rows, so that an interrupted
import can be resumed from them (the web page's History) with nothing re-typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import JournalError, UsageError
from ..journal import KEPT_STATUSES, Journal, file_hash, import_key
from ..models import Status
from ..settings import Account, Settings, checked

#: The settings a resume needs besides the file, the list and the service.
ROW_SETTINGS = (
    "phone_column", "field_map", "skip_columns", "create_fields", "default_region",
    "region_column", "on_existing", "date_order", "bad_values", "wait_hlr",
)  # fmt: skip


def run_facts(settings: Settings, sheet: str | None, started: dt.datetime) -> dict[str, Any]:
    """What a journal keeps about its import (JSON values)."""
    kept = {name: getattr(settings, name) for name in ROW_SETTINGS}
    return {
        "file": str(settings.file.resolve()),
        "output": str(settings.output_path.resolve()),
        "list_name": settings.list_name,
        "api_root": settings.api_root,
        "sheet": sheet,
        "started": started.isoformat(),
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in kept.items()},
    }


def first_start(journal: Journal, started: dt.datetime) -> dt.datetime:
    """When the import began: its first run's start, which a resume keeps."""
    first = journal.get_meta("started")
    return dt.datetime.fromisoformat(first) if isinstance(first, str) else started


def journal_folder(settings: Account) -> Path:
    """Where the journals are kept: --journal-dir, else the user's data folder."""
    return settings.journal_dir or platformdirs.user_data_path("bsg-import") / "journals"


def journal_path(settings: Settings, content_hash: str | None = None) -> Path:
    """The journal of this file (or content, such as a DataFrame's) into this list on this
    service."""
    content = content_hash or file_hash(settings.file)
    key = import_key(content, settings.list_name, settings.api_root)
    return journal_folder(settings) / f"{key}.sqlite"


def carried_counts(settings: Settings) -> dict[str, int]:
    """Rows an earlier run of this import settled for good, by status (what a resume keeps)."""
    if settings.dry_run or settings.sandbox or not settings.resume:
        return {}
    path = journal_path(settings)
    if not path.is_file():
        return {}
    with Journal(path) as journal:
        return {s: n for s, n in journal.counts().items() if s in KEPT_STATUSES}


@dataclass(frozen=True)
class PastImport:
    """One journal's import: its facts and its counts."""

    key: str
    file: Path
    output: Path
    list_name: str
    api_root: str
    sheet: str | None
    started: dt.datetime
    ended: dt.datetime | None
    finished: bool
    counts: dict[str, int]
    settings: dict[str, object]
    #: The folder of its journal.
    folder: Path | None = None

    @property
    def resumable(self) -> bool:
        """Interrupted, and its input is still there to go on from."""
        return not self.finished and self.file.is_file()

    def resume_settings(self) -> dict[str, object]:
        """The options that continue this import (service settings come from the caller)."""
        sheet = {"sheet": self.sheet} if self.sheet else {}
        return {**self.settings, **sheet, "file": self.file, "output": self.output,
                "list_name": self.list_name}  # fmt: skip


def earlier_import(settings: Settings, journal: Path) -> PastImport | None:
    """The latest other import of the same file (its path) into the same list on the same
    service, kept beside ``journal``: the file as it was before it changed."""
    file = str(settings.file.resolve())
    others = [
        p
        for p in past_imports(journal.parent, settings.api_root, counted=False)
        if str(p.file) == file and p.list_name == settings.list_name and p.key != journal.stem
    ]
    return others[0] if others else None


def journal_of_results(folder: Path, results: Path, api_root: str) -> Path | None:
    """The journal in ``folder`` of the import that wrote ``results`` (on ``api_root``)."""
    target = results.resolve()
    for past in past_imports(folder, api_root, counted=False):
        if past.output.resolve() == target:
            return folder / f"{past.key}.sqlite"
    return None


def past_phones(past: PastImport, folder: Path | None = None) -> dict[int, tuple[int, Status]]:
    """phone -> (source row, status) of the rows a past import created or found, or whose
    create may have been carried out unanswered (``failed``)."""
    where = folder or past.folder
    if where is None:
        return {}
    path = where / f"{past.key}.sqlite"
    try:
        with Journal(path, create=False) as journal:
            return journal.kept_phones()
    except JournalError:
        return {}


def past_imports(
    folder: Path, api_root: str | None = None, *, counted: bool = True
) -> list[PastImport]:
    """The imports whose journals are in ``folder`` (on ``api_root`` only, if given), newest
    first; journals written before their facts were kept, or damaged, are left out.
    ``counted``: False to read their facts alone (no rows counted: quicker)."""
    found = []
    for path in folder.glob("*.sqlite") if folder.is_dir() else []:
        past = read_past(path, counted=counted)
        if past is not None and (api_root is None or past.api_root == api_root):
            found.append(past)
    return sorted(found, key=lambda p: p.started, reverse=True)


def read_past(path: Path, *, counted: bool = True) -> PastImport | None:
    """One journal's import, or None when the journal keeps no facts or can't be read."""
    try:
        with Journal(path, create=False) as journal:
            meta = {key: journal.get_meta(key) for key in _META}
            counts = journal.counts() if counted else {}
    except JournalError:
        return None
    if meta["file"] is None or meta["started"] is None:
        return None
    past = _past(path.stem, meta, counts)
    return replace(past, folder=path.parent) if past else None


_META = ("file", "output", "list_name", "api_root", "sheet", "started", "ended", "finished",
         "settings")  # fmt: skip


def _past(key: str, meta: Mapping[str, Any], counts: dict[str, int]) -> PastImport | None:
    try:
        settings = checked(meta["settings"] or {}, "the journal")
    except UsageError:
        return None
    ended = meta["ended"]
    return PastImport(
        key=key,
        file=Path(meta["file"]),
        output=Path(meta["output"]),
        list_name=str(meta["list_name"]),
        api_root=str(meta["api_root"]),
        sheet=meta["sheet"],
        started=dt.datetime.fromisoformat(meta["started"]),
        ended=dt.datetime.fromisoformat(ended) if ended else None,
        finished=bool(meta["finished"]),
        counts=counts,
        settings=settings,
    )
