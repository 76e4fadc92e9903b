"""Hostile model folders and output paths: every case is a one-line error or handled right.

Classes: output paths that cannot hold a model folder (a file, a path under a file, a
read-only folder, a folder of other files, an existing model without --overwrite);
networks too large to allocate; model.json fields out of range; and saves killed midway,
which must leave a model folder complete or absent (and an overwritten one intact).
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import fairnn.atomic
from fairnn.cli import app
from fairnn.errors import ConfigError, ModelFileError
from fairnn.experiments import RunSpec
from fairnn.experiments.executors import execute
from fairnn.methods import FittedModel, make_method
from fairnn.methods.fitted import SIDECAR, WEIGHTS
from fairnn.nn.fairbinn import FairBiNNConfig
from fairnn.nn.mlp import MLP
from fairnn.nn.random_features import RandomFeaturesConfig
from fairnn.training import TrainConfig
from tests.synthetic import synthetic_data

runner = CliRunner()
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def cli(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(r, *words: str) -> str:
    """The CLI's error: exit 2, one ``error:`` line, no traceback, naming ``words``."""
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = [line for line in r.output.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and r.output.strip().endswith(lines[0]), r.output
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def fitted() -> FittedModel:
    return make_method("vanilla").fit(
        synthetic_data(200),
        None,
        config=TrainConfig(epochs=1, select="last", progress=False),
        architecture={"hidden": [8]},
    )


def renamed(fitted: FittedModel, method: str) -> FittedModel:
    """A copy of ``fitted`` with another method name (what a reload must report)."""
    model = copy.deepcopy(fitted)
    model.method = method
    return model


# -- output paths ---------------------------------------------------------------------------
def _bad_target(kind: str, tmp_path: Path) -> tuple[Path, str]:
    if kind == "existing_file":
        (tmp_path / "f").write_text("mine")
        return tmp_path / "f", "is an existing file"
    if kind == "under_a_file":
        (tmp_path / "f").write_text("mine")
        return tmp_path / "f" / "m", "is a file, not a folder"
    if kind == "folder_of_other_files":
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "notes.txt").write_text("mine")
        return tmp_path / "d", "holding other files (notes.txt)"
    raise AssertionError(kind)


@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("kind", ["existing_file", "under_a_file", "folder_of_other_files"])
def test_save_refuses_paths_that_cannot_hold_a_model(fitted, tmp_path, kind, overwrite):
    target, match = _bad_target(kind, tmp_path)
    with pytest.raises(ModelFileError, match=re.escape(match)) as e:
        fitted.save(target, overwrite=overwrite)
    assert "--out" in str(e.value)
    assert not list(tmp_path.rglob(".*"))  # no temporary folder either
    if kind != "under_a_file":  # the user's file is untouched
        assert "mine" in {p.read_text() for p in tmp_path.rglob("*") if p.is_file()}


@pytest.mark.parametrize("kind", ["existing_file", "under_a_file", "folder_of_other_files"])
def test_cli_train_and_export_refuse_bad_out_before_any_work(fitted, tmp_path, kind):
    target, match = _bad_target(kind, tmp_path)
    r = cli("train", "--data", "german", "--epochs", "1", "--out", target)
    one_line_error(r, "--out", match)
    model = fitted.save(tmp_path / "model")
    r = cli("export", model, "--out", target, "--overwrite")
    one_line_error(r, "--out", match)


def test_read_only_folder_is_refused(fitted, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes (see the monkeypatched test)")
        with pytest.raises(ModelFileError, match="permission denied"):
            fitted.save(ro / "m")
        r = cli("train", "--data", "german", "--epochs", "1", "--out", ro / "m")
        one_line_error(r, "--out", "permission denied", "choose a folder you can write to")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("step", ["fairnn.methods.fitted.save_file", "pathlib.Path.mkdir"])
@pytest.mark.parametrize(
    "error", [PermissionError(13, "Permission denied"), OSError(28, "No space left on device")]
)
def test_os_errors_while_writing_become_model_file_errors(
    fitted, tmp_path, monkeypatch, error, step
):
    """Root ignores chmod, so fail the writes themselves: the folder must not appear."""
    target = tmp_path / "m"

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(step, fail)
    with pytest.raises(ModelFileError, match=f"--out .*{error.strerror}.*choose a folder"):
        fitted.save(target)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no temporary folder left
    monkeypatch.setattr(fairnn.atomic.os, "access", lambda *a: False)
    r = cli("train", "--data", "german", "--epochs", "1", "--out", target)
    one_line_error(r, "--out", "permission denied")


def test_existing_model_needs_overwrite_which_swaps_it(fitted, tmp_path):
    target = fitted.save(tmp_path / "m")
    other = renamed(fitted, "other")
    with pytest.raises(ModelFileError, match="already holds a fairnn model; pass --overwrite"):
        other.save(target)
    assert FittedModel.load(target).method == "vanilla"
    other.save(target, overwrite=True)
    assert FittedModel.load(target).method == "other"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    (tmp_path / "empty").mkdir()  # an empty folder is filled without --overwrite
    assert FittedModel.load(fitted.save(tmp_path / "empty")).method == "vanilla"


def test_cli_train_overwrite(fitted, tmp_path):
    target = renamed(fitted, "old").save(tmp_path / "m")
    r = cli("train", "--data", "german", "--epochs", "1", "--hidden", "8", "--out", target, "-q")
    one_line_error(r, "--out", "--overwrite")
    assert FittedModel.load(target).method == "old"
    r = cli("train", "--data", "german", "--epochs", "1", "--hidden", "8", "--out", target,
            "-q", "--overwrite")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert FittedModel.load(target).method == "vanilla"


def test_cli_export_overwrite(fitted, tmp_path):
    model = fitted.save(tmp_path / "m")
    assert cli("export", model).exit_code == 0
    one_line_error(cli("export", model), "--out", "already holds an export", "--overwrite")
    assert cli("export", model, "--overwrite").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "m-export"]


# -- networks too large to allocate ---------------------------------------------------------
@pytest.mark.parametrize(
    "build, field",
    [
        (lambda: MLP(20, [1_000_000, 1_000_000]), "hidden sizes [1000000, 1000000]"),
        (lambda: MLP(10**7, [10**6]), "hidden sizes [1000000]"),
        (lambda: FairBiNNConfig((10, 10**6, 10**6, 1), (10**6, 10**6), 2), "--fairness_layers"),
        (lambda: RandomFeaturesConfig((3, 64, 64), 10**9), "--width"),
    ],
)
def test_networks_too_large_are_refused_with_their_size(build, field):
    with pytest.raises(ConfigError, match=r"need ~\d+\.\d [TP]B for the float32 weights") as e:
        build()
    assert field in str(e.value) and "of memory" in str(e.value)


def test_cli_hidden_too_large():
    r = cli("train", "--data", "german", "--hidden", "1000000", "--hidden", "1000000")
    line = one_line_error(r, "hidden sizes [1000000, 1000000]", "4.0 TB", "--hidden")
    assert "weights alone" in line
    assert MLP(20, [4096, 4096]).config.hidden == (4096, 4096)  # ordinary sizes still build


# -- model.json fields ------------------------------------------------------------------------
def _edit(fitted: FittedModel, path: Path, **fields: object) -> Path:
    fitted.save(path)
    side = json.loads((path / SIDECAR).read_text())
    for name, value in fields.items():
        if value is _DROP:
            side.pop(name)
        else:
            side[name] = value
    (path / SIDECAR).write_text(json.dumps(side))
    return path


_DROP = object()


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"threshold": 7.5}, "'threshold'"),
        ({"threshold": -0.2}, "'threshold'"),
        ({"threshold": 0}, "'threshold'"),
        ({"threshold": 1}, "'threshold'"),
        ({"threshold": float("nan")}, "'threshold'"),
        ({"threshold": float("inf")}, "'threshold'"),
        ({"threshold": "high"}, "'threshold'"),
        ({"threshold": None}, "'threshold'"),
        ({"threshold": [0.5]}, "'threshold'"),
        ({"decision": {"kind": "group_thresholds", "thresholds": [0.3, 7]}}, "'decision'"),
        ({"decision": {"kind": "group_thresholds", "thresholds": ["a", 0.5]}}, "'decision'"),
        ({"decision": {"kind": "group_thresholds", "thresholds": [0.5]}}, "'decision'"),
        ({"decision": {"kind": "group_thresholds"}}, "'decision'"),
        (
            {"decision": {"kind": "reject_option", "theta": "x", "privileged": 0, "n_groups": 2}},
            "'decision'",
        ),  # fmt: skip
        (
            {
                "decision": {
                    "kind": "reject_option",
                    "theta": 0.6,
                    "privileged": 0,
                    "n_groups": 2,
                    "threshold": 2,
                }
            },
            "'decision'",
        ),  # fmt: skip
        ({"decision": "none"}, "'decision'"),
        ({"method": "vanilla"}, "'method'"),
        ({"seed": "abc"}, "'seed'"),
        ({"task": "bogus"}, "'task'"),
    ],
)
def test_bad_sidecar_fields_name_the_file_and_field(fitted, tmp_path, fields, field):
    path = _edit(fitted, tmp_path / "m", **fields)
    with pytest.raises(ModelFileError, match=field) as e:
        FittedModel.load(path)
    message = str(e.value)
    assert "model.json" in message and "correct it in the file" in message
    assert "\n" not in message
    one_line_error(cli("audit", path), "model.json", field)
    one_line_error(cli("export", path, "--out", tmp_path / "e"), "model.json", field)


def test_saving_an_invalid_threshold_is_refused(fitted, tmp_path):
    model = renamed(fitted, "vanilla")
    model.threshold = 7.5
    with pytest.raises(ModelFileError, match="'threshold'.*set a valid value before saving"):
        model.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_sidecars_written_today_and_minimal_ones_still_load(fitted, tmp_path):
    data = synthetic_data(50, seed=3)
    full = _edit(fitted, tmp_path / "full", extra_field={"from": "the future"})
    assert FittedModel.load(full).method == "vanilla"
    drop = dict.fromkeys(
        ["threshold", "seed", "method", "task", "label", "dataset", "training", "decision",
         "preprocessor", "created", "fairnn_version"], _DROP)  # fmt: skip
    minimal = FittedModel.load(_edit(fitted, tmp_path / "minimal", **drop))
    assert minimal.threshold == 0.5 and minimal.method == "unknown"
    assert np.array_equal(minimal.predict(data), fitted.predict(data))
    ok = _edit(fitted, tmp_path / "ok", threshold=0.7)
    assert FittedModel.load(ok).threshold == 0.7


# -- folders that are half written ------------------------------------------------------------
def test_load_rejects_half_written_folders(fitted, tmp_path):
    d = fitted.save(tmp_path / "m")
    (d / SIDECAR).unlink()
    (d / ".model.json.abc123.tmp").write_text("{")  # what the old per-file writes left
    with pytest.raises(ModelFileError, match="model.json is missing .it has weights only"):
        FittedModel.load(d)
    fitted.save(d, overwrite=True)  # a folder holding only model files may be replaced
    assert sorted(p.name for p in d.iterdir()) == [SIDECAR, WEIGHTS]
    (d / WEIGHTS).unlink()
    with pytest.raises(ModelFileError, match="no model.safetensors; the save was incomplete"):
        FittedModel.load(d)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftover_temporary_folders(fitted, tmp_path):
    target, dead = tmp_path / "m", _dead_pid()
    stale = fitted.save(tmp_path / f".m.new.{dead}.0badc0de.tmp")
    alive = fitted.save(tmp_path / f".m.new.{os.getppid()}.0badc0de.tmp")
    with pytest.raises(ModelFileError, match=r"an interrupted save left \.m\.new"):
        FittedModel.load(target)
    fitted.save(target)
    assert not stale.exists() and alive.exists()  # a live writer's folder is left alone
    # a swap killed between its two renames: the old model waits beside the target
    old = renamed(fitted, "old").save(tmp_path / f".m2.old.{dead}.0badc0de.tmp")
    with pytest.raises(ModelFileError, match="already holds a fairnn model"):
        fitted.save(tmp_path / "m2")
    assert FittedModel.load(tmp_path / "m2").method == "old" and not old.exists()


def test_a_failing_write_leaves_the_old_model(fitted, tmp_path, monkeypatch):
    target = renamed(fitted, "old").save(tmp_path / "m")
    monkeypatch.setattr(
        Path, "write_text", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    with pytest.raises(KeyboardInterrupt):
        fitted.save(target, overwrite=True)
    monkeypatch.undo()
    assert FittedModel.load(target).method == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


KILL_LOOP = """
import os, random, signal, sys, time
from pathlib import Path
import torch
from fairnn.methods import FittedModel, make_method
from fairnn.training import TrainConfig
from tests.synthetic import synthetic_data

root = Path(sys.argv[1])
base = make_method("vanilla").fit(synthetic_data(100), None, architecture={"hidden": [4]},
                                  config=TrainConfig(epochs=1, select="last", progress=False))
models = {}
for i, name in enumerate(["old", "new"]):
    m = FittedModel.load(base.save(root / f"seed-{name}"))
    with torch.no_grad():
        for p in m.network.parameters():
            p.fill_(i)
    m.method = name
    models[name] = m
target = models["old"].save(root / "target")
rng = random.Random(0)
for trial in range(TRIALS):
    pid = os.fork()
    if pid == 0:  # the writer: fresh folders, and swaps of the target, until killed
        try:
            k = 0
            while True:
                models["new"].save(root / "fresh" / f"{trial}-{k}")
                models["new" if k % 2 else "old"].save(target, overwrite=True)
                k += 1
        finally:
            os._exit(1)
    time.sleep(rng.uniform(0.0, 0.08))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    print(trial, flush=True)
"""


def _consistent(path: Path) -> str:
    """Load ``path``; its weights must be the ones its model.json's method name says."""
    model = FittedModel.load(path)
    fill = {"old": 0.0, "new": 1.0}[model.method]
    assert all(torch.all(p == fill) for p in model.network.parameters()), path
    return model.method


def test_sigkill_at_random_moments_leaves_folders_complete_or_absent(tmp_path):
    trials = 10
    script = KILL_LOOP.replace("TRIALS", str(trials))
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=repo,
        env={**ENV, "PYTHONPATH": str(repo)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and out.stdout.split() == [str(t) for t in range(trials)], out.stderr
    fresh = list((tmp_path / "fresh").iterdir()) if (tmp_path / "fresh").exists() else []
    assert fresh, "no save finished: the loop never ran"
    for d in fresh:  # every visible folder is complete and right
        if not d.name.startswith("."):
            assert _consistent(d) == "new"
    target = tmp_path / "target"
    if not target.exists():  # the last kill fell between the two renames of a swap:
        with pytest.raises(ModelFileError, match="already holds"):  # the next save restores
            FittedModel.load(tmp_path / "seed-old").save(target)
    assert _consistent(target) in ("old", "new")


def test_killed_cli_overwrite_keeps_the_old_model(fitted, tmp_path):
    """`fairnn train --out D --overwrite`, SIGKILLed once its new folder appears."""
    target = renamed(fitted, "old").save(tmp_path / "D")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fairnn.cli", "train", "--data", "german", "--epochs", "1",
         "--hidden", "8", "-q", "--out", str(target), "--overwrite"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    hit = False
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if any(p.name.startswith(".D.new.") for p in tmp_path.iterdir()):
                time.sleep(random.uniform(0, 0.002))
                os.killpg(proc.pid, signal.SIGKILL)
                hit = True
                break
            time.sleep(0.001)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert hit or proc.returncode == 0, proc.stderr.read()
    loaded = FittedModel.load(target)  # the old model, or the new one if the kill came late
    if loaded.method == "old":
        old, new = loaded.network.state_dict(), fitted.network.state_dict()
        assert all(torch.equal(old[k], new[k]) for k in new)
    else:
        assert loaded.method == "vanilla" and loaded.features.dim != fitted.features.dim
    left = [p.name for p in tmp_path.iterdir() if p.name != "D"]
    assert all(n.startswith(".D.") and n.endswith(".tmp") for n in left), left
    renamed(fitted, "next").save(target, overwrite=True)  # the next save cleans up
    assert [p.name for p in tmp_path.iterdir()] == ["D"]


def test_sweep_worker_replaces_what_a_crashed_run_left(tmp_path):
    """`sweep --save-models`: a rerun of a run whose save was cut short saves it whole."""
    spec = RunSpec.make(
        dataset="german",
        method="vanilla",
        seed=0,
        train={"epochs": 1},
        architecture={"hidden": [8]},
    )
    half = tmp_path / "models" / spec.key()
    half.mkdir(parents=True)
    (half / WEIGHTS).write_bytes(b"weights of a killed run")
    outcome = execute(spec.model_dump_json(), models_dir=str(tmp_path / "models"))
    assert outcome["status"] == "done", outcome.get("error")
    assert outcome["model_path"] == str(half)
    assert FittedModel.load(half).method == "vanilla"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [spec.key()]
