"""The commands that come after an import: ``hlr-refresh`` and ``undo``."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import click

from ..errors import OK, UsageError
from ..runs.control import RunControl
from ..runs.hlr_refresh import run_hlr_refresh
from ..runs.results_book import read_results_book
from ..runs.undo import run_undo, undo_source, undo_source_of_input
from ..settings import Layer
from .guard import guarded, on_signals
from .options import SERVICE_OPTIONS, Sources, flags_of, with_options
from .output import Voice, logging_for, say


@click.command("hlr-refresh")
@click.argument("results", type=click.Path(path_type=Path))
@with_options(SERVICE_OPTIONS)
@click.pass_context
def hlr_refresh_command(ctx: click.Context, /, results: Path, **_: object) -> None:
    """Fetch every contact of a RESULTS workbook again and update its HLR status."""
    voice, sources = Voice.from_context(ctx), Sources.from_context(ctx)
    with logging_for(voice):
        sys.exit(guarded(lambda: _hlr_refresh(results, flags_of(ctx), sources)))


def _hlr_refresh(path: Path, flags: Layer, sources: Sources) -> int:
    book = read_results_book(path)
    control = RunControl(threading.Event())
    with on_signals(control.stop):
        summary = run_hlr_refresh(book, sources.account(flags), control=control)
    say("summary", summary.line(), refreshed=summary.refreshed, gone=summary.gone,
         failed=summary.failed)  # fmt: skip
    return summary.exit_code


@click.command("undo")
@click.argument("results", type=click.Path(path_type=Path))
@click.option(
    "--list",
    "list_name",
    metavar="NAME",
    help="RESULTS is the import's input file, and NAME its list: undo from the journal "
    "alone (an import killed before it wrote its results).",
)
@click.option("--journal-dir", type=click.Path(path_type=Path), help="Where journals are kept.")
@click.option("--yes", is_flag=True, help="Do it without asking (for scripts).")
@click.option("--dry-run", "only_show", is_flag=True, help="Only print what would be done.")
@with_options(SERVICE_OPTIONS)
@click.pass_context
def undo_command(
    ctx: click.Context, /, results: Path, yes: bool, only_show: bool, **_: object
) -> None:
    """Take an import back: delete the contacts it created, detach the existing ones."""
    voice, sources = Voice.from_context(ctx), Sources.from_context(ctx)
    with logging_for(voice):
        sys.exit(
            guarded(lambda: _undo(results, flags_of(ctx), sources, yes=yes, only_show=only_show))
        )


def _undo(path: Path, flags: Layer, sources: Sources, *, yes: bool, only_show: bool) -> int:
    account = sources.account(flags)
    if "list_name" in flags:  # ``path`` is the import's input file: its journal alone
        source = undo_source_of_input(sources.settings({**flags, "file": path}))
    else:
        source = undo_source(path, account)
    book, plan = source.book, source.plan
    say("plan", f"Undo of {path} ({source.describe()}): {plan.describe()}")
    if only_show or not (plan.delete or plan.detach):
        return OK
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("undo asks before it deletes; add --yes to run it without asking")
        if not click.confirm("Go ahead?", err=True):
            say("summary", "Nothing was changed.")
            return OK
    control = RunControl(threading.Event())
    with on_signals(control.stop):
        summary = run_undo(book, plan, account, control=control, journal_file=source.journal)
    say("summary", summary.line(), **summary.results)
    return summary.exit_code
