"""Option validation and the error tree (issue 16, item 5).

Every numeric option of the CLI and its library function refuses out-of-range, non-finite
and wrong-type values with a :class:`FairnnError` naming the field (exit 2 on the CLI);
pydantic's and scikit-learn's exceptions reach users as fairnn errors that still satisfy
scikit-learn's expectations (``ValueError``, ``TypeError``, ``NotFittedError``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse
import sklearn.exceptions
from typer.testing import CliRunner

from fairnn.certify.api import certify_global, certify_local, certify_model
from fairnn.cli import app
from fairnn.errors import ConfigError, FairnnError, InvalidValueError
from fairnn.experiments.reproductions import get_reproduction
from fairnn.experiments.spec import Constraint, RunSpec
from fairnn.methods import get_method
from fairnn.methods.base import Architecture
from fairnn.papers.nnff.study import run_nnff
from fairnn.sklearn import FairClassifier, InvalidTypeError, NotFittedError
from fairnn.training.config import TrainConfig
from fairnn.validation import ConfigModel, check_number
from tests.synthetic import biased_arrays

runner = CliRunner()
TINY = {"hidden": (8,), "epochs": 2, "batch_size": 64, "random_state": 0}


# -- the library: a table of bad calls ------------------------------------------------------
def _assign(obj: Any, name: str, value: Any) -> Callable[[], None]:
    return lambda: setattr(obj, name, value)


def _repro(seeds: Any) -> Callable[[], Any]:
    return lambda: get_reproduction("nnff")(Path("unused"), seeds=seeds)


API_CASES: list[tuple[str, Callable[[], Any], type[FairnnError], str]] = [
    # pydantic models: construction, model_validate, JSON, assignment, nesting
    ("train lr 0", lambda: TrainConfig(lr=0), ConfigError, "'lr'"),
    ("train lr nan", lambda: TrainConfig(lr=float("nan")), ConfigError, "'lr'"),
    ("train epochs 0", lambda: TrainConfig(epochs=0), ConfigError, "'epochs'"),
    ("train epochs str", lambda: TrainConfig(epochs="x"), ConfigError, "'epochs'"),
    ("train batch -1", lambda: TrainConfig.make(batch_size=-1), ConfigError, "'batch_size'"),
    ("train unknown", lambda: TrainConfig(lrate=0.1), ConfigError, "'lrate'"),
    (
        "train validate",
        lambda: TrainConfig.model_validate({"lr_decay": 0}),
        ConfigError,
        "lr_decay",
    ),
    (
        "train json",
        lambda: TrainConfig.model_validate_json('{"patience": 0}'),
        ConfigError,
        "patience",
    ),
    ("train assign", _assign(TrainConfig(), "momentum", 1.5), ConfigError, "'momentum'"),
    ("train weight decay", lambda: TrainConfig(weight_decay=-1), ConfigError, "weight_decay"),
    ("spec seed", lambda: RunSpec.make(dataset="german", seed=-1), ConfigError, "'seed'"),
    ("spec seed direct", lambda: RunSpec(dataset="german", seed=-1), ConfigError, "'seed'"),
    (
        "spec gamma",
        lambda: RunSpec(dataset="german", constraint={"gamma": 2}),
        ConfigError,
        "gamma",
    ),
    ("constraint", lambda: Constraint(gamma=-0.1), ConfigError, "'gamma'"),
    ("arch dropout", lambda: Architecture(dropout=1.0), ConfigError, "'dropout'"),
    ("arch width", lambda: Architecture(width=0), ConfigError, "'width'"),
    ("method param", lambda: get_method("gapreg")(lam=-1), ConfigError, "'lam'"),
    # plain functions: certificates, NNFF, reproductions (checked before any work)
    ("certify local -1", lambda: certify_model(None, eps=0.1, local=-1), ConfigError, "local"),
    ("certify local 1.5", lambda: certify_model(None, eps=0.1, local=1.5), ConfigError, "local"),
    (
        "global time -1",
        lambda: certify_global(None, eps=0.1, time_limit=-1),
        ConfigError,
        "time_limit",
    ),
    (
        "global time 0",
        lambda: certify_global(None, eps=0.1, time_limit=0),
        ConfigError,
        "time_limit",
    ),
    (
        "global time inf",
        lambda: certify_global(None, eps=0.1, time_limit=float("inf")),
        ConfigError,
        "time_limit",
    ),
    ("global eps nan", lambda: certify_global(None, eps=float("nan")), InvalidValueError, "eps"),
    (
        "local eps -1",
        lambda: certify_local(None, np.zeros((1, 2)), eps=-1),
        InvalidValueError,
        "eps",
    ),
    (
        "local time nan",
        lambda: certify_local(None, np.zeros((1, 2)), eps=0.1, time_limit=float("nan")),
        ConfigError,
        "time_limit",
    ),
    ("nnff draws 0", lambda: run_nnff(draws=0), ConfigError, "draws"),
    ("nnff eps 0", lambda: run_nnff(eps=0.0), ConfigError, "eps"),
    ("nnff epochs -1", lambda: run_nnff(epochs=-1), ConfigError, "epochs"),
    ("reproduce no seeds", _repro([]), ConfigError, "seeds"),
    ("reproduce seed -1", _repro([0, -1]), ConfigError, "seed"),
]


@pytest.mark.parametrize(
    ("call", "error", "field"),
    [pytest.param(c, e, f, id=name) for name, c, e, f in API_CASES],
)
def test_bad_values_raise_a_fairnn_error_naming_the_field(call, error, field):
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, FairnnError) and isinstance(info.value, ValueError)
    assert field in str(info.value)
    assert "\n" not in str(info.value)


def test_config_model_keeps_pydantic_behaviour():
    class Inner(ConfigModel, what="inner setting"):
        x: int = 1

    class Outer(ConfigModel):
        inner: Inner = Inner()

    assert Outer(inner={"x": 3}).inner.x == 3 and Outer.model_validate({}).inner.x == 1
    assert Inner.what == "inner setting" and Outer.what == "setting"
    with pytest.raises(ConfigError, match=r"^setting 'inner.x': .*got 'a'"):
        Outer(inner={"x": "a"})  # a nested error is reported once, by the outer model
    cfg = TrainConfig(lr=0.01)
    cfg.lr = 0.02  # valid assignment still works
    assert cfg.lr == 0.02 and cfg.model_copy(update={"epochs": 3}).epochs == 3


@pytest.mark.parametrize(
    ("value", "kwargs", "ok"),
    [
        (0.5, {"gt": 0, "lt": 1}, True),
        (np.float32(0.5), {"gt": 0}, True),
        (np.int64(3), {"integer": True, "ge": 1}, True),
        (1.0, {"gt": 0, "lt": 1}, False),
        (float("inf"), {}, False),
        (float("nan"), {}, False),
        ("1", {}, False),
        (True, {"integer": True}, False),
        (2.0, {"integer": True}, False),
        (-1, {"integer": True, "ge": 0}, False),
    ],
)
def test_check_number(value, kwargs, ok):
    if ok:
        check_number(value, "x", **kwargs)
    else:
        with pytest.raises(ConfigError, match=r"^x must be .*, got "):
            check_number(value, "x", **kwargs)


# -- scikit-learn: fairnn errors of the kinds scikit-learn expects ------------------------------
@pytest.fixture(scope="module")
def data():
    X, y, a = biased_arrays(200, 4, 0)
    return X, y, a


@pytest.fixture(scope="module")
def roc(data):
    X, y, a = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FairClassifier("roc", **TINY).fit(X, y, sensitive_features=a)


@pytest.mark.parametrize(
    ("case", "kinds", "field"),
    [
        ("unfitted", (NotFittedError, sklearn.exceptions.NotFittedError, AttributeError), "fit"),
        ("nan_X", (InvalidValueError, ValueError), "NaN"),
        ("sparse_X", (InvalidTypeError, TypeError), "Sparse"),
        ("object_X", (InvalidTypeError, TypeError), "argument must be a string"),
        ("multiclass", (InvalidValueError, ValueError), "binary"),
        ("one_class", (InvalidValueError, ValueError), "one class"),
        ("continuous_y", (InvalidValueError, ValueError), "Unknown label type"),
        ("short_weights", (InvalidValueError, ValueError), "sample_weight"),
        ("random_state", (InvalidValueError, ValueError), "random_state"),
        ("validation_fraction", (ConfigError, ValueError), "validation_fraction"),
        ("lr", (ConfigError, ValueError), "'lr'"),
        ("train_options", (ConfigError, ValueError), "'bogus'"),
        ("method_param", (ConfigError, ValueError), "'lam'"),
        ("n_features", (InvalidValueError, ValueError), "features"),
        ("roc_without_groups", (InvalidValueError, ValueError), "sensitive_features="),
    ],
)
def test_fair_classifier_errors_are_fairnn_and_sklearn_kinds(data, roc, case, kinds, field):
    X, y, a = data
    fit = FairClassifier(epochs=1, hidden=(4,)).fit
    calls = {
        "unfitted": lambda: FairClassifier().predict(X),
        "nan_X": lambda: fit(np.where(X > 1, np.nan, X), y),
        "sparse_X": lambda: fit(scipy.sparse.csr_matrix(X), y),
        "object_X": lambda: fit(np.array([[{"a": 1}, 1.0]] * 20, dtype=object), np.arange(20) % 2),
        "multiclass": lambda: fit(X, np.arange(len(X)) % 3),
        "one_class": lambda: fit(X, np.zeros(len(X))),
        "continuous_y": lambda: fit(X, np.linspace(0, 1, len(X))),
        "short_weights": lambda: fit(X, y, sample_weight=np.ones(3)),
        "random_state": lambda: FairClassifier(epochs=1, random_state=-1).fit(X, y),
        "validation_fraction": lambda: FairClassifier(validation_fraction="a").fit(X, y),
        "lr": lambda: FairClassifier(epochs=1, lr=-1.0).fit(X, y),
        "train_options": lambda: FairClassifier(epochs=1, train_options={"bogus": 1}).fit(X, y),
        "method_param": lambda: FairClassifier("gapreg", lam=-1).fit(X, y, sensitive_features=a),
        "n_features": lambda: roc.predict_proba(X[:, :2]),
        "roc_without_groups": lambda: roc.predict(X),
    }
    with pytest.raises(FairnnError) as info:
        calls[case]()
    assert all(isinstance(info.value, k) for k in kinds), type(info.value).__mro__
    assert field in str(info.value)
    assert "s=..." not in str(info.value)


def test_roc_predicts_with_the_groups(data, roc):
    X, y, a = data
    assert set(np.unique(roc.predict(X, sensitive_features=a))) <= {0, 1}
    assert 0.0 <= roc.score(X, y, sensitive_features=a) <= 1.0


# -- the CLI: exit 2 and the option named; the now-correct behaviour -------------------------
@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("robust") / "m"
    args = ["train", "--data", "german", "--epochs", "1", "--hidden", "8", "--out", str(out), "-q"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return out


CLI_CASES = [
    (["audit", "{m}", "--bootstrap", "-5"], "bootstrap"),
    (["audit", "{m}", "--bootstrap", "1"], "bootstrap"),
    (["certify", "{m}", "--eps", "0.1", "--local", "-1"], "local"),
    (["certify", "{m}", "--eps", "0.1", "--local", "2", "--time-limit", "-1"], "time_limit"),
    (["certify", "{m}", "--eps", "0.1", "--time-limit", "0"], "time_limit"),
    (["certify", "{m}", "--eps", "0.1", "--time-limit", "nan"], "time_limit"),
    (["certify", "{m}", "--eps", "0.1", "--time-limit", "inf"], "time_limit"),
    (["certify", "{m}", "--eps", "-1"], "eps"),
    (["certify", "{m}", "--eps", "inf"], "eps"),
    (["repair", "{m}", "--method", "roc", "--seed", "-1", "--out", "{tmp}/r"], "seed"),
    (["repair", "{m}", "--method", "roc", "--epochs", "0", "--out", "{tmp}/r"], "epochs"),
    (["repair", "{m}", "--method", "roc", "--lr", "-1", "--out", "{tmp}/r"], "lr"),
    (["train", "--data", "german", "--epochs", "0"], "epochs"),
    (["train", "--data", "german", "--batch-size", "0"], "batch_size"),
    (["train", "--data", "german", "--lr", "0"], "lr"),
    (["train", "--data", "german", "--lr-decay", "1.5"], "lr_decay"),
    (["train", "--data", "german", "--lr-decay-every", "0"], "lr_decay_every"),
    (["train", "--data", "german", "--patience", "0"], "patience"),
    (["train", "--data", "german", "--weight-decay", "-1"], "weight_decay"),
    (["train", "--data", "german", "--flood-level", "-1"], "flood_level"),
    (["train", "--data", "german", "--fnr-gap", "2"], "gamma"),
    (["train", "--data", "german", "--width", "0"], "width"),
    (["train", "--data", "german", "--seed", "-1"], "seed"),
    (["nnff", "--draws", "0"], "draws"),
    (["nnff", "--epochs", "-1"], "epochs"),
    (["nnff", "--eps", "0"], "eps"),
    (["nnff", "--seed", "-1"], "seed"),
    (["reproduce", "runner", "--seeds", "0", "--out", "{tmp}/rep"], "seeds"),
    (["reproduce", "runner", "--seeds", "-2", "--out", "{tmp}/rep"], "seeds"),
    (["demo", "--seed", "-1", "--out", "{tmp}/demo"], "seed"),
]


@pytest.mark.parametrize(("args", "field"), CLI_CASES, ids=lambda v: " ".join(v)[:60])
def test_cli_refuses_bad_numbers(model_dir, tmp_path, args, field):
    argv = [a.format(m=model_dir, tmp=tmp_path) for a in args]
    r = runner.invoke(app, argv)
    assert r.exit_code == 2, r.output
    assert "error:" in r.output and field in r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "r").exists() and not (tmp_path / "rep").exists()


def test_cli_zero_means_none_or_global(model_dir):
    r = runner.invoke(app, ["audit", str(model_dir), "--bootstrap", "0"])
    assert r.exit_code == 0 and "bootstrap intervals" not in r.output
    r = runner.invoke(app, ["audit", str(model_dir), "--bootstrap", "2"])
    assert r.exit_code == 0 and "bootstrap intervals" in r.output
    r = runner.invoke(app, ["certify", str(model_dir), "--eps", "0.1", "--local", "0", "-q"])
    assert r.exit_code == 0 and "global ε-δ-IF" in r.output and "around" not in r.output
    r = runner.invoke(app, ["certify", str(model_dir), "--eps", "0.1", "--local", "2", "-q"])
    assert r.exit_code == 0 and "around 2 rows" in r.output
