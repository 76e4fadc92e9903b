"""Sweep files, the results store, sweep execution (local, dask, kill -9), results and reports."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fairnn.cli import app
from fairnn.experiments.executors import SweepInterrupted, run_specs, threads_per_worker
from fairnn.experiments.report import hypervolume, pareto_front, write_report
from fairnn.experiments.spec import RunSpec
from fairnn.experiments.store import ResultStore
from fairnn.experiments.sweep import SweepError, expand_grid, load_sweep, parse_sweep

runner = CliRunner()

SMALL = """\
name: small
datasets: [german]
seeds: [0, 1]
train: {epochs: 1, batch_size: 128}
architecture: {hidden: [16]}
methods:
  - vanilla
  - name: gapreg
    params:
      lam: {log: [0.1, 1.0, 2]}
"""


def load_sweep_text(text: str) -> list[RunSpec]:
    return parse_sweep(text).specs


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- grids and sweep files ---------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, [3]),
        ([1, 2], [1, 2]),
        ({"range": [3]}, [0, 1, 2]),
        ({"range": [1, 7, 2]}, [1, 3, 5]),
        ({"range": [0.1, 0.4, 0.1]}, [0.1, 0.2, 0.3]),
        ({"linspace": [0, 1, 3]}, [0.0, 0.5, 1.0]),
        ({"log": [0.001, 1, 4]}, [0.001, 0.01, 0.1, 1.0]),
        ({"value": [64, 64]}, [[64, 64]]),
        ({"values": [[64], [8, 8]]}, [[64], [8, 8]]),
        ({"values": [1, 2]}, [1, 2]),
    ],
)
def test_expand_grid(value, expected):
    got = expand_grid(value)
    if any(isinstance(x, list) for x in expected):
        assert got == expected
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    "bad", [[], {"range": [0, 1, 0]}, {"log": [0, 1, 3]}, {"linspace": [0, 1]}, {"range": "a"}]
)
def test_expand_grid_rejects(bad):
    with pytest.raises(ValueError):
        expand_grid(bad)


def test_sweep_expands_datasets_recipes_modes_methods_seeds():
    sweep = parse_sweep(
        """
datasets: [german, {name: adult}]
recipes: [clean, runner]
modes: [dp, eo]
seeds: {range: [2]}
train: {epochs: [1, 2]}
methods:
  - vanilla
  - name: gapreg
    params: {lam: [0.1, 0.3, 0.1]}   # the duplicate value gives no extra run
    modes: [dp]
"""
    )
    # vanilla: 2 datasets × 2 recipes × 2 modes × 2 epochs × 2 seeds; gapreg: 2×2×1×2×2×2
    assert len(sweep) == 32 + 32
    keys = [s.key() for s in sweep.specs]
    assert len(set(keys)) == len(keys)
    gap = [s for s in sweep.specs if s.method == "gapreg"]
    assert {s.params["lam"] for s in gap} == {0.1, 0.3} and {s.mode for s in gap} == {"dp"}
    assert {s.train["epochs"] for s in sweep.specs} == {1, 2}
    assert load_sweep_text(
        "datasets: [german]\nmethods: [vanilla]\narchitecture: {hidden: [8, 8]}"
    )[0].architecture == {"hidden": [8, 8]}
    archs = load_sweep_text(
        "datasets: [german]\nmethods: [vanilla]\narchitecture: {hidden: {values: [[8], [8, 8]]}}"
    )
    assert [s.architecture["hidden"] for s in archs] == [[8], [8, 8]]
    # the same spec from the CLI's model has the same key
    one = RunSpec.make(dataset="german", method="gapreg", params={"lam": 0.1}, train={"epochs": 1})
    assert one.key() in keys


@pytest.mark.parametrize(
    ("text", "line", "where"),
    [
        ("datasets: [german]\nmethods: [vanilla]\ntrain:\n  epochs: 0\n", 4, "train.epochs"),
        (
            "datasets: [german]\nmethods:\n  - name: gapreg\n    params:\n      lamda: 1\n",
            5,
            "methods.0.params.lamda",
        ),
        (
            "datasets: [german]\nmethods:\n  - vanilla\n  - name: gapreg\n    params: {lam: {log: [0, 1, 3]}}\n",
            5,
            "methods.1.params.lam",
        ),
        ("datasets: [german]\nmethods:\n  - name: nosuch\n", 3, "methods.0.name"),
        ("datasets: [german]\nmethods: [vanilla]\nsedes: [1]\n", 3, "sedes"),
        ("datasets: [german]\nmethods:\n  - name: gapreg\n    parms: {}\n", 4, "methods.0.parms"),
        ("datasets: [german]\nmodes: [dp, xx]\nmethods: [vanilla]\n", 2, "modes.1"),
        ("datasets: [german\nmethods: [vanilla]\n", 2, ""),
    ],
)
def test_sweep_errors_name_line_and_key(tmp_path, text, line, where):
    path = write(tmp_path, text)
    with pytest.raises(SweepError) as err:
        load_sweep(path)
    msg = str(err.value)
    assert f":{line}:" in msg or f"line {line}" in msg, msg
    assert where in msg, msg


def test_cli_sweep_error_is_one_clear_message(tmp_path):
    path = write(tmp_path, "datasets: [german]\nmethods: [vanilla]\ntrain: {epochs: 0}\n")
    res = runner.invoke(app, ["sweep", str(path), "--db", str(tmp_path / "r.db")])
    assert res.exit_code == 2
    assert "sweep.yaml:3: train.epochs" in res.output and "Traceback" not in res.output


def test_shipped_adult_sweep_is_valid():
    sweep = load_sweep(Path(__file__).resolve().parents[2] / "examples" / "adult_comparison.yaml")
    assert len(sweep) > 30
    assert {s.dataset for s in sweep.specs} == {"adult"}
    assert {s.seed for s in sweep.specs} == {0, 1, 2}
    from fairnn.methods import list_methods

    missing = {c.name for c in list_methods()} - {s.method for s in sweep.specs}
    assert not missing, f"add {sorted(missing)} to examples/adult_comparison.yaml"

    lams = {s.params["lam"] for s in sweep.specs if s.method == "gapreg"}
    assert len(lams) == 5


# -- store -------------------------------------------------------------------------
def test_store_one_row_per_key_and_missing(tmp_path):
    a = RunSpec.make(dataset="german", seed=0)
    b = RunSpec.make(dataset="german", seed=1)
    c = RunSpec.make(dataset="german", seed=2)
    with ResultStore(tmp_path / "r.db") as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        store.record(a, {"status": "done", "metrics": {"test": {"accuracy": 0.5}}})
        store.record(a, {"status": "done", "metrics": {"test": {"accuracy": 0.75}}})
        store.record(b, {"status": "failed", "error": "boom"})
        assert store.count() == 2
        rows = {r["key"]: r for r in store.runs()}
        assert rows[a.key()]["metrics"] == {"test": {"accuracy": 0.75}}
        assert rows[b.key()]["error"] == "boom"
        assert store.missing([a, b, c]) == [c]
        assert store.missing([a, b, c], retry_failed=True) == [b, c]
        assert [r["seed"] for r in store.runs(status="done")] == [0]


# -- running -------------------------------------------------------------------------
def test_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    specs = parse_sweep(
        SMALL.replace(
            "datasets: [german]",
            "datasets: [german, {name: missing.csv, label: y, sensitive: [s]}]",
        )
        .replace("seeds: [0, 1]", "seeds: [0]")
        .replace("  - name: gapreg\n    params:\n      lam: {log: [0.1, 1.0, 2]}\n", "")
    ).specs
    assert len(specs) == 2
    with ResultStore(tmp_path / "r.db") as store:
        summary = run_specs(specs, store, progress=False, threads=1)
        assert (summary.done, summary.failed) == (1, 1)
        failed = store.runs(status="failed")[0]
        assert failed["dataset"] == "missing.csv" and "missing.csv" in failed["error"]
        # restarted: nothing to do (failed runs are kept unless asked)
        again = run_specs(specs, store, progress=False)
        assert (again.skipped, again.ran) == (2, 0)


def test_ctrl_c_keeps_finished_runs(tmp_path):
    specs = load_sweep(write(tmp_path, SMALL)).specs[:3]
    seen = []

    def interrupt(spec, outcome):
        seen.append(spec.key())
        if len(seen) == 2:
            raise KeyboardInterrupt

    with ResultStore(tmp_path / "r.db") as store:
        with pytest.raises(SweepInterrupted, match="2 of 3"):
            run_specs(specs, store, progress=False, threads=1, on_result=interrupt)
        assert set(store.status()) == set(seen)
        assert [s.key() for s in store.missing(specs)] == [specs[2].key()]


def test_kill_9_then_restart_runs_each_run_exactly_once(tmp_path):
    sweep_file = write(tmp_path, SMALL.replace("seeds: [0, 1]", "seeds: [0, 1, 2]"))
    specs = load_sweep(sweep_file).specs
    db = tmp_path / "r.db"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "fairnn.cli", "sweep", str(sweep_file), "--db", str(db)]
    proc = subprocess.Popen(
        [*cmd, "--workers", "2", "--threads", "1", "-q"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if db.exists() and _count(db) >= 2:
                break
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    before = {k: t for k, t in _finished(db).items()}
    assert 2 <= len(before) < len(specs)
    ran = []
    with ResultStore(db) as store:
        summary = run_specs(
            specs, store, progress=False, threads=1, on_result=lambda s, o: ran.append(s.key())
        )
        assert summary.skipped == len(before) and summary.failed == 0
    assert sorted(ran) == sorted({s.key() for s in specs} - set(before))
    after = _finished(db)
    assert set(after) == {s.key() for s in specs}
    assert all(after[k] == t for k, t in before.items())  # finished runs were not redone
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM runs").fetchone() == (
            len(specs),
            len(specs),
        )


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _finished(db: Path) -> dict[str, float]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT key, finished_at FROM runs WHERE status = 'done'"))


def test_dask_backend_matches_local(tmp_path):
    pytest.importorskip("distributed")
    specs = load_sweep(write(tmp_path, SMALL)).specs[1:4:2]  # vanilla and gapreg, seed 1
    with ResultStore(tmp_path / "local.db") as local:
        run_specs(specs, local, progress=False, threads=1)
        expected = {r["key"]: r["metrics"] for r in local.runs()}
    with ResultStore(tmp_path / "dask.db") as store:
        summary = run_specs(specs, store, backend="dask", workers=2, progress=False)
        assert (summary.done, summary.failed) == (2, 0)
        got = {r["key"]: r["metrics"] for r in store.runs()}
        assert len({r["worker"] for r in store.runs()}) >= 1
    assert got.keys() == expected.keys()
    for key, metrics in expected.items():
        for split, vals in metrics.items():
            assert got[key][split] == pytest.approx(vals, abs=1e-9), (key, split)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_heap_for_tensors_undoes_dasks_malloc_setting():
    code = "from fairnn.experiments.executors import heap_for_tensors as h; print(h(), h())"
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    plain = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert plain.stdout.split() == ["False", "False"], plain.stderr  # nothing to undo
    env["MALLOC_TRIM_THRESHOLD_"] = "65536"  # as Dask's nanny starts a worker
    dask = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert dask.stdout.split() == ["True", "False"], dask.stderr  # mallopt took it; once


def test_threads_per_worker_does_not_oversubscribe():
    assert threads_per_worker(1, cores=8) == 8
    assert threads_per_worker(3, cores=8) == 2
    assert threads_per_worker(16, cores=8) == 1


# -- results and report --------------------------------------------------------------
def test_cli_sweep_results_and_report(tmp_path):
    sweep_file = write(tmp_path, SMALL)
    db = str(tmp_path / "r.db")
    res = runner.invoke(app, ["sweep", str(sweep_file), "--db", db, "-q", "--threads", "1"])
    assert res.exit_code == 0, res.output
    assert "6 runs, 0 already" in res.output and "done: 6, failed: 0" in res.output
    res = runner.invoke(app, ["sweep", str(sweep_file), "--db", db, "-q"])
    assert "6 already" in res.output and "0 to run" in res.output

    res = runner.invoke(app, ["results", "--db", db, "--method", "gapreg"])
    assert res.exit_code == 0, res.output
    assert res.output.count("gapreg") == 4 and "test.accuracy" in res.output
    res = runner.invoke(app, ["results", "--db", db, "--format", "json", "--seed", "1"])
    rows = json.loads(res.output)
    assert len(rows) == 3 and {r["seed"] for r in rows} == {1}
    assert set(rows[0]["metrics"]) == {"train", "val", "test"}
    res = runner.invoke(app, ["results", "--db", db, "--format", "csv"])
    assert res.output.splitlines()[0].startswith("key,") and "test.dp_gap" in res.output
    pq = tmp_path / "r.parquet"
    res = runner.invoke(app, ["results", "--db", db, "--format", "parquet", "--out", str(pq)])
    assert res.exit_code == 0, res.output
    import pandas as pd

    assert len(pd.read_parquet(pq)) == 6
    res = runner.invoke(app, ["results", "--db", str(tmp_path / "none.db")])
    assert res.exit_code == 2 and "no results database" in res.output

    out = tmp_path / "report"
    res = runner.invoke(app, ["report", "--db", db, "--out", str(out)])
    assert res.exit_code == 0, res.output
    page = (out / "index.html").read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(page)
    assert len(parser.images) == 2  # german × dp: AP and accuracy fronts, inlined and linked
    assert page.count('<svg class="pareto"') == 2
    for src in parser.images:
        svg = (out / src).read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert (out / src).with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "± " in page and "gapreg(lam=0.1)" in page and "Hypervolume" in page
    hv = json.loads((out / "hypervolume.json").read_text())
    assert set(hv["german/dp"]) == {"vanilla", "gapreg"}
    # the page renders its figures in a real browser (CI installs Debian's chromium)
    loaded, total = _render_in_chromium(out / "index.html", tmp_path)
    assert total == 2 and loaded == total


PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.querySelectorAll("svg.pareto")];
  const ok = imgs.filter((i) => i.getBoundingClientRect().width > 0 && i.getBBox().height > 0).length;
  const p = document.createElement("pre");
  p.textContent = `RENDERED ${ok}/${imgs.length}`;
  document.body.appendChild(p);
});
</script>"""


def _render_in_chromium(page: Path, tmp: Path) -> tuple[int, int]:
    """Load ``page`` in headless Chromium; count the inlined figures drawn with a real size."""
    from tests.experiments.test_report import render_in_chromium

    dom = render_in_chromium(page, tmp, PROBE)
    m = re.search(r"RENDERED (\d+)/(\d+)", dom)
    assert m, f"the page did not finish loading in Chromium: {dom[-500:]}"
    return int(m.group(1)), int(m.group(2))


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.endswith(".svg"):  # each inlined figure links its SVG file
            self.images.append(href)


def test_pareto_front_and_hypervolume():
    pts = [(0.1, 0.7), (0.2, 0.8), (0.15, 0.6), (0.3, 0.75), (0.0, 0.5)]
    assert [pts[i] for i in pareto_front(pts)] == [(0.0, 0.5), (0.1, 0.7), (0.2, 0.8)]
    # (0,0.5)→0.1×0.5 + (0.1,0.7)→0.1×0.7 + (0.2,0.8)→0.8×0.8
    assert hypervolume(pts) == pytest.approx(0.05 + 0.07 + 0.64)
    assert hypervolume([(0.0, 1.0)]) == pytest.approx(1.0)
    assert hypervolume([]) == 0.0


def test_report_needs_finished_runs(tmp_path):
    from fairnn.errors import FairnnError

    with pytest.raises(FairnnError, match="no finished runs"):
        write_report([], tmp_path / "out")


def test_a_run_that_ignores_the_notion_is_computed_once_for_both(tmp_path, monkeypatch):
    from fairnn.experiments import executors

    specs = [
        RunSpec.make(dataset="german", method=m, mode=mode, seed=0, train={"epochs": 1})
        for m in ("vanilla", "gapreg")
        for mode in ("dp", "eo")
    ]
    calls = []
    real = executors.execute

    def counting(spec_json, *a, **k):
        calls.append(RunSpec.model_validate_json(spec_json).method)
        return real(spec_json, *a, **k)

    monkeypatch.setattr(executors, "execute", counting)
    with ResultStore(tmp_path / "r.db") as store:
        summary = run_specs(specs, store, progress=False, threads=1)
        rows = store.runs(status="done")
    assert sorted(calls) == ["gapreg", "gapreg", "vanilla"]  # gapreg's penalty follows the notion
    assert summary.done == 4 and len(rows) == 4
    van = [r for r in rows if r["method"] == "vanilla"]
    assert {r["mode"] for r in van} == {"dp", "eo"}
    assert van[0]["metrics"] == van[1]["metrics"]
