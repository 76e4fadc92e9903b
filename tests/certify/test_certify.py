"""Certification: soundness (hypothesis), exactness on small nets, the CLI, IF-training, NNFF.

Soundness is checked from several sides on random small networks and domains:

* every sampled pair within ε stays at or below the proven ``delta_upper``;
* the witness pair is feasible and the real network attains ``delta_lower`` there;
* the full MILP assignment of any true pair satisfies every row (so the MILP
  maximum is at least the true maximum);
* per-copy and difference bounds contain every sampled pre-activation;
* the sigmoid/tanh envelopes bracket the function, the ℓ2 polytope contains the
  ball and stays within its stated factor;
* on 1- and 2-input networks the MILP optimum matches a dense grid search.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from typer.testing import CliRunner

from fairnn.certify import (
    Certificate,
    Domain,
    EncodeOptions,
    NetSpec,
    certify_global,
    certify_local,
    encode,
    mahalanobis_metric,
    pwl_envelope,
    pwl_grid,
    weighted_metric,
)
from fairnn.certify.milp import MilpModel
from fairnn.certify.network import activate, as_network
from fairnn.certify.solvers import solve
from fairnn.datasets.core import Feature, FeatureMeta
from tests.effects import paired_effect

SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


# -- helpers ---------------------------------------------------------------------------
def random_seq(rng: np.random.Generator, d: int, hidden: list[int], act: str = "relu"):
    acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
    layers: list[nn.Module] = []
    sizes = [d, *hidden]
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), acts[act]()]
    layers.append(nn.Linear(sizes[-1], 1))
    seq = nn.Sequential(*layers)
    with torch.no_grad():
        for p in seq.parameters():
            p.copy_(torch.as_tensor(rng.normal(0, 1.0, p.shape), dtype=torch.float32))
    return seq


def mixed_features() -> FeatureMeta:
    """Two continuous, one integer (raw 0..5), one binary, a 3-way one-hot block, one sensitive."""
    return FeatureMeta(
        (
            Feature("a", "a", "continuous", -1.0, 1.0),
            Feature("b", "b", "continuous", 0.0, 2.0),
            Feature("k", "k", "integer", -1.0, 1.5, offset=2.0, scale=2.0),  # raw 0..5
            Feature("flag", "flag", "binary", 0.0, 1.0),
            Feature("c=x", "c", "onehot", 0.0, 1.0, block="c", category="x"),
            Feature("c=y", "c", "onehot", 0.0, 1.0, block="c", category="y"),
            Feature("c=z", "c", "onehot", 0.0, 1.0, block="c", category="z"),
            Feature("s", "s", "binary", 0.0, 1.0, sensitive=True),
        )
    )


def random_metric(norm: str, feats: FeatureMeta, rng):
    """A weighted metric, a scaled projector (Benussi's form) or a general PSD Mahalanobis."""
    d = feats.dim
    if norm in ("linf", "l1", "l2"):
        return weighted_metric(norm, feats, rng.uniform(0.2, 2.0, d) * (rng.random(d) < 0.8))
    if norm == "projector":
        B, _ = np.linalg.qr(rng.normal(size=(d, int(rng.integers(1, 3)))))
        S = rng.uniform(0.5, 3.0) * (np.eye(d) - B @ B.T)
    else:
        G = rng.normal(size=(d, d - 2))
        S = G @ G.T / d
    met = mahalanobis_metric(S, feats)
    assert (met.null_basis is not None) == (norm == "projector")
    return met


def sample_pairs(domain: Domain, metric, eps: float, rng, n: int = 4000):
    """Pairs in the domain within ε: x' sampled, x'' = x' + a random step, kept if feasible."""
    x1 = domain.sample(n, rng)
    other = domain.sample(n, rng)
    r = np.where(np.isfinite(metric.radius(eps)), metric.radius(eps), 1.0)
    step = rng.uniform(-1, 1, x1.shape) * r * rng.uniform(0, 1.2, (n, 1))
    x2 = np.where(domain.continuous, x1 + step, x1)
    isint = np.array([k == "integer" for k in domain.kind])
    if isint.any():
        k = np.round(step[:, isint] / domain.int_step[isint])
        x2[:, isint] = x1[:, isint] + k * domain.int_step[isint]
    # discrete columns: sometimes take the other point's value (a category change)
    swap = rng.random((n, 1)) < 0.3
    disc = ~domain.continuous & ~isint
    x2 = np.where(disc & swap, other, x2)
    for blk in domain.blocks:
        cols = list(blk)
        x2[:, cols] = np.where(swap, other[:, cols], x1[:, cols])
    ok = domain.contains(x2) & (metric.distance(x1, x2) <= eps)
    return x1[ok], x2[ok]


# -- the envelopes and the metric polytope ------------------------------------------------
@SETTINGS
@given(
    kind=st.sampled_from(["sigmoid", "tanh"]),
    L=st.floats(-12, 6),
    width=st.floats(1e-6, 15),
    M=st.integers(1, 16),
)
def test_pwl_envelopes_bracket_the_function(kind, L, width, M):
    U = L + width
    grid = pwl_grid(kind, L, U, M)
    assert grid[0] == L and grid[-1] >= U - 1e-9 * (1 + abs(L))
    assert np.all(np.diff(grid) > 0)
    if L < 0 < U:
        assert 0.0 in grid  # no segment changes convexity
    lo, up = pwl_envelope(kind, grid)
    z = np.linspace(grid[0], grid[-1], 20001)
    g = activate(kind, z)
    assert np.all(np.interp(z, grid, lo) <= g + 1e-15)
    assert np.all(np.interp(z, grid, up) >= g - 1e-15)


def _btn_max(direction: np.ndarray, eps: float, levels: int) -> float:
    """max a·y over the encoded ℓ2 polytope (y the metric coordinates), by LP."""
    k = direction.size
    dom = Domain.box(-10 * np.ones(k), 10 * np.ones(k))
    met = weighted_metric("l2", k, np.ones(k))
    # encode a single copy around 0 with an identity network, then read y = x
    spec = NetSpec((np.eye(1, k),), (np.zeros(1),), "relu", "identity")
    enc = encode(spec, dom, met, eps, x0=np.zeros(k), options=EncodeOptions(l2_levels=levels))
    enc.model.set_objective(enc.x[0], direction)
    return solve(enc.model, time_limit=10).bound


@SETTINGS
@given(k=st.integers(2, 9), seed=st.integers(0, 10_000), levels=st.integers(3, 8))
def test_l2_polytope_contains_the_ball_within_its_factor(k, seed, levels):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=k)
    eps = 0.3
    met = weighted_metric("l2", k, np.ones(k))
    top = _btn_max(a, eps, levels)
    true = eps * np.linalg.norm(a)  # max of a·y over the true ball
    factor = met.outer_factor(levels)
    assert top >= true - 1e-6  # the polytope contains the ball (sound)
    assert top <= true * factor + 1e-5  # and is no larger than stated


# -- encoding soundness -----------------------------------------------------------------------
@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    act=st.sampled_from(["relu", "relu", "sigmoid", "tanh"]),
    norm=st.sampled_from(["linf", "l1", "l2", "projector", "psd"]),
    head=st.sampled_from(["probability", "logit"]),
    bounds=st.sampled_from(["lp", "interval"]),
)
def test_true_pairs_satisfy_the_encoding_and_bounds_contain_them(seed, act, norm, head, bounds):
    rng = np.random.default_rng(seed)
    feats = mixed_features()
    dom = Domain.from_features(feats)
    hidden = [int(rng.integers(2, 6)) for _ in range(int(rng.integers(1, 3)))]
    net = as_network(random_seq(rng, feats.dim, hidden, act), output=head)
    met = random_metric(norm, feats, rng)
    eps = float(rng.uniform(0.05, 1.2))
    enc = encode(net.spec, dom, met, eps, options=EncodeOptions(bounds=bounds, M=4, hidden_M=4))
    x1, x2 = sample_pairs(dom, met, eps, rng, 1500)
    assert len(x1) > 20
    z1, z2 = net.spec.logit(x1), net.spec.logit(x2)
    flip = z1 < z2  # the encoding breaks the symmetry with z' >= z''
    a = np.where(flip[:, None], x2, x1)
    b = np.where(flip[:, None], x1, x2)
    for i in range(0, len(a), max(1, len(a) // 60)):
        v = enc.model.violation(enc.assignment([a[i], b[i]]))
        assert max(v.values()) <= 1e-7, v
    # per-copy bounds contain every pre-activation; difference bounds every difference
    h1, h2 = a, b
    for rec, W, bias in zip(enc.layers, net.spec.weights, net.spec.biases, strict=False):
        p1, p2 = h1 @ W.T + bias, h2 @ W.T + bias
        for p in (p1, p2):
            assert np.all(p >= rec.L - 1e-7) and np.all(p <= rec.U + 1e-7)
        assert np.all(p1 - p2 >= rec.dL - 1e-7) and np.all(p1 - p2 <= rec.dU + 1e-7)
        h1, h2 = activate(act, p1), activate(act, p2)
    za, zb = net.spec.logit(a), net.spec.logit(b)
    assert np.all(za >= enc.z_bounds[0] - 1e-7) and np.all(za <= enc.z_bounds[1] + 1e-7)
    assert np.all(za - zb <= enc.dz_bounds[1] + 1e-7)


# four cases here; tests/certify/test_soundness.py samples every metric and activation
@settings(max_examples=4, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), norm=st.sampled_from(["linf", "l1", "l2"]))
def test_no_sampled_pair_beats_the_certificate_and_the_witness_is_real(seed, norm):
    rng = np.random.default_rng(seed)
    feats = mixed_features()
    dom = Domain.from_features(feats)
    seq = random_seq(rng, feats.dim, [int(rng.integers(2, 7))])
    met = weighted_metric(norm, feats, rng.uniform(0.3, 2.0, feats.dim))
    eps = float(rng.uniform(0.05, 1.0))
    cert = certify_global(seq, feats, eps=eps, metric=met, time_limit=20, seed=seed)
    net = as_network(seq, output="probability")
    x1, x2 = sample_pairs(dom, met, eps, rng, 6000)
    gaps = np.abs(net.f(x1) - net.f(x2))
    assert gaps.max() <= cert.delta_upper + 1e-9
    assert cert.delta_lower <= cert.delta_upper
    w1, w2 = (np.asarray(w) for w in cert.witness)
    assert dom.contains(np.vstack([w1, w2])).all()
    assert met.distance(w1, w2)[0] <= eps
    assert abs(net.f(w1[None])[0] - net.f(w2[None])[0]) == pytest.approx(
        cert.delta_lower, abs=1e-12
    )
    # a real forward pass in torch agrees with the witness value
    with torch.no_grad():
        t = torch.sigmoid(seq.double()(torch.as_tensor(np.vstack([w1, w2])))).numpy().ravel()
    assert abs(t[0] - t[1]) == pytest.approx(cert.delta_lower, abs=1e-9)
    # bound_only: the solver proved nothing below the propagated bound within the time
    # limit (seen on a loaded 2-core machine); the bound is still sound, as checked above
    assert cert.status in ("optimal", "time_limit", "bound_only")


def _grid_max_1d(net, lo, hi, r, n=4001, m=201) -> float:
    x = np.linspace(lo, hi, n)[:, None]
    f1 = net.f(x)
    best = 0.0
    for t in np.linspace(-r, r, m):
        x2 = np.clip(x + t, lo, hi)
        best = max(best, float(np.abs(f1 - net.f(x2)).max()))
    return best


def _grid_max_2d(net, lo, hi, r, norm, n=161, m=17) -> float:
    g = np.linspace(lo, hi, n)
    X1 = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    f1 = net.f(X1)
    if norm == "linf":
        D = np.stack(np.meshgrid(np.linspace(-r[0], r[0], m), np.linspace(-r[1], r[1], m)), -1)
        D = D.reshape(-1, 2)
    else:  # the ℓ2 ellipse boundary and its inside
        th = np.linspace(0, 2 * np.pi, 4 * m, endpoint=False)
        D = np.concatenate(
            [s * np.stack([r[0] * np.cos(th), r[1] * np.sin(th)], 1) for s in (0.5, 1.0)]
        )
    best = 0.0
    for d in D:
        X2 = X1 + d
        ok = np.all((lo <= X2) & (hi >= X2), 1)
        best = max(best, float(np.abs(f1[ok] - net.f(X2[ok])).max()))
    return best


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(seed=st.integers(0, 10_000), head=st.sampled_from(["logit", "probability"]))
def test_one_input_milp_optimum_matches_a_dense_grid(seed, head):
    rng = np.random.default_rng(seed)
    seq = random_seq(rng, 1, [int(rng.integers(2, 8)), int(rng.integers(2, 6))])
    dom = Domain.box([-2.0], [2.0])
    eps = float(rng.uniform(0.05, 1.0))
    met = weighted_metric("linf", 1, [1.0])
    cert = certify_global(seq, dom, eps=eps, metric=met, output=head, time_limit=20)
    net = as_network(seq, output=head)
    grid = _grid_max_1d(net, -2.0, 2.0, eps)
    lip = float(np.prod([np.abs(W).sum(1).max() for W in net.spec.weights]))
    tol = lip * (4.0 / 4000 + eps / 200) + 1e-6
    assert grid <= cert.delta_upper + 1e-9
    assert cert.delta_upper <= grid * (1 + 6e-3) + tol
    assert cert.delta_lower >= grid * (1 - 6e-3) - tol


@settings(max_examples=6, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), norm=st.sampled_from(["linf", "l2"]))
def test_two_input_milp_optimum_matches_a_dense_grid(seed, norm):
    rng = np.random.default_rng(seed)
    seq = random_seq(rng, 2, [int(rng.integers(3, 8))])
    dom = Domain.box([-1.0, -1.0], [1.0, 1.0])
    w = rng.uniform(0.5, 2.0, 2)
    met = weighted_metric(norm, 2, w)
    eps = float(rng.uniform(0.1, 0.6))
    cert = certify_global(seq, dom, eps=eps, metric=met, output="logit", time_limit=20)
    net = as_network(seq, output="logit")
    grid = _grid_max_2d(net, -1.0, 1.0, eps / w, norm)
    lip = float(np.prod([np.abs(W).sum(1).max() for W in net.spec.weights]))
    tol = lip * (2.0 / 160 + 2 * eps / w.min() / 16) + 1e-6
    assert grid <= cert.delta_upper + 1e-9
    assert cert.delta_upper <= grid + tol + 2e-3 * grid


# -- local certificates -----------------------------------------------------------------------
@SETTINGS
@given(seed=st.integers(0, 10_000), norm=st.sampled_from(["linf", "l1", "l2"]))
def test_local_certificates_are_sound_and_attained(seed, norm):
    rng = np.random.default_rng(seed)
    feats = mixed_features()
    dom = Domain.from_features(feats)
    seq = random_seq(rng, feats.dim, [int(rng.integers(2, 7)), int(rng.integers(2, 5))])
    met = weighted_metric(norm, feats, rng.uniform(0.3, 2.0, feats.dim))
    eps = float(rng.uniform(0.05, 1.0))
    X = dom.sample(6, rng)
    res = certify_local(seq, X, feats, eps=eps, metric=met, progress=False)
    net = as_network(seq, output="probability")
    for x0, c in zip(X, res, strict=True):
        x1, x2 = _neighbours(dom, met, eps, x0, rng)
        gaps = np.abs(net.f(x2) - net.f(x1))
        assert gaps.max(initial=0) <= c.delta_upper + 1e-9
        w0, w1 = (np.asarray(v) for v in c.witness)
        assert met.distance(w0, w1)[0] <= eps and dom.contains(w1[None])[0]
        assert abs(net.f(w1[None])[0] - net.f(w0[None])[0]) == pytest.approx(
            c.delta_lower, abs=1e-12
        )
        assert c.status == "optimal"
        # the ℓ2 ball is encoded by a polytope up to 0.73 % wider, whose witness is pulled
        # back into the true ball: the proven bound and the witness differ by that much
        assert c.gap <= (2e-2 if norm == "l2" else 1e-3)


def _neighbours(dom, met, eps, x0, rng, n=3000):
    x1 = np.repeat(x0[None], n, 0)
    r = np.where(np.isfinite(met.radius(eps)), met.radius(eps), 1.0)
    x2 = x1 + np.where(dom.continuous, rng.uniform(-1, 1, x1.shape) * r, 0.0)
    isint = np.array([k == "integer" for k in dom.kind])
    k = np.round(rng.uniform(-1, 1, (n, isint.sum())) * r[isint] / dom.int_step[isint])
    x2[:, isint] += k * dom.int_step[isint]
    flip = rng.random(n) < 0.5
    s = dom.names.index("s")
    x2[flip, s] = 1 - x2[flip, s]
    ok = dom.contains(x2) & (met.distance(x1, x2) <= eps)
    return x1[ok], x2[ok]


# -- special properties -------------------------------------------------------------------------
def test_eps_zero_with_the_sensitive_feature_free_is_a_protected_attribute_flip():
    rng = np.random.default_rng(3)
    feats = mixed_features()
    seq = random_seq(rng, feats.dim, [6, 4])
    cert = certify_global(seq, feats, eps=0.0, metric="linf", time_limit=20)
    net = as_network(seq, output="probability")
    dom = Domain.from_features(feats)
    X = dom.sample(20000, rng)
    s = feats.names.index("s")
    Y = X.copy()
    Y[:, s] = 1 - Y[:, s]
    flips = np.abs(net.f(X) - net.f(Y))
    assert flips.max() <= cert.delta_upper + 1e-9
    assert cert.status == "optimal" and cert.gap <= 1e-2
    w1, w2 = (np.asarray(w) for w in cert.witness)
    assert np.array_equal(np.delete(w1, s), np.delete(w2, s))  # only s differs


def test_mahalanobis_from_a_sensitive_probe_is_a_free_direction():
    from fairnn.certify.metrics import sensitive_subspace_matrix
    from fairnn.datasets import load_dataset

    sp = load_dataset("german", seed=0)
    S = sensitive_subspace_matrix(sp.train)
    assert np.allclose(S, S.T) and np.allclose(S @ S, S, atol=1e-8)  # a projector
    sens = [i for i, f in enumerate(sp.features) if f.sensitive]
    assert np.all(S[sens] == 0)
    met = mahalanobis_metric(S, sp.features)
    assert met.matrix.shape[0] == sp.features.dim - len(sens) - 1  # one direction is free


def test_cbc_and_highs_agree_on_a_small_problem():
    rng = np.random.default_rng(5)
    seq = random_seq(rng, 3, [5])
    dom = Domain.box(-np.ones(3), np.ones(3))
    a = certify_global(
        seq, dom, eps=0.3, metric="l1", output="logit", solver="highs", time_limit=20
    )
    b = certify_global(seq, dom, eps=0.3, metric="l1", output="logit", solver="cbc", time_limit=20)
    # both stop within their relative gap (target_gap / 2 = 0.25 %) of the same optimum
    assert a.delta_upper == pytest.approx(b.delta_upper, rel=6e-3, abs=1e-6)
    assert max(a.delta_lower, b.delta_lower) <= min(a.delta_upper, b.delta_upper)
    assert b.status == "optimal"


def test_solver_reports_only_proven_bounds_at_the_time_limit():
    # a maximisation whose incumbent is the first thing found: the bound must be >= it
    m = MilpModel()
    x = m.add_vars(30, 0, 1, True)
    rng = np.random.default_rng(0)
    m.add_row(x, rng.uniform(1, 3, 30), -math.inf, 20.0)
    m.set_objective(x, rng.uniform(1, 3, 30))
    r = solve(m, time_limit=5)
    assert r.bound is not None and r.objective is not None and r.bound >= r.objective


def test_certificate_json_round_trip_and_refuses_an_unsound_bound():
    rng = np.random.default_rng(1)
    seq = random_seq(rng, 2, [4])
    cert = certify_global(seq, Domain.box([-1, -1], [1, 1]), eps=0.2, time_limit=10)
    d = json.loads(cert.to_json())
    for key in ("delta_upper", "delta_lower", "witness", "status", "gap", "time_s"):
        assert key in d
    assert Certificate.from_dict(d).delta_upper == cert.delta_upper
    bad = dict(d, delta_upper=d["delta_lower"] - 0.1)
    with pytest.raises(AssertionError, match="unsound"):
        Certificate.from_dict(bad)


@pytest.mark.requires_mirror
def test_nnff_unit_certificate():
    from fairnn.datasets import load_dataset
    from fairnn.papers.nnff.model import SigmoidUnit
    from fairnn.papers.nnff.weights import nnff_boston_weights

    sp = load_dataset("boston", seed=42, extra_features=["B"])
    unit = SigmoidUnit(sp.features.dim)
    torch.manual_seed(0)
    met = weighted_metric("l2", sp.features, nnff_boston_weights())
    cert = certify_global(unit, sp.features, eps=0.3, metric=met, time_limit=20)
    assert cert.output == "value" and 0 <= cert.delta_lower <= cert.delta_upper <= 45 + 1e-6
    assert cert.gap <= 1e-2


# -- saved models, user modules, the CLI ---------------------------------------------------------
runner = CliRunner()


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    from fairnn.cli import app

    out = tmp_path_factory.mktemp("cert") / "m"
    r = runner.invoke(
        app,
        [
            "train",
            "--data",
            "adult",
            "--hidden",
            "8",
            "--epochs",
            "1",
            "--out",
            str(out),
            "-q",
            "--json",
        ],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    return out


def test_cli_certify_global_json(saved_model):
    from fairnn.cli import app

    r = runner.invoke(
        app,
        ["certify", str(saved_model), "--eps", "0.05", "--time-limit", "20", "--json"],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout.strip().splitlines()[-1])
    for key in ("delta_upper", "delta_lower", "witness", "status", "gap", "time_s"):
        assert key in d
    assert 0 <= d["delta_lower"] <= d["delta_upper"] <= 1
    # the witness in the user's units: one value per raw column, the pair's model inputs
    # mapped back through each feature's scale and offset (issue 18 item 9)
    from fairnn.methods import FittedModel

    feats = FittedModel.load(saved_model).features
    raw = d["witness_raw"]
    assert list(raw[0]) == list(dict.fromkeys(f.block or f.source for f in feats))
    for w, r in zip(d["witness"], raw, strict=True):
        for x, f in zip(w, feats, strict=True):
            if f.kind == "continuous":
                assert r[f.source] == pytest.approx(x * f.scale + f.offset, rel=1e-9)
            elif f.kind == "onehot" and x > 0.5:
                assert r[f.block] == f.category


def test_features_to_raw_inverts_the_model_input():
    from fairnn.datasets.core import Feature, FeatureMeta
    from fairnn.errors import InvalidValueError

    meta = FeatureMeta(
        (
            Feature("age", "age", "integer", -2, 3, offset=40.0, scale=10.0),
            Feature("c=a", "c", "onehot", block="c", category="a"),
            Feature("c=b", "c", "onehot", block="c", category="b"),
            Feature("sex", "sex", "binary", category="male"),
            Feature("h", "h", "continuous", -1, 1, offset=2.0, scale=0.5),
        )
    )
    assert meta.to_raw([0.26, 0.0, 1.0, 1.0, -0.5]) == {
        "age": 43, "c": "b", "sex": "male", "h": 1.75
    }  # fmt: skip
    assert meta.to_raw([0.0, 1.0, 0.0, 0.0, 0.0])["sex"] == "not male"
    with pytest.raises(InvalidValueError, match="5"):
        meta.to_raw([0.0, 1.0])


def test_cli_certify_local_and_text(saved_model):
    from fairnn.cli import app

    r = runner.invoke(
        app,
        ["certify", str(saved_model), "--eps", "0.1", "--local", "8", "--metric", "l1", "--json"],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert d["points"] == 8 and len(d["certificates"]) == 8
    assert all(c["delta_lower"] <= c["delta_upper"] for c in d["certificates"])
    r = runner.invoke(app, ["certify", str(saved_model), "--eps", "0.05", "--time-limit", "10"])
    assert r.exit_code == 0 and "δ upper (proven)" in r.output


def test_cli_certify_errors(saved_model, tmp_path):
    from fairnn.cli import app

    r = runner.invoke(app, ["certify", str(saved_model), "--eps", "0.1", "--metric", "l7"])
    assert r.exit_code == 2 and "unknown metric" in r.output
    r = runner.invoke(app, ["certify", str(saved_model), "--eps", "0.1", "--weights", "age"])
    assert r.exit_code == 2 and "name=weight" in r.output
    r = runner.invoke(app, ["certify", str(tmp_path / "nope"), "--eps", "0.1"])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_user_sequential_and_mlp_are_certified_alike():
    from fairnn.nn import MLP

    rng = np.random.default_rng(2)
    seq = random_seq(rng, 3, [5, 3])
    dom = Domain.box(-np.ones(3), np.ones(3))
    a = certify_global(seq, dom, eps=0.2, time_limit=10)
    b = certify_global(MLP.from_sequential(seq), dom, eps=0.2, time_limit=10)
    c = certify_global(nn.Sequential(*seq, nn.Sigmoid()), dom, eps=0.2, time_limit=10)
    assert a.delta_upper == pytest.approx(b.delta_upper, rel=1e-6)
    assert a.delta_upper == pytest.approx(c.delta_upper, rel=1e-6)


# -- IF-fair training ------------------------------------------------------------------------------
def test_iftrain_reduces_the_empirical_if_delta_against_vanilla():
    from fairnn.certify.attack import Projector as _Projector
    from fairnn.certify.attack import worst_neighbour
    from fairnn.datasets import load_dataset
    from fairnn.methods import make_method
    from fairnn.training import TrainConfig

    sp = load_dataset("adult", seed=0)
    rng = np.random.default_rng(0)
    train = sp.train.subset(rng.choice(len(sp.train), 3000, replace=False)[:2000])
    val = sp.val.subset(rng.choice(len(sp.val), 1000, replace=False))
    test = sp.test.subset(rng.choice(len(sp.test), 2000, replace=False))
    cfg = TrainConfig(epochs=5, batch_size=256, progress=False)
    dom = Domain.from_features(test.features, integers="relax")
    proj = _Projector(dom, weighted_metric("linf", test.features), 0.1, dtype=torch.float32)

    def if_delta(fm):
        f = lambda x: torch.sigmoid(fm.network(x))  # noqa: E731
        xs = worst_neighbour(f, test.X, proj, steps=30, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            return float((f(test.X) - f(xs)).abs().mean())

    # over three seeds, paired with vanilla (tests/effects.py). Measured over six (2,000 rows,
    # 5 epochs): δ 0.027 ± 0.001 against 0.043 ± 0.004 (ratio 0.64, at most 0.70 in a seed),
    # accuracy 0.001-0.0035 above vanilla's (3,000 rows and 6 epochs: ratio 0.55, t = 17)
    seeds = range(3)
    base = [make_method("vanilla").fit(train, val, config=cfg, seed=s) for s in seeds]
    fair = [make_method("iftrain", eps=0.1).fit(train, val, config=cfg, seed=s) for s in seeds]
    d_base, d_fair = [if_delta(m) for m in base], [if_delta(m) for m in fair]
    paired_effect(d_fair, d_base, t_min=3.0)
    assert sum(d_fair) < 0.8 * sum(d_base), (d_fair, d_base)
    acc = lambda m: m.evaluate(test)["accuracy"]  # noqa: E731
    assert np.mean([acc(f) - acc(b) for f, b in zip(fair, base, strict=True)]) > -0.02


# -- NNFF --------------------------------------------------------------------------------------------
@pytest.mark.requires_mirror
def test_nnff_pipeline_runs_end_to_end_and_certifies_every_stage():
    from fairnn.papers.nnff.study import format_report, run_nnff

    rep = run_nnff(seed=42, draws=4, epochs=2, train_epochs=10, time_limit=20)
    names = [s["name"] for s in rep["stages"]]
    assert names == [
        "random search",
        "resampling",
        "simulated gradient",
        "trained (MSE)",
        "IF-fair training",
    ]
    for s in rep["stages"]:
        # the seed's δ over data pairs is a lower bound of the certified one
        assert s["delta_data"] <= s["delta_upper"] + 1e-6
        assert s["delta_lower"] <= s["delta_upper"]
    assert "certified δ upper" in format_report(rep)


def test_highs_prints_no_banner_on_standard_output():
    """HiGHS prints a banner from its first constructor; on stdout it would corrupt
    ``fairnn certify --json`` for a pipe."""
    import subprocess
    import sys

    code = "from fairnn.certify.solvers import new_highs; new_highs(); new_highs(); print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "ok\n"


def test_ctrl_c_stops_a_long_global_certificate_with_a_sound_anytime_bound(monkeypatch, capsys):
    """A first Ctrl-C interrupts the running HiGHS solve (its MIP callback), not the
    program: the certificate comes back at once, sound, marked interrupted; on a terminal
    the solver's bound and the witness are shown while it runs (issue 19 item 6)."""
    import signal
    import sys
    import threading
    import time

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("Ctrl-C is caught in the main thread only")
    torch.manual_seed(0)
    seq = nn.Sequential(
        nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1)
    )
    dom = Domain.box(np.zeros(12), np.ones(12))
    met = weighted_metric("linf", 12, np.ones(12))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    timer = threading.Timer(1.5, lambda: signal.raise_signal(signal.SIGINT))
    t0 = time.perf_counter()
    timer.start()
    try:
        cert = certify_global(
            seq, dom, eps=0.2, metric=met, time_limit=120, threads=1, search="milp"
        )
    finally:
        timer.cancel()
    assert time.perf_counter() - t0 < 60  # it did not run to its 120 s limit
    assert cert.details.get("interrupted") and "stopped by Ctrl-C" in str(cert)
    net = as_network(seq, output="probability")
    x1, x2 = sample_pairs(dom, met, 0.2, np.random.default_rng(0), 4000)
    assert np.abs(net.f(x1) - net.f(x2)).max() <= cert.delta_upper + 1e-9
    assert cert.delta_lower <= cert.delta_upper
    assert "solver bound" in capsys.readouterr().err
