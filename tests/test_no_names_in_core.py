"""The core names no paper, and names a dataset, method or recipe only where it registers it.

Papers live in their wings (``src/fairnn/papers/<paper>/``) and register their recipes,
preprocessor types, protocols and studies into the core's registries; the core (every
module under ``src/fairnn`` outside ``papers/``) finds them through those registries.
This test reads the core's source (its AST: string literals, not comments or names) and
holds it to these rules:

1. **A name appears only at its own registration site.** The names checked are every
   paper's (:data:`fairnn.papers.PAPERS`), every method's (its registered name; aliases
   such as ``adv`` or ``fn`` are ordinary words too often), every dataset's, and every
   recipe's, training protocol's and study's, aliases included. A string literal equal
   to one may appear in a core module only if that module *registers* an entry of that
   name in any registry (it holds ``register("x")``, ``X.register("x", ...)``,
   ``register_recipe(NAME)`` with ``NAME = "x"`` in the module,
   ``register_dataset(DatasetSpec(name="x", ...))`` or a ``@register`` class with
   ``name = "x"`` / ``aliases = (...)``) or *defines* it (the module of the registered
   class or function, or of a dataset's parser or loader). Everywhere else the core asks
   the registry, or uses the one named constant kept for the registration: the
   registered object's own (``GapReg.name``, ``catalog.adult.SPEC.name``) or a module
   constant the registration itself uses. That constant may live in another module when
   it must be read without importing the registering one: the facade and the command
   line show the default recipe and method from the light :mod:`fairnn.defaults`, whose
   ``DEFAULT_RECIPE`` and ``BASELINE_METHOD`` ``fairnn.datasets.recipes`` and
   ``fairnn.methods.vanilla`` import and register (``register_recipe(DEFAULT_RECIPE)``,
   ``name = BASELINE_METHOD``), so that module counts as their registration site. So the
   papers' names and the recipes their wings register (``runner``, ``fairbinn-paper``,
   ...) appear in the core only where a method or architecture of the same name is
   registered (``methods/runner.py``, ``nn/fairbinn.py``).
2. **No switch on a paper or its recipes.** No ``==``/``!=``/``in`` comparison with, and
   no ``startswith``/``endswith`` test for, a paper's name, a recipe a wing registers, or
   a prefix of one (3 characters or more), anywhere in the core, registration sites
   included: ``if recipe.startswith("runner")`` in ``experiments/`` fails.
3. **The core reaches the wings in one place.** Outside docstrings, only
   ``fairnn/registry.py`` (:func:`fairnn.registry.discover`) holds a string naming the
   ``fairnn.papers`` package; ``.importlinter`` forbids importing a wing.

:data:`ALLOWED` lists the exceptions to rule 1 that remain, each with its reason (rules 2
and 3 have none); an entry that no longer matches anything fails too, so the list only
shrinks.
"""

from __future__ import annotations

import ast
import functools
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "fairnn"
PAPERS_DIR = SRC / "papers"

#: (core module, literal) -> why it may stay; keep this short, and delete what is fixed
ALLOWED: dict[tuple[str, str], str] = {
    ("fairnn/api.py", "nnff"): (
        "api.nnff, in __all__: the facade's function behind the `fairnn nnff` command (the "
        "CLI must not change), which runs the nnff paper's pipeline (PIPELINES.get)"
    ),
}

#: a literal this short is not taken as a prefix of a name (rule 2)
MIN_PREFIX = 3


def _rel(path: Path) -> str:
    return path.relative_to(SRC.parent).as_posix()


def _core_files() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if PAPERS_DIR not in p.parents]


def _all_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


@functools.cache  # the trees are only read
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _callee(node: ast.AST) -> str:
    """The last part of a call's or decorator's name: ``register`` for ``X.register(...)``."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _is_register(node: ast.AST) -> bool:
    name = _callee(node)
    return name == "register" or name.startswith("register_")


def _strings(node: ast.AST | None) -> list[str]:
    """String literals of ``node``: one literal, or those of a tuple/list/set."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [s for elt in node.elts for s in _strings(elt)]
    return []


def _constants(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level ``NAME = "literal"`` (or a tuple of literals) assignments."""
    out: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and _strings(node.value):
                    out[t.id] = _strings(node.value)
    return out


def _imported_constants(tree: ast.Module) -> dict[str, tuple[str, list[str]]]:
    """``from fairnn.x import NAME`` (module level) -> (``fairnn/x.py``, NAME's literals),
    for the imported names that are string constants of their module."""
    out: dict[str, tuple[str, list[str]]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
            continue
        parts = node.module.split(".")
        if parts[0] != SRC.name:
            continue
        base = SRC.parent.joinpath(*parts)
        path = (
            base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
        )
        if not path.is_file():
            continue
        constants = _constants(_parse(path))
        for alias in node.names:
            if alias.name in constants:
                out[alias.asname or alias.name] = (_rel(path), constants[alias.name])
    return out


def registrations(tree: ast.Module) -> set[tuple[str, str | None]]:
    """``(name, home)`` for each name a module registers (rule 1's registration sites),
    read from its AST: ``home`` is the module whose constant spells the name when the
    registration uses an imported constant, else ``None`` (the module spells it)."""
    local = _constants(tree)
    imported = _imported_constants(tree)

    def spelled(node: ast.AST) -> set[tuple[str, str | None]]:
        out: set[tuple[str, str | None]] = {(s, None) for s in _strings(node)}
        if isinstance(node, ast.Name) and node.id in local:
            out.update((s, None) for s in local[node.id])
        elif isinstance(node, ast.Name) and node.id in imported:
            home, values = imported[node.id]
            out.update((s, home) for s in values)
        return out

    found: set[tuple[str, str | None]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_register(node):
            if node.args:
                found |= spelled(node.args[0])
            for inner in ast.walk(node):
                for kw in getattr(inner, "keywords", ()):
                    if kw.arg in ("name", "aliases"):
                        found |= spelled(kw.value)
        elif isinstance(node, ast.ClassDef) and any(_is_register(d) for d in node.decorator_list):
            for stmt in node.body:
                if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    if any(
                        isinstance(t, ast.Name) and t.id in ("name", "aliases") for t in targets
                    ):
                        found |= spelled(stmt.value)
    return found


def registered_here(tree: ast.Module) -> set[str]:
    """Names a module registers (rule 1's registration sites), read from its AST."""
    return {name for name, _ in registrations(tree)}


def _docstrings(tree: ast.Module) -> set[int]:
    """``id()`` of the docstring nodes of a module and its classes and functions."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    literal: str
    rule: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.literal!r} ({self.rule})"


def paper_names() -> tuple[str, ...]:
    """The wings (``fairnn.papers.PAPERS``), read from the source so nothing is imported."""
    tree = _parse(PAPERS_DIR / "__init__.py")
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "PAPERS" for t in targets):
                return tuple(_strings(node.value))
    raise AssertionError("fairnn/papers/__init__.py defines no PAPERS")


def _module_file(obj: object) -> str | None:
    """``fairnn/...py`` of the module that defines ``obj`` (``None``: not fairnn's)."""
    obj = getattr(obj, "func", obj)  # functools.partial
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    path = getattr(module, "__file__", None)
    if path is None or SRC not in Path(path).resolve().parents:
        return None
    return _rel(Path(path).resolve())


def _definition(entry: object) -> object:
    """What defines a registry entry: a class or function itself, a protocol's ``train``,
    a study's ``run``, a dataset's loader (image and text data) or else its parser."""
    for part in ("train", "run", "loader", "parser"):
        if getattr(entry, part, None) is not None:
            return getattr(entry, part)
    return entry


@functools.cache
def checked_names() -> dict[str, frozenset[str]]:
    """Rule 1's names -> the modules that define their entries (from the live registries).

    Importing the registries loads the methods, the datasets and the papers' wings.
    """
    import fairnn.methods  # noqa: F401  (registers the methods)
    from fairnn.datasets.recipes import RECIPES
    from fairnn.datasets.registry import DATASETS
    from fairnn.experiments.protocols import PROTOCOLS
    from fairnn.experiments.reproductions import STUDIES
    from fairnn.methods.base import METHODS

    defined: dict[str, set[str]] = defaultdict(set)
    for registry in (DATASETS, RECIPES, PROTOCOLS, STUDIES, METHODS):
        for name, entry in registry.items():
            aliases = () if registry is METHODS else registry.aliases(name)
            for key in (name, *aliases):
                defined[key].update(filter(None, [_module_file(_definition(entry))]))
    for paper in paper_names():
        defined[paper].add(_rel(PAPERS_DIR / paper / "__init__.py"))
    return {name: frozenset(where) for name, where in defined.items()}


def registration_sites() -> dict[str, set[str]]:
    """Every checked name -> the modules that register or define it (core and papers), and
    the module of the constant that spells it where a registration imports one (a fresh
    copy: tests add probe sites to it)."""
    return {name: set(where) for name, where in _registration_sites().items()}


@functools.cache
def _registration_sites() -> dict[str, frozenset[str]]:
    sites: dict[str, set[str]] = {name: set(where) for name, where in checked_names().items()}
    for path in _all_files():
        for name, home in registrations(_parse(path)):
            if name in sites:
                sites[name].update(filter(None, [_rel(path), home]))
    return {name: frozenset(where) for name, where in sites.items()}


def switch_names(sites: dict[str, set[str]]) -> set[str]:
    """Rule 2's names: the papers and every name registered or defined only in their wings."""
    in_papers = {
        name
        for name, where in sites.items()
        if where and all(w.startswith(_rel(PAPERS_DIR) + "/") for w in where)
    }
    return {*paper_names(), *in_papers}


def _compared(node: ast.AST) -> list[ast.Constant]:
    """String literals that ``node`` compares something with, or tests as a prefix/suffix."""
    out: list[ast.AST] = []
    if isinstance(node, ast.Compare) and any(
        isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops
    ):
        for side in [node.left, *node.comparators]:
            out.extend(side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side])
    elif isinstance(node, ast.Call) and _callee(node) in ("startswith", "endswith") and node.args:
        arg = node.args[0]
        out.extend(arg.elts if isinstance(arg, ast.Tuple) else [arg])
    return [c for c in out if isinstance(c, ast.Constant) and isinstance(c.value, str)]


def _matches_switch(node: ast.AST, literal: str, names: set[str]) -> bool:
    if literal in names:
        return True
    if isinstance(node, ast.Call) and len(literal) >= MIN_PREFIX:
        if _callee(node) == "startswith":
            return any(n.startswith(literal) for n in names)
        return any(n.endswith(literal) for n in names)
    return False


def core_modules() -> dict[str, ast.Module]:
    """The core's modules (``fairnn/...py``, outside ``papers/``) and their ASTs."""
    return {_rel(p): _parse(p) for p in _core_files()}


def scan(modules: dict[str, ast.Module], sites: dict[str, set[str]]) -> list[Finding]:
    """Rule 1, 2 and 3 findings in ``modules`` (core modules by path, with their ASTs)."""
    switches = switch_names(sites)
    findings: list[Finding] = []
    for rel, tree in modules.items():
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if text in sites and rel not in sites[text]:
                    findings.append(Finding(rel, node.lineno, text, "registered elsewhere"))
                if id(node) not in docs and "fairnn.papers" in text and rel != "fairnn/registry.py":
                    findings.append(Finding(rel, node.lineno, text, "names the papers' wings"))
            for lit in _compared(node):
                if _matches_switch(node, lit.value, switches):
                    findings.append(Finding(rel, lit.lineno, lit.value, "switch on a paper"))
    return findings


def _allowed(findings: list[Finding]) -> tuple[list[Finding], set[tuple[str, str]]]:
    """Findings :data:`ALLOWED` does not excuse (it excuses rule 1 only, never a switch on a
    paper or a reference to the wings), and the entries of :data:`ALLOWED` that matched."""

    def excused(f: Finding) -> bool:
        return f.rule == "registered elsewhere" and (f.module, f.literal) in ALLOWED

    used = {(f.module, f.literal) for f in findings if excused(f)}
    return [f for f in findings if not excused(f)], used


def test_the_core_names_no_paper_and_each_name_only_where_it_is_registered() -> None:
    findings = scan(core_modules(), registration_sites())
    left, used = _allowed(findings)
    assert not left, (
        "string literals the core may not hold (see this test's docstring; use the registry "
        "or the named constant at the registration site, or move the knowledge into "
        "src/fairnn/papers/<paper>/):\n" + "\n".join(map(str, left))
    )
    stale = sorted(set(ALLOWED) - used)
    assert not stale, f"ALLOWED entries that match nothing any more; delete them: {stale}"


def test_the_papers_register_their_recipes_protocols_and_studies() -> None:
    sites = registration_sites()
    for name in ("runner", "runner-fixed", "fairbinn", "fairbinn-paper"):
        assert any(w.startswith("fairnn/papers/") for w in sites[name]), name
    for paper in paper_names():
        assert (PAPERS_DIR / paper / "__init__.py").exists(), paper
        assert (PAPERS_DIR / paper / "study.py").exists(), paper


def test_the_static_scan_sees_every_registration_in_the_core() -> None:
    """Every checked name defined in the core is also found by the AST scan of register
    calls, so the scan reads each registration style the core uses."""
    static: set[str] = set()
    for path in _all_files():
        static |= registered_here(_parse(path))
    core = {
        name
        for name, where in checked_names().items()
        if any(not w.startswith(_rel(PAPERS_DIR) + "/") for w in where)
    }
    assert core - static == set()


@pytest.mark.parametrize(
    "code, rule",
    [
        ('def f(recipe):\n    return recipe.startswith("runner")\n', "switch on a paper"),
        ('def f(recipe):\n    return recipe.startswith("runn")\n', "switch on a paper"),
        ('def f(recipe):\n    return recipe in ("clean", "fairbinn-paper")\n', "switch on a paper"),
        ('def f(method):\n    return method == "gapreg"\n', "registered elsewhere"),
        ('DEFAULT_DATASET = "adult"\n', "registered elsewhere"),
        ('import importlib\nimportlib.import_module("fairnn.papers.nnff")\n', "names the papers"),
    ],
)
def test_the_scan_catches(code: str, rule: str) -> None:
    findings = scan({"fairnn/experiments/probe.py": ast.parse(code)}, registration_sites())
    assert any(f.rule.startswith(rule) for f in findings), findings


def test_a_registration_site_may_name_its_entry_but_not_switch_on_a_paper() -> None:
    code = '@register\nclass M:\n    name = "gapreg"\n\nX = {"gapreg": 1}\n'
    tree = ast.parse(code)
    assert registered_here(tree) == {"gapreg"}
    sites = registration_sites()
    sites["gapreg"] = {*sites["gapreg"], "fairnn/methods/probe.py"}
    assert scan({"fairnn/methods/probe.py": tree}, sites) == []
    switch = ast.parse('@register\nclass M:\n    name = "runner"\n\nY = "r" == "runner"\n')
    sites["runner"] = {*sites["runner"], "fairnn/methods/probe.py"}
    found = scan({"fairnn/methods/probe.py": switch}, sites)
    assert [f.rule for f in found] == ["switch on a paper"], found


def test_the_allowlist_never_excuses_a_switch_on_a_paper() -> None:
    tree = ast.parse('def f(x):\n    return x == "nnff"\n')
    left, _ = _allowed(scan({"fairnn/api.py": tree}, registration_sites()))
    assert [f.rule for f in left] == ["switch on a paper"], left


def test_a_registration_through_an_imported_constant_makes_its_module_a_site() -> None:
    from fairnn.defaults import BASELINE_METHOD, DEFAULT_RECIPE

    registers = ast.parse(
        "from fairnn.defaults import DEFAULT_RECIPE as R\n\n"
        "@register_recipe(R)\ndef f(frame, spec, opts): ...\n"
    )
    assert registrations(registers) == {(DEFAULT_RECIPE, "fairnn/defaults.py")}
    reads = ast.parse("from fairnn.defaults import DEFAULT_RECIPE\n\nX = {DEFAULT_RECIPE: 1}\n")
    assert registrations(reads) == set()
    sites = registration_sites()
    assert "fairnn/defaults.py" in sites[DEFAULT_RECIPE]
    assert "fairnn/defaults.py" in sites[BASELINE_METHOD]
    # a module of names that no registration uses is no registration site
    found = scan({"fairnn/experiments/names.py": ast.parse(f"R = {DEFAULT_RECIPE!r}\n")}, sites)
    assert [f.rule for f in found] == ["registered elsewhere"], found
