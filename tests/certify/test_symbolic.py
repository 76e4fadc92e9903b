"""Symbolic (back-substitution) bounds: sound on every sampled pair, never looser than
interval arithmetic, and a difference bound that shrinks with ε."""

from __future__ import annotations

import numpy as np
import pytest

from fairnn.certify.network import NetSpec
from fairnn.certify.ops import activation
from fairnn.certify.ops.check import check_activation
from fairnn.certify.ops.relu import ReLU
from fairnn.certify.symbolic import copy_bounds, pair_bounds
from fairnn.errors import InvalidValueError
from tests.certify.blocks import BLOCK, D, box, onehot


def _spec(rng: np.random.Generator, hidden: list[int], act: str, head: str) -> NetSpec:
    sizes = [D, *hidden, 1]
    Ws = tuple(
        rng.normal(0, 1 / np.sqrt(a), (b, a)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    )
    bs = tuple(rng.normal(0, 0.3, b) for b in sizes[1:])
    return NetSpec(Ws, bs, act, head)


def _sample_pairs(rng, lo, hi, r, switch: bool, n: int = 4000):
    x1 = rng.uniform(lo, hi, (n, D))
    x1[:, list(BLOCK)] = onehot(rng, n)
    x2 = np.clip(x1 - rng.uniform(-r, r, (n, D)), lo, hi)
    x2[:, list(BLOCK)] = onehot(rng, n) if switch else x1[:, list(BLOCK)]
    return x1, x2


def _radius(switch: bool, eps: float) -> np.ndarray:
    r = np.full(D, eps)
    r[list(BLOCK)] = 1.0 if switch else 0.0
    return r


@pytest.mark.parametrize(
    ("act", "head"), [("relu", "sigmoid"), ("sigmoid", "identity"), ("tanh", "tanh")]
)
@pytest.mark.parametrize("switch", [False, True])
def test_pair_bounds_contain_every_sampled_pair(act: str, head: str, switch: bool) -> None:
    rng = np.random.default_rng(hash((act, switch)) % 2**32)
    g = activation(act)
    for hidden in ([8], [8, 8]):
        spec = _spec(rng, hidden, act, head)
        lo, hi = box()
        r = _radius(switch, 0.2)
        x1, x2 = _sample_pairs(rng, lo, hi, r, switch)
        for method in ("interval", "symbolic"):
            pb = pair_bounds(spec, lo, hi, lo, hi, -r, r, (BLOCK,), method=method)
            h1, h2 = x1, x2
            for li, (W, b) in enumerate(zip(spec.weights, spec.biases, strict=True)):
                p1, p2 = h1 @ W.T + b, h2 @ W.T + b
                rec = pb.layers[li]
                assert np.all(p1 >= rec.L1) and np.all(p1 <= rec.U1), (method, li)
                assert np.all(p2 >= rec.L2) and np.all(p2 <= rec.U2), (method, li)
                assert np.all(p1 - p2 >= rec.dL) and np.all(p1 - p2 <= rec.dU), (method, li)
                h1, h2 = g.value(p1), g.value(p2)
            sampled = np.abs(spec.apply_head(p1[:, 0]) - spec.apply_head(p2[:, 0])).max()
            assert pb.output_bound() >= sampled


def test_symbolic_is_never_looser_than_interval_and_much_tighter_on_average() -> None:
    rng = np.random.default_rng(7)
    ratios = []
    for _ in range(12):
        spec = _spec(rng, [10, 10], "relu", "sigmoid")
        lo, hi = box()
        r = _radius(False, 0.1)
        args = (spec, lo, hi, lo, hi, -r, r, (BLOCK,))
        sym = pair_bounds(*args, method="symbolic")
        itv = pair_bounds(*args, method="interval")
        for a, b in zip(sym.layers, itv.layers, strict=True):
            assert np.all(a.U1 <= b.U1) and np.all(a.L1 >= b.L1)
            assert np.all(a.dU <= b.dU) and np.all(a.dL >= b.dL)
        ratios.append(sym.output_bound() / itv.output_bound())
    # measured: a median ratio about 0.5 on these nets; interval arithmetic alone gives 1
    assert np.median(ratios) < 0.8


def test_the_difference_bound_shrinks_with_eps_while_the_copies_do_not() -> None:
    """The difference network is bounded in Δx alone: its bound goes to 0 with ε (the
    per-copy bounds cover the whole box whatever ε is)."""
    rng = np.random.default_rng(3)
    spec = _spec(rng, [12, 12], "relu", "identity")
    lo, hi = box()
    widths = []
    for eps in (0.1, 0.01, 0.001):
        r = _radius(False, eps)
        z = pair_bounds(spec, lo, hi, lo, hi, -r, r, (BLOCK,)).layers[-1]
        widths.append(float(z.dU[0, 0]))
        copy_width = float(z.U1[0, 0] - z.L1[0, 0])
    assert widths[1] < 0.2 * widths[0] and widths[2] < 0.2 * widths[1]
    assert widths[2] < 1e-2 * copy_width


def test_copy_bounds_are_pair_bounds_of_one_copy_and_batches_match_single_boxes() -> None:
    rng = np.random.default_rng(5)
    spec = _spec(rng, [9, 7], "tanh", "sigmoid")
    lo, hi = box()
    centres = rng.uniform(-0.5, 0.5, (70, D))  # more than one chunk of 64
    blo, bhi = np.maximum(lo, centres - 0.3), np.minimum(hi, centres + 0.3)
    blo[:, list(BLOCK)], bhi[:, list(BLOCK)] = 0.0, 1.0
    batch = copy_bounds(spec, blo, bhi, (BLOCK,))
    pb = pair_bounds(spec, blo, bhi, blo, bhi, np.zeros(D), np.zeros(D), (BLOCK,))
    for (L, U), rec in zip(batch, pb.layers, strict=True):
        np.testing.assert_allclose(L, rec.L1)
        np.testing.assert_allclose(U, rec.U1)
    for i in (0, 69):
        one = copy_bounds(spec, blo[i], bhi[i], (BLOCK,))
        for (L, U), (Lb, Ub) in zip(one, batch, strict=True):
            np.testing.assert_allclose(L[0], Lb[i])
            np.testing.assert_allclose(U[0], Ub[i])


def test_bad_boxes_are_refused_with_the_field_named() -> None:
    spec = _spec(np.random.default_rng(0), [4], "relu", "sigmoid")
    lo, hi = box()
    with pytest.raises(InvalidValueError, match="lo2 has 5 columns"):
        pair_bounds(spec, lo, hi, lo[:5], hi, lo * 0, hi * 0)
    with pytest.raises(InvalidValueError, match="lower bound above"):
        pair_bounds(spec, hi, lo, lo, hi, lo * 0, hi * 0)
    with pytest.raises(InvalidValueError, match="method"):
        copy_bounds(spec, lo, hi, method="crown")


def test_check_activation_catches_a_relaxation_that_is_too_tight() -> None:
    class Broken(ReLU):
        name = "broken-relu"

        def linear_bounds(self, L, U):
            al, bl, au, bu = super().linear_bounds(L, U)
            return al, bl, au, bu - 0.01  # the chord pushed below the function

    check_activation("relu")
    with pytest.raises(AssertionError, match="linear_bounds"):
        check_activation(Broken())


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
def test_pair_bounds_with_a_fixed_shift_know_the_signs_and_stay_sound(act: str) -> None:
    """``x'' = x' - s`` for a fixed shift ``s``: the first layer's differences have known
    signs, so the difference network's exact-sign lines are used (and must hold)."""
    rng = np.random.default_rng(17)
    g = activation(act)
    for _ in range(4):
        spec = _spec(rng, [10, 10], act, "identity")
        lo, hi = -np.ones(D), np.ones(D)
        s = rng.uniform(-0.4, 0.4, D)
        x1 = rng.uniform(lo, hi, (4000, D))
        x2 = x1 - s
        pb = pair_bounds(spec, lo, hi, lo - s, hi - s, s, s)
        first = pb.layers[0]
        assert np.all((first.dL >= 0) | (first.dU <= 0))  # every sign known
        h1, h2 = x1, x2
        for li, (W, b) in enumerate(zip(spec.weights, spec.biases, strict=True)):
            p1, p2 = h1 @ W.T + b, h2 @ W.T + b
            rec = pb.layers[li]
            assert np.all(p1 - p2 >= rec.dL) and np.all(p1 - p2 <= rec.dU), li
            h1, h2 = g.value(p1), g.value(p2)
