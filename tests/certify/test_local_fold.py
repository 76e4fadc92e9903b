"""A local certificate's pieces as folded MILPs (:mod:`fairnn.certify.fold`): every true
point of a piece satisfies the folded model, its optimum is the full encoding's, and the
certificates are the same as with the full encoding."""

from __future__ import annotations

import numpy as np
import pytest

from fairnn.certify import Domain, EncodeOptions, certify_local, encode, local, weighted_metric
from fairnn.certify import bounds as B
from fairnn.certify.fold import fold_piece, foldable
from fairnn.certify.local import _discrete_box, _pieces
from fairnn.certify.margin import BOUND_MARGIN
from fairnn.certify.network import as_network
from fairnn.certify.solvers import SMALL_MIP, solve
from fairnn.certify.symbolic import copy_bounds
from fairnn.certify.verify import feasible_objective
from tests.certify.test_certify import mixed_features, random_seq

OPTS = EncodeOptions(bounds="symbolic")


def _case(seed: int, norm: str):
    rng = np.random.default_rng(seed)
    feats = mixed_features()
    dom = Domain.from_features(feats)
    spec = as_network(random_seq(rng, feats.dim, [7, 6]), output="probability").spec
    w = rng.uniform(0.5, 1.5, feats.dim)
    w[[4, 5, 6]] = 0.0  # the one-hot block c may switch: three pieces
    met = weighted_metric(norm, feats, w)
    return rng, dom, spec, met, 0.6, dom.sample(1, rng)[0]


def _pieces_of(spec, dom, met, eps, x0):
    dlo, dhi = B.delta_box(dom, met, eps)
    lo, hi = B.ball_box(dom, x0[None], dlo, dhi)
    _discrete_box(dom, x0[None], lo, hi, dlo, dhi)
    P_lo, P_hi = _pieces(dom, lo[0], hi[0])
    return P_lo, P_hi, copy_bounds(spec, P_lo, P_hi, dom.blocks)


def _ball(rng, dom, met, eps, x0, n=3000):
    """Points of the domain within ε of ``x0`` (every category of the free block)."""
    r = np.where(np.isfinite(met.radius(eps)), met.radius(eps), 1.0)
    X = np.repeat(x0[None], n, 0)
    X = X + np.where(dom.continuous, rng.uniform(-1, 1, X.shape) * r, 0.0)
    isint = np.array([k == "integer" for k in dom.kind])
    step = dom.int_step[isint]
    X[:, isint] += np.round(rng.uniform(-1, 1, (n, isint.sum())) * r[isint] / step) * step
    for blk in dom.blocks:
        cols = list(blk)
        X[:, cols] = np.eye(len(cols))[rng.integers(0, len(cols), n)]
    ok = dom.contains(X) & (met.distance(np.repeat(x0[None], n, 0), X) <= eps)
    return X[ok]


def _inside(X, lo, hi):
    return X[np.all(np.abs(X - (lo + hi) / 2) <= (hi - lo) / 2 + 1e-12, axis=1)]


@pytest.mark.parametrize(("seed", "norm"), [(0, "linf"), (1, "linf"), (2, "l1"), (3, "l2")])
def test_true_points_of_a_piece_satisfy_the_folded_milp_and_its_optimum_is_the_full_one(
    seed: int, norm: str
) -> None:
    rng, dom, spec, met, eps, x0 = _case(seed, norm)
    X = _ball(rng, dom, met, eps, x0)
    P_lo, P_hi, lb = _pieces_of(spec, dom, met, eps, x0)
    assert len(P_lo) == 3
    unstable = 0
    for p in range(len(P_lo)):
        piece = (P_lo[p], P_hi[p])
        enc = fold_piece(spec, dom, met, eps, x0, piece, [(L[p], U[p]) for L, U in lb], OPTS)
        full = encode(spec, dom, met, eps, x0=x0, options=OPTS, piece=piece)
        assert enc.model.n_vars < full.model.n_vars
        unstable += sum(r.unstable for r in enc.layers)
        pts = _inside(X, *piece)
        assert len(pts) > 20
        enc.model.set_objective([enc.z[0]], [1.0])
        for x in pts[:: max(1, len(pts) // 40)]:
            # the folded row of z holds the true logit, and every other row the true point
            obj = feasible_objective(enc.model, enc.assignment([x]), tol=1e-9)
            assert obj == pytest.approx(spec.logit(x[None])[0], abs=1e-9)
        z_true = spec.logit(pts)
        for sign in (1.0, -1.0):
            enc.model.set_objective([enc.z[0]], [sign])
            full.model.set_objective([full.z[0]], [sign])
            a = solve(enc.model, time_limit=5, mip_rel_gap=1e-9, threads=1, tuning=SMALL_MIP)
            b = solve(full.model, time_limit=5, mip_rel_gap=1e-9, threads=1)
            assert a.status == b.status == "optimal"
            # the same optimum, up to the solvers' tolerances (what the margin pad_up covers)
            assert a.bound == pytest.approx(b.bound, abs=BOUND_MARGIN * (1 + abs(b.bound)))
            assert a.bound >= np.max(sign * z_true) - 1e-9
    assert unstable > 0  # the cases have unstable neurons to encode


def test_local_certificates_are_the_same_with_and_without_folding(monkeypatch) -> None:
    rng, dom, spec, met, eps, _ = _case(4, "linf")
    seq = random_seq(np.random.default_rng(4), dom.dim, [7, 6])
    X = dom.sample(4, rng)
    kw = dict(eps=eps, metric=met, fast=False, progress=False)
    folded = certify_local(seq, X, mixed_features(), **kw)
    monkeypatch.setattr(local, "FOLD", False)
    full = certify_local(seq, X, mixed_features(), **kw)
    for a, b in zip(folded.certificates, full.certificates, strict=True):
        assert a.status == b.status == "optimal"
        assert a.delta_upper == pytest.approx(b.delta_upper, abs=1e-6)
        assert a.delta_lower == pytest.approx(b.delta_lower, abs=1e-6)
        assert a.model_size["cols"] < b.model_size["cols"]


def test_only_relu_networks_with_caller_bounds_on_finite_boxes_are_folded() -> None:
    _, dom, spec, *_ = _case(5, "linf")
    lo, hi = dom.lower, dom.upper
    assert foldable(spec, OPTS, lo, hi)
    assert foldable(spec, EncodeOptions(bounds="interval"), lo, hi)
    assert not foldable(spec, EncodeOptions(bounds="lp"), lo, hi)  # LP needs the full model
    assert not foldable(spec, OPTS, lo, np.where(np.arange(dom.dim) == 0, np.inf, hi))
    sig = as_network(random_seq(np.random.default_rng(5), spec.in_features, [3], "sigmoid")).spec
    assert not foldable(sig, OPTS, lo, hi)


def test_an_unknown_tuning_option_is_skipped() -> None:
    rng, dom, spec, met, eps, x0 = _case(6, "linf")
    enc = encode(spec, dom, met, eps, x0=x0, options=OPTS)
    enc.model.set_objective([enc.z[0]], [1.0])
    plain = solve(enc.model, time_limit=5, mip_rel_gap=1e-9, threads=1)
    tuned = solve(enc.model, time_limit=5, mip_rel_gap=1e-9, threads=1, tuning={"no_such": 1})
    assert plain.status == tuned.status == "optimal"
    assert tuned.bound == pytest.approx(plain.bound, abs=1e-9)
