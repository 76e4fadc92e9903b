"""Degenerate models (issue 18 item 4): one definition (fairnn.metrics.degenerate), a warning
and a ``degenerate`` field from ``train``, a column in the results database (older databases
still open), and reports that read what runs record."""

from __future__ import annotations

import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest

from fairnn import api
from fairnn.experiments.report import aggregate, degenerate_reason, headline
from fairnn.experiments.run import RunResult
from fairnn.experiments.spec import RunSpec
from fairnn.experiments.store import RUN_COLUMNS, SCHEMA, ResultStore
from fairnn.metrics.degenerate import (
    DEGENERATE_SHARE,
    degenerate_splits,
    one_class,
    selection_rate,
    why_degenerate,
)
from tests.experiments.test_robust_sweeps import shared_dir, unprivileged  # noqa: F401


def test_one_definition_of_degenerate():
    assert selection_rate([0, 1, 1, 0]) == 0.5 and np.isnan(selection_rate([]))
    assert one_class(0.0) == 0 and one_class(1.0) == 1 and one_class(None) is None
    assert one_class(DEGENERATE_SHARE / 2) == 0 and one_class(1 - DEGENERATE_SHARE / 2) == 1
    assert one_class(DEGENERATE_SHARE) is None and one_class(0.5) is None
    why = why_degenerate({"selection_rate": 0.004, "balanced_accuracy": 0.9}, "val")
    assert "selection rate 0.4% on val" in why
    assert "its small gap is no achievement: it predicts nearly everyone as 0 (99.6%" in why
    # the rate decides where there is one; chance-level balanced accuracy only without
    assert why_degenerate({"selection_rate": 0.2, "balanced_accuracy": 0.5}, "val") is None
    assert "chance-level" in why_degenerate({"balanced_accuracy": 0.495}, "val")
    assert why_degenerate({"balanced_accuracy": float("nan")}, "val") is None
    metrics = {"train": {"selection_rate": 1.0}, "val": {"selection_rate": 0.3}}
    metrics["test"] = {"selection_rate": 0.995}
    assert list(degenerate_splits(metrics)) == ["test"]  # judged on val and test only


@pytest.fixture(scope="module")
def degenerate_run(tmp_path_factory):
    """One epoch on a 4 %-positive table: the model predicts no one positive."""
    d = tmp_path_factory.mktemp("degenerate")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(400, 3)), columns=["a", "b", "c"])
    frame["y"] = (rng.random(400) < 0.04).astype(int)
    frame["s"] = np.tile(["F", "M"], 200)
    frame.to_csv(d / "rare.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # groups without positives: some gaps are undefined
        return api.train(str(d / "rare.csv"), label="y", sensitive="s", epochs=1, progress=False)


def test_train_warns_about_a_model_that_predicts_one_class(degenerate_run, tmp_path):
    out = degenerate_run.to_json()
    assert out["degenerate"] is True
    assert all(out["metrics"][s]["selection_rate"] == 0.0 for s in ("train", "val", "test"))
    text = degenerate_run.to_text()
    for split in ("val", "test"):
        assert (
            f"warning: degenerate model: selection rate 0.0% on {split}: its small gap is no "
            "achievement: it predicts nearly everyone as 0" in text
        )
    # recorded by a sweep, the run is flagged in the database and the report says why
    with ResultStore(tmp_path / "r.db") as store:
        spec = degenerate_run.run.spec
        store.record(spec, {"status": "done", "metrics": degenerate_run.metrics})
        (row,) = store.runs()
    assert row["degenerate"] is True and row["metrics"]["val"]["selection_rate"] == 0.0
    (config,) = aggregate([row])
    assert "predicts nearly everyone as 0" in config["degenerate"]
    assert headline([config], "dp_gap")["fairest"] is None  # never ranked fairest


def test_a_model_that_decides_both_ways_is_not_degenerate():
    spec = RunSpec.make(dataset="german")
    metrics = {s: {"accuracy": 0.7, "selection_rate": 0.3} for s in ("train", "val", "test")}
    run = RunResult("k", spec, metrics, 1.0, None)
    assert run.to_json()["degenerate"] is False and run.degenerate == {}
    assert "warning" not in api.TrainResult(run).to_text()


def _old_database(path) -> RunSpec:
    """A results database as fairnn wrote it before the ``degenerate`` column, one run."""
    spec = RunSpec.make(dataset="german", seed=3)
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)
        assert "degenerate" not in {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
        row = dict.fromkeys(RUN_COLUMNS)
        row.update(key=spec.key(), dataset="german", recipe="clean", method="vanilla")
        row.update(mode="dp", seed=3, params="{}", spec=spec.model_dump_json(), status="done")
        conn.execute(f"INSERT INTO runs VALUES ({', '.join(f':{c}' for c in RUN_COLUMNS)})", row)
        conn.execute(
            "INSERT INTO metrics VALUES (?, 'test', 'balanced_accuracy', 0.5)", [row["key"]]
        )
    conn.close()
    return spec


def test_an_older_database_opens_and_gains_the_column(tmp_path):
    _old_database(tmp_path / "old.db")
    with ResultStore(tmp_path / "old.db", create=False) as store:
        (old,) = store.runs()
        assert old["degenerate"] is None  # not recorded then
        assert "chance-level" in degenerate_reason(old, ["test"])  # the fallback for old runs
        new = RunSpec.make(dataset="german", seed=4)
        store.record(new, {"status": "done", "metrics": {"val": {"selection_rate": 1.0}}})
        store.record(RunSpec.make(dataset="german", seed=5), {"status": "failed", "error": "x"})
        flags = {r["seed"]: r["degenerate"] for r in store.runs()}
    assert flags == {3: None, 4: True, 5: None}


def test_an_older_database_is_read_where_it_cannot_be_written(shared_dir):  # noqa: F811
    ro = shared_dir / "ro"
    ro.mkdir()
    _old_database(ro / "old.db")
    ro.chmod(0o555)
    with unprivileged(), ResultStore(ro / "old.db", create=False) as store:
        (old,) = store.runs()
    assert old["degenerate"] is None and old["seed"] == 3
