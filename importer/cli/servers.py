"""The commands that serve: ``sandbox`` (the API, for trying and testing) and ``serve``
(the web page)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..errors import OK
from ..settings import checked, load_config
from .guard import guarded, on_signals
from .options import option, with_options
from .output import say

#: The sandbox's faults, all off unless given (the defaults are Faults').
SANDBOX_FAULTS = [
    option("--latency", type=float, help="Seconds added to every answer."),
    option("--error-rate", type=float, help="Share of requests answered 5xx."),
    option("--forbidden-rate", type=float, help="Share answered 403."),
    option("--throttle-rate", type=float,
            help="Share answered 429 at random (BSG's duplicate-request message)."),
    option("--retry-after", help="Retry-After of those 429s (seconds or an HTTP date; 1)."),
    option("--commit-then-fail-rate", type=float, help="Done, then answered 500."),
    option("--drop-rate", type=float, help="Done, then the connection dropped."),
    option("--malformed-rate", type=float, help="Done, then a garbled answer."),
    option("--token-expiry-every", type=int, help="Tokens expire after N requests."),
    option("--token-ttl", type=float, help="Tokens expire after S seconds (3600)."),
    option("--rate-cap", type=float,
            help="Token bucket: requests a second (a burst of one second's worth)."),
    option("--sliding-limit", type=int, help="At most N requests in any one second."),
    option("--window-limit", type=int,
            help="At most N requests per fixed window, with X-RateLimit-* headers."),
    option("--window-seconds", type=float, help="Length of that fixed window (60)."),
    option("--max-in-flight", type=int, help="At most N requests served at once (429 beyond)."),
    option("--duplicate-window", type=float,
            help="Seconds in which an identical request is refused with 429."),
    option("--jitter", type=float, help="Each answer's latency varies by this share of it."),
    option("--limit-refusal", type=click.Choice(["bsg", "framework", "empty", "503"]),
            help="How the limiters refuse: 429 with BSG's message, a framework's, none, "
            "or nginx's 503 page without Retry-After."),
    option("--limit-retry-after", type=click.Choice(["exact", "none", "date"]),
            help="The limiters' Retry-After (default: whole seconds rounded up)."),
    option("--limit-headers", type=click.Choice(["none", "early"]),
            help="A fixed window's X-RateLimit-* headers left out, or a reset a second early."),
    option("--limit-schedule", metavar="T:LIMIT,...",
            help="The bucket's or sliding window's limit over time, e.g. 0:200,8:50,16:200."),
    option("--fault-endpoint", metavar="[METHOD] PATH",
            help="Only this endpoint meets the faults, e.g. 'POST /api/contacts/fields' "
            "(the login too)."),
    option("--seed", type=int, help="Seed of the fault dice."),
]  # fmt: skip


@click.command("sandbox")
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
@with_options(SANDBOX_FAULTS)
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
    from ..sandbox import Faults, HlrModel, Sandbox, serve

    hlr = {name: faults.pop(f"hlr_{name}") for name in ("at_creation", "delay", "never")}
    model = HlrModel(**{name: value for name, value in hlr.items() if value is not None})
    modes = {key: "test" if key.startswith("test_") else "live" for key in keys}
    given = {name: value for name, value in faults.items() if value is not None}
    sandbox = Sandbox(Faults(**given), keys=modes, verified_phones=verified, hlr=model)
    stop = threading.Event()
    with on_signals(stop, "Sandbox stopped"), serve(sandbox, host, port) as server:
        click.echo(f"BSG sandbox listening on {server.url} (Ctrl-C to stop)", err=True)
        stop.wait()
    sys.exit(OK)


@click.command("serve")
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
    from ..web.command import run_page

    given = {k: v for k, v in flags.items() if v is not None}
    config = load_config(config_file) if config_file else {}
    code = guarded(
        lambda: run_page(
            host, port, sandbox=sandbox, allowed_hosts=allowed_hosts,
            password_file=password_file,
            max_upload_mb=max_upload_mb, data_dir=data_dir,
            base={**checked(config, str(config_file)), **checked(given, "the options")},
            environment=os.environ, say=lambda line: say("serve", line),
            stop=_stop_on_signals,
        )
    )  # fmt: skip
    sys.exit(code)


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    stop = threading.Event()
    with on_signals(stop, "Stopping: letting the imports in progress write their results"):
        yield stop
