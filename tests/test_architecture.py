"""The package's shape, read with ``ast`` only (nothing of ``generator`` is imported).

* no module is longer than 400 lines;
* no import cycle between modules;
* no upward import: phases are layered, low to high,
  core < load < plan < render < pdf < publish < deliver < build
  < {serve, doctor, scaffold} < cli < __main__,
  and a module may only import from its own layer or below. Every ``generator.*``
  import counts: top level, inside functions (lazy) and under ``TYPE_CHECKING``.
  ``generator/__init__.py`` (only ``__version__``) may be imported from anywhere;
* each phase sub-package exists and says what it is in its ``__init__.py`` docstring.

The checkers take sources as text, so the self-tests at the end feed them synthetic
violations: a checker that silently found nothing would fail there.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = "generator"
PACKAGE_DIR = REPO_ROOT / PACKAGE
MAX_LINES = 400

LAYERS = {
    "core": 0, "load": 1, "plan": 2, "render": 3, "pdf": 4, "publish": 5, "deliver": 6,
    "build": 7, "forget": 7, "privacy": 7,
    "serve": 8, "doctor": 8, "scaffold": 8, "cli": 9, "__main__": 10,
}
SUBPACKAGES = ("core", "load", "plan", "render", "pdf", "publish", "deliver", "cli")


@dataclass(frozen=True)
class Source:
    """One module of the package: its text and where it was read from."""

    shown: str  # path as reported, e.g. generator/load/roster.py
    text: str
    is_package: bool = False  # an __init__.py: relative imports resolve inside it


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int


# ------------------------------------------------------------------------- reading

def module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_package(package_dir: Path = PACKAGE_DIR) -> dict[str, Source]:
    sources = {}
    for path in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        shown = path.relative_to(package_dir.parent).as_posix()
        sources[module_name(path, package_dir)] = Source(
            shown, path.read_text(encoding="utf-8"), path.name == "__init__.py")
    return sources


def synthetic(modules: Mapping[str, str]) -> dict[str, Source]:
    """Sources for the self-tests: {module name: text}; a name ending in
    ``.__init__`` is a package."""
    out = {}
    for name, text in modules.items():
        package = name.endswith(".__init__")
        name = name.removesuffix(".__init__")
        shown = name.replace(".", "/") + ("/__init__.py" if package else ".py")
        out[name] = Source(shown, text, package)
    return out


# ------------------------------------------------------------------------- imports

def _resolve(name: str, known: Iterable[str]) -> str:
    """The module a dotted import name loads: itself, or its longest known prefix
    (``from generator.load.content import Module`` -> ``generator.load.content``)."""
    known = set(known)
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return name


def _is_ours(name: str | None) -> bool:
    return bool(name) and (name == PACKAGE or name.startswith(PACKAGE + "."))


def imports_of(name: str, source: Source, known: Iterable[str]) -> list[Edge]:
    """Every ``generator.*`` module ``name`` imports, anywhere in the file: module
    level, inside functions, under ``if TYPE_CHECKING:``, relative imports, and
    ``importlib.import_module("generator...")`` with a literal name."""
    known = set(known)
    tree = ast.parse(source.text, filename=source.shown)
    package = name if source.is_package else name.rpartition(".")[0]
    edges = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names if _is_ours(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[:len(base_parts) - (node.level - 1)]
                base = ".".join(p for p in [*base_parts, node.module or ""] if p)
            else:
                base = node.module or ""
            if not _is_ours(base):
                continue
            # `from generator.load import roster` imports the module generator.load.roster
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and _is_ours(node.args[0].value)
              and (getattr(node.func, "attr", None) == "import_module"
                   or getattr(node.func, "id", None) in ("import_module", "__import__"))):
            targets = [node.args[0].value]
        for target in dict.fromkeys(targets):
            imported = _resolve(target, known)
            if imported != name:
                edges.append(Edge(name, imported, node.lineno))
    return edges


def import_edges(sources: Mapping[str, Source]) -> list[Edge]:
    return [e for name, src in sources.items() for e in imports_of(name, src, sources)]


# ------------------------------------------------------------------------- checkers

def layer_of(name: str) -> int | None:
    """The layer of a module, from its sub-package or top-level file name; None for
    ``generator`` itself (importable from anywhere). KeyError: a module in no layer."""
    parts = name.split(".")
    if parts == [PACKAGE]:
        return None
    return LAYERS[parts[1]]


def unlayered(sources: Mapping[str, Source]) -> list[str]:
    """Modules whose sub-package or file name is not in LAYERS."""
    return sorted(f"{src.shown}: {name} is in no layer (add it to LAYERS)"
                  for name, src in sources.items()
                  if name != PACKAGE and name.split(".")[1] not in LAYERS)


def upward_imports(sources: Mapping[str, Source]) -> list[str]:
    """``importer -> imported (file:line)`` for each import of a higher layer."""
    out = []
    for edge in import_edges(sources):
        try:
            low, high = layer_of(edge.importer), layer_of(edge.imported)
        except KeyError:
            continue  # reported by unlayered()
        if low is not None and high is not None and high > low:
            out.append(f"{edge.importer} -> {edge.imported} "
                       f"({sources[edge.importer].shown}:{edge.line})")
    return sorted(set(out))


def import_cycles(sources: Mapping[str, Source]) -> list[list[str]]:
    """One cycle per strongly connected group of modules, as a list of module names
    that starts and ends with the same module (``[a, b, a]``)."""
    graph: dict[str, set[str]] = {name: set() for name in sources}
    for edge in import_edges(sources):
        graph.setdefault(edge.importer, set()).add(edge.imported)
        graph.setdefault(edge.imported, set())
    # Tarjan's strongly connected components, iteratively
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph[node]:
                    groups.append(group)
    return [_cycle_in(group, graph) for group in groups]


def _cycle_in(group: set[str], graph: Mapping[str, set[str]]) -> list[str]:
    """A shortest cycle through the group's first module (breadth-first)."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & group):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"no cycle in {sorted(group)}")  # pragma: no cover


def oversized(sources: Mapping[str, Source], limit: int = MAX_LINES) -> list[str]:
    """``file: N lines`` for each module over ``limit`` lines (as ``wc -l`` counts)."""
    return sorted(f"{src.shown}: {src.text.count(chr(10))} lines (limit {limit})"
                  for src in sources.values() if src.text.count("\n") > limit)


def missing_subpackages(package_dir: Path = PACKAGE_DIR,
                        names: Iterable[str] = SUBPACKAGES) -> list[str]:
    out = []
    for sub in names:
        init = package_dir / sub / "__init__.py"
        if not init.is_file():
            out.append(f"{PACKAGE}/{sub}/__init__.py is missing")
        elif not (ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or "").strip():
            out.append(f"{PACKAGE}/{sub}/__init__.py has no docstring")
    return out


# --------------------------------------------------------------- the real package

@pytest.fixture(scope="module")
def package() -> dict[str, Source]:
    sources = read_package()
    assert len(sources) > 20, f"read only {sorted(sources)} from {PACKAGE_DIR}"
    return sources


def test_no_module_is_longer_than_400_lines(package):
    too_long = oversized(package)
    assert not too_long, "split these modules along a natural seam:\n" + "\n".join(too_long)


def test_every_module_belongs_to_a_layer(package):
    assert not unlayered(package), "\n".join(unlayered(package))


def test_no_import_cycles(package):
    cycles = import_cycles(package)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_imports_a_higher_layer(package):
    upward = upward_imports(package)
    assert not upward, ("imports of a higher layer (core < load < plan < render < pdf < "
                        "publish < deliver < build < serve/doctor/scaffold < cli):\n"
                        + "\n".join(upward))


def test_the_phase_subpackages_exist_and_say_what_they_are():
    missing = missing_subpackages()
    assert not missing, "\n".join(missing)


def test_the_checkers_see_the_real_imports(package):
    """The graph of the real package is not empty, and holds imports of every kind:
    the checkers above are not passing on an empty graph."""
    edges = import_edges(package)
    assert len(edges) > 50, edges
    pairs = {(e.importer, e.imported) for e in edges}
    assert ("generator.load.roster", "generator.load.athlete") in pairs
    assert ("generator.load.content", "generator.load.markdown_html") in pairs
    downward = [(a, b) for a, b in pairs if PACKAGE not in (a, b)
                and b.split(".")[1] in LAYERS and a.split(".")[1] in LAYERS
                and layer_of(a) > layer_of(b)]
    assert len(downward) > 20, downward


# ------------------------------------------------------------------ self-tests

def test_an_upward_import_is_flagged_wherever_it_hides():
    sources = synthetic({
        "generator.__init__": '"""pkg"""\n__version__ = "0"\n',
        "generator.core.__init__": '"""core"""\n',
        "generator.core.top": "from generator.cli.app import main\n",
        "generator.core.lazy": "def f():\n    from generator.render import site\n    return site\n",
        "generator.core.typing": ("from typing import TYPE_CHECKING\n"
                                  "if TYPE_CHECKING:\n    import generator.pdf.maker\n"),
        "generator.core.relative": "from ..publish.batch import run\n",
        "generator.core.dynamic": ("import importlib\n"
                                   "m = importlib.import_module('generator.deliver.smtp')\n"),
        "generator.core.fine": ("from generator import __version__\n"
                                "from generator.core.top import x\nfrom . import lazy\n"),
        "generator.load.ok": "from generator.core.fine import x\n",
        "generator.cli.app": "from generator.build import build\nmain = 1\n",
        "generator.render.site": "from generator.render import site\n",  # itself: no edge
        "generator.pdf.maker": "",
        "generator.publish.batch": "",
        "generator.deliver.smtp": "",
        "generator.build": "",
    })
    assert upward_imports(sources) == [
        "generator.core.dynamic -> generator.deliver.smtp (generator/core/dynamic.py:2)",
        "generator.core.lazy -> generator.render.site (generator/core/lazy.py:2)",
        "generator.core.relative -> generator.publish.batch (generator/core/relative.py:1)",
        "generator.core.top -> generator.cli.app (generator/core/top.py:1)",
        "generator.core.typing -> generator.pdf.maker (generator/core/typing.py:3)",
    ]


def test_layers_follow_the_documented_order():
    order = ["core", "load", "plan", "render", "pdf", "publish", "deliver", "build",
             "serve", "cli", "__main__"]
    ranks = [layer_of(f"{PACKAGE}.{name}") for name in order]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert layer_of("generator.serve") == layer_of("generator.doctor") == layer_of(
        "generator.scaffold")
    assert layer_of("generator") is None
    assert unlayered(synthetic({"generator.misc": ""})) == [
        "generator/misc.py: generator.misc is in no layer (add it to LAYERS)"]


def test_an_import_cycle_is_reported_as_a_list_of_modules():
    sources = synthetic({
        "generator.load.a": "from generator.load.b import x\n",
        "generator.load.b": "def f():\n    import generator.load.c\n",
        "generator.load.c": "from generator.load import a\n",
        "generator.load.d": "from generator.load.a import x\n",  # into the cycle, not on it
        "generator.core.e": "import generator.core.e\n",  # itself: not an edge
    })
    assert import_cycles(sources) == [
        ["generator.load.a", "generator.load.b", "generator.load.c", "generator.load.a"]]
    assert import_cycles(synthetic({"generator.load.a": "from generator.load.d import x\n",
                                    "generator.load.d": ""})) == []


def test_an_oversized_module_is_named_with_its_line_count():
    sources = synthetic({"generator.core.big": "x = 1\n" * 401,
                         "generator.core.small": "x = 1\n" * 400})
    assert oversized(sources) == ["generator/core/big.py: 401 lines (limit 400)"]


def test_a_missing_or_undocumented_subpackage_is_reported(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "__init__.py").write_text('"""Shared ground."""\n')
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "__init__.py").write_text("x = 1\n")
    assert missing_subpackages(tmp_path, ("core", "load", "plan")) == [
        "generator/load/__init__.py has no docstring", "generator/plan/__init__.py is missing"]
