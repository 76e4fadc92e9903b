"""Bring your own model: a user's MLP built and trained outside fairnn, audited and
repaired from the CLI (safetensors + JSON spec) and the Python API."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from fairlearn.metrics import demographic_parity_difference
from safetensors.torch import save_file
from torch import nn
from typer.testing import CliRunner

from fairnn.cli import app
from fairnn.errors import ConfigError, ModelFileError
from fairnn.experiments.byo import audit_user_model, repair_user_model, user_splits
from fairnn.methods import FittedModel
from fairnn.nn.user import as_mlp, load_user_model
from tests.effects import paired_effect
from tests.synthetic import TanhNet, biased_arrays

runner = CliRunner()
COLS = ["f0", "f1", "f2", "f3"]


def invoke(*args):
    res = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return res


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])


def _table(n=1500, seed=0):
    X, y, a = biased_arrays(n, 4, seed)
    frame = pd.DataFrame(X, columns=COLS)
    frame["approved"] = np.where(y == 1, "yes", "no")
    frame["sex"] = np.where(a == 1, "M", "F")
    return frame


def _train_outside_fairnn(frame, layers):
    """A plain PyTorch loop: what a practitioner already has. ``layers()`` builds the layers
    after seeding (built before, they took torch's unseeded start and changed every run)."""
    torch.manual_seed(0)
    model = nn.Sequential(*layers())
    X = torch.tensor(frame[COLS].to_numpy(), dtype=torch.float32)
    y = torch.tensor((frame["approved"] == "yes").to_numpy(), dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(150):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(X).squeeze(-1), y)
        loss.backward()
        opt.step()
    return model.eval()


def _mlp():
    return [nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1)]


def _spec(model):
    layers = []
    for layer in model:
        if isinstance(layer, nn.Linear):
            layers.append({"type": "Linear", "in_features": layer.in_features,
                           "out_features": layer.out_features})  # fmt: skip
        else:
            layers.append({"type": type(layer).__name__})
    return {"type": "sequential", "layers": layers}


@pytest.fixture(scope="module")
def user_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("byo")
    frame = _table()
    frame.to_csv(d / "loans.csv", index=False)
    model = _train_outside_fairnn(frame, _mlp)
    save_file(model.state_dict(), str(d / "model.safetensors"))
    (d / "model.json").write_text(json.dumps(_spec(model)))
    return d, frame, model


DATA = ["--label", "approved", "--positive-label", "yes", "--sensitive", "sex"]


def test_cli_audit_of_a_user_model_matches_a_direct_computation(user_files):
    d, frame, model = user_files
    res = invoke("audit", "--model-file", d / "model.safetensors", "--data", d / "loans.csv",
                 *DATA, "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    report = last_json(res.output)
    # the same test rows, scored directly with the user's module
    test = user_splits(
        d / "loans.csv", label="approved", sensitive="sex", positive_label="yes"
    ).test
    with torch.no_grad():
        pred = (torch.sigmoid(model(test.X).squeeze(-1)) > 0.5).numpy()
    y = test.y.numpy()
    assert report["rows"] == len(test) == 300
    assert report["metrics"]["accuracy"] == pytest.approx((pred == y).mean(), abs=1e-12)
    assert report["metrics"]["dp_gap"] == pytest.approx(
        demographic_parity_difference(y, pred, sensitive_features=test.group_labels()), abs=1e-12
    )
    assert report["metrics"]["dp_gap"] > 0.2  # the user's model is unfair: worth repairing
    # the API gives the same report
    api = audit_user_model(model, frame, label="approved", sensitive="sex", positive_label="yes")
    assert api["metrics"] == pytest.approx(report["metrics"])


def test_cli_repair_roc_and_runner_then_audit_the_saved_model(user_files, tmp_path):
    d, _, _ = user_files
    res = invoke("repair", "--model-file", d / "model.safetensors", "--data", d / "loans.csv",
                 *DATA, "--method", "roc", "--theta", "0.8", "--out", tmp_path / "roc", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    roc = last_json(res.output)
    assert roc["after"]["test"]["dp_gap"] < roc["before"]["test"]["dp_gap"]
    again = last_json(invoke("audit", tmp_path / "roc", "--json").output)
    assert again["metrics"]["dp_gap"] == pytest.approx(roc["after"]["test"]["dp_gap"])
    res = invoke("repair", "--model-file", d / "model.safetensors", "--data", d / "loans.csv",
                 *DATA, "--method", "runner", "--lam", "5", "--neuron_ratio", "0.5",
                 "--epochs", "3", "--out", tmp_path / "runner", "--json", "-q")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "dp_gap_soft" in last_json(res.output)["after"]["val"]
    assert FittedModel.load(tmp_path / "runner").training["repair"]["method"] == "runner"


def test_runner_repair_of_a_user_model_lowers_its_soft_gap(user_files):
    """The repair above, over twelve seeds (each its own split), paired with the model before
    it (tests/effects.py). Measured: the validation soft ΔDP falls by 0.005 ± 0.003 (1.5 %,
    every seed; t = 4.5-5.9 over eight); with lam = 0 by 0.0003 ± 0.002 (t = 0.4)."""
    _, frame, model = user_files
    opts = {"label": "approved", "sensitive": "sex", "positive_label": "yes"}
    before, after = [], []
    for seed in range(12):
        report, _ = repair_user_model(
            model, frame, "runner", {"lam": 5, "neuron_ratio": 0.5}, train={"epochs": 3},
            seed=seed, **opts,
        )  # fmt: skip
        before.append(report["before"]["val"]["dp_gap_soft"])
        after.append(report["after"]["val"]["dp_gap_soft"])
    paired_effect(after, before, t_min=3.0)


def test_api_repair_of_a_module_in_memory(user_files):
    _, frame, model = user_files
    report, repaired = repair_user_model(
        model, frame, "roc", {"theta": 0.8}, label="approved", sensitive="sex",
        positive_label="yes",
    )  # fmt: skip
    assert repaired.decision is not None and report["model_path"] is None
    assert report["after"]["test"]["dp_gap"] < report["before"]["test"]["dp_gap"]


def test_any_module_for_audit_and_roc_but_an_mlp_for_runner(user_files):
    _, frame, _ = user_files
    opts = {"label": "approved", "sensitive": "sex", "positive_label": "yes"}
    custom = TanhNet(4, 8).eval()
    assert audit_user_model(custom, frame, **opts)["rows"] == 300
    repair_user_model(custom, frame, "roc", **opts)
    with pytest.raises(ConfigError, match="TanhNet is a custom module"):
        repair_user_model(custom, frame, "runner", **opts)
    bn = _train_outside_fairnn(
        frame, lambda: [nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1)]
    )
    assert audit_user_model(bn, frame, **opts)["rows"] == 300
    with pytest.raises(ConfigError, match=r"layer 1 \(BatchNorm1d\) is not supported"):
        repair_user_model(bn, frame, "runner", **opts)
    with pytest.raises(ConfigError, match=r"layer 1 \(BatchNorm1d\)"):
        as_mlp(bn, "certification")


def test_a_registered_dataset_with_a_user_module():
    splits = user_splits("german", seed=0)
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(splits.train.n_features, 8), nn.ReLU(), nn.Linear(8, 1))
    report = audit_user_model(module, "german")
    assert report["rows"] == len(splits.test)
    with pytest.raises(Exception, match="features"):
        audit_user_model(nn.Sequential(nn.Linear(3, 1)), "german")


def test_model_files_from_elsewhere_get_errors(user_files, tmp_path):
    d, _, model = user_files
    (tmp_path / "m.pt").write_bytes(b"\x80\x04pickle")
    with pytest.raises(ModelFileError, match="never unpickles"):
        load_user_model(tmp_path / "m.pt")
    with pytest.raises(ModelFileError, match="does not exist"):
        load_user_model(d / "model.safetensors", tmp_path / "none.json")
    bad = _spec(model)
    bad["layers"][2] = {"type": "Conv2d", "in_channels": 1}
    with pytest.raises(ModelFileError, match=r"layer 2 \(Conv2d\)"):
        load_user_model(d / "model.safetensors", bad)
    wrong = _spec(model)
    wrong["layers"][2]["out_features"] = wrong["layers"][4]["in_features"] = 32
    with pytest.raises(ModelFileError, match="wrong shapes"):
        load_user_model(d / "model.safetensors", wrong)
    with pytest.raises(ModelFileError, match="do not fit the architecture"):
        load_user_model(
            d / "model.safetensors", {"type": "mlp", "in_features": 4, "hidden": [16, 16]}
        )
    (tmp_path / "x.safetensors").write_bytes(b"not safetensors")
    (tmp_path / "x.json").write_text(json.dumps(_spec(model)))
    with pytest.raises(ModelFileError, match="not a readable safetensors"):
        load_user_model(tmp_path / "x.safetensors")
    res = invoke("audit", "--model-file", d / "model.safetensors", "--data", d / "loans.csv",
                 "--label", "approved", "--sensitive", "nope")  # fmt: skip
    assert res.exit_code == 2 and "nope" in res.output
    res = invoke("audit", "--model-file", d / "model.safetensors")
    assert res.exit_code == 2 and "--data" in res.output


def test_cli_and_api_certify_a_user_mlp(user_files):
    from fairnn.certify import certify_local

    d, frame, model = user_files
    res = invoke("certify", "--model-file", d / "model.safetensors", "--data", d / "loans.csv",
                 *DATA, "--eps", "0.1", "--time-limit", "5", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    cert = last_json(res.output)  # anytime: a proven bound and a real witness even if cut short
    w1, w2 = (torch.tensor([w], dtype=torch.float32) for w in cert["witness"])
    with torch.no_grad():
        real = (torch.sigmoid(model(w1)) - torch.sigmoid(model(w2))).abs().item()
    assert real == pytest.approx(cert["delta_lower"], abs=1e-5)
    assert 0 < cert["delta_lower"] <= cert["delta_upper"]
    # sex is not an input here, so the metric sees every column: the pair is within ε
    assert np.abs(np.subtract(*cert["witness"])).max() <= 0.1 + 1e-9
    # local certificates around 20 test rows; the API on the nn.Sequential proves the same
    res = invoke("certify", "--model-file", d / "model.safetensors", "--data", d / "loans.csv",
                 *DATA, "--eps", "0.1", "--local", "20", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    local = last_json(res.output)
    cli_up = [c["delta_upper"] for c in local["certificates"]]
    splits = user_splits(d / "loans.csv", label="approved", sensitive="sex", positive_label="yes")
    api = certify_local(model, splits.test.X[:20], splits.train, eps=0.1, progress=False)
    assert api.delta_upper == pytest.approx(np.asarray(cli_up), rel=1e-6, abs=1e-9)
    assert all(c.gap <= 1e-6 for c in api)


def test_a_model_file_ending_in_sigmoid_is_read_as_probabilities(user_files, tmp_path):
    """A Sequential ending in Sigmoid outputs probabilities: fairnn takes the layer before
    it as the logit, so audit and certify give what the same net without it gives (read as
    a logit, every score landed in [0.5, 0.73] and the audit predicted everyone positive)."""
    d, frame, model = user_files
    with_sigmoid = nn.Sequential(*model, nn.Sigmoid())
    save_file(with_sigmoid.state_dict(), str(tmp_path / "p.safetensors"))
    (tmp_path / "p.json").write_text(json.dumps(_spec(with_sigmoid)))
    reports = []
    for weights in (d / "model.safetensors", tmp_path / "p.safetensors"):
        res = invoke("audit", "--model-file", weights, "--data", d / "loans.csv", *DATA, "--json")
        assert res.exit_code == 0, res.output
        reports.append(last_json(res.output)["metrics"])
    assert reports[0] == pytest.approx(reports[1], abs=1e-6)
    assert reports[1]["accuracy"] > 0.7
    certs = []
    for weights in (d / "model.safetensors", tmp_path / "p.safetensors"):
        res = invoke("certify", "--model-file", weights, "--data", d / "loans.csv", *DATA,
                     "--eps", "0.1", "--local", "3", "--json")  # fmt: skip
        assert res.exit_code == 0, res.output
        certs.append([c["delta_upper"] for c in last_json(res.output)["certificates"]])
    assert certs[0] == pytest.approx(certs[1], rel=1e-6, abs=1e-9)


def test_cli_certifies_with_a_metric_matrix_from_a_file(user_files, tmp_path):
    """--metric-matrix gives S (mahalanobis: the ellipsoid; mahalanobis-box: Benussi et
    al.'s per-eigenvector box) or A (embedding); witnesses lie within ε of the metric
    named, and the box, which contains the ellipsoid, reaches at least as far."""
    from fairnn.certify import mahalanobis_box_metric, mahalanobis_metric

    d, _, _ = user_files
    rng = np.random.default_rng(0)
    B = rng.normal(size=(4, 4))
    S = B @ B.T / 4 + 0.1 * np.eye(4)
    np.save(tmp_path / "S.npy", S)
    (tmp_path / "S.json").write_text(json.dumps(S.tolist()))
    base = ["certify", "--model-file", d / "model.safetensors", "--data", d / "loans.csv", *DATA,
            "--eps", "0.2", "--local", "2", "--threads", "1", "--json"]  # fmt: skip
    lower = {}
    for name, build in (
        ("mahalanobis", mahalanobis_metric),
        ("mahalanobis-box", mahalanobis_box_metric),
    ):
        for f in ("S.npy", "S.json"):
            res = invoke(*base, "--metric", name, "--metric-matrix", tmp_path / f)
            assert res.exit_code == 0, res.output
            out = last_json(res.output)
            met = build(S, 4)
            for c in out["certificates"]:
                assert c["metric"]["name"] == name
                w0, w1 = (np.asarray(w) for w in c["witness"])
                assert met.distance(w0, w1)[0] <= 0.2 + 1e-9
            lower[name] = [c["delta_lower"] for c in out["certificates"]]
    # the box contains the ellipsoid: its exact local certificates reach at least as far
    assert all(
        b >= e - 1e-6 for b, e in zip(lower["mahalanobis-box"], lower["mahalanobis"], strict=True)
    )
    for args, words in (
        (["--metric", "mahalanobis", "--metric-matrix", tmp_path / "nope.npy"], "does not exist"),
        (["--metric", "linf", "--metric-matrix", tmp_path / "S.npy"], "takes --weights"),
        (["--threads", "0"], "threads"),
    ):
        res = invoke(*base, *args)
        assert res.exit_code == 2 and words in res.output, res.output
    np.save(tmp_path / "bad.npy", np.eye(3))
    res = invoke(*base, "--metric", "mahalanobis", "--metric-matrix", tmp_path / "bad.npy")
    assert res.exit_code == 2 and "4×4" in res.output, res.output


def test_weights_stored_in_by_out_are_named_and_read_with_the_layout_key(user_files, tmp_path):
    """Keras and JAX store a dense kernel as (in, out): the error says so, and the spec's
    ``"layout": "in_out"`` reads them. A square layer's transposed kernel has the right
    shape, so only the layout key can say it (docs/guides/pytorch.md)."""
    d, frame, model = user_files
    kernels = {k: v.T.contiguous() if v.ndim == 2 else v for k, v in model.state_dict().items()}
    save_file(kernels, str(tmp_path / "k.safetensors"))
    with pytest.raises(ModelFileError, match=r"stored transposed.*\"layout\": \"in_out\""):
        load_user_model(tmp_path / "k.safetensors", _spec(model))
    loaded, _ = load_user_model(tmp_path / "k.safetensors", {**_spec(model), "layout": "in_out"})
    X = torch.tensor(frame[COLS].to_numpy(), dtype=torch.float32)
    with torch.no_grad():
        assert torch.equal(loaded(X), model(X).squeeze(-1))
    with pytest.raises(ModelFileError, match='"layout"'):
        load_user_model(d / "model.safetensors", {**_spec(model), "layout": "rows"})


def test_a_domain_file_declares_what_the_table_cannot_say(user_files, tmp_path):
    """--save-domain writes the domain a certificate used; edited (a column immutable, a
    one-hot pair declared) and passed back with --domain, it is the set certified: the
    witnesses obey it and, a subset of the table's box, its exact local δ is no larger."""
    d, _, _ = user_files
    base = ["certify", "--model-file", d / "model.safetensors", "--data", d / "loans.csv", *DATA,
            "--eps", "0.3", "--local", "3", "--json"]  # fmt: skip
    res = invoke(*base, "--save-domain", tmp_path / "domain.json")
    assert res.exit_code == 0, res.output
    free = last_json(res.output)
    doc = json.loads((tmp_path / "domain.json").read_text())
    assert doc["format"] == "fairnn-domain" and [f["name"] for f in doc["features"]] == COLS
    assert {f["kind"] for f in doc["features"]} == {"continuous"}  # all a table can say
    doc["features"][3]["mutable"] = False
    (tmp_path / "domain.json").write_text(json.dumps(doc))
    res = invoke(*base, "--domain", tmp_path / "domain.json")
    assert res.exit_code == 0, res.output
    fixed = last_json(res.output)
    for a, b in zip(free["certificates"], fixed["certificates"], strict=True):
        w0, w1 = (np.asarray(w) for w in b["witness"])
        assert w0[3] == w1[3]  # the immutable column is equal in the pair
        assert b["delta_upper"] <= a["delta_upper"] + 1e-6
    assert sum(b["delta_upper"] for b in fixed["certificates"]) < sum(
        a["delta_upper"] for a in free["certificates"]
    )
    doc["features"] = doc["features"][:3]
    (tmp_path / "short.json").write_text(json.dumps(doc))
    res = invoke(*base, "--domain", tmp_path / "short.json")
    assert res.exit_code == 2 and "one entry per input" in res.output, res.output
    doc["features"] = [{"name": "f0", "kind": "ordinal"}]
    (tmp_path / "kind.json").write_text(json.dumps(doc))
    res = invoke(*base, "--domain", tmp_path / "kind.json")
    assert res.exit_code == 2 and "'ordinal' is not one of" in res.output, res.output
