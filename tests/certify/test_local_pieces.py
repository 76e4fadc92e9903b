"""Local certificates cut each ball into pieces (one per category of a switchable one-hot
block) and may run their points on worker processes: neither changes a certificate."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from fairnn.certify.domain import Domain
from fairnn.certify.local import _pieces, certify_local
from tests.certify.blocks import BLOCK, D, box, onehot


def _seq(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(D, 12), nn.ReLU(), nn.Linear(12, 12), nn.ReLU(), nn.Linear(12, 1)
    ).double()


def _domain() -> Domain:
    lo, hi = box()
    dom = Domain.box(lo, hi)
    kind = list(dom.kind)
    for c in BLOCK:
        kind[c] = "onehot"
    return Domain(**{**dom.__dict__, "kind": tuple(kind), "blocks": (BLOCK,)})


def _centres(seed: int, n: int, spread: float, block_w: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` centres (continuous columns within ``±spread``, a random category each) and
    metric weights: 1, and ``block_w`` on the block's columns."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-spread, spread, (n, D))
    X[:, list(BLOCK)] = onehot(rng, n)
    w = np.ones(D)
    w[list(BLOCK)] = block_w
    return X, w


def test_pieces_cut_the_ball_by_category_and_cover_it() -> None:
    dom = _domain()
    lo, hi = box()
    lo[:3], hi[:3] = -0.2, 0.2
    P_lo, P_hi = _pieces(dom, lo, hi)
    assert len(P_lo) == 3  # one per category of the switchable block
    assert sorted(int(np.argmax(p[list(BLOCK)])) for p in P_lo) == [0, 1, 2]
    np.testing.assert_array_equal(P_lo[:, :3], np.broadcast_to(lo[:3], (3, 3)))
    fixed_hi = hi.copy()
    fixed_hi[[4, 5]] = 0.0  # category 0 only: nothing to cut
    assert len(_pieces(dom, lo, fixed_hi)[0]) == 1


def test_local_certificates_with_pieces_equal_the_whole_ball() -> None:
    X, w = _centres(11, 4, 0.8, 0.0)  # the category may switch freely
    kw = dict(eps=0.15, weights=w, fast=False, progress=False)
    cut = certify_local(_seq(1), X, _domain(), **kw)
    whole = certify_local(_seq(1), X, _domain(), pieces=1, **kw)
    for a, b in zip(cut.certificates, whole.certificates, strict=True):
        assert a.status == b.status == "optimal"
        assert a.delta_upper == pytest.approx(b.delta_upper, rel=1e-5, abs=1e-7)
        assert a.delta_lower == pytest.approx(b.delta_lower, rel=1e-5, abs=1e-7)
        assert a.model_size["pieces"] == 3 and b.model_size["pieces"] == 1


def test_local_certificates_are_the_same_on_two_worker_processes() -> None:
    X, w = _centres(12, 3, 0.8, 0.0)
    kw = dict(eps=0.15, weights=w, fast=False, progress=False)
    one = certify_local(_seq(2), X, _domain(), **kw)
    two = certify_local(_seq(2), X, _domain(), workers=2, **kw)
    for a, b in zip(one.certificates, two.certificates, strict=True):
        assert (a.status, a.delta_upper, a.delta_lower) == (b.status, b.delta_upper, b.delta_lower)
        assert a.witness == b.witness


def test_pieces_beyond_the_l1_ball_are_dropped_and_the_certificate_closes() -> None:
    # each block column alone may move by 1 (radius 0.9 / 0.6 = 1.5), but a switch moves two
    # columns (ℓ1 cost 1.2 > 0.9): the other categories' pieces hold no point of the ball,
    # and their MILPs would be infeasible (a claim the checks never accept: unverified)
    X, w = _centres(13, 2, 0.5, 0.6)
    kw = dict(eps=0.9, metric="l1", weights=w, fast=False, progress=False)
    cut = certify_local(_seq(3), X, _domain(), **kw)
    whole = certify_local(_seq(3), X, _domain(), pieces=1, **kw)
    for a, b in zip(cut.certificates, whole.certificates, strict=True):
        assert a.status == b.status == "optimal"
        assert a.model_size["pieces"] == 1  # only the centre's own category is left
        assert a.delta_upper == pytest.approx(b.delta_upper, rel=1e-5, abs=1e-7)
