"""Lists an import created and left empty when it failed, kept until removed or kept.

A failed import can stop after it created its list and before any contact went in (a
field the server refuses, say): it then has no journal, so History would not know of the
list. The page records such a list here (``left-lists.json`` in its data folder), names it
in History, and removes it on request once it is still empty.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from ..bsg.client import BsgClient
from ..errors import BsgImportError
from ..runs.connecting import connect
from ..runs.control import RunControl
from ..settings import Account, Settings

FILE_NAME = "left-lists.json"
PAGE_MIN = 15  # the smallest page of contacts BSG serves


@dataclass(frozen=True)
class LeftList:
    """An empty list a failed import created."""

    key: str
    list_id: int
    name: str
    api_root: str
    file: str  # the name of the file whose import created it
    when: str  # ISO time of the failure

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.when)


@contextmanager
def _client(settings: Settings) -> Iterator[BsgClient | None]:
    """The account's client, logged in; None when BSG can't be asked."""
    try:
        calls = connect(settings, RunControl(threading.Event()), None)
    except BsgImportError:
        calls = None
    try:
        yield None if calls is None else calls.client
    finally:
        if calls is not None:
            calls.client.close()


def list_exists(settings: Settings) -> bool | None:
    """Whether the import's list is in the account now (None when BSG can't be asked)."""
    with _client(settings) as client:
        try:
            return None if client is None else client.find_list(settings.list_name) is not None
        except Exception:  # BSG can't say: the list is not recorded
            return None


def empty_list_id(settings: Settings) -> int | None:
    """The id of the import's list when it exists and holds no contact."""
    with _client(settings) as client:
        try:
            found = None if client is None else client.find_list(settings.list_name)
            if client is None or found is None or client.list_page(found.id, 0, PAGE_MIN)[1]:
                return None
            return found.id
        except Exception:  # whatever BSG answers, the list is not recorded
            return None


def remove_list(account: Account, left: LeftList) -> str:
    """Delete the list if it is still empty; what was done, in words."""
    calls = connect(account, RunControl(threading.Event()), None)
    if calls is None:
        return "BSG can't be reached without an API key: nothing was removed"
    try:
        if calls.client.list_page(left.list_id, 0, PAGE_MIN)[1]:
            return f"list {left.name!r} holds contacts now: it was kept"
        calls.client.request("DELETE", f"/api/groups/{left.list_id}")
        return f"the empty list {left.name!r} was removed"
    finally:
        calls.client.close()


class LeftLists:
    """The recorded lists, in a JSON file of the page's data folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME
        self._lock = threading.Lock()

    def all(self, api_root: str) -> list[LeftList]:
        return [left for left in self._read() if left.api_root == api_root]

    def get(self, key: str) -> LeftList | None:
        return next((left for left in self._read() if left.key == key), None)

    def add(self, list_id: int, settings: Settings) -> LeftList:
        left = LeftList(secrets.token_hex(8), list_id, settings.list_name, settings.api_root,
                        settings.file.name, dt.datetime.now().astimezone().isoformat())  # fmt: skip
        with self._lock:
            self._write([*self._read(), left])
        return left

    def drop(self, key: str) -> None:
        with self._lock:
            self._write([left for left in self._read() if left.key != key])

    def _read(self) -> list[LeftList]:
        try:
            items = json.loads(self.path.read_text(encoding="utf-8"))
            return [LeftList(**item) for item in items]
        except (OSError, ValueError, TypeError):
            return []

    def _write(self, items: list[LeftList]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps([asdict(i) for i in items]), encoding="utf-8")
        temporary.replace(self.path)
