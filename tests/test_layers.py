"""fairnn's import contracts (``.importlinter``) hold and the package has no import cycles.

The contracts (layers, certify's and the CLI's limits, metrics never importing interop,
acyclic siblings) run through import-linter, which sees function-local imports and
indirect chains; the cycle count comes from ``benchmarks/import_graph.py``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.import_graph import CONFIG, build_graph, cycles, violations

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    importlib.util.find_spec("importlinter") is None,
    reason="import-linter is not installed (pip install 'fairnn[test]')",
)
def test_import_contracts_hold() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--no-cache",
            str(CONFIG),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_import_cycles() -> None:
    found = cycles(build_graph())
    assert found == [], (
        f"import cycles (python benchmarks/import_graph.py shows the imports): {found}"
    )


def test_no_direct_import_breaks_a_contract() -> None:
    broken = [(name, e) for name, e, ignored in violations(build_graph()) if not ignored]
    assert broken == []


def test_graph_sees_function_local_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "fairnn"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("from fairnn.a import b\n")
    (pkg / "a" / "b.py").write_text("def f():\n    from fairnn.a.c import x\n")
    (pkg / "a" / "c.py").write_text("from . import b\nx = 1\n")
    graph = build_graph(pkg)
    assert {(e.importer, e.imported, e.local) for e in graph.edges} == {
        ("fairnn.a", "fairnn.a.b", False),
        ("fairnn.a.b", "fairnn.a.c", True),
        ("fairnn.a.c", "fairnn.a.b", False),
    }
    assert cycles(graph) == [["fairnn.a.b", "fairnn.a.c"]]
