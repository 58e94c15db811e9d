"""The docs and the command stay in step: README's option table is the import command's
options, every option any command's --help shows is written down in README or docs/, and
every link between them leads to a file that exists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click

from importer.cli import main

from .helpers import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def documented_options() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Options", 1)[1].split("Other commands:", 1)[0]
    return set(re.findall(r"^\| `(--[a-z-]+)", table, flags=re.MULTILINE))


def long_options(command: click.Command) -> set[str]:
    """The ``--names`` that ``command --help`` shows, --help itself left out."""
    names: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            names.update(n for n in (*param.opts, *param.secondary_opts) if n.startswith("--"))
    return names - {"--help"}


def commands(group: click.Group, path: str = "bsg-import") -> Iterator[tuple[str, click.Command]]:
    """The group and every command under it, with the words that run it."""
    yield path, group
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, f"{path} {name}")
        else:
            yield f"{path} {name}", command


def command_options() -> set[str]:
    return long_options(main.commands["import"])


def written(option: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def test_every_option_is_documented_and_every_documented_option_exists() -> None:
    documented = documented_options() | {"--no-resume"}
    assert documented == command_options()


def test_every_option_of_every_command_is_in_readme_or_docs() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in DOCS)
    missing = {
        f"{words} {option}"
        for words, command in commands(main)
        for option in long_options(command)
        if not written(option, text)
    }
    assert missing == set()


def test_the_walk_finds_every_command_and_their_options() -> None:
    found = dict(commands(main))
    assert {"bsg-import import", "bsg-import serve", "bsg-import sandbox"} <= set(found)
    assert "--hlr-never" in long_options(found["bsg-import sandbox"])
    assert "--version" in long_options(found["bsg-import"])
    assert not written("--window", "`--window-limit N`")


def test_the_contract_options_are_all_there() -> None:
    contract = {"--list", "--sheet", "--phone-column", "--map", "--create-fields",
                "--default-region", "--on-existing", "--output", "--dry-run", "--sandbox",
                "--base-url", "--api-key", "--concurrency", "--rate", "--config", "--resume",
                "--no-resume", "--quiet", "--json"}  # fmt: skip
    assert contract <= command_options()


def local_links(path: Path) -> Iterator[str]:
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
        if not re.match(r"[a-z]+:", target):
            yield target.split("#", 1)[0]


def test_every_link_in_readme_and_docs_leads_to_a_file() -> None:
    broken = {
        f"{path.relative_to(ROOT)}: {target}"
        for path in DOCS
        for target in local_links(path)
        if target and not (path.parent / target).exists()
    }
    assert broken == set()


def test_the_readme_links_every_page_of_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pages = {p.name for p in DOCS[1:]}
    assert {p for p in pages if f"docs/{p}" not in readme} == set()
