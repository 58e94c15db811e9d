"""Profiles: the file-independent settings of an import, kept under a name.

A profile is a TOML file in the same form as ``--config`` (``list``, ``phone-column``,
``[field-map]``…), one per name in the user's config folder
(``~/.config/bsg-import/profiles/NAME.toml`` on Linux). The web page saves them; the
command takes one as ``--profile NAME``, so an import set up once runs nightly from cron.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from .errors import UsageError
from .models import name_key
from .settings import OFF, SHORTHANDS, Settings, checked, load_config

#: What a profile keeps: everything about an import that does not depend on the file.
PROFILE_FIELDS = (
    "list_name",
    "phone_column",
    "field_map",
    "skip_columns",
    "create_fields",
    "default_region",
    "region_column",
    "on_existing",
    "date_order",
    "wait_hlr",
)
#: The TOML key of each field, as --config spells it.
TOML_KEYS = {"list_name": "list", "field_map": "field-map", "skip_columns": "skip-columns"}
_NAME = re.compile(r"[\w][\w .-]{0,63}")


@dataclass(frozen=True)
class Profile:
    """A saved profile: its name and its settings as option values."""

    name: str
    values: dict[str, object]

    @property
    def columns(self) -> list[str]:
        """The input columns the profile names: the phone, the mapped, the skipped, and the
        country column."""
        phones = self.values.get("phone_column")
        named = (
            [phones] if isinstance(phones, str) else [str(c) for c in self._list("phone_column")]
        )
        named += [column for column, _ in self._pairs()]
        named += [str(c) for c in self._list("skip_columns")]
        country = self.values.get("region_column")
        if isinstance(country, str) and country.casefold() != "none":
            named.append(country)
        return [c for c in named if c]

    def fits(self, header: Sequence[str]) -> bool:
        """True when every column the profile names is in ``header``."""
        keys = {name_key(h) for h in header}
        return bool(self.columns) and all(name_key(c) in keys for c in self.columns)

    def _pairs(self) -> list[tuple[str, str]]:
        return [(str(c), str(f)) for c, f in self._list("field_map")]

    def _list(self, name: str) -> list[Any]:
        value = self.values.get(name)
        return list(value) if isinstance(value, list | tuple) else []


def default_folder() -> Path:
    """Where profiles live: the user's config folder (honours XDG_CONFIG_HOME)."""
    return platformdirs.user_config_path("bsg-import") / "profiles"


def profile_path(name: str, folder: Path | None = None) -> Path:
    """The file of profile ``name``; a name that could be a path is refused."""
    if not _NAME.fullmatch(name) or name.strip(" .") != name:
        raise UsageError(
            f"profile name {name!r}: use letters, digits, spaces, '.', '_' or '-' (64 at most)"
        )
    return (folder or default_folder()) / f"{name}.toml"


def load_profile(name: str, folder: Path | None = None) -> Profile:
    """Profile ``name``, checked as settings; UsageError naming the saved ones if absent."""
    path = profile_path(name, folder)
    if not path.is_file():
        saved = ", ".join(p.name for p in list_profiles(folder)) or "none"
        raise UsageError(f"no profile named {name!r} (saved profiles: {saved})")
    values = checked(load_config(path), f"profile {name!r}")
    return Profile(name, values)


def list_profiles(folder: Path | None = None) -> list[Profile]:
    """Every saved profile, by name; a damaged file is left out."""
    root = folder or default_folder()
    found = []
    for path in sorted(root.glob("*.toml")) if root.is_dir() else []:
        try:
            found.append(load_profile(path.stem, root))
        except UsageError:
            continue
    return found


def save_profile(name: str, settings: Settings, folder: Path | None = None) -> Path:
    """Write the file-independent settings as profile ``name`` (replacing one of that name)."""
    path = profile_path(name, folder)
    values = {f: getattr(settings, f) for f in PROFILE_FIELDS}
    values |= {f: OFF for f in SHORTHANDS if values[f] is None}  # off, whatever --config says
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".profile-", suffix=".toml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(to_toml(values))
    Path(temporary).replace(path)
    return path


def to_toml(values: dict[str, Any]) -> str:
    """Settings as the TOML --config reads: plain keys first, then the [field-map] table."""
    lines = ["# A bsg-import profile: use it with --profile NAME (or as --config FILE)."]
    table: list[str] = []
    for name, value in values.items():
        key = TOML_KEYS.get(name, name.replace("_", "-"))
        if value is None or value == ():
            continue
        if name == "field_map":
            table = [f"[{key}]", *(f"{_text(c)} = {_text(f)}" for c, f in value)]
        elif isinstance(value, tuple):
            lines.append(f"{key} = [{', '.join(map(_text, value))}]")
        else:
            lines.append(f"{key} = {_text(value)}")
    return "\n".join([*lines, *table]) + "\n"


def _text(value: object) -> str:
    """A TOML value: JSON's strings and booleans are TOML's."""
    return json.dumps(value, ensure_ascii=False)
