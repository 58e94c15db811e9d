"""The command's first moments: a stop signal before its own handlers are in place.

Loading the tool takes a second or two; a SIGTERM or SIGHUP then would kill the process
with 143 or 129. Started as the command (``bsg-import``, ``python -m importer``), the
package first makes every stop signal end it with 130, as the contract says; nothing has
been done yet at that point. Imported as a library, it leaves the signals alone.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

from .errors import quit_interrupted

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
COMMAND = "bsg-import"


def started_as_the_command(argv: list[str] | None = None) -> bool:
    """True while Python loads the package to run it as the command."""
    args = sys.argv if argv is None else argv
    first = args[0] if args else ""
    return first == "-m" or Path(first).name == COMMAND


def exit_on_stop_signals() -> None:
    """A stop signal from now on ends the process at once with 130."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _exit)


def stop_signals_interrupt() -> None:
    """A stop signal from now on raises KeyboardInterrupt (the command reports it, 130)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.default_int_handler)


def _exit(signum: int, _frame: FrameType | None) -> None:
    quit_interrupted(b"Error: interrupted before anything was done\n")
