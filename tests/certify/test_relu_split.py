"""ReLU splitting: bounds with fixed phases hold on every sampled pair that has those phases,
and the search over phases only ever lowers a part's bound soundly, and does lower it."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from fairnn.certify.network import NetSpec
from fairnn.certify.relu_split import split_parts
from fairnn.certify.symbolic import pair_bounds
from fairnn.errors import InvalidValueError
from tests.certify.blocks import BLOCK, D, box, onehot


def _spec(rng: np.random.Generator, hidden: list[int]) -> NetSpec:
    sizes = [D, *hidden, 1]
    Ws = tuple(
        rng.normal(0, 1 / np.sqrt(a), (b, a)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    )
    bs = tuple(rng.normal(0, 0.3, b) for b in sizes[1:])
    return NetSpec(Ws, bs, "relu", "sigmoid")


def _pre(spec: NetSpec, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's pre-activations (the last: the logit)."""
    out, h = [], x
    for k, (W, b) in enumerate(zip(spec.weights, spec.biases, strict=True)):
        p = h @ W.T + b
        out.append(p)
        h = np.maximum(p, 0.0) if k < len(spec.weights) - 1 else p
    return out


def _parts(r: float):
    """Two parts of the layout's pair set: copy 1 in category 0 and copy 2 in category 1,
    and both in category 2; the difference box moves the continuous columns by ``r``."""
    lo, hi = box()
    rows = []
    for a, b in ((0, 1), (2, 2)):
        lo1, hi1, lo2, hi2 = lo.copy(), hi.copy(), lo.copy(), hi.copy()
        for c, col in enumerate(BLOCK):
            lo1[col] = hi1[col] = float(c == a)
            lo2[col] = hi2[col] = float(c == b)
        rows.append((lo1, hi1, lo2, hi2))
    parts = tuple(np.array(a) for a in zip(*rows, strict=True))
    dlo, dhi = np.full(D, -r), np.full(D, r)
    dlo[list(BLOCK)], dhi[list(BLOCK)] = -1.0, 1.0
    return parts, (dlo, dhi), [(0, 1), (2, 2)]


def _sample(rng, part_cats, r: float, n: int = 20000):
    """Pairs of one part: copy 1 anywhere in the box, copy 2 within ``r`` of it."""
    a, b = part_cats
    x1 = rng.uniform(-1, 1, (n, D))
    x2 = np.clip(x1 + rng.uniform(-r, r, (n, D)), -1, 1)
    for x, c in ((x1, a), (x2, b)):
        x[:, list(BLOCK)] = 0.0
        x[:, BLOCK[c]] = 1.0
    return x1, x2


def test_bounds_with_fixed_phases_hold_on_every_pair_with_those_phases() -> None:
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(6):
        spec = _spec(rng, [6, 6])
        lo, hi = box()
        r = np.full(D, 0.3)
        r[list(BLOCK)] = 1.0
        x1 = rng.uniform(lo, hi, (6000, D))
        x1[:, list(BLOCK)] = onehot(rng, 6000)
        x2 = np.clip(x1 + rng.uniform(-0.3, 0.3, (6000, D)), lo, hi)
        x2[:, list(BLOCK)] = onehot(rng, 6000)
        p1, p2 = _pre(spec, x1), _pre(spec, x2)
        # random sign patterns on a few neurons of each copy (one row per pattern)
        n = 24
        signs = tuple(
            [
                np.where(rng.random((n, w)) < 0.25, rng.choice([-1, 1], (n, w)), 0).astype(np.int8)
                for w in (6, 6)
            ]
            for _ in range(2)
        )
        pb = pair_bounds(spec, lo, hi, lo, hi, -r, r, (BLOCK,), signs=signs)
        ups, signed = pb.output_bound(), pb.output_bound(signed=True)
        assert np.all(signed <= ups)
        for i in range(n):
            meets = np.ones(len(x1), dtype=bool)
            for c, p in enumerate((p1, p2)):
                for k in range(2):
                    s = signs[c][k][i]
                    meets &= np.all((s == 0) | ((s > 0) & (p[k] >= 0)) | ((s < 0) & (p[k] <= 0)), 1)
            if not meets.any():
                continue
            assert not pb.empty[i]
            for k, rec in enumerate(pb.layers):
                for q, (L, U) in (
                    (p1[k][meets], (rec.L1[i], rec.U1[i])),
                    (p2[k][meets], (rec.L2[i], rec.U2[i])),
                ):
                    assert np.all(q >= L) and np.all(q <= U), k
                dq = p1[k][meets] - p2[k][meets]
                assert np.all(dq >= rec.dL[i]) and np.all(dq <= rec.dU[i]), k
            real = spec.apply_head(p1[-1][meets, 0]) - spec.apply_head(p2[-1][meets, 0])
            assert ups[i] >= np.abs(real).max()
            assert signed[i] >= real.max()
            checked += 1
    assert checked >= 40  # the patterns were met by real pairs often enough to test


def test_signs_are_checked_and_contradictory_signs_give_an_empty_row() -> None:
    rng = np.random.default_rng(0)
    spec = _spec(rng, [4])
    lo, hi = box()
    r = np.full(D, 0.1)
    with pytest.raises(InvalidValueError, match="signs"):
        pair_bounds(spec, lo, hi, lo, hi, -r, r, (BLOCK,), signs=([], []))
    # a neuron active in copy 1 and inactive in copy 2 while ε = 0 fixes x' = x'': empty
    zero = np.zeros(D)
    pb0 = pair_bounds(spec, lo, hi, lo, hi, zero, zero, (BLOCK,))
    j = int(np.argmax(np.minimum(-pb0.layers[0].L1[0], pb0.layers[0].U1[0])))
    s1, s2 = np.zeros((1, 4), np.int8), np.zeros((1, 4), np.int8)
    s1[0, j], s2[0, j] = 1, -1
    # the two sides meet only at φ = 0 (a measure-zero set): not empty, but bounded there
    pb = pair_bounds(spec, lo, hi, lo, hi, zero, zero, (BLOCK,), signs=([s1], [s2]))
    assert pb.output_bound()[0] <= pb0.output_bound() + 1e-9
    # a phase no input has (the neuron's upper bound is below 0 on a narrow box) is empty
    lo_n, hi_n = lo.copy(), hi.copy()
    W, b = spec.weights[0], spec.biases[0]
    x = np.zeros(D)
    x[BLOCK[0]] = 1.0
    k = int(np.argmin(W[:, :3].sum(1) * 0 + x @ W.T + b))  # the neuron lowest at x
    lo_n[:3], hi_n[:3] = 0.0, 0.0  # x' is the single point x
    lo_n[list(BLOCK)], hi_n[list(BLOCK)] = x[list(BLOCK)], x[list(BLOCK)]
    phi = x @ W[k] + b[k]
    s1 = np.zeros((1, 4), np.int8)
    s1[0, k] = 1 if phi < 0 else -1  # the side x is not on
    pb = pair_bounds(spec, lo_n, hi_n, lo_n, hi_n, zero, zero, (BLOCK,), signs=([s1], [s1]))
    assert pb.empty[0] and pb.output_bound()[0] == 0.0


@pytest.mark.parametrize("hidden", [[6], [8, 8]])
def test_split_parts_stays_above_every_sampled_pair_and_never_raises_a_bound(hidden) -> None:
    rng = np.random.default_rng(len(hidden))
    for _ in range(3):
        spec = _spec(rng, hidden)
        parts, (dlo, dhi), cats = _parts(0.2)
        start = pair_bounds(spec, *parts, dlo, dhi, (BLOCK,)).output_bound()
        res = split_parts(
            spec, parts, dlo, dhi, (BLOCK,), start, lambda: 0.0, time.perf_counter() + 0.3
        )
        assert res.bounded > 0
        assert np.all(res.bounds <= start)
        for p, c in enumerate(cats):
            # each part bounds f(x') - f(x''): its mirror part bounds the other sign
            x1, x2 = _sample(rng, c, 0.2)
            real = spec.apply_head(_pre(spec, x1)[-1][:, 0]) - spec.apply_head(
                _pre(spec, x2)[-1][:, 0]
            )
            assert res.bounds[p] >= real.max()


def test_split_parts_lowers_the_bound_and_stops_when_asked(monkeypatch) -> None:
    from fairnn.certify import relu_split

    monkeypatch.setattr(relu_split, "PROGRESS_EVERY", 0.0)
    # over several nets the split bound is clearly tighter than the symbolic one (measured:
    # 0.72-0.77 of it after 1 s on these four nets)
    rng = np.random.default_rng(11)
    ratios = []
    for _ in range(4):
        spec = _spec(rng, [8, 8])
        parts, (dlo, dhi), _ = _parts(0.2)
        start = pair_bounds(spec, *parts, dlo, dhi, (BLOCK,)).output_bound()
        seen: list[float] = []
        res = split_parts(
            spec,
            parts,
            dlo,
            dhi,
            (BLOCK,),
            start,
            lambda: 0.0,
            time.perf_counter() + 0.4,
            progress=seen.append,
        )
        ratios.append(float(res.bounds.max() / start.max()))
        # the bound shown as the search goes is proven at every moment: it only falls, and
        # never below where the search ends
        assert seen and np.all(np.diff(seen) <= 1e-12) and seen[-1] >= res.bounds.max() - 1e-12
    assert np.median(ratios) < 0.9, ratios
    # a stop event set before the start leaves the bounds as the first bounding made them
    stop = threading.Event()
    stop.set()
    res = split_parts(
        spec, parts, dlo, dhi, (BLOCK,), start, lambda: 0.0, time.perf_counter() + 5, stop
    )
    assert res.rounds == 0 and np.all(res.bounds <= start)
    # a floor above every bound settles every part at once (nothing is searched)
    res = split_parts(spec, parts, dlo, dhi, (BLOCK,), start, lambda: 1.0, time.perf_counter() + 5)
    assert res.bounded == 0 and np.array_equal(res.bounds, start)


def test_each_part_bounds_its_own_sign_and_a_part_with_its_mirror_bounds_both() -> None:
    rng = np.random.default_rng(5)
    spec = _spec(rng, [8, 8])
    parts, (dlo, dhi), _ = _parts(0.2)
    lo1, hi1, lo2, hi2 = parts
    # part 2 is part 0 with the copies swapped: the same pairs, swapped
    mirrored = tuple(
        np.vstack([a, b[:1]]) for a, b in zip(parts, (lo2, hi2, lo1, hi1), strict=True)
    )
    start = pair_bounds(spec, *mirrored, dlo, dhi, (BLOCK,)).output_bound()
    res = split_parts(
        spec, mirrored, dlo, dhi, (BLOCK,), start, lambda: 0.0, time.perf_counter() + 0.3
    )
    x1, x2 = _sample(rng, (0, 1), 0.2)  # part 0's pairs; swapped, part 2's
    d = spec.apply_head(_pre(spec, x1)[-1][:, 0]) - spec.apply_head(_pre(spec, x2)[-1][:, 0])
    assert res.bounds[0] >= d.max() and res.bounds[2] >= (-d).max()
    assert max(res.bounds[0], res.bounds[2]) >= np.abs(d).max()
    # the two signs differ: one side is the easier one, and its bound says so
    assert res.bounds.min() < start.min()
