"""Hostile input and faults for sweeps, the results store and worker processes (issue 16).

Each class of bad input gets a clear one-line error (exit 2) that names the option or
the file and line; a sweep with failed runs exits 1; a killed sweep leaves no worker
behind and its restart leaves the database and the model folders in agreement.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fairnn.cli import app
from fairnn.errors import ConfigError
from fairnn.experiments.executors import run_specs
from fairnn.experiments.store import ResultStore, StoreError
from fairnn.experiments.sweep import SweepError, load_sweep, parse_sweep

runner = CliRunner()

TINY = """\
name: tiny
datasets: [german]
seeds: [0]
train: {epochs: 1, batch_size: 128}
architecture: {hidden: [8]}
methods: [vanilla]
"""


def write(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str | Path) -> object:
    return runner.invoke(app, [str(a) for a in args])


# -- execution options ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("option", "value"),
    [("--threads", "0"), ("--threads", "-1"), ("--workers", "0"), ("--workers", "-1")],
)
@pytest.mark.parametrize("dry_run", [True, False])
def test_workers_and_threads_must_be_at_least_one(tmp_path, option, value, dry_run):
    db = tmp_path / "r.db"
    args = ["sweep", write(tmp_path, TINY), "--db", db, option, value, "-q"]
    res = invoke(*args, *(["--dry-run"] if dry_run else []))
    assert res.exit_code == 2, res.output
    assert f"error: {option} must be an integer ≥ 1, got {value}" in res.output
    assert not db.exists()  # refused before anything was opened or run


@pytest.mark.parametrize(("name", "value"), [("threads", 0), ("workers", -3), ("threads", 1.5)])
def test_run_specs_refuses_the_same_options(tmp_path, name, value):
    specs = parse_sweep(TINY).specs
    with ResultStore(tmp_path / "r.db") as store, pytest.raises(ConfigError, match=f"--{name}"):
        run_specs(specs, store, progress=False, **{name: value})


# -- results filters -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("option", "value", "choices"),
    [
        ("--status", "bogus", "done or failed"),
        ("--status", "DONE", "done or failed"),
        ("--status", "running", "done or failed"),
        ("--mode", "dpp", "dp or eo"),
    ],
)
def test_results_filter_with_an_unknown_value_is_an_error(tmp_path, option, value, choices):
    db = tmp_path / "r.db"
    ResultStore(db).close()
    res = invoke("results", "--db", db, option, value)
    assert res.exit_code == 2, res.output
    assert f"error: {option} must be {choices}, got {value!r}" in res.output
    assert "(no runs)" not in res.output


# -- dry run: every spec is checked -----------------------------------------------------
@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (("[german]", "[germna]"), "sweep.yaml:2: datasets.0", "Did you mean 'german'?"),
        (("[german]", "[german, GERMAN_CREDIT]"), "datasets.1", "unknown dataset"),
        (("[german]", "[german, missing.csv]"), "datasets.1", "'missing.csv' does not exist"),
        (("[german]", "[{name: OWN, label: y}]"), "datasets.0", "--sensitive"),
        (("seeds:", "recipes: [clean, runnr]\nseeds:"), "recipes.1", "Did you mean 'runner'?"),
        (("[german]", "[cmnist]\nrecipes: [runner]"), "recipes.0", "no recipe 'runner'"),
        (("hidden: [8]", "hiden: [8]"), "sweep.yaml:5: architecture", "hiden"),
    ],
)
def test_dry_run_checks_every_run_and_lists_the_bad_ones(tmp_path, change, where, message):
    own = tmp_path / "own.csv"
    own.write_text("y,s,x\n0,a,1\n1,b,2\n", encoding="utf-8")
    text = TINY.replace(*change).replace("OWN", str(own))
    db = tmp_path / "r.db"
    res = invoke("sweep", write(tmp_path, text), "--db", db, "--dry-run")
    assert res.exit_code == 2, res.output
    first, *listed = res.output.strip().splitlines()
    assert first.startswith("error: ") and "runs cannot run" in first
    assert any(where in line and message in line for line in listed), res.output
    assert not db.exists()
    # the real run refuses the same sweep before running anything
    res = invoke("sweep", tmp_path / "sweep.yaml", "--db", db, "-q")
    assert res.exit_code == 2 and "runs cannot run" in res.output and not db.exists()


def test_dry_run_of_a_valid_sweep_runs_nothing(tmp_path):
    db = tmp_path / "r.db"
    res = invoke("sweep", write(tmp_path, TINY), "--db", db, "--dry-run")
    assert res.exit_code == 0, res.output
    assert "1 runs, 0 already" in res.output
    with ResultStore(db) as store:
        assert store.count() == 0


# -- exit status of a sweep with failed runs --------------------------------------------
@pytest.mark.parametrize(
    ("datasets", "failed", "total"),
    [("[BAD]", 1, 1), ("[german, BAD]", 1, 2), ("[BAD, german]", 1, 2)],
)
def test_a_sweep_with_failed_runs_exits_1_and_says_where_the_errors_are(
    tmp_path, datasets, failed, total
):
    bad = tmp_path / "constant.csv"  # passes the checks; fails when loaded (one label value)
    bad.write_text("y,s,x\n" + "".join(f"1,{'ab'[i % 2]},{i}\n" for i in range(40)))
    text = TINY.replace(
        "[german]", datasets.replace("BAD", f"{{name: {bad}, label: y, sensitive: [s]}}")
    )
    sweep, db = write(tmp_path, text), tmp_path / "r.db"
    res = invoke("sweep", sweep, "--db", db, "-q", "--threads", "1")
    assert res.exit_code == 1, res.output
    assert f"error: {failed} of {total} runs failed; see the errors with: " in res.output
    assert f"fairnn results --db {db} --status failed --sweep tiny" in res.output
    # the failure is kept: a rerun runs nothing and still exits 1, saying why
    res = invoke("sweep", sweep, "--db", db, "-q")
    assert res.exit_code == 1 and f"({failed} in an earlier invocation;" in res.output
    res = invoke("results", "--db", db, "--status", "failed", "--sweep", "tiny")
    assert res.exit_code == 0 and "failed" in res.output and "(no runs)" not in res.output
    with ResultStore(db) as store:
        summary = run_specs(load_sweep(sweep).specs, store, progress=False)
        assert (summary.failures, summary.failed_before, summary.ran) == (failed, failed, 0)


# -- the results database path -----------------------------------------------------------
@contextmanager
def unprivileged() -> Iterator[None]:
    """Run the block as user nobody when root (root writes anywhere); else as is."""
    if os.geteuid() != 0:
        yield
        return
    try:
        os.setegid(65534)
        os.seteuid(65534)
    except PermissionError:
        os.setegid(0)
        pytest.skip("root without CAP_SETUID: a read-only folder cannot be simulated")
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A temporary folder that user nobody may enter (pytest's tmp_path is private)."""
    folder = Path(tempfile.mkdtemp(prefix="fairnn-db-"))
    folder.chmod(0o755)
    yield folder
    for p in [folder, *folder.rglob("*")]:
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(folder)


def _make(kind: str, folder: Path) -> Path:
    if kind == "folder":
        return folder
    if kind == "text file":
        path = folder / "notes.db"
        path.write_text("these are my notes\n", encoding="utf-8")
        return path
    if kind == "other sqlite":
        path = folder / "other.db"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
        return path
    ro = folder / "ro"
    ro.mkdir()
    if kind == "read-only file":
        ResultStore(ro / "r.db").close()
        (ro / "r.db").chmod(0o444)
    ro.chmod(0o555)
    return ro / "r.db" if kind != "read-only subfolder" else ro / "sub" / "r.db"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("folder", "is a folder; give a file path"),
        ("text file", "is not an SQLite file"),
        ("other sqlite", "is an SQLite database but not a fairnn results database"),
        ("read-only folder", "cannot be created: the folder"),
        ("read-only subfolder", "cannot be created: the folder"),
        ("read-only file", "cannot be written: the file is read-only"),
    ],
)
def test_db_that_cannot_be_used_says_why(shared_dir, kind, message):
    db = _make(kind, shared_dir)
    sweep = write(shared_dir, TINY)
    with unprivileged():
        res = invoke("sweep", sweep, "--db", db, "--dry-run")
        with pytest.raises(StoreError, match=re.escape(message)):  # the API says the same
            ResultStore(db)
    assert res.exit_code == 2, res.output
    assert res.output.startswith(f"error: results database (--db) {str(db)!r} "), res.output
    assert message in res.output and "not a fairnn results database:" not in res.output
    if kind == "other sqlite":  # nothing was added to the user's database
        with sqlite3.connect(db) as conn:
            assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["customers"]


def test_results_can_be_read_from_a_read_only_folder(shared_dir):
    ro = shared_dir / "ro"
    ro.mkdir()
    with ResultStore(ro / "r.db") as store:
        store.record(parse_sweep(TINY).specs[0], {"status": "failed", "error": "boom"})
    ro.chmod(0o555)
    with unprivileged():
        res = invoke("results", "--db", ro / "r.db", "--status", "failed")
    assert res.exit_code == 0, res.output
    assert "boom" in res.output


# -- YAML: aliases refused, errors name the file -------------------------------------------
BOMB = "\n".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
)


@pytest.mark.parametrize(
    ("text", "line", "alias"),
    [
        (BOMB + "\n" + TINY, 2, "l0"),  # billion laughs: 9**10 strings if expanded
        (TINY.replace("seeds: [0]", "s: &s [0, 1]\nseeds: *s"), 4, "s"),
        (
            TINY.replace("train:", "base: &b {epochs: 1}\ntrain:\n  <<: *b\n  lr: 0.01\nold:"),
            6,
            "b",
        ),
    ],
)
def test_yaml_aliases_are_refused_quickly(tmp_path, text, line, alias):
    path = write(tmp_path, text)
    t0 = time.perf_counter()
    with pytest.raises(SweepError) as err:
        load_sweep(path)
    assert time.perf_counter() - t0 < 2
    assert str(err.value) == (
        f"{path}:{line}: YAML aliases (*{alias}) are not allowed; write the value out in full"
    )
    res = invoke("sweep", path, "--dry-run", "--db", tmp_path / "r.db")
    assert res.exit_code == 2 and f"{path}:{line}: YAML aliases" in res.output


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("name: x\ndatasets: [german\nmethods: [vanilla]\n", 3),
        ("name: x\ndatasets:\n  - german\n - adult\n", 4),
        ("name: x\n\tdatasets: [german]\n", 2),
        ("name: 'x\n", 2),
    ],
)
def test_yaml_syntax_errors_name_the_file_and_line(tmp_path, text, line):
    path = write(tmp_path, text)
    with pytest.raises(SweepError, match=rf"^{path}:{line}: not valid YAML: "):
        load_sweep(path)
    with pytest.raises(SweepError, match=r"^<sweep>:\d+: not valid YAML"):
        parse_sweep(text)


# -- worker processes and what they leave --------------------------------------------------
def _stat(pid: int) -> tuple[str, int, int] | None:
    """``(state, ppid, pgid)`` of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid, pgid = text[text.rindex(")") + 2 :].split()[:3]
    return state, int(ppid), int(pgid)


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group ``pgid``."""
    out = []
    for entry in Path("/proc").iterdir():
        st = _stat(int(entry.name)) if entry.name.isdigit() else None
        if st is not None and st[2] == pgid and st[0] != "Z":
            out.append(int(entry.name))
    return out


linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


@linux_only
def test_killed_sweep_takes_its_workers_along_and_a_restart_agrees_with_the_disk(tmp_path):
    text = TINY.replace("seeds: [0]", "seeds: [0, 1]").replace("[vanilla]", "[vanilla, gapreg]")
    sweep, db, models = write(tmp_path, text), tmp_path / "r.db", tmp_path / "models"
    specs = load_sweep(sweep).specs
    cmd = [sys.executable, "-m", "fairnn.cli", "sweep", str(sweep), "--db", str(db)]
    cmd += ["--workers", "2", "--threads", "1", "--save-models", str(models), "-q"]
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: every descendant is found by pgid
    )
    try:
        deadline = time.monotonic() + 120  # about 10 s on an idle machine
        while not (_done(db) >= 1 and len(_group(proc.pid)) >= 3):  # sweep + 2 workers
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "the workers did not start in time"
            time.sleep(0.02)
        workers = [p for p in _group(proc.pid) if p != proc.pid]
        assert sum((_stat(p) or ("", 0, 0))[1] == proc.pid for p in workers) >= 2
        os.kill(proc.pid, signal.SIGKILL)  # the sweep alone, as `kill -9 PID` does
        proc.wait(10)
        deadline = time.monotonic() + 10  # at once; the margin is for a busy machine
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _group(proc.pid) == [], "worker processes outlived the killed sweep"
    finally:
        for pid in _group(proc.pid):
            os.kill(pid, signal.SIGKILL)
    recorded = _done(db)
    assert 1 <= recorded < len(specs)
    with ResultStore(db) as store:
        summary = run_specs(specs, store, models_dir=models, progress=False, threads=1)
        assert (summary.skipped, summary.done, summary.failures) == (
            recorded,
            len(specs) - recorded,
            0,
        )
        rows = store.runs()
    assert {r["key"] for r in rows if r["status"] == "done"} == {s.key() for s in specs}
    on_disk = sorted(p.name for p in models.iterdir())
    assert on_disk == sorted(Path(r["model_path"]).name for r in rows)  # no orphan, no temp
    for r in rows:
        assert Path(r["model_path"]) == models / r["key"]
        assert sorted(p.name for p in Path(r["model_path"]).iterdir()) == [
            "model.json",
            "model.safetensors",
        ]


def _done(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'done'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_a_rerun_replaces_what_an_unrecorded_run_left(tmp_path):
    spec = parse_sweep(TINY).specs[0]
    models = tmp_path / "models"
    stale = models / spec.key()
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"weights of a killed run")
    temp = models / f".{spec.key()}.new.999999999.abcd1234.tmp"  # a killed save's folder
    temp.mkdir()
    (temp / "model.json").write_text("{}")
    with ResultStore(tmp_path / "r.db") as store:
        summary = run_specs([spec], store, models_dir=models, progress=False, threads=1)
    assert (summary.done, summary.failures) == (1, 0)
    assert sorted(p.name for p in models.iterdir()) == [spec.key()]
    assert (stale / "model.safetensors").read_bytes() != b"weights of a killed run"
    assert (stale / "model.json").is_file()


@linux_only
@pytest.mark.parametrize(
    ("mechanism", "setup", "poll_s"),
    [
        ("parent-death signal", "", 3600),  # the watchdog would wake too late
        ("watchdog", "import ctypes\nctypes.CDLL = lambda *a, **k: object()\n", 0.05),  # no prctl
    ],
)
def test_a_worker_ends_when_its_parent_is_killed(mechanism, setup, poll_s):
    child = (
        "import sys, time\n" + setup + "from fairnn.experiments.lifeline import die_with_parent\n"
        f"die_with_parent(int(sys.argv[1]), poll_s={poll_s})\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = (
        "import os, subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, '-c', {child!r}, str(os.getpid())],"
        " stdout=subprocess.PIPE, text=True)\n"
        "assert p.stdout.readline() == 'ready\\n'\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        pid = int(proc.stdout.readline())
        assert _stat(pid) is not None and _stat(pid)[1] == proc.pid
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 3
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _group(proc.pid) == [], f"the worker outlived its parent ({mechanism})"
    finally:
        for p in _group(proc.pid):
            os.kill(p, signal.SIGKILL)


def test_reproduce_exits_1_when_runs_of_its_study_failed(tmp_path, monkeypatch):
    from fairnn.experiments import reproductions

    bad = parse_sweep(TINY.replace("[german]", "[{name: none.csv, label: y, sensitive: [s]}]"))

    def study(out: Path, seeds: list[int], full: bool, device: str) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        with ResultStore(out / "results.db") as store:
            run_specs(bad.specs, store, sweep="reproduce-fake", progress=False)
        (out / "report.md").write_text("# fake study\n", encoding="utf-8")
        return out / "report.md"

    monkeypatch.setattr(reproductions, "get_reproduction", lambda name: study)
    res = invoke("reproduce", "fake", "--out", tmp_path / "rep")
    assert res.exit_code == 1, res.output
    assert "# fake study" in res.output and "error: 1 of 1 runs failed" in res.output
    assert f"--db {tmp_path / 'rep' / 'results.db'} --status failed --sweep reproduce-fake" in (
        res.output
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--split", "bogus", "--split 'bogus': the finished runs have no such metrics; use one of"),
        ("--split", "", "--split '': the finished runs have no such metrics"),
        ("--out", "FILE", "cannot create the report folder"),
    ],
)
def test_report_errors_name_the_option(tmp_path, option, value, message):
    db, file = tmp_path / "r.db", tmp_path / "file.txt"
    file.write_text("not a folder")
    metrics = {"accuracy": 0.8, "ap": 0.7, "dp_gap": 0.1, "eodds_gap_sum": 0.2}
    with ResultStore(db) as store:
        store.record(parse_sweep(TINY).specs[0], {"status": "done", "metrics": {"test": metrics}})
    args = {"--out": str(tmp_path / "report"), option: value.replace("FILE", str(file))}
    res = invoke("report", "--db", db, *[x for kv in args.items() for x in kv])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error: ") and message in res.output
