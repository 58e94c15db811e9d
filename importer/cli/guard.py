"""How a command ends: the one handler that turns the tool's errors (and Ctrl-C) into a line
and an exit code, as ``importer.errors`` decides them, and the stop signals while it runs."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from ..errors import FATAL, Ending, exit_for, quit_interrupted
from ..startup import STOP_SIGNALS
from .output import say


def guarded(action: Callable[[], int]) -> int:
    """Run the command; turn the tool's errors into one line and an exit code."""
    try:
        return action()
    except FATAL as error:  # Ctrl-C too, before the run's own handler is in place
        return said(exit_for(error)).code


def said(ending: Ending) -> Ending:
    """Tell the person and the log how the run ended."""
    say("error", ending.line, exit_code=ending.code)
    return ending


@contextmanager
def on_signals(
    stop: threading.Event,
    message: str = "Stopping: finishing requests in flight (Ctrl-C again to quit at once)",
) -> Iterator[None]:
    """First Ctrl-C, SIGTERM or SIGHUP (a closed terminal): finish what is in flight and
    write results. Second: quit now."""

    def handler(signum: int, _frame: object) -> None:
        if stop.is_set():
            quit_interrupted()
        stop.set()
        click.echo(f"\n{message}", err=True)

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
