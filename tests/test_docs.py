"""The README's option table and the command's --help stay in step."""

from __future__ import annotations

import re

import click

from importer.cli import main

from .helpers import ROOT


def documented_options() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Options", 1)[1].split("Other commands:", 1)[0]
    return set(re.findall(r"^\| `(--[a-z-]+)", table, flags=re.MULTILINE))


def command_options() -> set[str]:
    command = main.commands["import"]
    names: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(n for n in (*param.opts, *param.secondary_opts) if n.startswith("--"))
    return names - {"--help"}


def test_every_option_is_documented_and_every_documented_option_exists() -> None:
    documented = documented_options() | {"--no-resume"}
    assert documented == command_options()


def test_the_contract_options_are_all_there() -> None:
    contract = {"--list", "--sheet", "--phone-column", "--map", "--create-fields",
                "--default-region", "--on-existing", "--output", "--dry-run", "--sandbox",
                "--base-url", "--api-key", "--concurrency", "--rate", "--config", "--resume",
                "--no-resume", "--quiet", "--json"}  # fmt: skip
    assert contract <= command_options()
