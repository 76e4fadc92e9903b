"""Pre- and post-processing baselines and FairNeuron (issue 4).

Oversample, Reweighing, Fair-SMOTE, NNFF resampling, reject-option
classification and FairNeuron: each method's defining computation against a
hand-computed or independently computed answer, bad parameters, model files,
and the command line on COMPAS and German.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from fairnn.cli import app
from fairnn.datasets import load_dataset
from fairnn.datasets.core import Feature, FeatureMeta, GroupInfo, TabularData
from fairnn.errors import ConfigError, InvalidValueError
from fairnn.methods import FittedModel, make_method
from fairnn.methods.fairneuron import (
    PartialDropout,
    PartialDropoutMLP,
    path_hashes,
    path_sets,
    rare_paths,
    selection_score,
)
from fairnn.methods.fairsmote import situation_test, synthesize
from fairnn.methods.oversample import cell_ids
from fairnn.methods.resampling import group_abs_standardised, nnff_weights, standardise
from fairnn.methods.reweighing import reweighing_weights
from fairnn.methods.roc import DEFAULT_GRID, RejectOption, search_theta
from fairnn.nn.mlp import MLP
from fairnn.training import TrainConfig
from fairnn.training.loop import fit

QUICK = TrainConfig(epochs=2, batch_size=128, progress=False)
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def tiny(s, y, X=None, w=None, n_groups=2) -> TabularData:
    s = torch.as_tensor(s, dtype=torch.int64)
    y = torch.as_tensor(y, dtype=torch.float32)
    X = torch.zeros(len(s), 1) if X is None else torch.as_tensor(X, dtype=torch.float32)
    feats = FeatureMeta(
        tuple(Feature(f"x{i}", f"x{i}", "continuous", -10, 10) for i in range(X.shape[1]))
    )
    groups = GroupInfo(("g",), tuple(f"g{i}" for i in range(n_groups)))
    data = TabularData(X, y, s, feats, groups)
    return data if w is None else data.with_weights(np.asarray(w, dtype=np.float32))


@pytest.fixture(scope="module")
def german():
    return load_dataset("german", seed=0)


# -- reweighing -------------------------------------------------------------------
def test_reweighing_weights_are_the_formula_and_make_s_and_y_independent():
    # cells: (0,0) x3, (0,1) x1, (1,0) x2, (1,1) x4; n = 10
    s = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    y = [0, 0, 0, 1, 0, 0, 1, 1, 1, 1]
    w = reweighing_weights(np.array(s), np.array(y))
    # P(s=0)=.4, P(s=1)=.6, P(y=0)=.5, P(y=1)=.5
    expect = {(0, 0): 0.4 * 0.5 / 0.3, (0, 1): 0.4 * 0.5 / 0.1, (1, 0): 0.6 * 0.5 / 0.2}
    expect[(1, 1)] = 0.6 * 0.5 / 0.4
    assert np.allclose(w, [expect[(a, b)] for a, b in zip(s, y, strict=True)])

    data = make_method("reweighing").prepare(tiny(s, y), seed=0)
    _assert_independent(data)


def test_reweighing_multiplies_user_weights_and_stays_independent():
    rng = np.random.default_rng(1)
    s, y = rng.integers(0, 3, 200), rng.integers(0, 2, 200)
    user = rng.uniform(0.5, 2.0, 200)
    data = make_method("reweighing").prepare(tiny(s, y, w=user, n_groups=3), seed=0)
    w = data.sample_weight.numpy()
    cell = reweighing_weights(s, y, user)
    assert np.allclose(w, user * cell, rtol=1e-6)
    _assert_independent(data)


def _assert_independent(data: TabularData) -> None:
    w = data.sample_weight.double().numpy()
    s, y = data.s.numpy(), data.y.numpy().astype(int)
    table = np.zeros((data.groups.n_groups, 2))
    np.add.at(table, (s, y), w)
    table /= table.sum()
    assert np.allclose(table, np.outer(table.sum(1), table.sum(0)), atol=1e-6)


# -- oversample -------------------------------------------------------------------
def test_oversample_balances_every_cell_with_whole_replicas():
    s = [0] * 7 + [1] * 13
    y = [0, 0, 0, 0, 0, 1, 1] + [0] * 3 + [1] * 10
    data = tiny(s, y, X=np.arange(20)[:, None])
    out = make_method("oversample").prepare(data, seed=3)
    cells = cell_ids(out)
    assert np.bincount(cells).tolist() == [10, 10, 10, 10]
    assert torch.equal(out.X[:20], data.X)  # originals first, in order
    ids = out.X[:, 0].long().numpy()
    reps = np.bincount(ids, minlength=20)
    for c in range(4):  # every row of a cell appears floor or ceil of 10/n times
        n = int((cell_ids(data) == c).sum())
        r = reps[cell_ids(data) == c]
        assert set(r) <= {10 // n, -(-10 // n)} and r.sum() == 10
    again = make_method("oversample").prepare(data, seed=3)
    assert torch.equal(again.X, out.X)


def test_oversample_leaves_an_empty_cell_empty(caplog):
    data = tiny([0, 0, 1, 1, 1], [0, 0, 0, 1, 1])  # group 0 has no positives
    out = make_method("oversample").prepare(data, seed=0)
    assert np.bincount(cell_ids(out), minlength=4).tolist() == [2, 0, 2, 2]
    assert "(g0, y=1)" in caplog.text


def test_label_balancing_methods_reject_a_regression_target():
    data = load_dataset("boston", seed=0).train
    for name in ("oversample", "reweighing", "fairsmote"):
        with pytest.raises(InvalidValueError, match="binary label"):
            make_method(name).prepare(data, seed=0)


# -- Fair-SMOTE -------------------------------------------------------------------
def test_fairsmote_keeps_onehot_blocks_and_binaries_valid_and_fills_cells(german):
    train = german.train
    blocks = train.features.blocks()
    assert len(blocks) >= 5
    out = make_method("fairsmote", situation_testing=False).prepare(train, seed=0)
    counts = np.bincount(cell_ids(out))
    assert counts.min() == counts.max() == np.bincount(cell_ids(train)).max()
    X = out.X.numpy()
    for name, cols in blocks.items():
        block = X[:, cols]
        assert np.isin(block, (0.0, 1.0)).all(), name
        assert (block.sum(1) == 1).all(), name
    feats = train.features
    for i in feats.indices(kind="binary"):
        assert np.isin(X[:, i], (0.0, 1.0)).all()
    assert (feats.lower - 1e-6 <= X).all() and (feats.upper + 1e-6 >= X).all()
    for i in feats.indices(kind="integer"):
        raw = X[:, i] * feats[i].scale + feats[i].offset
        assert np.allclose(raw, np.round(raw), atol=1e-3)


def test_fairsmote_categoricals_come_from_the_parent_or_its_two_neighbours(german):
    train = german.train
    X_new, parent = synthesize(train, np.random.default_rng(0), cr=1.0, f=0.8)
    X = train.X.numpy()
    cells = cell_ids(train)
    from sklearn.neighbors import NearestNeighbors

    block = train.features.blocks()["purpose"]
    for r in range(0, len(parent), 25):
        rows = np.flatnonzero(cells == cells[parent[r]])
        nn = NearestNeighbors(n_neighbors=3).fit(X[rows])
        trio = rows[nn.kneighbors(X[parent[r]][None], return_distance=False)[0]]
        assert any(np.array_equal(X_new[r, block], X[i, block]) for i in trio)


def test_situation_testing_drops_exactly_the_rows_whose_prediction_flips(german):
    train = german.train
    keep = situation_test(train)
    X, y, s = train.numpy()
    design = lambda g: np.hstack([X, np.eye(2)[g]])  # noqa: E731
    clf = LogisticRegression(C=1.0, max_iter=1000).fit(design(s), y.astype(int))
    flips = clf.predict(design(s)) != clf.predict(design(1 - s))
    assert np.array_equal(keep, ~flips)
    out = make_method("fairsmote").prepare(train, seed=0)
    balanced = make_method("fairsmote", situation_testing=False).prepare(train, seed=0)
    assert len(out) == int(situation_test(balanced).sum()) < len(balanced)


# -- NNFF resampling ----------------------------------------------------------------
def test_nnff_weights_reproduce_algorithm_2_by_hand():
    f_s = np.array([2, 4, 4, 4, 5, 5, 7, 9.0])  # mean 5, population sd 2
    f_o = np.array([9, 7, 5, 5, 4, 4, 2, 4.0])  # mean 5, population sd 2
    # s~ = [-1.5,-.5,-.5,-.5,0,0,1,2]        -> w' = [2.5,1.5,1.5,1.5,1,1,2,3], sum 14
    # o~ = [2,1,0,0,-.5,-.5,-1.5,-.5]        -> sum(o~ w') = 5+1.5-.5-.5-3-1.5 = 1
    # f' = 1/14;  w = w' / (|o~ - 1/14| + 1)
    F = Fraction
    w_p = [F(5, 2), F(3, 2), F(3, 2), F(3, 2), F(1), F(1), F(2), F(3)]
    o_t = [F(2), F(1), F(0), F(0), F(-1, 2), F(-1, 2), F(-3, 2), F(-1, 2)]
    f_mean = F(1, 14)
    expect = [float(a / (abs(b - f_mean) + 1)) for a, b in zip(w_p, o_t, strict=True)]
    assert expect[0] == pytest.approx(35 / 41)
    assert np.allclose(nnff_weights(f_s, f_o), expect, rtol=1e-12)


def test_nnff_group_rule_equals_the_binary_formula():
    s = np.array([0, 0, 0, 1, 1, 0, 0, 1, 0, 0])
    assert np.allclose(group_abs_standardised(s, 2), np.abs(standardise(s)))
    y = np.arange(10.0)
    method = make_method("resampling")
    data = tiny(s, y % 2)
    assert np.allclose(method.weights(data), nnff_weights(s, y % 2))


def test_resampling_on_the_boston_regression_target():
    train = load_dataset("boston", seed=0, extra_features=["B"]).train
    assert train.task == "regression"
    out = make_method("resampling").prepare(train, seed=0)
    assert len(out) == len(train)
    again = make_method("resampling").prepare(train, seed=0)
    assert torch.equal(out.X, again.X) and torch.equal(out.y, again.y)
    by_b = make_method("resampling", sensitive_feature="B")
    b = train.X[:, train.features.names.index("B")].numpy()
    assert np.allclose(by_b.weights(train), nnff_weights(b, train.y.numpy()))
    with pytest.raises(ConfigError, match="sensitive_feature"):
        make_method("resampling", sensitive_feature="nope").prepare(train, seed=0)


# -- reject-option classification -------------------------------------------------------
def test_reject_option_flips_exactly_the_critical_region():
    p = np.array([0.1, 0.39, 0.4, 0.45, 0.5, 0.55, 0.6, 0.61, 0.9] * 2)
    g = np.array([0] * 9 + [1] * 9)
    rule = RejectOption(theta=0.6, privileged=1, n_groups=2)
    # group 0 unprivileged: [0.4, 0.6] -> 1; group 1 privileged: [0.4, 0.6] -> 0
    assert rule.decide(p, g).tolist() == [0, 0, 1, 1, 1, 1, 1, 1, 1] + [0, 0, 0, 0, 0, 0, 0, 1, 1]
    plain = (p > 0.5).astype(int)
    changed = rule.decide(p, g) != plain
    assert np.array_equal(changed, rule.critical(p) & (plain != (g == 0)))
    assert np.array_equal(RejectOption(0.5, 1, 2).decide(p, g)[p != 0.5], plain[p != 0.5])
    assert RejectOption.from_dict(rule.to_dict()).to_dict() == rule.to_dict()
    with pytest.raises(InvalidValueError, match="group ids"):
        rule.decide(p, g * 2)


def _german_vanilla(german):
    return make_method("vanilla").fit(german.train, german.val, config=QUICK, seed=0)


def test_roc_repairs_a_trained_model_and_round_trips(german, tmp_path):
    base = _german_vanilla(german)
    rates = [float(german.train.y[german.train.s == g].mean()) for g in (0, 1)]
    roc = make_method("roc", theta=0.6).repair(base, german.train, german.val)
    assert roc.decision.privileged == int(np.argmax(rates))  # male: higher P(y=1)
    assert base.decision is None  # the input model is not modified
    test = german.test
    assert np.array_equal(roc.predict_proba(test), base.predict_proba(test))
    p, s = base.predict_proba(test), test.s.numpy()
    assert np.array_equal(roc.predict(test), RejectOption(0.6, 1, 2).decide(p, s))
    roc.save(tmp_path / "roc")
    loaded = FittedModel.load(tmp_path / "roc")
    assert isinstance(loaded.decision, RejectOption) and loaded.decision.theta == 0.6
    assert np.array_equal(loaded.predict(test), roc.predict(test))
    assert loaded.evaluate(test) == roc.evaluate(test)
    named = make_method("roc", privileged="female").repair(base, german.train, german.val)
    assert named.decision.privileged == 0


def test_roc_search_takes_the_smallest_theta_that_meets_the_target(german):
    base = _german_vanilla(german)
    val = german.val
    scores = base.predict_proba(val)
    _, gaps = search_theta(scores, val, 1, "dp_gap", DEFAULT_GRID, None)
    target = sorted(gaps.values())[len(gaps) // 2]
    roc = make_method("roc", search=True, target=target).repair(base, german.train, val)
    chosen = roc.decision.theta
    assert gaps[chosen] <= target
    assert all(g > target for t, g in gaps.items() if t < chosen)
    best = make_method("roc", search=True).repair(base, german.train, val).decision.theta
    assert gaps[best] == min(gaps.values())
    eo = make_method("roc", search=True, mode="eo").repair(base, german.train, val)
    assert eo.training["roc"]["metric"] == "eodds_gap_sum"
    with pytest.raises(ConfigError, match="validation"):
        make_method("roc", search=True).repair(base, german.train, None)


def test_cli_repair_applies_roc_to_a_saved_vanilla_model(tmp_path):
    model = tmp_path / "van"
    r = invoke("train", "--data", "german", "--epochs", "2", "--out", str(model), "-q")
    assert r.exit_code == 0, r.output
    r = invoke("repair", str(model), "--method", "roc", "--theta", "0.6", "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["params"]["theta"] == 0.6
    loaded = FittedModel.load(report["model_path"])
    assert loaded.method == "roc" and loaded.decision.theta == 0.6
    assert loaded.training["repaired_from"]["method"] == "vanilla"
    before = FittedModel.load(model)
    test = load_dataset("german", seed=0).test
    assert np.array_equal(loaded.predict_proba(test), before.predict_proba(test))
    assert report["after"]["test"]["dp_gap"] == pytest.approx(loaded.evaluate(test)["dp_gap"])


# -- FairNeuron -------------------------------------------------------------------------
def _hand_mlp() -> MLP:
    """2 → 2 → 2 → 1, ReLU: W0 = I, W1 = [[1, 1], [2, -1]], W2 = [[1, 1]], b2 = -1."""
    net = MLP(2, (2, 2), "relu")
    with torch.no_grad():
        for layer in net.linear_layers:
            layer.bias.zero_()
        net.linear_layers[0].weight.copy_(torch.eye(2))
        net.linear_layers[1].weight.copy_(torch.tensor([[1.0, 1.0], [2.0, -1.0]]))
        net.linear_layers[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
        net.linear_layers[2].bias.fill_(-1.0)
    return net


def test_fairneuron_path_sets_of_a_hand_built_mlp():
    net = _hand_mlp()
    X = torch.tensor([[1.0, 2.0], [2.0, 1.0], [-1.0, -1.0], [1.0, 2.0]])
    # A = (1, 2): z1 = (3, 0), logit 2. Output (target .9·2): contributions (3, 0): 3 reaches
    #   -> edge (2, 0, 0). Unit 0 of layer 1 (target .9·3 = 2.7): (1, 2) sorted 2, 1: 2 < 2.7,
    #   3 reaches -> (1, 1, 0), (1, 0, 0).
    # B = (2, 1): z1 = (3, 3), logit 5. Output (target 4.5): 3, then 6 -> (2, 0, 0), (2, 1, 0).
    #   Unit 0 (2.7): (2, 1) -> both; unit 1 (2.7): (4, -1): 4 reaches -> (1, 0, 1).
    # C = (-1, -1): z1 = (0, 0), logit -1. Output (target -.9): first edge reaches -> (2, 0, 0);
    #   unit 0 (target 0): (-1, -1) never reaches -> both edges.
    A = {(2, 0, 0), (1, 1, 0), (1, 0, 0)}
    B = {(2, 0, 0), (2, 1, 0), (1, 0, 0), (1, 1, 0), (1, 0, 1)}
    assert path_sets(net, X, 0.9) == [A, B, A, A]
    # γ = 0.6: A's unit 0 needs only 1.8, so its largest edge (from unit 1) suffices
    assert path_sets(net, X[:1], 0.6) == [{(2, 0, 0), (1, 1, 0)}]
    h = path_hashes(net, X, 0.9, chunk=3)
    assert torch.equal(h[0], h[2]) and torch.equal(h[0], h[3]) and not torch.equal(h[0], h[1])
    # counts: A-set 3, B-set 1; rare: count <= max(θ·3, 1)
    assert rare_paths(h, 0.5).tolist() == [False, True, False, False]
    assert rare_paths(h, 1.0).tolist() == [True] * 4


def test_partial_dropout_touches_only_flagged_rows():
    torch.manual_seed(0)
    base = MLP(3, (16, 16))
    net = PartialDropoutMLP(base.config, p=0.5)
    net.load_state_dict(base.state_dict())
    x = torch.randn(6, 3)
    net.train()
    net.row_mask = torch.tensor([True, False, True, False, False, True])
    out = net(x)
    ref = base(x)
    assert torch.allclose(out[~net.row_mask], ref[~net.row_mask])
    assert not torch.allclose(out[net.row_mask], ref[net.row_mask])
    net.eval()
    assert torch.allclose(net(x), ref)
    assert isinstance(net.plain(), MLP) and type(net.plain()) is MLP


def test_partial_dropout_plugin_sets_the_mask_of_each_batch():
    data = tiny([0, 1] * 20, [0, 1, 1, 0] * 10, X=np.random.default_rng(0).normal(size=(40, 3)))
    biased = torch.zeros(40, dtype=torch.bool)
    biased[::3] = True
    seen = []

    class Spy(PartialDropout):
        def before_forward(self, batch, state):
            super().before_forward(batch, state)
            seen.append(torch.equal(state.model.row_mask, biased[batch.idx]))

    net = PartialDropoutMLP(MLP(3, (8,)).config, 0.1)
    fit(
        net,
        data,
        None,
        TrainConfig(epochs=1, batch_size=8, select="last", progress=False),
        plugins=[Spy(biased)],
    )
    assert seen and all(seen)


def test_fairneuron_fits_selects_by_its_score_and_repairs(german, tmp_path):
    m = make_method("fairneuron", theta=[0.1, 1e-3], gamma=0.9, retrain_epochs=2)
    fitted = m.fit(german.train, german.val, config=QUICK, seed=0)
    info = fitted.training["fairneuron"]
    assert len(info["trials"]) == 2
    scores = [t["score"] for t in info["trials"]]
    assert info["theta"] == info["trials"][int(np.argmin(scores))]["theta"]
    for t in info["trials"]:
        assert t["score"] == pytest.approx(selection_score(t["val"]))
        assert 0 < t["biased_fraction"] <= 1
    assert type(fitted.network) is MLP
    fitted.save(tmp_path / "fn")
    loaded = FittedModel.load(tmp_path / "fn")
    assert np.array_equal(loaded.predict_proba(german.test), fitted.predict_proba(german.test))
    base = _german_vanilla(german)
    one = make_method("fairneuron", theta=1e-3, gamma=0.7, retrain_epochs=1)
    last = QUICK.model_copy(update={"select": "last"})
    repaired = one.repair(base, german.train, None, config=last)
    assert repaired.training["fairneuron"]["theta"] == 1e-3
    with pytest.raises(ConfigError, match="validation"):
        make_method("fairneuron").repair(base, german.train, None, config=QUICK)


def test_fairneuron_is_post_processing_its_fit_repairs_the_vanilla_base(german):
    m = make_method("fairneuron", theta=[0.1, 1e-3], gamma=0.7, retrain_epochs=1)
    assert m.stage == "post" and m.repairs()
    fitted = m.fit(german.train, german.val, config=QUICK, seed=1)
    base, data = m.fit_base(german.train, german.val, config=QUICK, seed=1)
    vanilla = make_method("vanilla").fit(german.train, german.val, config=QUICK, seed=1)
    test = german.test
    assert np.array_equal(base.predict_proba(test), vanilla.predict_proba(test))
    repaired = m.repair(base, data, german.val, config=QUICK, seed=1)
    assert np.array_equal(repaired.predict_proba(test), fitted.predict_proba(test))
    assert repaired.training["fairneuron"]["theta"] == fitted.training["fairneuron"]["theta"]
    assert not np.array_equal(repaired.predict_proba(test), base.predict_proba(test))


def test_fairneuron_trials_draw_theta_log_uniform_and_gamma_uniform():
    pairs = make_method("fairneuron", trials=50).candidates(seed=0)
    th, ga = np.array(pairs).T
    assert len(pairs) == 50 and (th >= 1e-4).all() and (th <= 1).all()
    assert (ga >= 0.5).all() and (ga <= 1).all()
    assert (th < 1e-2).mean() > 0.3  # log-uniform: half the draws below 1e-2
    assert pairs == make_method("fairneuron", trials=50).candidates(seed=0)


# -- bad parameters -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "params", "word"),
    [
        ("roc", {"theta": 0.4}, "theta"),
        ("roc", {"theta": 1.5}, "theta"),
        ("roc", {"grid": [0.3, 0.6]}, "grid"),
        ("roc", {"metric": "accuracy"}, "metric"),
        ("fairneuron", {"theta": 2.0}, "theta"),
        ("fairneuron", {"theta": [0.1, 1e-5]}, "theta"),
        ("fairneuron", {"gamma": 0.3}, "gamma"),
        ("fairneuron", {"p": 1.0}, "'p'"),
        ("fairsmote", {"cr": 1.5}, "cr"),
        ("fairsmote", {"f": 0.0}, "'f'"),
        ("oversample", {"ratio": 2}, "ratio"),
    ],
)
def test_bad_parameters_name_the_parameter(name, params, word):
    with pytest.raises(ConfigError, match=word):
        make_method(name, **params)


def test_roc_rejects_an_unknown_privileged_group(german):
    base = _german_vanilla(german)
    with pytest.raises(ConfigError, match="privileged"):
        make_method("roc", privileged="nobody").repair(base, german.train, german.val)
    with pytest.raises(ConfigError, match="privileged"):
        make_method("roc", privileged=5).repair(base, german.train, german.val)


# -- the command line on COMPAS and German --------------------------------------------------
SMOKE = {
    "oversample": [],
    "reweighing": [],
    "fairsmote": [],
    "resampling": [],
    "roc": ["--theta", "0.6"],
    "fairneuron": ["--theta", "0.01", "--gamma", "0.9", "--retrain_epochs", "1"],
}


@pytest.mark.parametrize(
    "data", [pytest.param("compas", marks=pytest.mark.requires_mirror), "german"]
)
@pytest.mark.parametrize("name", list(SMOKE))
def test_cli_train_runs_on_compas_and_german(name, data):
    r = invoke("train", "--data", data, "--method", name, "--epochs", "1", "--json", *SMOKE[name])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["method"] == name
    test = out["metrics"]["test"]
    assert 0 <= test["accuracy"] <= 1 and np.isfinite(test["dp_gap"])
