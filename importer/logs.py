"""Logging for unattended runs: text or JSON lines, to stderr or a file.

Every record is an *event* (start, note, progress, summary, error) with counts
where they apply. Nothing secret is ever passed to the logger: the settings'
repr hides the key, and no request or header is logged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

LOGGER = logging.getLogger("bsg_import")
PROGRESS_EVERY_S = 5.0

LogFormat = Literal["text", "json"]


class JsonLines(logging.Formatter):
    """One JSON object a line: ts, level, event, message and any counts."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", "message"),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, ensure_ascii=False, default=str)


class Text(logging.Formatter):
    """``2026-11-24T10:00:00+00:00 info progress: 1200/5000 rows``"""

    def format(self, record: logging.LogRecord) -> str:
        moment = (
            dt.datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="seconds")
        )
        return f"{moment} {record.levelname.lower()} {record.getMessage()}"


#: Events that reach stderr as log lines; warnings, errors and the summary are printed plainly.
STDERR_EVENTS = frozenset({"start", "note", "progress", "waiting"})


def configure(*, log_file: Path | None, log_format: LogFormat, to_stderr: bool) -> None:
    """Send events to the log file, and to stderr when no one watches a terminal."""
    LOGGER.handlers.clear()
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
    formatter: logging.Formatter = JsonLines() if log_format == "json" else Text()
    handlers: list[logging.Handler] = []
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    if to_stderr:
        stream = logging.StreamHandler(sys.stderr)
        stream.addFilter(lambda record: getattr(record, "event", "") in STDERR_EVENTS)
        handlers.append(stream)
    for handler in handlers:
        handler.setFormatter(formatter)
        LOGGER.addHandler(handler)


def event(name: str, message: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with its fields."""
    LOGGER.log(level, message, extra={"event": name, "fields": fields})


def close() -> None:
    """Flush and close the handlers (the log file)."""
    for handler in list(LOGGER.handlers):
        handler.close()
        LOGGER.removeHandler(handler)


def waiting_text(seconds: float) -> str:
    """``waiting for BSG: 12 s``"""
    return f"waiting for BSG: {seconds:.0f} s"


def waiting(seconds: float) -> None:
    """Log that the whole run waits for the service (a 429 asked it to)."""
    event("waiting", waiting_text(seconds), seconds=round(seconds, 1))


class ProgressLog:
    """A progress event every few seconds, for runs with no terminal to draw a bar on."""

    def __init__(
        self, every_s: float = PROGRESS_EVERY_S, clock: Callable[[], float] = time.monotonic
    ):
        self.every_s = every_s
        self.clock = clock
        self.last = clock()
        self.waiting = False

    def update(self, done: int, total: int) -> None:
        if self._due(done, total):
            percent = 100 * done // total if total else 100
            message = f"progress: {done}/{total} rows ({percent}%)"
            event("progress", message, done=done, total=total)

    def hlr(self, done: int, total: int) -> None:
        """The wait for HLR results after the last row."""
        if self._due(done, total) or not self.waiting:
            self.waiting = True
            event("progress", hlr_waited(done, total), hlr_done=done, hlr_total=total)

    def paused(self, seconds: float) -> None:
        waiting(seconds)

    def _due(self, done: int, total: int) -> bool:
        now = self.clock()
        if now - self.last < self.every_s and done < total:
            return False
        self.last = now
        return True


def hlr_waited(done: int, total: int) -> str:
    """``waiting for HLR: 812 of 1,000``"""
    return f"waiting for HLR: {done:,} of {total:,}"
