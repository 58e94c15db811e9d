"""The commands that import: ``import`` (one file) and ``inbox`` (every file of a folder)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import click

from .. import logs
from ..errors import FATAL, Interrupted, batch_exit_code, exit_for
from ..models import ImportSummary, summary_line
from ..runs.control import RunControl
from ..runs.importing import run_import
from ..runs.inbox import SETTLE_S, ImportOne, run_inbox
from ..settings import Settings
from .guard import guarded, on_signals, said
from .options import FILE_OPTIONS, NOTICE_OPTIONS, SERVICE_OPTIONS, Sources, flags_of, with_options
from .output import Voice, logging_for, progress_for, report, say, warn


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--list", "list_name", metavar="NAME", help="Target list, created if absent.")
@click.option("--output", type=click.Path(path_type=Path), help="Results .xlsx (or .csv).")
@with_options(FILE_OPTIONS + NOTICE_OPTIONS + SERVICE_OPTIONS)
@click.pass_context
def import_command(ctx: click.Context, /, **_: object) -> None:
    """Import FILE into the contact list --list NAME."""
    voice, sources = Voice.from_context(ctx), Sources.from_context(ctx)
    with logging_for(voice):
        code = guarded(lambda: _import_one(sources.settings(flags_of(ctx)), voice).exit_code)
    sys.exit(code)


@click.command("inbox")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--list", "list_name", metavar="NAME", help="Target list for every file.")
@click.option("--list-from-filename", is_flag=True, help="Each file into the list named as it.")
@click.option(
    "--settle-seconds",
    type=click.FloatRange(min=0),
    default=SETTLE_S,
    help="A file whose size changes over this long is left for the next run.",
)
@with_options(FILE_OPTIONS + NOTICE_OPTIONS + SERVICE_OPTIONS)
@click.pass_context
def inbox_command(
    ctx: click.Context,
    /,
    folder: Path,
    list_from_filename: bool,
    settle_seconds: float,
    **_: object,
) -> None:
    """Import every spreadsheet in FOLDER, then move each to done/ or failed/."""
    voice, sources = Voice.from_context(ctx), Sources.from_context(ctx)
    flags = flags_of(ctx)

    def import_one(file: Path, results: Path) -> tuple[int, str]:
        each = {**flags, "file": file, "output": results}
        if list_from_filename:
            each["list_name"] = file.stem
        summary = _import_one(sources.settings(each), voice)
        return summary.exit_code, summary_line(summary)

    with logging_for(voice):
        if not list_from_filename and not sources.names_list(flags):
            raise click.UsageError("give --list NAME or --list-from-filename")
        code = guarded(lambda: _inbox(folder, import_one, settle_seconds))
    sys.exit(code)


def _inbox(folder: Path, import_one: ImportOne, settle_s: float) -> int:
    filed = run_inbox(folder, _guarded_one(import_one), settle_s=settle_s)
    for item in filed:
        if item.moved_to is None:
            line = f"{item.file.name}: exit {item.exit_code}, left in place: {item.message}"
        else:
            line = f"{item.file.name}: exit {item.exit_code} -> {item.moved_to.parent.name}/"
        say("filed", line, exit_code=item.exit_code)
    if not filed:
        say("filed", f"{folder}: nothing to import")
    return batch_exit_code(item.exit_code for item in filed)


def _guarded_one(import_one: ImportOne) -> ImportOne:
    """Print a file's error as the single import would, and hand the inbox its code."""

    def one(file: Path, results: Path) -> tuple[int, str]:
        try:
            return import_one(file, results)
        except FATAL as error:
            if isinstance(error, KeyboardInterrupt):
                raise  # Ctrl-C stops the whole inbox: the command reports it
            ending = said(exit_for(error))
            return ending.code, ending.message

    return one


def _import_one(settings: Settings, voice: Voice) -> ImportSummary:
    logs.event("start", f"importing {settings.file} into list {settings.list_name!r}",
               file=str(settings.file), list=settings.list_name)  # fmt: skip
    progress = progress_for(voice)
    control = RunControl(
        threading.Event(),
        progress=progress.update,
        hlr_progress=progress.hlr,
        paused=progress.paused,
        warn=warn,
    )

    def run() -> ImportSummary:
        try:
            with on_signals(control.stop):
                return run_import(settings, control=control)
        finally:
            progress.close()

    try:
        summary = run()  # run_import sends the completion notice
    except Interrupted as stop:
        if isinstance(stop.summary, ImportSummary):
            report(stop.summary, voice)
        raise
    report(summary, voice)
    return summary
