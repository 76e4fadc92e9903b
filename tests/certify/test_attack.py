"""The global certificate's pair search climbs over the discrete columns (issue 19, lower
bounds): on a domain with no continuous column, whose unfair pairs need one category of a
block, one pair of categories of the sensitive block and an integer in a narrow window, the
search reaches the exhaustive maximum. Gradient steps alone cannot change a category or an
integer, so without :class:`~fairnn.certify.attack.PairMoves` the search stays with its
random starts (about half the maximum here)."""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn

from fairnn.certify.attack import search_pairs
from fairnn.certify.problem import prepare
from fairnn.certify.witness import feasible, repair_pair
from fairnn.datasets.core import Feature, FeatureMeta

K = 2000  # the integer column's raw range 0..K, in model units x = k / 1000
TARGET = 1234  # where the unfairness peaks
EPS = 0.0025  # the ball lets k move by 2 steps; the race block (weight 0) switches freely
RACES, CATS = 4, 6


def _case() -> tuple[nn.Sequential, FeatureMeta]:
    feats = [Feature("k", "k", "integer", 0.0, K / 1000, scale=1000.0, offset=0.0)]
    feats += [
        Feature(f"race={r}", "race", "onehot", 0.0, 1.0, block="race", category=str(r),
                sensitive=True)
        for r in range(RACES)
    ]  # fmt: skip
    feats += [
        Feature(f"c={c}", "c", "onehot", 0.0, 1.0, block="c", category=str(c)) for c in range(CATS)
    ]
    d = len(feats)
    # z = -22 + 4·[race 3] + 20·[c 5] - 0.2·|k - TARGET|: only category 5 of c, race 3 against
    # another race and k near TARGET give a pair far apart
    W1 = np.zeros((4, d))
    W1[0, 0], W1[1, 0] = 1000.0, -1000.0
    W1[2, RACES], W1[3, 1 + RACES + CATS - 1] = 1.0, 1.0
    b1 = np.array([-TARGET, TARGET, 0.0, 0.0])
    W2 = np.array([[-0.2, -0.2, 4.0, 20.0]])
    b2 = np.array([-22.0])
    l1, l2 = nn.Linear(d, 4, dtype=torch.float64), nn.Linear(4, 1, dtype=torch.float64)
    with torch.no_grad():
        for lin, W, b in ((l1, W1, b1), (l2, W2, b2)):
            lin.weight.copy_(torch.as_tensor(W))
            lin.bias.copy_(torch.as_tensor(b))
    return nn.Sequential(l1, nn.ReLU(), l2), FeatureMeta(tuple(feats))


def _exhaustive(seq: nn.Sequential) -> float:
    """The largest ``|σ(z(x')) - σ(z(x''))|`` over every pair of the domain within ε, by
    enumeration and an own forward pass: x'' has any race, the same category of c, and k
    within 2 steps of x'."""
    W1, b1 = seq[0].weight.detach().numpy(), seq[0].bias.detach().numpy()
    W2, b2 = seq[2].weight.detach().numpy(), seq[2].bias.detach().numpy()

    def f(k: np.ndarray, race: np.ndarray, c: np.ndarray) -> np.ndarray:
        X = np.zeros((k.size, 1 + RACES + CATS))
        X[:, 0] = k / 1000
        X[np.arange(k.size), 1 + race] = 1.0
        X[np.arange(k.size), 1 + RACES + c] = 1.0
        z = (np.maximum(X @ W1.T + b1, 0) @ W2.T + b2)[:, 0]
        return 1 / (1 + np.exp(-z))

    best = 0.0
    ks = np.arange(K + 1)
    for r1, r2, c, dk in itertools.product(range(RACES), range(RACES), range(CATS), range(-2, 3)):
        k2 = ks + dk
        ok = (k2 >= 0) & (k2 <= K)
        one = np.full(ok.sum(), 1)
        v = np.abs(f(ks[ok], r1 * one, c * one) - f(k2[ok], r2 * one, c * one))
        best = max(best, float(v.max()))
    return best


def test_pair_search_reaches_the_exhaustive_maximum_over_discrete_columns():
    seq, feats = _case()
    net, dom, met = prepare(seq, feats, metric="linf", output="probability")
    assert not dom.continuous.any()  # gradient steps move nothing here
    truth = _exhaustive(seq)
    assert truth > 0.75  # race 3 against another at k = TARGET, category 5: σ(2) - σ(-2.4)
    # as the global certificate runs it (global_._incumbent): defaults, no data rows
    found = search_pairs(
        net.spec.torch_function(), dom, met, EPS,
        repair=lambda a, b: repair_pair(dom, met, EPS, a, b),
    )  # fmt: skip
    assert found is not None and feasible(dom, met, EPS, *found)
    value = abs(float(np.diff(net.f(np.vstack(found)))[0]))
    assert value <= truth + 1e-6  # the grid x = origin + k·step rounds a little differently
    assert value >= 0.99 * truth, f"the search found {value:.4f} of {truth:.4f}"
