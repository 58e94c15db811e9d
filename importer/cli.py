"""The command line: parse -> Settings -> run_import -> summary line or --json -> exit code."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from .errors import BsgImportError, Interrupted
from .models import ImportSummary, Status
from .pipeline import RunControl, run_import
from .settings import load_config, resolve

SUMMARY_STATUSES = ("created", "existing", "duplicate", "invalid", "failed", "skipped")


class _ImportByDefault(click.Group):
    """``bsg-import FILE --list NAME`` runs the import command without naming it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["import", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_ImportByDefault, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bsg-import")
def main() -> None:
    """Import spreadsheets of phone numbers into BSG contact lists.

    \b
    bsg-import FILE --list NAME [options]    (the import command, named or not)
    """


@main.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--list", "list_name", metavar="NAME", help="Target contact list (created if absent)."
)
@click.option("--sheet", metavar="NAME_OR_INDEX", help="Worksheet (default: the first with data).")
@click.option("--phone-column", metavar="NAME", help="The phone column (default: detected).")
@click.option(
    "--map", "field_map", multiple=True, metavar="COLUMN=FIELD", help="Send COLUMN as field FIELD."
)
@click.option("--create-fields", is_flag=True, help="Create custom fields the account lacks.")
@click.option("--default-region", metavar="CC", help="Region for numbers without country code.")
@click.option(
    "--on-existing",
    type=click.Choice(["attach", "update", "skip"]),
    help="Phones already in the book.",
)
@click.option("--output", type=click.Path(path_type=Path), help="Results .xlsx or .csv.")
@click.option("--dry-run", is_flag=True, help="Validate and write the results; send nothing.")
@click.option("--sandbox", is_flag=True, help="Use the built-in sandbox instead of BSG.")
@click.option("--base-url", metavar="URL", help="API root (default https://one-api.bsg.world).")
@click.option("--api-key", metavar="KEY", help="API key (prefer the BSG_API_KEY variable).")
@click.option("--concurrency", type=click.IntRange(1, 256), help="Requests in flight at once.")
@click.option("--rate", type=click.FloatRange(min=0.1), help="At most R requests a second.")
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="TOML file of options."
)
@click.option(
    "--resume/--no-resume", default=None, help="Continue an interrupted import (default)."
)
@click.option("--patience", type=click.FloatRange(min=0), help="Seconds to wait out an outage.")
@click.option("--date-order", type=click.Choice(["dmy", "mdy"]), help="Reading 01/02/2026.")
@click.option(
    "--bad-values", type=click.Choice(["reject", "drop"]), help="A field value of the wrong type."
)
@click.option("--journal-dir", type=click.Path(path_type=Path), help="Where journals are kept.")
@click.option("--quiet", is_flag=True, help="No progress bar; only the final summary.")
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON on stdout.")
@click.pass_context
def import_command(ctx: click.Context, /, **options: Any) -> None:
    """Import FILE into the contact list --list NAME."""
    quiet, as_json, config_file = (
        options.pop("quiet"),
        options.pop("as_json"),
        options.pop("config_file"),
    )
    flags = {k: v for k, v in options.items() if _given(ctx, k)}
    if "field_map" in flags:
        flags["field_map"] = tuple(_split_map(m) for m in flags["field_map"])
    code = _guarded(lambda: _import(flags, config_file, quiet=quiet, as_json=as_json))
    sys.exit(code)


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source != click.core.ParameterSource.DEFAULT


def _split_map(text: str) -> tuple[str, str]:
    column, sep, field = text.partition("=")
    if not sep or not column.strip() or not field.strip():
        raise click.BadParameter(f"{text!r} is not COLUMN=FIELD", param_hint="--map")
    return column.strip(), field.strip()


def _import(flags: dict[str, Any], config_file: Path | None, *, quiet: bool, as_json: bool) -> int:
    config = load_config(config_file) if config_file else {}
    settings = resolve(flags, config, os.environ)
    bar = _ProgressBar(enabled=not quiet and sys.stderr.isatty())
    control = RunControl(threading.Event(), progress=bar.update)
    _on_signals(control.stop)
    try:
        summary = run_import(settings, control=control)
    except Interrupted as stop:
        bar.close()
        if isinstance(stop.summary, ImportSummary):
            _report(stop.summary, quiet=quiet, as_json=as_json)
        raise
    bar.close()
    _report(summary, quiet=quiet, as_json=as_json)
    return summary.exit_code


def _guarded(action: Callable[[], int]) -> int:
    """Run the command; turn the tool's errors into one line and an exit code."""
    try:
        return action()
    except BsgImportError as error:
        click.echo(f"Error: {error}", err=True)
        return error.exit_code


def _on_signals(stop: threading.Event) -> None:
    """First Ctrl-C or SIGTERM: finish what is in flight and write results. Second: quit now."""

    def handler(signum: int, _frame: object) -> None:
        if stop.is_set():
            os._exit(130)
        stop.set()
        click.echo(
            "\nStopping: finishing requests in flight (Ctrl-C again to quit at once)", err=True
        )

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


class _ProgressBar:
    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: tqdm[Any] | None = None

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, unit="row", file=sys.stderr, dynamic_ncols=True)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _report(summary: ImportSummary, *, quiet: bool, as_json: bool) -> None:
    if not quiet and not as_json:
        for note in summary.notes:
            click.echo(f"Note: {note}", err=True)
    if as_json:
        click.echo(json.dumps(summary_json(summary), ensure_ascii=False))
    else:
        click.echo(summary_line(summary), err=True)


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


def summary_line(summary: ImportSummary) -> str:
    """`Promo (#56147): 9120 created, ... 0 skipped in 1m12s -> contacts.results.xlsx`."""
    where = f"#{summary.list_id}" if summary.list_id is not None else "not created"
    statuses: Sequence[str] = SUMMARY_STATUSES
    if summary.counts.get(Status.VALIDATED, 0):
        statuses = ("validated", *SUMMARY_STATUSES)
    counts = ", ".join(f"{summary.counts.get(s, 0)} {s}" for s in statuses)
    return (
        f"{summary.list_name} ({where}): {counts} in {_duration(summary.elapsed_s)} "
        f"-> {summary.output}"
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"
