"""fairnn's internal import graph: module count, largest modules, import cycles, layer violations.

Every ``import fairnn…`` and ``from fairnn… import …`` statement counts, at the top of a
module or inside a function (a function-local import hides a cycle from Python, not from a
reader). An edge goes to the module named: ``from fairnn.nn import MLP`` is an edge to
``fairnn.nn``, ``from fairnn.nn import mlp`` one to ``fairnn.nn.mlp``; importing a submodule
is not counted as an edge to its parent package (grimp, and so import-linter, count edges the
same way). Cycles are the strongly connected components with more than one module (Tarjan).

Layer violations are the direct imports that break the contracts of ``.importlinter`` (its
``layers``, ``forbidden`` and ``protected`` contracts; ``lint-imports`` also checks indirect
chains); imports a contract lists in ``ignore_imports`` are marked ``(ignored)``.

Run: ``python benchmarks/import_graph.py [--src src/fairnn] [--config .importlinter] [--top 5]``.
``tests/test_layers.py`` calls :func:`build_graph` and :func:`cycles`.
"""

from __future__ import annotations

import argparse
import ast
import configparser
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "fairnn"
CONFIG = ROOT / ".importlinter"


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int
    local: bool  # inside a function


@dataclass
class Graph:
    """Modules (name -> lines) and the fairnn-internal import edges between them."""

    lines: dict[str, int] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def targets(self, module: str) -> set[str]:
        return {e.imported for e in self.edges if e.importer == module}


def module_name(path: Path, src: Path) -> str:
    """``src/fairnn/nn/mlp.py`` -> ``fairnn.nn.mlp``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str, modules: dict[str, int]) -> str | None:
    """The longest module of the package that ``name`` starts with (``None``: not fairnn's)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, int, bool]]:
    """``(imported name, line, inside a function)`` for each import in ``tree``."""
    package = module if is_package else module.rpartition(".")[0]

    def walk(node: ast.AST, local: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, local
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    yield f"{base}.{alias.name}", child.lineno, local
            yield from walk(child, inner)

    yield from walk(tree, False)


def build_graph(src: Path = SRC) -> Graph:
    """The import graph of the package in ``src`` (function-local imports included)."""
    files = {module_name(p, src): p for p in sorted(src.rglob("*.py"))}
    graph = Graph(lines={m: len(p.read_text().splitlines()) for m, p in files.items()})
    edges: dict[tuple[str, str, int], Edge] = {}  # one per statement and module imported
    for module, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        for name, line, local in _imports(tree, module, path.name == "__init__.py"):
            target = _resolve(name, graph.lines)
            if target is not None and target != module:
                edges.setdefault((module, target, line), Edge(module, target, line, local))
    graph.edges = list(edges.values())
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module, each sorted (Tarjan)."""
    succ = {m: sorted(graph.targets(m)) for m in graph.lines}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(succ):
        if v not in index:
            connect(v)
    return sorted(found)


# -- the contracts of .importlinter, checked on direct imports --------------------------
def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _listed(raw: str) -> list[str]:
    return [x.strip() for x in raw.splitlines() if x.strip() and not x.strip().startswith("#")]


def _ignored(raw: str) -> set[tuple[str, str]]:
    pairs = (x.split("->") for x in _listed(raw))
    return {(a.strip(), b.strip()) for a, b in pairs}


def _rule(c: configparser.SectionProxy) -> Callable[[Edge], bool] | None:
    """Whether a direct import breaks contract ``c`` (``None``: a type not checked here)."""
    kind = c.get("type")
    if kind == "layers":  # top layer first; siblings in a layer are separated by "|" or ":"
        rows = [[m.strip() for m in r.replace(":", "|").split("|")] for r in _listed(c["layers"])]

        def level(m: str) -> int | None:
            return next((i for i, row in enumerate(rows) if any(_within(m, p) for p in row)), None)

        def upward(e: Edge) -> bool:
            a, b = level(e.importer), level(e.imported)
            return a is not None and b is not None and b < a

        return upward
    if kind == "forbidden":
        sources, forbidden = _listed(c["source_modules"]), _listed(c["forbidden_modules"])
        return lambda e: (
            any(_within(e.importer, p) for p in sources)
            and any(_within(e.imported, p) for p in forbidden)
        )
    if kind == "protected":
        protected, allowed = _listed(c["protected_modules"]), _listed(c["allowed_importers"])
        return lambda e: (
            any(_within(e.imported, p) for p in protected)
            and not any(_within(e.importer, p) for p in allowed)
        )
    return None


def violations(graph: Graph, config: Path = CONFIG) -> list[tuple[str, Edge, bool]]:
    """``(contract name, edge, ignored)`` for every direct import a contract forbids."""
    parser = configparser.ConfigParser()
    parser.read(config)
    out: list[tuple[str, Edge, bool]] = []
    for section in parser.sections():
        if not section.startswith("importlinter:contract:"):
            continue
        c = parser[section]
        broken = _rule(c)
        if broken is None:
            continue
        ignored = _ignored(c.get("ignore_imports", ""))
        name = c.get("name", section)
        out += [(name, e, (e.importer, e.imported) in ignored) for e in graph.edges if broken(e)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", type=Path, default=SRC)
    ap.add_argument("--config", type=Path, default=CONFIG)
    ap.add_argument("--top", type=int, default=5, help="how many of the largest modules to list")
    args = ap.parse_args()
    graph = build_graph(args.src)
    local = sum(e.local for e in graph.edges)
    print(
        f"modules: {len(graph.lines)} ({sum(graph.lines.values())} lines); fairnn imports: "
        f"{len(graph.edges)} ({local} function-local)"
    )
    print("largest modules:")
    for m, n in sorted(graph.lines.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {n:6d}  {m}")
    found = cycles(graph)
    print(f"cycles: {len(found)}")
    for component in found:
        members = set(component)
        inner = [e for e in graph.edges if e.importer in members and e.imported in members]
        print("  " + " <-> ".join(component))
        for e in sorted(inner, key=lambda e: (e.importer, e.line)):
            where = "function-local" if e.local else "top-level"
            print(f"    {e.importer}:{e.line} -> {e.imported} ({where})")
    if args.config.exists():
        broken = violations(graph, args.config)
        print(f"contract violations (direct imports): {sum(not i for *_, i in broken)}")
        for name, e, ignored in broken:
            mark = " (ignored)" if ignored else ""
            print(f"  [{name}] {e.importer}:{e.line} -> {e.imported}{mark}")


if __name__ == "__main__":
    main()
