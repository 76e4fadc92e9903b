"""Audits: bootstrap intervals of the final decisions (a decision rule's, not the raw
scores'), and ``--split all`` (every row of the data) for a user's model file and a saved
model directory."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file
from torch import nn
from typer.testing import CliRunner

import fairnn.methods  # noqa: F401 (registers every decision rule)
from fairnn.cli import app
from fairnn.errors import ConfigError
from fairnn.experiments.audit import audit_report
from fairnn.experiments.model_source import ModelSource
from fairnn.methods.decision import DECISION_RULES, GroupThresholds
from fairnn.methods.fitted import FittedModel
from fairnn.methods.roc import RejectOption
from fairnn.metrics import evaluate, evaluate_with_ci
from tests.synthetic import synthetic_data

#: two settings of every registered decision rule (a new rule must add its own here)
RULES = {
    "group_thresholds": (GroupThresholds([0.3, 0.7]), GroupThresholds([0.7, 0.3])),
    "reject_option": (RejectOption(0.6, 1, 2), RejectOption(0.75, 1, 2)),
}
LABEL_METRICS = ("accuracy", "balanced_accuracy", "dp_gap", "eodds_gap_sum", "eopp_gap")


@pytest.fixture(scope="module")
def scored():
    """A fixed (untrained) linear model close to the synthetic data's own logit."""
    data = synthetic_data(n=800, seed=3)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(data.n_features, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.5, -1.0, 0.5, 0.0, 0.0]]))
        net[0].bias.zero_()
    return FittedModel.from_module(net, data, method="user"), data


def _audit(fitted, data, rule=None, bootstrap=200):
    fitted.decision = rule
    return audit_report(
        fitted, data, model="m", data="synthetic", split="test", bootstrap=bootstrap, seed=0
    )


def test_every_rule_has_example_settings():
    assert set(RULES) == set(DECISION_RULES.names())


@pytest.mark.parametrize("kind", sorted(RULES))
def test_intervals_are_those_of_the_rules_decisions(scored, kind):
    fitted, data = scored
    base = _audit(fitted, data)
    reports = [_audit(fitted, data, rule) for rule in RULES[kind]]
    for report in reports:
        for name in LABEL_METRICS:
            low, high = report["intervals"][name]
            assert low <= report["metrics"][name] <= high, (kind, name)
    # another rule, or none, decides otherwise: so do its intervals
    for name in ("dp_gap", "accuracy"):
        one, other = (r["intervals"][name] for r in reports)
        assert one != other and one != base["intervals"][name], (kind, name)


def test_the_score_interval_misses_a_rules_estimate(scored):
    """The bug: intervals drawn from the scores before the rule, beside the rule's estimate."""
    fitted, data = scored
    rule = GroupThresholds([0.8, 0.2])  # the privileged group's bar raised: ΔDP drops
    y, s = data.y.numpy(), data.group_labels()
    scores = fitted.predict_proba(data)
    decided = rule.decide(scores, data.s.numpy())
    after = evaluate(y, scores, sensitive_features=s, y_pred=decided)["dp_gap"]
    raw = evaluate_with_ci(y, scores, sensitive_features=s, n_resamples=200)["dp_gap"]
    fixed = evaluate_with_ci(y, scores, sensitive_features=s, n_resamples=200, y_pred=decided)
    assert not raw.low <= after <= raw.high  # what audit printed before
    assert fixed["dp_gap"].estimate == pytest.approx(after, abs=1e-12)
    assert fixed["dp_gap"].low <= after <= fixed["dp_gap"].high
    # scores still drive the score metrics
    assert fixed["ap"] == evaluate_with_ci(y, scores, sensitive_features=s, n_resamples=200)["ap"]


# -- --split all ---------------------------------------------------------------------------
runner = CliRunner()
COLS = ["f0", "f1", "f2"]


@pytest.fixture(scope="module")
def user_model_file(tmp_path_factory):
    """A user's (untrained, seeded) network as safetensors + JSON, and a 200-row table."""
    d = tmp_path_factory.mktemp("split_all")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=COLS)
    frame["y"] = (frame["f0"] + rng.normal(size=200) > 0).astype(int)
    frame["sex"] = rng.choice(["F", "M"], 200)
    frame.to_csv(d / "t.csv", index=False)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    save_file(net.state_dict(), str(d / "m.safetensors"))
    layers = [
        {"type": "Linear", "in_features": 3, "out_features": 4},
        {"type": "ReLU"},
        {"type": "Linear", "in_features": 4, "out_features": 1},
    ]
    (d / "m.json").write_text(json.dumps({"type": "sequential", "layers": layers}))
    return d


def _rows(*args) -> int:
    r = runner.invoke(app, [*map(str, args), "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return json.loads(r.output.strip().splitlines()[-1])["rows"]


def test_split_all_audits_every_row_of_a_model_files_data(user_model_file, tmp_path):
    d = user_model_file
    own = ["--model-file", d / "m.safetensors", "--data", d / "t.csv"]
    own += ["--label", "y", "--sensitive", "sex"]
    assert _rows("audit", *own, "--split", "all") == 200
    assert _rows("audit", *own, "--split", "test") < 200
    r = runner.invoke(app, ["audit", *map(str, own), "--split", "everything"])
    assert r.exit_code != 0 and "--split must be one of train, val, test, all" in r.output
    # saved as a model directory, it keeps its data: all is every row of it again
    source = ModelSource.user(d / "m.safetensors", str(d / "t.csv"), label="y", sensitive="sex")
    fitted, _ = source.load()
    fitted.save(tmp_path / "model")
    assert _rows("audit", tmp_path / "model", "--split", "all") == 200


def test_split_is_checked_before_anything_loads():
    source = ModelSource.user("no-such.safetensors", "no-such.csv", label="y", sensitive="s")
    from fairnn.experiments.audit import audit_source

    with pytest.raises(ConfigError, match="--split must be one of"):
        audit_source(source, split="everything")
