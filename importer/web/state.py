"""What the page's requests share: its config (``WebConfig``), the uploaded files, the jobs
and the lists left empty (``Web``); ``web()`` is the running app's. The pages import it from
here, and ``app`` builds the app around it.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from flask import current_app

from ..models import UndoResult
from ..runs.history import PastImport, journal_folder, past_imports, read_past
from ..runs.results_book import ResultsBook, read_results_book
from ..settings import Account, Layer, Settings, resolve, resolve_account
from .jobs import Jobs
from .leftovers import LeftLists
from .signin import IDLE_S
from .uploads import Upload
from .words import page_words


@dataclass(frozen=True)
class WebConfig:
    """How the page runs: the service settings, where files go, and its locks."""

    base: Layer  # the service's settings (base URL, key…), as a config file gives them
    environment: Mapping[str, str]
    data_dir: Path  # uploads/ and results/ of the page's imports
    password: str | None = None
    max_upload_mb: int = 100
    profile_dir: Path | None = None
    secure_cookies: bool = False
    hosts: tuple[str, ...] = ()  # Host names answered besides loopback's (--host, --allowed-host)
    session_idle_s: float = IDLE_S


@dataclass
class Web:
    """What every page shares: the config, uploaded files and jobs."""

    config: WebConfig
    uploads: dict[str, Upload] = field(default_factory=dict)
    jobs: Jobs = field(init=False)
    left_lists: LeftLists = field(init=False)

    def __post_init__(self) -> None:
        self.jobs = Jobs(self.scrub)
        self.left_lists = LeftLists(self.config.data_dir)

    @property
    def uploads_root(self) -> Path:
        return self.config.data_dir / "uploads"

    @property
    def results_root(self) -> Path:
        return self.config.data_dir / "results"

    def settings(self, layer: Layer) -> Settings:
        """The page's choices over the service settings over the environment."""
        return resolve(layer, self.config.base, self.config.environment)

    def service(self) -> Account:
        """The account alone: its URL and journals (History, undo, hlr-refresh)."""
        return resolve_account({}, self.config.base, self.config.environment)

    def journals(self) -> Path:
        return journal_folder(self.service())

    def history(self) -> list[PastImport]:
        return past_imports(self.journals(), self.service().api_root)

    def past(self, key: str) -> PastImport | None:
        if not re.fullmatch(r"[0-9a-f]{32}", key):
            return None
        path = self.journals() / f"{key}.sqlite"
        past = read_past(path) if path.is_file() else None
        return past if past and past.api_root == self.service().api_root else None

    def undo_state(self, past: PastImport) -> str:
        """ "undone", "partly undone" (some contacts could not be), or "" (not undone)."""
        return undo_state(past.output)

    def results(self, past: PastImport) -> ResultsBook:
        return read_results_book(past.output)

    def forget_unused(self) -> None:
        """Delete the uploads no import was started for (an interrupted one keeps its file)."""
        imported = {j.upload_id for j in self.jobs.latest() if j.kind == "import"}
        for upload_id, stored in list(self.uploads.items()):
            if upload_id not in imported:
                stored.delete()
                del self.uploads[upload_id]

    def scrub(self, text: str) -> str:
        """A message without the server's folders (file names stay, paths go), in the page's
        words (no option or variable names)."""
        for root in (self.config.data_dir, self.journals(), Path.home()):
            text = re.sub(re.escape(str(root)) + r"(/[^/\s'\"]+)*/", "", text)
        return page_words(text)


def undo_state(path: Path) -> str:
    """What the Undo sheet of a results workbook says, if it has one."""
    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return ""
    try:
        if "Undo" not in book.sheetnames:
            return ""
        rows = book["Undo"].iter_rows(min_row=2, values_only=True)
        failed = any(len(row) > 4 and row[4] == UndoResult.FAILED for row in rows)
    finally:
        book.close()
    return "partly undone" if failed else "undone"


def web() -> Web:
    """The shared state of the running app."""
    state: Web = current_app.extensions["bsg_import"]
    return state
