"""Settings of one import, and the one pure rule that resolves them.

A value comes from the first of: a command-line flag, the config file, the
environment, the default. The library never reads ``os.environ`` itself: the
command line passes the environment in.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from .errors import UsageError

DEFAULT_BASE_URL = "https://one-api.bsg.world"
SANDBOX_BASE_URL = "http://sandbox.invalid"
SANDBOX_API_KEY = "live_sandbox"
#: --wait-hlr without SECONDS: how long to wait for the HLR checks after the last row.
DEFAULT_WAIT_HLR_S = 120.0

#: Environment variables and the settings they provide.
ENVIRONMENT = {
    "BSG_API_KEY": "api_key",
    "BSG_BASE_URL": "base_url",
    "BSG_DEFAULT_REGION": "default_region",
}

OnExisting = Literal["attach", "update", "skip"]
DateOrder = Literal["dmy", "mdy"]
BadValues = Literal["reject", "drop"]
IfRunning = Literal["exit", "wait"]


@dataclass(frozen=True)
class Settings:
    """Everything one import needs to know. The key is never in ``repr``."""

    file: Path
    list_name: str
    sheet: str | None = None
    phone_column: str | None = None
    field_map: tuple[tuple[str, str], ...] = ()
    create_fields: bool = False
    default_region: str | None = None
    on_existing: OnExisting = "attach"
    output: Path | None = None
    output_dir: Path | None = None
    dry_run: bool = False
    sandbox: bool = False
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    concurrency: int = 32
    rate: float | None = None
    resume: bool = True
    patience: float = 300.0
    max_attempts: int = 6
    timeout: float = 30.0
    date_order: DateOrder = "dmy"
    bad_values: BadValues = "reject"
    journal_dir: Path | None = None
    if_running: IfRunning = "exit"
    max_rows: int = 2_000_000
    max_unpacked_mb: int = 1024
    #: Seconds to wait for the contacts' final HLR status after the last row; None: don't.
    wait_hlr: float | None = None

    @property
    def output_path(self) -> Path:
        """Where the results go: ``--output``, or ``<stem>.results.xlsx`` beside the input."""
        if self.output is not None:
            return self.output
        folder = self.output_dir if self.output_dir is not None else self.file.parent
        return folder / f"{self.file.stem}.results.xlsx"

    @property
    def api_root(self) -> str:
        """The base URL the client talks to."""
        return SANDBOX_BASE_URL if self.sandbox else self.base_url.rstrip("/")

    @property
    def key(self) -> str | None:
        """The key to log in with (the sandbox's own when ``--sandbox``)."""
        return SANDBOX_API_KEY if self.sandbox and not self.api_key else self.api_key


_NAMES = {f.name for f in fields(Settings)}


def resolve(
    flags: Mapping[str, Any],
    config: Mapping[str, Any],
    environment: Mapping[str, str],
) -> Settings:
    """Merge flag > config file > environment > default into Settings.

    ``flags`` holds only the options given on the command line (None means not given).
    """
    merged: dict[str, Any] = {}
    for variable, name in ENVIRONMENT.items():
        if environment.get(variable):
            merged[name] = environment[variable]
    merged.update(_known(config, "the config file"))
    merged.update({k: v for k, v in flags.items() if v is not None})
    for required in ("file", "list_name"):
        if merged.get(required) in (None, ""):
            option = "FILE" if required == "file" else "--list"
            raise UsageError(f"{option} is required")
    return _coerce(Settings(**merged))


def _known(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(set(values) - _NAMES)
    if unknown:
        raise UsageError(f"{where} has unknown options: {', '.join(unknown)}")
    return dict(values)


def _coerce(settings: Settings) -> Settings:
    """Normalise types that a TOML file or the environment give loosely."""
    field_map = settings.field_map
    if isinstance(field_map, Mapping):
        field_map = tuple((str(k), str(v)) for k, v in field_map.items())
    region = settings.default_region.upper() if settings.default_region else None
    return replace(
        settings,
        file=Path(settings.file),
        output=Path(settings.output) if settings.output is not None else None,
        output_dir=Path(settings.output_dir) if settings.output_dir is not None else None,
        journal_dir=Path(settings.journal_dir) if settings.journal_dir is not None else None,
        field_map=tuple(field_map),
        default_region=region,
        list_name=str(settings.list_name),
        wait_hlr=_wait_hlr(settings.wait_hlr),
    )


def _wait_hlr(value: float | bool | None) -> float | None:
    """A config file may say ``wait-hlr = true`` (the default wait) or a number of seconds."""
    if value is True:
        return DEFAULT_WAIT_HLR_S
    return None if value is None or value is False else float(value)


#: Config keys spelled as the command-line option, where the option's name differs.
CONFIG_ALIASES = {"list": "list_name", "map": "field_map"}


def load_config(path: Path) -> dict[str, Any]:
    """Read a TOML config file; its keys are option names with ``-`` or ``_``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: config file not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a valid TOML file: {exc}") from exc
    named = {key.replace("-", "_"): value for key, value in data.items()}
    return {CONFIG_ALIASES.get(name, name): value for name, value in named.items()}
