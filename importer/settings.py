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
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from .bsg import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from .errors import UsageError

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
NotifyFormat = Literal["json", "slack"]


@dataclass(frozen=True, kw_only=True)
class Account:
    """The service alone: where BSG is, the key, and how to call it. All that a caller who
    touches no input file needs (the page's History, undo, hlr-refresh). TLS follows
    ``SSL_CERT_FILE``/``SSL_CERT_DIR``, which the client reads. The key is never in ``repr``."""

    sandbox: bool = False
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    concurrency: int | None = None  # None: found while sending (bsg/pace.py)
    rate: float | None = None
    patience: float = 300.0
    max_attempts: int = 10
    timeout: float = 30.0
    journal_dir: Path | None = None
    #: Where the controller's trace goes (bsg/trace.py); None: nowhere.
    trace_pace: Path | None = None

    @property
    def api_root(self) -> str:
        """The base URL the client talks to."""
        return SANDBOX_BASE_URL if self.sandbox else self.base_url.rstrip("/")

    @property
    def key(self) -> str | None:
        """The key to log in with (the sandbox's own when ``--sandbox``)."""
        return SANDBOX_API_KEY if self.sandbox and not self.api_key else self.api_key


@dataclass(frozen=True, kw_only=True)
class Settings(Account):
    """Everything one import needs to know: the account, and the file into the list."""

    file: Path
    list_name: str
    sheet: str | None = None
    #: The phone columns, in the order a row looks for its number; () : detected.
    phone_column: tuple[str, ...] = ()
    field_map: tuple[tuple[str, str], ...] = ()
    skip_columns: tuple[str, ...] = ()
    create_fields: bool = False
    default_region: str | None = None
    #: The column of each row's country; None: detected; "none": every row by default_region.
    region_column: str | None = None
    on_existing: OnExisting = "attach"
    output: Path | None = None
    output_dir: Path | None = None
    dry_run: bool = False
    resume: bool = True
    #: Send again the rows whose contacts `bsg-import undo` took back (else they are skipped).
    redo_undone: bool = False
    date_order: DateOrder = "dmy"
    bad_values: BadValues = "reject"
    if_running: IfRunning = "exit"
    max_rows: int = 2_000_000
    max_unpacked_mb: int = 1024
    #: Seconds to wait for the contacts' final HLR status after the last row; None: don't.
    wait_hlr: float | None = None
    notify_url: str | None = field(default=None, repr=False)  # a webhook's URL is a secret
    notify_format: NotifyFormat = "json"

    @property
    def output_path(self) -> Path:
        """Where the results go: ``--output``, or ``<stem>.results.xlsx`` beside the input."""
        if self.output is not None:
            return self.output
        folder = self.output_dir if self.output_dir is not None else self.file.parent
        return folder / results_name(self.file)


#: How a results workbook's name ends: ``contacts.xlsx`` -> ``contacts.results.xlsx``.
RESULTS_SUFFIX = ".results.xlsx"


def results_name(file: Path) -> str:
    """The name of the results workbook of ``file`` (its stem, then ``.results.xlsx``)."""
    return f"{file.stem}{RESULTS_SUFFIX}"


#: Config keys spelled as the command-line option, where the option's name differs.
CONFIG_ALIASES = {"list": "list_name", "map": "field_map", "skip_column": "skip_columns"}

#: One source of settings (flags, a profile, the config file, the page's form), checked.
Layer = dict[str, object]


def resolve(
    flags: Mapping[str, Any],
    config: Mapping[str, Any],
    environment: Mapping[str, str],
    profile: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge flag > profile > config file > environment > default into Settings.

    Every source goes through ``checked``: a name Settings lacks or a value of the wrong
    type is a UsageError naming where it came from. ``None`` means "not given".
    """
    merged = _merged(flags, config, environment, profile)
    for required in ("file", "list_name"):
        if merged.get(required) in (None, ""):
            option = "FILE" if required == "file" else "--list"
            raise UsageError(f"{option} is required")
    return _settings(merged)


def resolve_account(
    flags: Mapping[str, Any], config: Mapping[str, Any], environment: Mapping[str, str]
) -> Account:
    """The Account of flag > config file > environment > default: ``resolve`` for a caller
    with no input file. The sources are checked whole (a config file names the import's
    options too); those of the account are kept."""
    account = {k: v for k, v in _merged(flags, config, environment).items() if k in ACCOUNT_FIELDS}
    return Account(**account)  # type: ignore[arg-type]  # each checked by _typed


def _merged(
    flags: Mapping[str, Any],
    config: Mapping[str, Any],
    environment: Mapping[str, str],
    profile: Mapping[str, Any] | None = None,
) -> Layer:
    merged: Layer = {}
    for variable, name in ENVIRONMENT.items():
        if environment.get(variable):
            merged[name] = environment[variable]
    merged.update(checked(config, "the config file"))
    merged.update(checked(profile or {}, "the profile"))
    merged.update(checked(flags, "the options"))
    return merged


def checked(values: Mapping[str, Any], where: str) -> Layer:
    """Values named as options (``list``, ``phone-column``…) as Settings' typed fields.

    The one door into Settings: the command line, a profile, the config file and the web
    page all pass through it, so each field is parsed and checked in one place.
    """
    layer: Layer = {}
    for key, value in values.items():
        name = CONFIG_ALIASES.get(key.replace("-", "_"), key.replace("-", "_"))
        if name not in _TYPES:
            raise UsageError(f"{where} has unknown options: {key}")
        if isinstance(value, bool) and name in SHORTHANDS:
            layer[name] = SHORTHANDS[name][value]
        elif value is not None:
            layer[name] = _typed(name, value, where)
    return layer


#: Values a config file may give in a shorter form: ``wait-hlr = true`` is the default wait.
#: ``false`` stays in the layer as OFF, so that a profile or the page can turn off a wait
#: the config file asks for (``None`` would mean "not given").
OFF = False
SHORTHANDS: dict[str, dict[bool, object]] = {"wait_hlr": {True: DEFAULT_WAIT_HLR_S, False: OFF}}


def _settings(layer: Layer) -> Settings:
    off = {name: None for name in SHORTHANDS if layer.get(name) is OFF}
    settings = Settings(**{**layer, **off})  # type: ignore[arg-type]  # each checked by _typed
    region = settings.default_region.upper() if settings.default_region else None
    notify_url = check_url(settings.notify_url) if settings.notify_url else None
    return replace(settings, default_region=region, notify_url=notify_url)


_TYPES: dict[str, Any] = get_type_hints(Settings)
ACCOUNT_FIELDS = frozenset(f.name for f in fields(Account))
#: Lists that may be given as one name: a profile or page with one phone column.
ONE_OR_MORE = frozenset({"phone_column"})


def _typed(name: str, value: object, where: str) -> object:
    """``value`` as field ``name``'s type, or a UsageError that says what was expected."""
    hint = _TYPES[name]
    if name in ONE_OR_MORE and isinstance(value, str):
        value = [value] if value else []
    options = [a for a in get_args(hint) if a is not type(None)] if _is_union(hint) else [hint]
    for option in options:
        parsed = _parse(option, value)
        if parsed is not _WRONG:
            return parsed
    option_name = name.replace("_", "-")
    raise UsageError(f"{where}: {option_name} = {value!r} is not {_expected(options)}")


_WRONG = object()


def _parse(hint: Any, value: object) -> object:
    """``value`` as ``hint``'s type, or _WRONG."""
    if get_origin(hint) is Literal:
        return value if value in get_args(hint) else _WRONG
    if hint is Path:
        return Path(value) if isinstance(value, str | Path) and str(value) else _WRONG
    if hint is bool:
        return value if isinstance(value, bool) else _WRONG
    if hint is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _WRONG
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _WRONG  # type: ignore[arg-type]
    if hint is str:
        return value if isinstance(value, str) else _WRONG
    return _parse_tuple(hint, value)


def _parse_tuple(hint: Any, value: object) -> object:
    """``tuple[str, ...]`` from a list; field_map's pairs also from a table (TOML, JSON)."""
    if isinstance(value, Mapping):
        value = list(value.items())
    if not isinstance(value, list | tuple):
        return _WRONG
    if get_args(hint) == (str, ...):
        return tuple(value) if all(isinstance(v, str) for v in value) else _WRONG
    pairs = [tuple(v) for v in value if isinstance(v, list | tuple) and len(v) == 2]
    if len(pairs) != len(value) or not all(isinstance(s, str) for p in pairs for s in p):
        return _WRONG
    return tuple(pairs)


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (Union, UnionType)


def _expected(options: list[Any]) -> str:
    described = []
    for option in options:
        if get_origin(option) is Literal:
            described.append(" or ".join(map(repr, get_args(option))))
        elif get_origin(option) is tuple:
            described.append("a list" if get_args(option) == (str, ...) else "a table")
        else:
            described.append({Path: "a path", bool: "true or false", int: "a whole number",
                              float: "a number", str: "text"}[option])  # fmt: skip
    return " or ".join(described)


def check_url(url: str) -> str:
    """The URL when a notice can be POSTed to it; UsageError (before the run) otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--notify-url {where(url)!r} is not an http:// or https:// URL")
    return url


def where(url: str) -> str:
    """The URL without its path and query, which hold a webhook's secret: for messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}" if parts.scheme else "(not a URL)"


def load_config(path: Path) -> dict[str, Any]:
    """Read a TOML config file; its keys are option names with ``-`` or ``_``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: config file not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a valid TOML file: {exc}") from exc
    return data
