"""Issue 18 review, item 1: a sweep's ``target_gap`` search is stored in the results database
(the weight chosen, whether it met the target, its validation gap), shown by ``fairnn
results`` and in the report's table; an older database gains the columns."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fairnn import api
from fairnn.experiments.report import _config_table, aggregate
from fairnn.experiments.spec import RunSpec
from fairnn.experiments.store import ADDED_COLUMNS, TARGET_COLUMNS, ResultStore
from fairnn.methods.fitted import FittedModel
from tests.experiments.test_degenerate import _old_database
from tests.synthetic import biased_arrays

SWEEP = """\
datasets: [{{name: {table}, label: y, sensitive: [a]}}]
methods:
  - vanilla
  - name: gapreg
    target_gap: {{target: 0.1, budget: 2, grid: 2, lo: 0.03, hi: 3.0}}
seeds: [0]
train: {{epochs: 2}}
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A two-run sweep (vanilla; gapreg searching lam with 2 fits) on a 300-row table."""
    d = tmp_path_factory.mktemp("swept")
    X, y, a = biased_arrays(300, 4, 0, shift=1.5)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(4)])
    frame["y"], frame["a"] = y, a
    frame.to_csv(d / "t.csv", index=False)
    (d / "s.yaml").write_text(SWEEP.format(table=d / "t.csv"))
    result = api.sweep(d / "s.yaml", db=d / "r.db", save_models=d / "models", progress=False)
    assert not result.failure_message()
    return d / "r.db"


def test_the_search_is_stored_and_shown(swept):
    with ResultStore(swept, create=False) as store:
        rows = {r["method"]: r for r in store.runs()}
    searched, plain = rows["gapreg"], rows["vanilla"]
    report = FittedModel.load(searched["model_path"]).training["target_gap"]
    assert searched["target_weight"] == report["weight"] and report["fits"] == 2
    assert searched["target_met"] is report["met"]
    assert searched["target_val_gap"] == report["val_gap"]
    assert searched["target_val_gap"] == searched["metrics"]["val"]["dp_gap"]
    assert not set(TARGET_COLUMNS) & set(plain)  # a run without a search has no such keys
    # fairnn results: the table gains a column, JSON and CSV carry the values
    table = api.results(swept).to_text()
    verdict = "met" if report["met"] else "missed"
    cell = f"lam={report['weight']:.3g} (val gap {report['val_gap']:.4f}; {verdict})"
    assert "target gap: weight chosen" in table and cell in table
    (as_json,) = [
        r for r in json.loads(api.results(swept, format="json").to_text()) if "target_met" in r
    ]
    assert as_json["target_weight"] == report["weight"]
    csv = api.results(swept, format="csv").to_text().splitlines()[0].split(",")
    assert {"target_weight", "target_met", "target_val_gap"} <= set(csv)
    # the report's table of configurations
    head, body = _config_table(aggregate(list(rows.values()), "test"))
    assert head[-1] == "target gap: weight chosen"
    assert sorted(r[-1] for r in body) == sorted(["-", cell])


def test_a_results_table_without_searches_is_unchanged(swept, tmp_path):
    with ResultStore(swept, create=False) as store:
        rows = [r for r in store.runs() if r["method"] == "vanilla"]
    head, _ = _config_table(aggregate(rows, "test"))
    assert "target gap: weight chosen" not in head


def test_an_older_database_gains_the_target_columns(tmp_path):
    _old_database(tmp_path / "old.db")
    with ResultStore(tmp_path / "old.db", create=False) as store:
        assert set(ADDED_COLUMNS) <= set(store.columns)
        spec = RunSpec.make(dataset="german", method="gapreg", seed=4, target_gap=0.05)
        search = {"weight": 2.5, "met": False, "val_gap": 0.07, "trials": []}
        store.record(spec, {"status": "done", "metrics": {}, "target_gap": search})
        rows = {r["seed"]: r for r in store.runs()}
    assert not set(TARGET_COLUMNS) & set(rows[3])  # the old run: no search
    assert (rows[4]["target_weight"], rows[4]["target_met"], rows[4]["target_val_gap"]) == (
        2.5,
        False,
        0.07,
    )
