"""The command's first moments: a stop signal before its own handlers are in place.

Loading the tool takes a second or two; a SIGTERM or SIGHUP then would kill the process
with 143 or 129. Started as the command (``bsg-import``, ``python -m importer``), the
package first makes every stop signal end it with 130, as the contract says; nothing has
been done yet at that point. Imported as a library, it leaves the signals alone.

This module is the package's first import, so it imports nothing that Python has not
loaded already to start (``os``, ``signal``, ``sys``): the handlers are in place a
millisecond after the package starts loading. What comes before that (the interpreter
and its ``site`` start-up, 30-150 ms) no code of the package can shorten.
"""

import os
import signal
import sys
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
COMMAND = "bsg-import"
#: The contract's code for an interrupted run: ``importer.errors.INTERRUPTED`` (importing it
#: here would delay the handlers by the imports it needs; a test keeps the two equal).
INTERRUPTED = 130


def started_as_the_command(argv: list[str] | None = None) -> bool:
    """True while Python loads the package to run it as the command."""
    args = sys.argv if argv is None else argv
    first = args[0] if args else ""
    name = os.path.basename(first).removesuffix(".exe")  # noqa: PTH119 (pathlib: not loaded yet)
    return first == "-m" or name == COMMAND


def exit_on_stop_signals() -> None:
    """A stop signal from now on ends the process at once with 130."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _exit)


def stop_signals_interrupt() -> None:
    """A stop signal from now on raises KeyboardInterrupt (the command reports it, 130)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.default_int_handler)


def _exit(signum: int, _frame: FrameType | None) -> None:
    """As ``importer.errors.quit_interrupted``: nothing has been done, nothing to clean up."""
    os.write(2, b"Error: interrupted before anything was done\n")
    os._exit(INTERRUPTED)
