"""Decisions (issue 18, item 3): a decision threshold the model keeps, class weights for
imbalanced labels, the per-split decision report, and ROC's report of the θ it chose
with a warning when it makes the validation gap worse."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from fairnn.api_results import decision_lines
from fairnn.cli import app
from fairnn.datasets.core import Feature, FeatureMeta, GroupInfo, TabularData
from fairnn.errors import ConfigError, InvalidValueError
from fairnn.methods import FittedModel, make_method
from fairnn.methods.decision import GroupThresholds, decision_report, with_threshold
from fairnn.methods.roc import RejectOption
from fairnn.training import TrainConfig, primary_loss

runner = CliRunner()


def imbalanced(n: int, seed: int) -> TabularData:
    """About 10 % positives (9-14 % by seed), driven by x0 and x1; two groups."""
    g = torch.Generator().manual_seed(seed)
    s = torch.randint(2, (n,), generator=g)
    X = torch.randn(n, 4, generator=g)
    y = (torch.rand(n, generator=g) < torch.sigmoid(2.0 * X[:, 0] - X[:, 1] - 3.5)).float()
    feats = FeatureMeta(tuple(Feature(f"x{i}", f"x{i}", "continuous", -10, 10) for i in range(4)))
    return TabularData(X, y, s, feats, GroupInfo(("g",), ("a", "b")))


def quick(**kw) -> TrainConfig:
    return TrainConfig(epochs=kw.pop("epochs", 5), batch_size=32, lr=1e-2, progress=False, **kw)


# -- settings ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, 1, -0.2, 1.5])
def test_a_threshold_outside_0_1_names_the_option_and_the_fix(value):
    with pytest.raises(ConfigError, match=r"'threshold'.*\(0, 1\).*--threshold"):
        TrainConfig(threshold=value)


@pytest.mark.parametrize("value", [-1, 0, "heavy", True])
def test_a_bad_class_weight_names_the_option_and_the_fix(value):
    with pytest.raises(ConfigError, match=r"'class_weight'.*--class-weight balanced"):
        TrainConfig(class_weight=value)


def test_class_weight_becomes_the_positive_class_weight():
    assert TrainConfig(class_weight="balanced").pos_weight(10, 90) == 9.0
    assert TrainConfig(class_weight="2.5").pos_weight(10, 90) == 2.5  # text from a file
    assert TrainConfig().pos_weight(10, 90) is None
    with pytest.raises(InvalidValueError, match="both labels"):
        TrainConfig(class_weight="balanced").pos_weight(0, 90)


def test_pos_weight_weighs_each_positive_row_in_the_loss():
    logits, y = torch.tensor([0.3, -1.0, 2.0]), torch.tensor([1.0, 0.0, 1.0])
    loss = primary_loss(logits, y, None, "binary", torch.tensor(4.0))
    per_row = -(
        4 * y * torch.log(torch.sigmoid(logits)) + (1 - y) * torch.log(torch.sigmoid(-logits))
    )
    assert torch.isclose(loss, per_row.mean())


# -- training ----------------------------------------------------------------------------
def test_balanced_class_weight_raises_the_true_positive_rate():
    """Measured over seeds 0-9 (400 rows, 5 epochs): TPR 0.22-0.76 unweighted, 0.66-0.95
    balanced, each seed's rise 0.19-0.61."""
    rises = []
    for seed in range(3):
        train, val = imbalanced(400, seed), imbalanced(400, 100 + seed)
        pos = val.y.numpy() > 0.5
        tpr = {}
        for cw in (None, "balanced"):
            config = quick(class_weight=cw, select="last")
            fitted = make_method("vanilla").fit(train, val, config=config, seed=seed)
            tpr[cw] = fitted.predict(val)[pos].mean()
            n_pos = float(train.y.sum())
            expected = None if cw is None else (len(train) - n_pos) / n_pos
            assert fitted.training["pos_weight"] == pytest.approx(expected)
        rises.append(tpr["balanced"] - tpr[None])
    assert min(rises) > 0.1 and np.mean(rises) > 0.2, rises


def test_class_weight_counts_sample_weights_and_refuses_regression():
    data = imbalanced(200, 0)
    w = np.where(data.y.numpy() > 0.5, 3.0, 1.0).astype(np.float32)
    fitted = make_method("vanilla").fit(
        data.with_weights(w), None, config=quick(epochs=1, class_weight="balanced", select="last")
    )
    n_pos = float(data.y.sum())
    assert fitted.training["pos_weight"] == pytest.approx((len(data) - n_pos) / (3 * n_pos))
    reg = TabularData(data.X, data.X[:, 0], data.s, data.features, data.groups, task="regression")
    with pytest.raises(ConfigError, match="drop --class-weight"):
        make_method("vanilla").fit(
            reg, None, config=quick(epochs=1, class_weight=2.0, select="last")
        )


def test_the_model_keeps_its_threshold_in_decisions_metrics_selection_and_file(tmp_path):
    train, val = imbalanced(300, 1), imbalanced(300, 2)
    config = quick(epochs=1, threshold=0.2, select="accuracy")
    fitted = make_method("vanilla").fit(train, val, config=config)
    p = fitted.predict_proba(val)
    assert fitted.threshold == 0.2
    assert np.array_equal(fitted.predict(val), (p > 0.2).astype(np.int64))
    y = val.y.numpy()
    at_02, at_05 = ((p > 0.2) == y).mean(), ((p > 0.5) == y).mean()
    assert at_02 != at_05  # so the checks below can tell the thresholds apart
    assert fitted.evaluate(val)["accuracy"] == pytest.approx(at_02)
    assert fitted.training["history"][0]["val_accuracy"] == pytest.approx(at_02)
    fitted.save(tmp_path / "m")
    loaded = FittedModel.load(tmp_path / "m")
    assert loaded.threshold == 0.2 and loaded.training["config"]["threshold"] == 0.2
    assert np.array_equal(loaded.predict(val), fitted.predict(val))


# -- the decision report -----------------------------------------------------------------
def test_decision_report_gives_each_split_its_threshold_selection_rate_and_tpr():
    train, val = imbalanced(300, 3), imbalanced(300, 4)
    fitted = make_method("vanilla").fit(train, val, config=quick(epochs=1, select="last"))
    moved = with_threshold(fitted, 0.3)
    assert fitted.threshold == 0.5 and moved.threshold == 0.3  # a copy
    report = decision_report(moved, [("train", train), ("val", val)])
    assert report["rule"] == "threshold" and report["threshold"] == 0.3
    for name, data in (("train", train), ("val", val)):
        decided = moved.predict_proba(data) > 0.3
        pos = data.y.numpy() > 0.5
        got = report["splits"][name]
        assert got["threshold"] == 0.3
        assert got["selection_rate"] == pytest.approx(decided.mean())
        assert got["tpr"] == pytest.approx(decided[pos].mean())
    with pytest.raises(InvalidValueError, match="--threshold"):
        with_threshold(fitted, 1.0)
    grouped = FittedModel(**{**vars(fitted), "decision": GroupThresholds([0.4, 0.6])})
    with pytest.raises(ConfigError, match="drop --threshold"):
        with_threshold(grouped, 0.3)
    assert decision_report(grouped, [("val", val)])["threshold"] is None


# -- ROC ---------------------------------------------------------------------------------
def test_reject_option_centres_its_region_on_the_threshold():
    p = np.linspace(0.0, 1.0, 201)
    s = np.arange(201) % 2
    at_half = RejectOption(0.6, 1, 2)
    assert np.array_equal(at_half.critical(p), np.maximum(p, 1 - p) <= 0.6)  # as before
    moved = at_half.with_threshold(0.3)
    assert moved.theta == 0.6 and moved.threshold == 0.3
    inside = np.abs(p - 0.3) <= 0.1 + 1e-12
    edge = np.isclose(np.abs(p - 0.3), 0.1)
    assert np.array_equal(moved.critical(p)[~edge], inside[~edge])
    decided = moved.decide(p, s)
    assert np.array_equal(decided[~inside], (p[~inside] > 0.3).astype(np.int64))
    twin = moved.as_module()(torch.tensor(p), torch.tensor(s))
    assert np.array_equal(twin.numpy(), decided)


def roc_case() -> tuple[FittedModel, TabularData, TabularData]:
    """A base model whose decisions have no DP gap on validation: 1[x0 > 0] with x0 spread
    the same in both groups; scores near 0.5 for many rows, so a wide θ flips many."""
    n = 200
    x = torch.linspace(-1, 1, n).repeat(2)
    s = torch.cat([torch.zeros(n), torch.ones(n)]).long()
    y = (x > 0).float()
    feats = FeatureMeta((Feature("x0", "x0", "continuous", -10, 10),))
    data = TabularData(x[:, None], y, s, feats, GroupInfo(("g",), ("a", "b")))
    net = torch.nn.Sequential(torch.nn.Linear(1, 1))
    with torch.no_grad():
        net[0].weight.fill_(2.0)
        net[0].bias.zero_()
    return FittedModel.from_module(net, data, mlp=False), data, data


def test_roc_reports_the_theta_it_chose_and_the_range_it_searched():
    base, train, val = roc_case()
    roc = make_method("roc", search=True, grid=[0.55, 0.5, 0.7]).repair(base, train, val)
    report = decision_report(roc, [("val", val)])
    assert report["rule"] == "reject_option" and report["theta"] == roc.decision.theta == 0.5
    assert report["chosen"]["searched"] == {"from": 0.5, "to": 0.7, "values": 3}
    assert report["chosen"]["val_gap"] == {"metric": "dp_gap", "before": 0.0, "after": 0.0}
    assert "warning" not in report["chosen"]


def test_roc_warns_when_its_theta_makes_the_validation_gap_worse(caplog):
    base, train, val = roc_case()
    with caplog.at_level(logging.WARNING, logger="fairnn.methods.roc"):
        roc = make_method("roc", theta=0.7, privileged=0).repair(base, train, val)
    gap = roc.training["roc"]["val_gap"]
    assert gap["before"] == 0.0 and gap["after"] > 0.3
    warning = roc.training["roc"]["warning"]
    assert warning.startswith("ROC at θ=0.7 made ΔDP worse on validation: 0.000 → ")
    assert "--search" in warning and warning in caplog.text
    report = decision_report(roc, [("val", val)])
    assert report["chosen"]["warning"] == warning and "searched" not in report["chosen"]
    assert "warning: ROC at θ=0.7" in "\n".join(decision_lines(report))


# -- command line ------------------------------------------------------------------------
def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def last_json(output: str):
    return json.loads([ln for ln in output.splitlines() if ln.strip()][-1])


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> str:
    data = imbalanced(300, 7)
    df = pd.DataFrame(data.X.numpy(), columns=[f"x{i}" for i in range(4)])
    df["y"], df["g"] = data.y.numpy().astype(int), np.where(data.s.numpy() == 1, "b", "a")
    path = tmp_path_factory.mktemp("thr") / "imbalanced.csv"
    df.to_csv(path, index=False)
    return str(path)


def test_cli_threshold_and_class_weight_reach_the_model_and_the_reports(table, tmp_path):
    out = tmp_path / "m"
    own = ["--data", table, "--label", "y", "--sensitive", "g", "--epochs", "1"]
    r = invoke("train", *own, "--threshold", "0.3", "--class-weight", "balanced",
               "--out", str(out), "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    decision = last_json(r.output)["decision"]
    assert decision["rule"] == "threshold" and set(decision["splits"]) == {"train", "val", "test"}
    assert all(s["threshold"] == 0.3 for s in decision["splits"].values())
    side = json.loads((out / "model.json").read_text())
    assert side["threshold"] == 0.3 and side["training"]["config"]["class_weight"] == "balanced"
    assert side["training"]["pos_weight"] > 1
    r = invoke("audit", str(out), "--threshold", "0.7")
    assert r.exit_code == 0 and "decisions: 1[p > 0.7]; positive decisions: test" in r.output
    r = invoke("repair", str(out), "--method", "roc", "--out", str(tmp_path / "r"), "--json")
    assert r.exit_code == 0, r.output
    assert last_json(r.output)["decision"]["threshold"] == 0.3  # ROC keeps the model's threshold
    for bad, word in (
        (["--threshold", "1.5"], "threshold"),
        (["--class-weight", "-1"], "class_weight"),
    ):
        r = runner.invoke(app, ["train", *own, *bad])
        assert r.exit_code == 2 and word in r.output and "--" + word.replace("_", "-") in r.output
