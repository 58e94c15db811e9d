"""The command line: parse -> Settings -> run_import -> summary line or --json -> exit code.

__init__    the group ``main`` (the entry point), each command added to it
options     the shared options, and how flags, a profile and the config file make Settings
output      lines on stderr and in the log, the progress bar, the summary line, --json
guard       the one handler: the tool's errors and Ctrl-C -> a line and an exit code
            (chosen by ``importer.errors``); the stop signals while a command runs
imports     ``import`` and ``inbox``
followups   ``hlr-refresh`` and ``undo``
servers     ``sandbox`` and ``serve``
"""

from __future__ import annotations

import click

from ..startup import stop_signals_interrupt
from .followups import hlr_refresh_command, undo_command
from .imports import import_command, inbox_command
from .output import summary_json
from .servers import sandbox_command, serve_command

__all__ = ["main", "summary_json"]


class _ImportByDefault(click.Group):
    """``bsg-import FILE --list NAME`` runs the import command without naming it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help", "--version"):
            args = ["import", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_ImportByDefault, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bsg-import")
def main() -> None:
    """Import spreadsheets of phone numbers into BSG contact lists.

    \b
    bsg-import FILE --list NAME [options]    (the import command, named or not)
    """
    stop_signals_interrupt()  # the command's own handlers take it from here


for _command in (import_command, inbox_command, hlr_refresh_command, undo_command,
                 sandbox_command, serve_command):  # fmt: skip
    main.add_command(_command)
