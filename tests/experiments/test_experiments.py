"""Run specs, their hash, and the training protocols recipes imply."""

from __future__ import annotations

import pytest

from fairnn.errors import ConfigError
from fairnn.experiments import RunSpec, protocol, run_spec
from fairnn.experiments.run import method_params, train_config


def test_spec_key_is_stable_and_ignores_runtime_settings():
    a = RunSpec.make(dataset="adult", method="gapreg", params={"lam": 0.3}, seed=1)
    b = RunSpec.make(dataset="adult", method="gapreg", params={"lam": 0.3}, seed=1)
    assert a.key() == b.key()
    assert (
        a.key() != RunSpec.make(dataset="adult", method="gapreg", params={"lam": 0.3}, seed=2).key()
    )
    c = RunSpec.make(
        dataset="adult", method="gapreg", params={"lam": 0.3}, seed=1, train={"device": "cuda"}
    )
    assert c.key() == a.key()
    with pytest.raises(ConfigError, match="seed"):
        RunSpec.make(dataset="adult", seed=-1)


def test_mode_reaches_methods_that_take_it():
    spec = RunSpec.make(dataset="adult", method="gapreg", mode="eo")
    assert method_params(spec) == {"mode": "eo"}
    assert method_params(RunSpec.make(dataset="adult", method="vanilla", mode="eo")) == {}
    # an explicit parameter wins over --mode
    spec = RunSpec.make(dataset="adult", method="gapreg", mode="eo", params={"mode": "dp"})
    assert method_params(spec) == {"mode": "dp"}


def test_runner_protocol_follows_the_official_code():
    dp = protocol("runner", "dp", "gapreg")
    assert dp["sampler"] == "balanced" and dp["per_cell"] == 500 and dp["balance"] == "group"
    assert dp["epochs"] == 10 and dp["steps_per_epoch"] == 100 and dp["lr"] == 1e-3
    assert dp["select"] == "dp_gap" and dp["select_from"] == 1
    eo = protocol("runner", "eo", "gapreg")
    assert eo["balance"] == "group_label" and eo["select"] == "eodds_gap_sum"
    # RUNNER's EO-mode vanilla draws 2,000 rows uniformly at random
    van = protocol("runner", "eo", "van")
    assert van["sampler"] == "random" and van["batch_size"] == 2000
    # user settings win over the protocol
    spec = RunSpec.make(dataset="adult", recipe="runner", method="gapreg", train={"epochs": 3})
    assert train_config(spec).epochs == 3 and train_config(spec).sampler == "balanced"


def test_runner_recipe_run_selects_on_validation_gap():
    spec = RunSpec.make(
        dataset="adult",
        recipe="runner",
        method="gapreg",
        params={"lam": 0.3},
        mode="dp",
        train={"epochs": 3, "steps_per_epoch": 5},
    )
    result = run_spec(spec, runtime={"progress": False})
    training = result.fitted.training
    assert training["select"] == "dp_gap" and training["best_epoch"] >= 1
    gaps = [h["val_dp_gap"] for h in training["history"]]
    assert gaps[training["best_epoch"]] == min(gaps[1:])
    assert result.splits.train.n_features == 120
    assert result.metrics["val"]["dp_gap"] == pytest.approx(gaps[training["best_epoch"]], abs=1e-12)
