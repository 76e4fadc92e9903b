"""Export: the TorchScript file (post-processing included) decides exactly as the fitted model."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from fairnn.cli import app
from fairnn.errors import ConfigError
from fairnn.export import export_model
from fairnn.methods import FittedModel, make_method
from fairnn.methods.decision import GroupThresholds
from fairnn.training import TrainConfig
from tests.synthetic import TanhNet, synthetic_data

QUICK = TrainConfig(epochs=3, select="last", progress=False)


@pytest.fixture(scope="module")
def data():
    return synthetic_data(600, seed=0), synthetic_data(400, seed=1)


def _run(path, test):
    module = torch.jit.load(str(path))
    with torch.no_grad():
        proba, decision = module(test.X, test.s)
    return proba.numpy(), decision.numpy()


def _fitted_models(train):
    vanilla = make_method("vanilla").fit(train, None, config=QUICK, architecture={"hidden": [8]})
    roc = make_method("roc", theta=0.75).fit(
        train, None, config=QUICK, architecture={"hidden": [8]}
    )
    groups = replace(vanilla, decision=GroupThresholds([0.3, 0.7]))
    torch.manual_seed(0)
    user = FittedModel.from_module(TanhNet(), train, mlp=False)
    return {"vanilla": vanilla, "roc": roc, "group_thresholds": groups, "user": user}


def test_exported_models_match_predictions(data, tmp_path):
    train, test = data
    for name, fitted in _fitted_models(train).items():
        path = export_model(fitted, tmp_path / name)
        proba, decision = _run(path, test)
        np.testing.assert_allclose(proba, fitted.predict_proba(test), rtol=0, atol=1e-6)
        expected = fitted.predict(test)
        assert np.array_equal(decision, expected), name
        if name in (
            "roc",
            "group_thresholds",
        ):  # the rule matters: without it decisions would differ
            assert not np.array_equal(decision, (fitted.predict_proba(test) > 0.5)), name
        side = json.loads((tmp_path / name / "export.json").read_text())
        assert side["inputs"]["x"]["features"] == train.features.names
        assert side["inputs"]["s"]["read"] == (name in ("roc", "group_thresholds"))


def test_cli_export_of_a_saved_model(data, tmp_path):
    train, test = data
    roc = make_method("roc", theta=0.7).fit(train, None, config=QUICK, architecture={"hidden": [8]})
    roc.save(tmp_path / "m")
    res = CliRunner().invoke(app, ["export", str(tmp_path / "m")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    _, decision = _run(tmp_path / "m-export" / "model.torchscript", test)
    assert np.array_equal(decision, FittedModel.load(tmp_path / "m").predict(test))
    res = CliRunner().invoke(app, ["export", str(tmp_path / "m"), "--format", "pickle"])
    assert res.exit_code == 2 and "torchscript" in res.output


def test_onnx_needs_the_onnx_package_or_matches(data, tmp_path):
    train, test = data
    fitted = _fitted_models(train)["roc"]
    try:
        import onnx  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="pip install 'fairnn\\[onnx\\]'"):
            export_model(fitted, tmp_path, format="onnx")
        return
    ort = pytest.importorskip("onnxruntime")
    path = export_model(fitted, tmp_path, format="onnx")
    sess = ort.InferenceSession(str(path))
    proba, decision = sess.run(None, {"x": test.X.numpy(), "s": test.s.numpy()})
    np.testing.assert_allclose(proba, fitted.predict_proba(test), atol=1e-6)
    assert np.array_equal(decision, fitted.predict(test))
