"""The options the commands share, and how they become Settings."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import click

from ..profiles import load_profile
from ..settings import (
    DEFAULT_WAIT_HLR_S,
    Account,
    Layer,
    Settings,
    checked,
    load_config,
    resolve,
    resolve_account,
)
from .output import say

SETTING_NAMES = frozenset(f.name for f in fields(Settings))
Command = Callable[..., None]


def option(*names: str, **kwargs: Any) -> Callable[[Command], Command]:
    return click.option(*names, **kwargs)


#: Options that say how to read a file and what to do with its rows.
FILE_OPTIONS = [
    option("--sheet", metavar="NAME_OR_INDEX", help="Worksheet (default: the first with data)."),
    option("--phone-column", multiple=True, metavar="NAME",
            help="The phone column (default: detected); repeatable: a row takes the first "
                 "that holds a number."),
    option("--map", "field_map", multiple=True, metavar="COLUMN=FIELD",
            help="Send COLUMN as custom field FIELD (repeatable)."),
    option("--skip-column", "skip_columns", multiple=True, metavar="COLUMN",
            help="Don't send COLUMN (repeatable)."),
    option("--create-fields", is_flag=True, help="Create custom fields the account lacks."),
    option("--default-region", metavar="CC", help="Region for numbers without country code."),
    option("--region-column", metavar="NAME|none",
            help="The column of each row's country (default: detected); none: every row "
                 "takes --default-region."),
    option("--on-existing", type=click.Choice(["attach", "update", "skip"]),
            help="A phone already in the contact book (default: attach)."),
    option("--dry-run", is_flag=True, help="Validate and write the results; send nothing."),
    option("--resume/--no-resume", default=None,
            help="Continue an interrupted import of the same file (default: resume)."),
    option("--redo-undone", is_flag=True, default=None,
            help="Send again the rows whose contacts `bsg-import undo` took back."),
    option("--date-order", type=click.Choice(["dmy", "mdy"]),
            help="How to read 01/02/2026 (default dmy)."),
    option("--bad-values", type=click.Choice(["reject", "drop"]),
            help="A field value of the wrong type: reject the row or drop the value."),
    option("--if-running", type=click.Choice(["exit", "wait"]),
            help="Another run imports the same file into the same list (default exit)."),
    option("--output-dir", type=click.Path(path_type=Path),
            help="Folder for results named <input stem>.results.xlsx."),
    option("--journal-dir", type=click.Path(path_type=Path), help="Where journals are kept."),
    option("--max-rows", type=click.IntRange(min=1),
            help="Refuse a file with more rows (default 2,000,000)."),
    option("--max-unpacked-mb", type=click.IntRange(min=1),
            help="Refuse a workbook that unpacks to more (default 1024)."),
    option("--wait-hlr", type=click.FloatRange(min=0), is_flag=False,
            flag_value=DEFAULT_WAIT_HLR_S, metavar="SECONDS",
            help="After the last row, wait up to SECONDS (120 if not given) for HLR results."),
    option("--profile", metavar="NAME", help="Settings saved as profile NAME (on the page)."),
]  # fmt: skip

#: Options of the commands that import (import, inbox): what to tell when a run ends.
NOTICE_OPTIONS = [
    option("--notify-url", metavar="URL", help="When the run ends, POST its summary there."),
    option("--notify-format", type=click.Choice(["json", "slack"]),
            help="The notice as JSON (default) or as a chat message."),
]  # fmt: skip

#: Options of every command that talks to BSG.
SERVICE_OPTIONS = [
    option("--sandbox", is_flag=True, help="Use the built-in sandbox instead of BSG."),
    option("--base-url", metavar="URL", help="API root (default https://one-api.bsg.world)."),
    option("--api-key", metavar="KEY", help="API key (prefer the BSG_API_KEY variable)."),
    option("--concurrency", type=click.IntRange(1, 256),
            help="At most N requests in flight (default: found while sending, up to 256)."),
    option("--rate", type=click.FloatRange(min=0.1), help="At most R requests a second."),
    option("--trace-pace", type=click.Path(path_type=Path), metavar="PATH",
            help="Append what the flow control does to PATH, as JSON lines."),
    option("--patience", type=click.FloatRange(min=0),
            help="Seconds to wait out an outage before giving up (default 300)."),
    option("--config", "config_file", type=click.Path(path_type=Path),
            help="TOML file with any of these options."),
    option("--log-file", type=click.Path(path_type=Path), help="Also log events to PATH."),
    option("--log-format", type=click.Choice(["text", "json"]), default="text",
            help="Log lines as text or JSON."),
    option("--quiet", is_flag=True, help="No progress bar; only the final summary."),
    option("--json", "as_json", is_flag=True, help="The summary as one JSON object on stdout."),
]  # fmt: skip


def with_options(options: list[Callable[[Command], Command]]) -> Callable[[Command], Command]:
    """Decorate a command with ``options``, in their order."""

    def decorate(command: Command) -> Command:
        return functools.reduce(lambda c, option: option(c), reversed(options), command)

    return decorate


def flags_of(ctx: click.Context, **extra: object) -> Layer:
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
class Sources:
    """Where else a command's settings come from: the config file, the profile."""

    config_file: Path | None = None
    profile: str | None = None

    @classmethod
    def from_context(cls, ctx: click.Context) -> Sources:
        """The options of ``ctx`` that name the other sources of settings."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in ctx.params.items() if k in names and v is not None})

    def settings(self, flags: Layer) -> Settings:
        """flag > profile > config file > environment > default."""
        return resolve(flags, self._config(), os.environ, self._profile())

    def account(self, flags: Layer) -> Account:
        """The account alone, for a command with no input file: flag > config > environment."""
        return resolve_account(flags, self._config(), os.environ)

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
        say(
            "warning",
            f"Warning: {path} holds the API key and other users can read it "
            f"(mode {mode:04o}); run: chmod 600 {path}",
        )
