"""What the person sees and the log gets: lines on stderr, the progress bar, the summary."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from .. import logs
from ..logs import hlr_waited
from ..models import ImportSummary, summary_line


@dataclass(frozen=True)
class Voice:
    """How this run talks to the person or the log."""

    quiet: bool = False
    as_json: bool = False
    log_file: Path | None = None
    log_format: logs.LogFormat = "text"
    tty: bool = field(default_factory=sys.stderr.isatty)

    @classmethod
    def from_context(cls, ctx: click.Context) -> Voice:
        """The options of ``ctx`` that say how to talk."""
        names = {f.name for f in fields(cls)} - {"tty"}
        return cls(**{k: v for k, v in ctx.params.items() if k in names and v is not None})

    @property
    def watched(self) -> bool:
        """A person watches a terminal and asked for neither --quiet nor --json."""
        return self.tty and not self.quiet and not self.as_json


def say(event: str, line: str, **fields: Any) -> None:
    """A line for the person on stderr, and the same event for the log."""
    click.echo(line, err=True)
    logs.event(event, line, **fields)


def warn(problem: str) -> None:
    say("warning", f"Warning: {problem}")


@contextmanager
def logging_for(voice: Voice) -> Iterator[None]:
    logs.configure(
        log_file=voice.log_file,
        log_format=voice.log_format,
        to_stderr=not voice.tty and not voice.quiet and not voice.as_json,
    )
    try:
        yield
    finally:
        logs.close()


class _Bar:
    """tqdm on stderr, drawn only once there is something to count."""

    def __init__(self) -> None:
        self.bar: tqdm[Any] | None = None
        self.waiting = False
        self.paused_until = 0.0

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, unit="row", file=sys.stderr, dynamic_ncols=True)
        self.bar.n = done
        left = self.paused_until - time.monotonic()
        self.bar.set_postfix_str(logs.waiting_text(left) if left >= 1 else "", refresh=False)
        self.bar.refresh()

    def paused(self, seconds: float) -> None:
        """The whole run waits for BSG: say so on the bar and in the log."""
        self.paused_until = time.monotonic() + seconds
        logs.waiting(seconds)
        if self.bar is not None and not self.waiting:
            self.update(int(self.bar.n), int(self.bar.total or 0))

    def hlr(self, done: int, total: int) -> None:
        """The wait for HLR results: one line that counts, where the rows' bar was."""
        if not self.waiting:
            self.close()
            self.bar, self.waiting = tqdm(file=sys.stderr, bar_format="{desc}"), True
        assert self.bar is not None
        self.bar.set_description_str(hlr_waited(done, total))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _NoBar:
    def update(self, done: int, total: int) -> None:
        pass

    def paused(self, seconds: float) -> None:
        logs.waiting(seconds)

    def hlr(self, done: int, total: int) -> None:
        pass

    def close(self) -> None:
        pass


class _LogProgress(logs.ProgressLog):
    def close(self) -> None:
        pass


def progress_for(voice: Voice) -> _Bar | _NoBar | _LogProgress:
    if voice.watched:
        return _Bar()
    if logs.LOGGER.handlers:
        return _LogProgress()
    return _NoBar()


def report(summary: ImportSummary, voice: Voice) -> None:
    """The summary's warnings, notes and line (or --json object)."""
    for warning in summary.warnings:
        say("warning", f"Warning: {warning}")
    for note in summary.notes:
        logs.event("note", f"Note: {note}")
        if voice.watched:
            click.echo(f"Note: {note}", err=True)
    line = summary_line(summary)
    fields = summary_json(summary)
    if voice.as_json:
        logs.event("summary", line, **fields)
        click.echo(json.dumps(fields, ensure_ascii=False))
    else:
        say("summary", line, **fields)


def summary_json(summary: ImportSummary) -> dict[str, Any]:
    """The --json object."""
    return {
        "list_id": summary.list_id,
        "list_name": summary.list_name,
        "counts": summary.counts,
        "hlr_counts": summary.hlr_counts,
        "output": summary.output,
        "elapsed_s": round(summary.elapsed_s, 3),
        "exit_code": summary.exit_code,
        "notes": list(summary.notes),
    }
