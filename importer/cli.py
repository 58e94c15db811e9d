"""The command line: parse -> Settings -> run_import -> summary line or --json -> exit code."""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from . import logs
from .errors import (
    FATAL,
    Ending,
    Interrupted,
    UsageError,
    batch_exit_code,
    exit_for,
    quit_interrupted,
)
from .logs import hlr_waited
from .models import ImportSummary, summary_line
from .profiles import load_profile
from .runs.afterwards import run_hlr_refresh, run_undo, undo_source
from .runs.followup import ResultsBook, read_results_book
from .runs.importing import RunControl, run_import
from .runs.inbox import SETTLE_S, ImportOne, run_inbox
from .runs.notify import notified
from .settings import DEFAULT_WAIT_HLR_S, Layer, Settings, checked, load_config, resolve
from .startup import STOP_SIGNALS, stop_signals_interrupt

SETTING_NAMES = frozenset(f.name for f in fields(Settings))
Command = Callable[..., None]


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


def _option(*names: str, **kwargs: Any) -> Callable[[Command], Command]:
    return click.option(*names, **kwargs)


#: Options that say how to read a file and what to do with its rows.
FILE_OPTIONS = [
    _option("--sheet", metavar="NAME_OR_INDEX", help="Worksheet (default: the first with data)."),
    _option("--phone-column", multiple=True, metavar="NAME",
            help="The phone column (default: detected); repeatable: a row takes the first "
                 "that holds a number."),
    _option("--map", "field_map", multiple=True, metavar="COLUMN=FIELD",
            help="Send COLUMN as custom field FIELD (repeatable)."),
    _option("--skip-column", "skip_columns", multiple=True, metavar="COLUMN",
            help="Don't send COLUMN (repeatable)."),
    _option("--create-fields", is_flag=True, help="Create custom fields the account lacks."),
    _option("--default-region", metavar="CC", help="Region for numbers without country code."),
    _option("--region-column", metavar="NAME|none",
            help="The column of each row's country (default: detected); none: every row "
                 "takes --default-region."),
    _option("--on-existing", type=click.Choice(["attach", "update", "skip"]),
            help="A phone already in the contact book (default: attach)."),
    _option("--dry-run", is_flag=True, help="Validate and write the results; send nothing."),
    _option("--resume/--no-resume", default=None,
            help="Continue an interrupted import of the same file (default: resume)."),
    _option("--redo-undone", is_flag=True, default=None,
            help="Send again the rows whose contacts `bsg-import undo` took back."),
    _option("--date-order", type=click.Choice(["dmy", "mdy"]),
            help="How to read 01/02/2026 (default dmy)."),
    _option("--bad-values", type=click.Choice(["reject", "drop"]),
            help="A field value of the wrong type: reject the row or drop the value."),
    _option("--if-running", type=click.Choice(["exit", "wait"]),
            help="Another run imports the same file into the same list (default exit)."),
    _option("--output-dir", type=click.Path(path_type=Path),
            help="Folder for results named <input stem>.results.xlsx."),
    _option("--journal-dir", type=click.Path(path_type=Path), help="Where journals are kept."),
    _option("--max-rows", type=click.IntRange(min=1),
            help="Refuse a file with more rows (default 2,000,000)."),
    _option("--max-unpacked-mb", type=click.IntRange(min=1),
            help="Refuse a workbook that unpacks to more (default 1024)."),
    _option("--wait-hlr", type=click.FloatRange(min=0), is_flag=False,
            flag_value=DEFAULT_WAIT_HLR_S, metavar="SECONDS",
            help="After the last row, wait up to SECONDS (120 if not given) for HLR results."),
    _option("--profile", metavar="NAME", help="Settings saved as profile NAME (on the page)."),
]  # fmt: skip

#: Options of the commands that import (import, inbox): what to tell when a run ends.
NOTICE_OPTIONS = [
    _option("--notify-url", metavar="URL", help="When the run ends, POST its summary there."),
    _option("--notify-format", type=click.Choice(["json", "slack"]),
            help="The notice as JSON (default) or as a chat message."),
]  # fmt: skip

#: Options of every command that talks to BSG.
SERVICE_OPTIONS = [
    _option("--sandbox", is_flag=True, help="Use the built-in sandbox instead of BSG."),
    _option("--base-url", metavar="URL", help="API root (default https://one-api.bsg.world)."),
    _option("--api-key", metavar="KEY", help="API key (prefer the BSG_API_KEY variable)."),
    _option("--concurrency", type=click.IntRange(1, 256),
            help="At most N requests in flight (default: found while sending, up to 256)."),
    _option("--rate", type=click.FloatRange(min=0.1), help="At most R requests a second."),
    _option("--patience", type=click.FloatRange(min=0),
            help="Seconds to wait out an outage before giving up (default 300)."),
    _option("--config", "config_file", type=click.Path(path_type=Path),
            help="TOML file with any of these options."),
    _option("--log-file", type=click.Path(path_type=Path), help="Also log events to PATH."),
    _option("--log-format", type=click.Choice(["text", "json"]), default="text",
            help="Log lines as text or JSON."),
    _option("--quiet", is_flag=True, help="No progress bar; only the final summary."),
    _option("--json", "as_json", is_flag=True, help="The summary as one JSON object on stdout."),
]  # fmt: skip


def _with(options: list[Callable[[Command], Command]]) -> Callable[[Command], Command]:
    def decorate(command: Command) -> Command:
        return functools.reduce(lambda c, option: option(c), reversed(options), command)

    return decorate


@main.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--list", "list_name", metavar="NAME", help="Target list, created if absent.")
@click.option("--output", type=click.Path(path_type=Path), help="Results .xlsx (or .csv).")
@_with(FILE_OPTIONS + NOTICE_OPTIONS + SERVICE_OPTIONS)
@click.pass_context
def import_command(ctx: click.Context, /, **_: object) -> None:
    """Import FILE into the contact list --list NAME."""
    view = _View.from_context(ctx)
    with _logging(view):
        code = _guarded(lambda: _import_one(view.settings(_flags(ctx)), view).exit_code)
    sys.exit(code)


@main.command("inbox")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--list", "list_name", metavar="NAME", help="Target list for every file.")
@click.option("--list-from-filename", is_flag=True, help="Each file into the list named as it.")
@click.option(
    "--settle-seconds",
    type=click.FloatRange(min=0),
    default=SETTLE_S,
    help="A file whose size changes over this long is left for the next run.",
)
@_with(FILE_OPTIONS + NOTICE_OPTIONS + SERVICE_OPTIONS)
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
    view = _View.from_context(ctx)
    flags = _flags(ctx)

    def import_one(file: Path, results: Path) -> tuple[int, str]:
        each = {**flags, "file": file, "output": results}
        if list_from_filename:
            each["list_name"] = file.stem
        summary = _import_one(view.settings(each), view)
        return summary.exit_code, summary_line(summary)

    with _logging(view):
        if not list_from_filename and not view.names_list(flags):
            raise click.UsageError("give --list NAME or --list-from-filename")
        code = _guarded(lambda: _inbox(folder, import_one, settle_seconds))
    sys.exit(code)


def _inbox(folder: Path, import_one: ImportOne, settle_s: float) -> int:
    filed = run_inbox(folder, _guarded_one(import_one), settle_s=settle_s)
    for item in filed:
        if item.moved_to is None:
            line = f"{item.file.name}: exit {item.exit_code}, left in place: {item.message}"
        else:
            line = f"{item.file.name}: exit {item.exit_code} -> {item.moved_to.parent.name}/"
        _say("filed", line, exit_code=item.exit_code)
    if not filed:
        _say("filed", f"{folder}: nothing to import")
    return batch_exit_code(item.exit_code for item in filed)


def _guarded_one(import_one: ImportOne) -> ImportOne:
    """Print a file's error as the single import would, and hand the inbox its code."""

    def guarded(file: Path, results: Path) -> tuple[int, str]:
        try:
            return import_one(file, results)
        except FATAL as error:
            if isinstance(error, KeyboardInterrupt):
                raise  # Ctrl-C stops the whole inbox: the command reports it
            ending = _said(exit_for(error))
            return ending.code, ending.message

    return guarded


def _flags(ctx: click.Context, **extra: object) -> Layer:
    """The settings given on the command line (a default is not a flag), checked."""
    given = {k: v for k, v in ctx.params.items() if k in SETTING_NAMES and _given(ctx, k)}
    if "field_map" in given:
        given["field_map"] = tuple(_split_map(m) for m in given["field_map"])
    return checked({**given, **extra}, "the options")


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source != click.core.ParameterSource.DEFAULT


def _split_map(text: str) -> tuple[str, str]:
    column, sep, field = text.partition("=")
    if not sep or not column.strip() or not field.strip():
        raise click.BadParameter(f"{text!r} is not COLUMN=FIELD", param_hint="--map")
    return column.strip(), field.strip()


@dataclass(frozen=True)
class _View:
    """How this run talks to the person or the log, and where else its settings come from."""

    quiet: bool = False
    as_json: bool = False
    config_file: Path | None = None
    profile: str | None = None
    log_file: Path | None = None
    log_format: logs.LogFormat = "text"
    tty: bool = field(default_factory=sys.stderr.isatty)

    @classmethod
    def from_context(cls, ctx: click.Context) -> _View:
        """The options of ``ctx`` that are not settings of the import."""
        names = {f.name for f in fields(cls)} - {"tty"}
        return cls(**{k: v for k, v in ctx.params.items() if k in names and v is not None})

    def settings(self, flags: Layer) -> Settings:
        """flag > profile > config file > environment > default."""
        return resolve(flags, self._config(), os.environ, self._profile())

    def names_list(self, flags: Layer) -> bool:
        """True when the flags, the profile or the config file name the target list."""
        return any("list_name" in layer for layer in (flags, self._profile(), self._config()))

    def _config(self) -> Layer:
        if self.config_file is None:
            return {}
        config = checked(load_config(self.config_file), str(self.config_file))
        if "api_key" in config:
            _warn_if_shared(self.config_file)
        return config

    def _profile(self) -> Layer:
        return load_profile(self.profile).values if self.profile else {}


def _warn_if_shared(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        _say(
            "warning",
            f"Warning: {path} holds the API key and other users can read it "
            f"(mode {mode:04o}); run: chmod 600 {path}",
        )


def _say(event: str, line: str, **fields: Any) -> None:
    """A line for the person on stderr, and the same event for the log."""
    click.echo(line, err=True)
    logs.event(event, line, **fields)


@contextmanager
def _logging(view: _View) -> Iterator[None]:
    logs.configure(
        log_file=view.log_file,
        log_format=view.log_format,
        to_stderr=not view.tty and not view.quiet and not view.as_json,
    )
    try:
        yield
    finally:
        logs.close()


#: The sandbox's faults, all off unless given (the defaults are Faults').
SANDBOX_FAULTS = [
    _option("--latency", type=float, help="Seconds added to every answer."),
    _option("--error-rate", type=float, help="Share of requests answered 5xx."),
    _option("--forbidden-rate", type=float, help="Share answered 403."),
    _option("--throttle-rate", type=float,
            help="Share answered 429 at random (BSG's duplicate-request message)."),
    _option("--retry-after", help="Retry-After of those 429s (seconds or an HTTP date; 1)."),
    _option("--commit-then-fail-rate", type=float, help="Done, then answered 500."),
    _option("--drop-rate", type=float, help="Done, then the connection dropped."),
    _option("--malformed-rate", type=float, help="Done, then a garbled answer."),
    _option("--token-expiry-every", type=int, help="Tokens expire after N requests."),
    _option("--token-ttl", type=float, help="Tokens expire after S seconds (3600)."),
    _option("--rate-cap", type=float,
            help="Token bucket: requests a second (a burst of one second's worth)."),
    _option("--sliding-limit", type=int, help="At most N requests in any one second."),
    _option("--window-limit", type=int,
            help="At most N requests per fixed window, with X-RateLimit-* headers."),
    _option("--window-seconds", type=float, help="Length of that fixed window (60)."),
    _option("--max-in-flight", type=int, help="At most N requests served at once (429 beyond)."),
    _option("--duplicate-window", type=float,
            help="Seconds in which an identical request is refused with 429."),
    _option("--jitter", type=float, help="Each answer's latency varies by this share of it."),
    _option("--limit-refusal", type=click.Choice(["bsg", "framework", "empty", "503"]),
            help="How the limiters refuse: 429 with BSG's message, a framework's, none, "
            "or nginx's 503 page without Retry-After."),
    _option("--limit-retry-after", type=click.Choice(["exact", "none", "date"]),
            help="The limiters' Retry-After (default: whole seconds rounded up)."),
    _option("--limit-headers", type=click.Choice(["none", "early"]),
            help="A fixed window's X-RateLimit-* headers left out, or a reset a second early."),
    _option("--limit-schedule", metavar="T:LIMIT,...",
            help="The bucket's or sliding window's limit over time, e.g. 0:200,8:50,16:200."),
    _option("--fault-endpoint", metavar="[METHOD] PATH",
            help="Only this endpoint meets the faults, e.g. 'POST /api/contacts/fields' "
            "(the login too)."),
    _option("--seed", type=int, help="Seed of the fault dice."),
]  # fmt: skip


@main.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option(
    "--key",
    "keys",
    multiple=True,
    metavar="KEY",
    help="Accept this API key too (live_… or test_…); live_sandbox and test_sandbox always work.",
)
@click.option(
    "--verified",
    multiple=True,
    type=int,
    metavar="PHONE",
    help="A phone that test_ keys may create (repeatable).",
)
@_with(SANDBOX_FAULTS)
@click.option(
    "--hlr-at-creation",
    type=click.Choice(["null", "sent"]),
    help="hlr_status of a contact just created (default null).",
)
@click.option(
    "--hlr-delay",
    type=click.FloatRange(min=0),
    help="Seconds until a contact's HLR check has its final status (default 5).",
)
@click.option(
    "--hlr-never",
    type=click.FloatRange(0, 1),
    help="Share of phones whose HLR check never finishes (default 0).",
)
def sandbox_command(host: str, port: int, keys: tuple[str, ...], verified: tuple[int, ...],
                    **faults: Any) -> None:  # fmt: skip
    """Serve the sandbox (the API of bsg-one-api.md) as a real HTTP server."""
    from .sandbox import Faults, HlrModel, Sandbox, serve

    hlr = {name: faults.pop(f"hlr_{name}") for name in ("at_creation", "delay", "never")}
    model = HlrModel(**{name: value for name, value in hlr.items() if value is not None})
    modes = {key: "test" if key.startswith("test_") else "live" for key in keys}
    given = {name: value for name, value in faults.items() if value is not None}
    sandbox = Sandbox(Faults(**given), keys=modes, verified_phones=verified, hlr=model)
    stop = threading.Event()
    with _signals(stop, "Sandbox stopped"), serve(sandbox, host, port) as server:
        click.echo(f"BSG sandbox listening on {server.url} (Ctrl-C to stop)", err=True)
        stop.wait()
    sys.exit(0)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--sandbox", is_flag=True, help="Import into the built-in sandbox (for a try).")
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Another name the page is reached by (repeatable); other Host names get 400.",
)
@click.option(
    "--password-file",
    type=click.Path(path_type=Path),
    help="File holding the page's password (or BSG_WEB_PASSWORD).",
)
@click.option(
    "--max-upload-mb",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Refuse larger uploads.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Uploads and results of the page (default: the user's data folder).",
)
@click.option("--base-url", metavar="URL", help="API root (default https://one-api.bsg.world).")
@click.option("--journal-dir", type=click.Path(path_type=Path), help="Where journals are kept.")
@click.option(
    "--notify-url",
    metavar="URL",
    help="POST each import's summary here when it ends, as the import command does.",
)
@click.option("--notify-format", type=click.Choice(["json", "slack"]), help="Notice format.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="TOML file with the service's settings.",
)
def serve_command(host: str, port: int, sandbox: bool, allowed_hosts: tuple[str, ...],
                  password_file: Path | None, max_upload_mb: int, data_dir: Path | None,
                  config_file: Path | None,
                  **flags: object) -> None:  # fmt: skip
    """Serve the web page: drop a spreadsheet, check the mapping, import, download results."""
    from .web.command import run_page

    given = {k: v for k, v in flags.items() if v is not None}
    config = load_config(config_file) if config_file else {}
    code = _guarded(
        lambda: run_page(
            host, port, sandbox=sandbox, allowed_hosts=allowed_hosts,
            password_file=password_file,
            max_upload_mb=max_upload_mb, data_dir=data_dir,
            base={**checked(config, str(config_file)), **checked(given, "the options")},
            environment=os.environ, say=lambda line: _say("serve", line),
            stop=_stop_on_signals,
        )
    )  # fmt: skip
    sys.exit(code)


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    stop = threading.Event()
    with _signals(stop, "Stopping: letting the imports in progress write their results"):
        yield stop


@main.command("hlr-refresh")
@click.argument("results", type=click.Path(path_type=Path))
@_with(SERVICE_OPTIONS)
@click.pass_context
def hlr_refresh_command(ctx: click.Context, /, results: Path, **_: object) -> None:
    """Fetch every contact of a RESULTS workbook again and update its HLR status."""
    view = _View.from_context(ctx)
    with _logging(view):
        sys.exit(_guarded(lambda: _hlr_refresh(results, _flags(ctx), view)))


def _hlr_refresh(path: Path, flags: Layer, view: _View) -> int:
    book = read_results_book(path)
    control = RunControl(threading.Event())
    with _signals(control.stop):
        summary = run_hlr_refresh(book, _followup_settings(book, flags, view), control=control)
    _say("summary", summary.line(), refreshed=summary.refreshed, gone=summary.gone,
         failed=summary.failed)  # fmt: skip
    return summary.exit_code


@main.command("undo")
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
@_with(SERVICE_OPTIONS)
@click.pass_context
def undo_command(
    ctx: click.Context, /, results: Path, yes: bool, only_show: bool, **_: object
) -> None:
    """Take an import back: delete the contacts it created, detach the existing ones."""
    view = _View.from_context(ctx)
    with _logging(view):
        sys.exit(_guarded(lambda: _undo(results, _flags(ctx), view, yes=yes, only_show=only_show)))


def _undo(path: Path, flags: Layer, view: _View, *, yes: bool, only_show: bool) -> int:
    by_input = "list_name" in flags
    settings = view.settings({"list_name": "-", **flags, "file": path})
    source = undo_source(path, settings, input_file=by_input)
    book, plan = source.book, source.plan
    _say("plan", f"Undo of {path} ({source.describe()}): {plan.describe()}")
    if only_show or not (plan.delete or plan.detach):
        return 0
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("undo asks before it deletes; add --yes to run it without asking")
        if not click.confirm("Go ahead?", err=True):
            _say("summary", "Nothing was changed.")
            return 0
    control = RunControl(threading.Event())
    with _signals(control.stop):
        settings = _followup_settings(book, flags, view)
        summary = run_undo(book, plan, settings, control=control, journal_file=source.journal)
    _say("summary", summary.line(), **summary.results)
    return summary.exit_code


def _followup_settings(book: ResultsBook, flags: Layer, view: _View) -> Settings:
    """Settings to call BSG for the contacts of a results workbook."""
    return view.settings({**flags, "file": book.path, "list_name": book.info.list_name or "-"})


def _import_one(settings: Settings, view: _View) -> ImportSummary:
    logs.event("start", f"importing {settings.file} into list {settings.list_name!r}",
               file=str(settings.file), list=settings.list_name)  # fmt: skip
    progress = _progress(view)
    control = RunControl(
        threading.Event(),
        progress=progress.update,
        hlr_progress=progress.hlr,
        paused=progress.paused,
    )

    def run() -> ImportSummary:
        try:
            with _signals(control.stop):
                return run_import(settings, control=control)
        finally:
            progress.close()

    try:
        summary = notified(settings, run, _warn)
    except Interrupted as stop:
        if isinstance(stop.summary, ImportSummary):
            _report(stop.summary, view)
        raise
    _report(summary, view)
    return summary


def _warn(problem: str) -> None:
    _say("warning", f"Warning: {problem}")


def _guarded(action: Callable[[], int]) -> int:
    """Run the command; turn the tool's errors into one line and an exit code."""
    try:
        return action()
    except FATAL as error:  # Ctrl-C too, before the run's own handler is in place
        return _said(exit_for(error)).code


def _said(ending: Ending) -> Ending:
    _say("error", ending.line, exit_code=ending.code)
    return ending


@contextmanager
def _signals(
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


def _progress(view: _View) -> _Bar | _NoBar | _LogProgress:
    if view.tty and not view.quiet and not view.as_json:
        return _Bar()
    if logs.LOGGER.handlers:
        return _LogProgress()
    return _NoBar()


def _report(summary: ImportSummary, view: _View) -> None:
    for warning in summary.warnings:
        _say("warning", f"Warning: {warning}")
    for note in summary.notes:
        logs.event("note", f"Note: {note}")
        if view.tty and not view.quiet and not view.as_json:
            click.echo(f"Note: {note}", err=True)
    line = summary_line(summary)
    if view.as_json:
        logs.event("summary", line, **summary_json(summary))
        click.echo(json.dumps(summary_json(summary), ensure_ascii=False))
    else:
        _say("summary", line, **summary_json(summary))


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
