"""The command line: datasets, methods, train, audit, and its error messages."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairnn.cli import app, parse_extra

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_parse_extra_method_parameters():
    assert parse_extra(["--lam", "0.3", "--neuron_ratio=0.05", "--mode", "eo"]) == {
        "lam": 0.3,
        "neuron_ratio": 0.05,
        "mode": "eo",
    }
    assert parse_extra(["--fairness-layers", "128", "128", "--eta", "-1e-3"]) == {
        "fairness_layers": [128, 128],
        "eta": -1e-3,
    }


def test_datasets_list_and_info():
    r = invoke("datasets")
    assert r.exit_code == 0
    for name in ("adult", "compas", "german", "credit", "lsac", "bank", "boston"):
        assert name in r.output
    r = invoke("datasets", "info", "adult", "--json")
    info = json.loads(r.output)
    assert info["present"] and "CC BY 4.0" in info["license"]


def test_methods_list():
    r = invoke("methods")
    assert "vanilla" in r.output and "gapreg" in r.output


def test_train_json_then_audit(tmp_path):
    out = tmp_path / "m"
    r = invoke(
        "train",
        "--data",
        "german",
        "--method",
        "gapreg",
        "--lam",
        "0.5",
        "--epochs",
        "2",
        "--seed",
        "1",
        "--out",
        str(out),
        "--json",
    )
    assert r.exit_code == 0, r.output
    res = last_json(r.output)
    assert set(res) >= {
        "run_id",
        "dataset",
        "recipe",
        "method",
        "params",
        "seed",
        "metrics",
        "time_s",
        "model_path",
    }
    assert res["params"] == {"lam": 0.5, "mode": "dp"} and res["seed"] == 1
    assert set(res["metrics"]) == {"train", "val", "test"}
    assert {"accuracy", "ap", "dp_gap", "eodds_gap_sum", "eodds_gap_max"} <= set(
        res["metrics"]["test"]
    )
    r = invoke("audit", str(out), "--json")
    assert r.exit_code == 0, r.output
    audit = last_json(r.output)
    # the audit reloads the same split and reproduces the training run's test metrics
    for k in ("accuracy", "ap", "dp_gap"):
        assert audit["metrics"][k] == pytest.approx(res["metrics"]["test"][k], abs=1e-12)
    assert len(audit["by_group"]) == 2
    r = invoke("audit", str(out), "--bootstrap", "50")
    assert r.exit_code == 0 and "95% bootstrap" in r.output and "by group" in r.output


def test_train_on_own_csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame(
        {
            "income": rng.normal(50, 10, n),
            "region": rng.choice(["north", "south", "east"], n),
            "gender": rng.choice(["f", "m"], n),
        }
    )
    df["approved"] = (df["income"] + rng.normal(0, 5, n) > 50).astype(int)
    path = tmp_path / "synthetic_loans.csv"
    df.to_csv(path, index=False)
    r = invoke(
        "train",
        "--data",
        str(path),
        "--label",
        "approved",
        "--sensitive",
        "gender",
        "--epochs",
        "10",
        "--json",
    )
    assert r.exit_code == 0, r.output
    # test accuracy over seeds 0-7 (80 test rows): 0.78-0.93 at 10 epochs; at 2 epochs
    # 0.64-0.91, too close to this bound for one seed on another machine
    assert last_json(r.output)["metrics"]["test"]["accuracy"] > 0.6

    # two sensitive columns: their intersections are the groups; the audit reloads the same file
    out = tmp_path / "m"
    r = invoke(
        "train",
        "--data",
        str(path),
        "--label",
        "approved",
        "--sensitive",
        "gender",
        "--sensitive",
        "region",
        "--epochs",
        "1",
        "--out",
        str(out),
        "--json",
    )
    assert r.exit_code == 0, r.output
    audit = last_json(invoke("audit", str(out), "--json").output)
    assert len(audit["by_group"]) == 6
    assert any(" & " in str(row["group"]) for row in audit["by_group"])

    # a label with three values needs --positive-label
    df["grade"] = rng.choice(["a", "b", "c"], n)
    df.to_csv(path, index=False)
    r = runner.invoke(
        app, ["train", "--data", str(path), "--label", "grade", "--sensitive", "gender"]
    )
    assert r.exit_code == 2 and "positive_label" in r.output
    r = invoke(
        "train",
        "--data",
        str(path),
        "--label",
        "grade",
        "--sensitive",
        "gender",
        "--positive-label",
        "a",
        "--epochs",
        "1",
        "--json",
    )
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--data", "adlt"], "unknown dataset 'adlt'"),
        (["train", "--data", "adult", "--method", "vanila"], "Did you mean 'vanilla'"),
        (["train", "--data", "adult", "--method", "gapreg", "--lam", "-1"], "'lam'"),
        (["train", "--data", "adult", "--method", "gapreg", "--lamda", "1"], "'lamda'"),
        (["train", "--data", "adult", "--mode", "xx"], "--mode must be dp or eo"),
        (["train", "--data", "adult", "--batch-size", "0"], "batch_size"),
        (["train", "--data", "adult", "--device", "cuda:7"], "CUDA"),
        (["train", "--data", "adult", "--select", "nope"], "select='nope'"),
        (["train", "--data", "some/table.csv"], "--label COL --sensitive COL"),
        (["audit", "/nonexistent/model"], "does not exist"),
    ],
)
def test_errors_are_one_clear_line(args, message):
    if "cuda:7" in args:
        pytest.importorskip("torch")
        import torch

        if torch.cuda.is_available():
            pytest.skip("CUDA present")
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output


@pytest.mark.slow
def test_acceptance_adult_vanilla_reaches_paper_level_accuracy():
    """The issue's bar: test accuracy >= 0.84 and AP >= 0.75 with the defaults."""
    r = invoke("train", "--data", "adult", "--method", "vanilla", "--seed", "0", "--json")
    m = last_json(r.output)["metrics"]["test"]
    assert m["accuracy"] >= 0.84 and m["ap"] >= 0.75, m


def test_reproduce_narrowing_options_are_checked(tmp_path):
    # a study without the option says so instead of ignoring it
    r = runner.invoke(app, ["reproduce", "nnff", "--dataset", "adult", "--out", str(tmp_path)])
    assert r.exit_code != 0 and "has no --dataset option" in r.output
    # a study with it rejects values it does not know, naming the known ones
    args = ["reproduce", "reprogramming", "--part", "figure9", "--out", str(tmp_path)]
    r = runner.invoke(app, args)
    assert r.exit_code != 0 and "parts" in r.output and "lambda" in r.output
    r = runner.invoke(app, ["reproduce", "reprogramming", "--mode", "xx", "--out", str(tmp_path)])
    assert r.exit_code != 0 and "modes" in r.output
