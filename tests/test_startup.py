"""Start-up structure: importing fairnn and asking for help load no heavy libraries.

The time these take is measured by ``benchmarks/startup.py``; these tests check the
structure that keeps it small (heavy modules are imported where they are used).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import typer

from fairnn.cli import app
from fairnn.datasets.preprocess import standard_scaler_stats

HEAVY = ("torch", "pandas", "sklearn", "matplotlib", "scipy", "pyarrow", "dask", "highspy")

#: Prints the heavy top-level modules loaded once ``code`` has run (``--help`` exits).
PROBE = """
import json, sys
try:
    exec(sys.argv[1])
except SystemExit:
    pass
heavy = sys.argv[2].split(",")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
"""


def probe(code: str) -> tuple[str, list[str]]:
    """Run ``code`` in a fresh interpreter; its stdout and the heavy modules it loaded."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    r = subprocess.run(
        [sys.executable, "-c", PROBE, code, ",".join(HEAVY)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return r.stdout, json.loads(r.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        "import fairnn",
        "import fairnn.cli",
        "from fairnn.cli import app",
        "import fairnn.errors, fairnn.experiments.tables",
    ],
)
def test_import_loads_no_heavy_module(code):
    _, loaded = probe(code)
    assert loaded == []


@pytest.mark.parametrize("args", [["--help"], ["train", "--help"], ["sweep", "--help"]])
def test_help_loads_no_heavy_module(args):
    out, loaded = probe(f"from fairnn.cli import app; app({args!r}, prog_name='fairnn')")
    assert loaded == []
    assert "Usage: fairnn" in out


def test_a_runner_training_run_loads_no_unused_library():
    """The train path needs torch and pandas, not scikit-learn, scipy or matplotlib."""
    argv = ["train", "--data", "adult", "--recipe", "runner", "--method", "vanilla"]
    argv += ["--epochs", "1", "--quiet"]
    out, loaded = probe(f"from fairnn.cli import app; app({argv!r}, prog_name='fairnn')")
    assert "test" in out
    assert not {"sklearn", "scipy", "matplotlib"} & set(loaded)


def test_help_lists_every_command_with_its_help():
    out, _ = probe("from fairnn.cli import app; app(['--help'], prog_name='fairnn')")
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    assert len(commands) > 10
    for name in commands:
        assert re.search(rf"^\W*{re.escape(name)}\s+\w", out, re.M), f"{name} missing from --help"


def test_lazy_names_still_import():
    from fairnn.experiments import RunResult, RunSpec, executors, protocol, run_spec

    assert callable(run_spec) and callable(protocol)
    assert RunSpec.__name__ == "RunSpec" and RunResult.__name__ == "RunResult"
    assert executors.__name__ == "fairnn.experiments.executors"
    with pytest.raises(ImportError):
        from fairnn.experiments import no_such_name  # noqa: F401


def _scaler_cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "normal": rng.normal(size=(1000, 7)),
        "large offset": rng.normal(1e9, 1e-3, size=(5000, 3)),
        "constant columns": np.column_stack(
            [np.full(100, 3.3), rng.normal(size=100), np.zeros(100)]
        ),
        "fortran order": np.asfortranarray(rng.normal(5, 2, size=(3001, 4))),
        "missing values": np.where(rng.random((500, 4)) < 0.1, np.nan, rng.normal(size=(500, 4))),
        "integers": rng.integers(0, 100_000, size=(20_000, 5)).astype(np.float64),
        "one row": rng.normal(size=(1, 3)),
    }


@pytest.mark.parametrize("case", list(_scaler_cases()))
def test_standard_scaler_stats_match_sklearn_bit_for_bit(case):
    from sklearn.preprocessing import StandardScaler

    x = _scaler_cases()[case]
    sc = StandardScaler().fit(x)
    mean, scale = standard_scaler_stats(x)
    assert mean.tobytes() == sc.mean_.tobytes()
    assert scale.tobytes() == sc.scale_.tobytes()
