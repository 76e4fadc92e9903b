"""A global certificate cuts its pair set per switching category (fairnn.certify.parts):
the parts cover every pair exactly once, and the certificate stays sound and agrees with the
uncut problem."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from fairnn.certify.bounds import delta_box
from fairnn.certify.domain import Domain
from fairnn.certify.global_ import certify_global
from fairnn.certify.metrics import weighted_metric
from fairnn.certify.parts import pair_parts

D = 7
BLOCK = (3, 4, 5)  # a one-hot block the metric lets switch
FLAG = 6  # a binary column the metric lets flip


def _domain() -> Domain:
    lo, hi = -np.ones(D), np.ones(D)
    lo[3:], hi[3:] = 0.0, 1.0
    dom = Domain.box(lo, hi)
    kind = ["continuous"] * 3 + ["onehot"] * 3 + ["binary"]
    return Domain(**{**dom.__dict__, "kind": tuple(kind), "blocks": (BLOCK,)})


def _weights(switch_block: bool = True) -> np.ndarray:
    w = np.ones(D)
    if switch_block:
        w[list(BLOCK)] = 0.0
    w[FLAG] = 0.0
    return w


def _pairs(rng: np.random.Generator, n: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    def draw() -> np.ndarray:
        x = np.zeros((n, D))
        x[:, :3] = rng.uniform(-1, 1, (n, 3))
        x[np.arange(n), 3 + rng.integers(0, 3, n)] = 1.0
        x[:, FLAG] = rng.integers(0, 2, n)
        return x

    a, b = draw(), draw()
    b[:, :3] = np.clip(a[:, :3] + rng.uniform(-eps, eps, (n, 3)), -1, 1)
    return a, b


def test_the_parts_cover_every_pair_exactly_once() -> None:
    dom = _domain()
    met = weighted_metric("linf", D, _weights())
    parts = pair_parts(dom, *delta_box(dom, met, 0.1))
    assert parts is not None
    lo1, hi1, lo2, hi2 = parts
    assert len(lo1) == 9 * 4  # (category, category) × (flag, flag)
    a, b = _pairs(np.random.default_rng(0), 500, 0.1)
    inside = (
        np.all(a[:, None] >= lo1[None] - 1e-12, -1) & np.all(a[:, None] <= hi1[None] + 1e-12, -1)
        & np.all(b[:, None] >= lo2[None] - 1e-12, -1) & np.all(b[:, None] <= hi2[None] + 1e-12, -1)
    )  # fmt: skip
    assert np.all(inside.sum(1) == 1)


def test_nothing_to_cut_without_a_switching_column_or_with_too_many_parts() -> None:
    dom = _domain()
    fixed = np.ones(D)  # every column costs: no block switches or flag flips at eps 0.1
    assert pair_parts(dom, *delta_box(dom, weighted_metric("linf", D, fixed), 0.1)) is None
    met = weighted_metric("linf", D, _weights())
    assert pair_parts(dom, *delta_box(dom, met, 0.1), most=35) is None


def test_parts_the_metric_forbids_are_left_out() -> None:
    """A block where only one column may change cannot switch at all: only the parts with
    the same category in both copies hold pairs."""
    dom = _domain()
    w = np.ones(D)
    w[3] = 0.0
    parts = pair_parts(dom, *delta_box(dom, weighted_metric("linf", D, w), 0.1))
    assert parts is not None
    lo1, _, lo2, _ = parts
    same = np.all(lo1[:, list(BLOCK)] == lo2[:, list(BLOCK)], axis=1)
    assert same.all() and len(lo1) == 3


def _seq(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(D, 10), nn.ReLU(), nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 1), nn.Sigmoid()
    ).double()


def test_a_cut_certificate_is_sound_and_agrees_with_the_whole_problem() -> None:
    rng = np.random.default_rng(4)
    for seed in (1,):
        kw = dict(eps=0.1, weights=_weights(), time_limit=20, progress=False, seed=seed)
        cut = certify_global(_seq(seed), _domain(), **kw)
        whole = certify_global(_seq(seed), _domain(), pieces=1, **kw)
        assert cut.details["parts"]["count"] == 36 and "parts" not in whole.details
        assert cut.details["relaxation_bound"] <= cut.details["parts"]["bound"] + 1e-12
        assert cut.status == whole.status == "optimal"
        a, b = _pairs(rng, 20_000, 0.1)
        f = _seq(seed)
        with torch.no_grad():
            sampled = (f(torch.as_tensor(a)) - f(torch.as_tensor(b))).abs().max().item()
        for c in (cut, whole):
            assert c.delta_upper >= max(sampled, c.delta_lower)
        # both closed to the target gap, so each interval holds the other's witness
        assert cut.delta_lower <= whole.delta_upper and whole.delta_lower <= cut.delta_upper
