"""The import graph of ``importer``: no circle, and no floor that reaches up.

The graph is read from the source with :mod:`ast`: an edge for every ``import`` and
``from … import`` of an ``importer`` module, at any depth of the file (an import inside a
function is a dependency all the same). ``from .pkg import name`` is an edge to
``importer.pkg.name`` when that is a module, else to the package ``importer.pkg``.
Importing a submodule runs its package's ``__init__`` too; that implied edge is not drawn,
or every module would sit in one circle with ``importer/__init__.py``.

The floors, from the ground up (a module may import its own floor and those below):

1. the vocabulary: ``importer.errors`` and ``importer.models`` import nothing of importer
   but each other and the call failures' tree (``importer.bsg.errors``, which the tool's
   errors name);
2. ``importer.bsg`` (everything that talks to BSG) imports nothing of importer outside
   itself but the vocabulary;
3. ``importer.read`` (file -> Table) imports nothing from ``bsg``, ``web``, ``cli``,
   ``sandbox``, the runs, the journal or the report;
4. ``importer.sandbox`` (a stand-in for BSG) imports nothing of the importer outside itself
   but the vocabulary;
5. the stages (normalise, phones, plan, send, report, tally, journal, hlr, settings …) import
   nothing from the runs (``importer.runs``, today's ``pipeline``, ``afterwards`` …),
   ``web`` or ``cli``;
6. ``importer.web`` and ``importer.cli`` are imported by nothing but themselves (each
   other: ``cli`` serves the page) and ``importer.__main__``;
7. and ``importer.settings`` in particular imports neither ``notify`` nor ``pace`` nor any
   stage: only the vocabulary, and where BSG is (``importer.bsg``'s ``DEFAULT_BASE_URL``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from pathlib import Path

from .helpers import ROOT

PACKAGE = ROOT / "importer"

VOCABULARY = ("importer.errors", "importer.models")
#: The modules that run a whole job: C moves them into importer/runs/; either home counts.
RUNS = (
    "importer.runs",
    "importer.pipeline",
    "importer.afterwards",
    "importer.followup",
    "importer.inbox",
    "importer.history",
    "importer.notify",
    "importer.frames",
)
TOPS = ("importer.web", "importer.cli")
STAGES = (
    "importer.normalise",
    "importer.phones",
    "importer.regions",
    "importer.plan",
    "importer.send",
    "importer.report",
    "importer.tally",
    "importer.journal",
    "importer.hlr",
    "importer.settings",
    "importer.profiles",
    "importer.logs",
)

Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def import_graph() -> Graph:
    """Every importer module -> the importer modules it imports."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: set(imported(name, path, files)) for name, path in files.items()}


def imported(name: str, path: Path, modules: Iterable[str]) -> Iterable[str]:
    known = set(modules)
    package = name if is_package(path) else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = absolute(node, package)
            if base is None or not base.startswith("importer"):
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in known:
                    yield submodule
                elif base in known:
                    yield base


def absolute(node: ast.ImportFrom, package: str) -> str | None:
    """The absolute module name of a ``from`` import made in ``package``."""
    if node.level == 0:
        return node.module
    parts = package.split(".")
    if node.level - 1 > len(parts):
        return None
    base = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def circles(graph: Graph) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def reaching(importers: Iterable[str], targets: Iterable[str], allowed: Iterable[str]) -> set[str]:
    """The edges from a module in (or under) ``importers`` to one in ``targets`` and not in
    ``allowed``, as ``"a -> b"``."""
    importers = tuple(importers)
    return edges(lambda a: within(a, importers), targets, allowed)


def edges(
    source: Callable[[str], bool], targets: Iterable[str], allowed: Iterable[str]
) -> set[str]:
    graph = import_graph()
    targets, allowed = tuple(targets), tuple(allowed)
    return {
        f"{a} -> {b}"
        for a, imports in graph.items()
        if source(a)
        for b in imports
        if within(b, targets) and not within(b, allowed)
    }


def test_the_graph_is_read_from_the_source() -> None:
    graph = import_graph()
    assert "importer.models" in graph["importer.report"]
    assert "importer.errors" in graph["importer.bsg.client"]  # from ..errors import …
    assert "importer.bsg.errors" in graph["importer.errors"]  # from .bsg.errors import …
    assert "importer.read.sniff" in graph["importer.read"]  # from .sniff import … in __init__


def test_relative_imports_are_resolved_from_their_package() -> None:
    def base(source: str, package: str) -> str | None:
        node = ast.parse(source).body[0]
        assert isinstance(node, ast.ImportFrom)
        return absolute(node, package)

    assert base("from ..models import Cell", "importer.bsg") == "importer.models"
    assert base("from . import errors", "importer.bsg") == "importer.bsg"
    assert base("from .read.limits import Limits", "importer") == "importer.read.limits"
    assert base("from importer.cli import main", "tests") == "importer.cli"


def test_no_module_imports_itself_back_through_others() -> None:
    assert [sorted(c) for c in circles(import_graph())] == []


def test_the_vocabulary_imports_only_itself_and_the_call_failures() -> None:
    assert reaching(VOCABULARY, ["importer"], [*VOCABULARY, "importer.bsg.errors"]) == set()


def test_the_bsg_wing_imports_only_itself_and_the_vocabulary() -> None:
    assert reaching(["importer.bsg"], ["importer"], ["importer.bsg", *VOCABULARY]) == set()


def test_the_reader_imports_no_runs_calls_pages_or_results() -> None:
    above = ["importer.bsg", "importer.sandbox", "importer.journal", "importer.report"]
    assert reaching(["importer.read"], [*above, *RUNS, *TOPS], []) == set()


def test_the_sandbox_imports_only_itself_and_the_vocabulary() -> None:
    assert reaching(["importer.sandbox"], ["importer"], ["importer.sandbox", *VOCABULARY]) == set()


def test_the_stages_import_no_runs_pages_or_command() -> None:
    assert reaching(STAGES, [*RUNS, *TOPS], []) == set()


def test_the_settings_import_only_the_vocabulary_and_where_bsg_is() -> None:
    allowed = [*VOCABULARY, "importer.bsg.errors"]
    assert reaching(["importer.settings"], ["importer"], allowed) == {
        "importer.settings -> importer.bsg"  # DEFAULT_BASE_URL, from the wing's __init__
    }


def test_the_page_and_the_command_are_imported_only_from_above() -> None:
    below = edges(lambda a: not within(a, (*TOPS, "importer.__main__")), TOPS, [])
    assert below == set()
