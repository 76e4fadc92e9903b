"""Mitigate to a target gap (issue 18 item 6): the fairness weight searched on validation for
the most accurate non-degenerate model whose gap meets the target; CLI, API and sweep
files; the search recorded in the saved model."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from fairnn import api
from fairnn.cli import app
from fairnn.errors import ConfigError
from fairnn.experiments.spec import RunSpec
from fairnn.experiments.target_gap import fairness_weight, weighted_methods
from fairnn.methods.fitted import FittedModel
from tests.synthetic import biased_arrays

runner = CliRunner()
#: a cheap search: 5 epochs on 600 rows, a grid of 3 then bisection, at most 5 fits
SEARCH = {"target": 0.1, "budget": 5, "grid": 3, "lo": 0.01, "hi": 3.0}
TRAIN = {"label": "y", "sensitive": "a", "epochs": 5, "progress": False}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    X, y, a = biased_arrays(600, 4, 0, shift=1.5)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(4)])
    frame["y"], frame["a"] = y, a
    path = tmp_path_factory.mktemp("target") / "t.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def searched(table, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "m"
    return api.train(table, method="gapreg", target_gap=SEARCH, out=out, **TRAIN)


def test_chooses_the_most_accurate_weight_that_meets_a_reachable_target(searched):
    report = searched.to_json()["target_gap"]
    trials = report["trials"]
    assert report["met"] is True and 3 < report["fits"] <= SEARCH["budget"]
    assert [t["weight"] for t in trials[:3]] == pytest.approx([0.01, 0.17320508, 3.0])
    meeting = [t for t in trials if t["val_gap"] <= 0.1 and not t["degenerate"]]
    assert meeting and trials[0]["val_gap"] > 0.1  # the lightest weight misses: a real search
    best = max(meeting, key=lambda t: t["val_accuracy"])
    assert report["weight"] == best["weight"] and report["val_gap"] <= 0.1
    # the returned model is the chosen fit, at the chosen weight
    metrics = searched.metrics
    assert metrics["val"]["dp_gap"] == report["val_gap"]
    assert metrics["test"]["dp_gap"] == report["test_gap"]
    assert searched.to_json()["params"]["lam"] == report["weight"]
    text = searched.to_text()
    assert "target gap: dp_gap <= 0.1 on val" in text and "chose lam = " in text
    assert "warning: no lam" not in text


def test_the_saved_model_records_the_search(searched):
    saved = FittedModel.load(searched.model_path)
    assert saved.training["target_gap"]["weight"] == searched.run.target_gap["weight"]
    assert len(saved.training["target_gap"]["trials"]) == searched.run.target_gap["fits"]


def test_an_unreachable_target_is_reported_with_the_closest_model(table):
    r = api.train(table, method="gapreg", target_gap={"target": 0.0, "budget": 2}, **TRAIN)
    report = r.run.target_gap
    assert report["met"] is False and report["fits"] == 2
    assert report["val_gap"] == min(t["val_gap"] for t in report["trials"])
    assert "warning: no lam in [0.01, 10] met the target 0 on val within 2 fits" in r.to_text()


def test_a_range_that_misses_everywhere_is_extended_within_the_budget(table):
    search = {**SEARCH, "hi": 0.1, "budget": 4}
    report = api.train(table, method="gapreg", target_gap=search, **TRAIN).run.target_gap
    weights = [t["weight"] for t in report["trials"]]
    assert all(t["val_gap"] > 0.1 for t in report["trials"][:3])  # the grid misses
    assert weights[3] == pytest.approx(1.0) and report["range"] == pytest.approx([0.01, 1.0])
    assert report["met"] is (report["trials"][3]["val_gap"] <= 0.1)


def test_cli_and_api_agree(table):
    args = ["train", "--data", table, "--label", "y", "--sensitive", "a", "--epochs", "5"]
    args += ["--method", "gapreg", "--target-gap", "0.1", "--target-budget", "3", "--json"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    cli = json.loads(res.output)["target_gap"]
    same = api.train(table, method="gapreg", target_gap={"target": 0.1, "budget": 3}, **TRAIN)
    assert cli == json.loads(json.dumps(same.to_json()["target_gap"])) and cli["fits"] == 3


def test_a_method_without_a_fairness_weight_names_those_with_one(table):
    assert {"gapreg", "runner", "mindiff", "adversarial"} <= set(weighted_methods())
    assert fairness_weight("runner") == "lam"
    with pytest.raises(ConfigError, match="has no fairness weight.*gapreg.*runner"):
        api.train(table, method="vanilla", target_gap=0.05, **TRAIN)
    with pytest.raises(ConfigError, match="leave lam out"):
        api.train(table, method="gapreg", params={"lam": 1}, target_gap=0.05, **TRAIN)


def test_the_spec_key_is_unchanged_without_a_target():
    plain = RunSpec.make(dataset="german", method="gapreg")
    assert "target_gap" not in plain.model_dump()
    searched = RunSpec.make(dataset="german", method="gapreg", target_gap=0.02)
    assert searched.target_gap.target == 0.02 and searched.key() != plain.key()


def test_sweep_files_take_a_target(tmp_path):
    from fairnn.experiments.sweep import SweepError, load_sweep

    f = tmp_path / "s.yaml"
    f.write_text("datasets: [german]\nmethods:\n  - name: gapreg\n    target_gap: 0.02\n")
    (spec,) = load_sweep(f).specs
    assert spec.target_gap.target == 0.02 and spec.target_gap.budget == 6
    f.write_text("datasets: [german]\nmethods:\n  - name: vanilla\n    target_gap: 0.02\n")
    with pytest.raises(SweepError, match="has no fairness weight"):
        load_sweep(f)
