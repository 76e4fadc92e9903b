"""``check_activation``: the contract every certification op must pass, on random inputs.

As scikit-learn's ``check_estimator``: call it on a new :class:`Activation` (or a
registered name) and it raises ``AssertionError`` naming the first broken property.
Soundness is what is checked: bounds contain every sampled value, the MILP rows
admit every true point. It needs numpy only (and torch for the torch forward).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from fairnn.certify.milp import MilpModel
from fairnn.certify.ops.base import ACTIVATIONS, Activation, NeuronLayer
from fairnn.certify.ops.pwl import pwl_eval
from fairnn.certify.ops.sshaped import SShaped

__all__ = ["check_activation"]

#: absolute slack for floating-point rounding in every containment check
TOL = 1e-9


def _boxes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` intervals ``[L, U]``: left of 0, right of it and across it, narrow to wide,
    plus a point interval."""
    centre = rng.choice([-1.0, 1.0], n) * rng.uniform(0.0, 6.0, n) * (rng.random(n) < 0.8)
    width = 10.0 ** rng.uniform(-3, 1.3, n)
    L = centre - width * rng.uniform(0, 1, n)
    U = L + width
    U[0] = L[0]
    return L, U


def _inside(rng: np.random.Generator, L: np.ndarray, U: np.ndarray, k: int) -> np.ndarray:
    """``k`` points per interval (rows), ends included."""
    t = rng.uniform(0, 1, (k, L.size))
    t[0], t[-1] = 0.0, 1.0
    return L + t * (U - L)


def _pairs(
    rng: np.random.Generator, L: np.ndarray, U: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Difference bounds ``[dL, dU]`` and ``k`` pairs ``a, b ∈ [L, U]`` with ``a - b`` in them."""
    dU = (U - L) * rng.uniform(0, 1, L.size)
    dL = -dU * rng.uniform(0, 1, L.size)
    a = _inside(rng, L, U, k)
    d = dL + rng.uniform(0, 1, a.shape) * (dU - dL)
    b = np.clip(a - d, L, U)
    return a, b, dL, dU


def _close(what: str, got: np.ndarray, want: np.ndarray, tol: float, where: np.ndarray) -> None:
    bad = np.abs(np.asarray(got) - np.asarray(want)) > tol * (1 + np.abs(want))
    if np.any(bad):
        i = np.unravel_index(int(np.flatnonzero(bad)[0]), np.shape(bad))
        raise AssertionError(
            f"{what}: {np.asarray(got)[i]!r} != {np.asarray(want)[i]!r} at {np.asarray(where)[i]!r}"
        )


def _within(what: str, v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    lo, hi = np.broadcast_to(lo, np.shape(v)), np.broadcast_to(hi, np.shape(v))
    pad = TOL * (1 + np.abs(v))
    bad = (v < lo - pad) | (v > hi + pad)
    if np.any(bad):
        i = np.unravel_index(int(np.flatnonzero(bad)[0]), np.shape(bad))
        raise AssertionError(f"{what}: {v[i]!r} is outside [{lo[i]!r}, {hi[i]!r}]")


def _check_function(op: Activation, rng: np.random.Generator) -> None:
    z = np.sort(np.concatenate([rng.normal(0, 4, 400), rng.uniform(-30, 30, 100), [0.0]]))
    g = op.value(z)
    if not np.all(np.isfinite(g)):
        raise AssertionError("value: not finite on finite inputs")
    if np.any(np.diff(g) < -TOL):
        raise AssertionError("value: not monotone (the interval bounds assume g non-decreasing)")
    import torch

    t = op.torch_value(torch.as_tensor(z, dtype=torch.float64))
    _close("torch_value vs value", t.detach().numpy(), g, 1e-12, z)
    # derivative against central differences, where the function is smooth
    h = 1e-6
    zs = z[np.abs(z) < 20]
    right = (op.value(zs + h) - op.value(zs)) / h
    left = (op.value(zs) - op.value(zs - h)) / h
    smooth = np.abs(right - left) < 1e-4
    central = (op.value(zs + h) - op.value(zs - h)) / (2 * h)
    _close("derivative vs finite differences", op.derivative(zs)[smooth], central[smooth], 1e-5, zs)


def _check_bounds(op: Activation, rng: np.random.Generator) -> None:
    L, U = _boxes(rng, 200)
    x = _inside(rng, L, U, 40)
    lo, hi = op.interval(L, U)
    _within("interval", op.value(x), lo, hi)
    # slopes between any two points of [L, U]
    a, b = _inside(rng, L, U, 40), _inside(rng, L, U, 40)
    far = np.abs(a - b) > 1e-6 * (1 + np.abs(a))
    m, k = op.slope_range(L, U)
    slope = np.where(far, (op.value(a) - op.value(b)) / np.where(far, a - b, 1.0), m)
    _within("slope_range", slope, m - 1e-6, k + 1e-6)
    # the difference of two copies
    a, b, dL, dU = _pairs(rng, L, U, 40)
    dlo, dhi = op.diff_interval(L, U, dL, dU)
    _within("diff_interval", op.value(a) - op.value(b), dlo, dhi)
    # the difference of two copies with bounds of their own (each copy: a sub-box of
    # [L, U], so one copy's phase is often known while the other's is not)
    cut = L + rng.uniform(0, 1, L.size) * (U - L)
    L1, U1 = np.where(rng.random(L.size) < 0.5, (L, cut), (cut, U))
    L2, U2 = L, U
    a = _inside(rng, L1, U1, 40)
    b = _inside(rng, L2, U2, 40)
    for what, (x1, x2, lo1, hi1, lo2, hi2) in (
        ("copy 1 narrower", (a, b, L1, U1, L2, U2)),
        ("copy 2 narrower", (b, a, L2, U2, L1, U1)),
    ):
        dd = x1 - x2
        dl, du = dd.min(0), dd.max(0)  # the tightest difference bounds of these pairs
        plo, phi = op.pair_diff_interval(lo1, hi1, lo2, hi2, dl, du)
        _within(f"pair_diff_interval ({what})", op.value(x1) - op.value(x2), plo, phi)
        sl, cl, su, cu = op.pair_diff_lines(lo1, hi1, lo2, hi2, dl, du)
        _within(
            f"pair_diff_lines ({what})", op.value(x1) - op.value(x2), sl * dd + cl, su * dd + cu
        )
    # the linear relaxation that symbolic bounds back-substitute through
    al, bl, au, bu = op.linear_bounds(L, U)
    _within("linear_bounds", op.value(x), al * x + bl, au * x + bu)
    # where stable, one affine piece: g is its chord
    st = op.stable(L, U)
    if st.shape != L.shape:
        raise AssertionError(f"stable: shape {st.shape}, expected {L.shape}")
    wide = st & (U > L)
    if wide.any():
        t = (x - L) / np.where(U > L, U - L, 1.0)
        chord = op.value(L) + t * (op.value(U) - op.value(L))
        _close("stable (affine on [L, U])", op.value(x)[:, wide], chord[:, wide], 1e-9, x[:, wide])
    idx = op.tighten(L, U)
    if not (np.all((idx >= 0) & (idx < L.size)) and np.unique(idx).size == np.size(idx)):
        raise AssertionError("tighten: not distinct neuron indices")


def _check_head(op: Activation, rng: np.random.Generator) -> None:
    L, U = _boxes(rng, 60)
    for j in range(L.size):
        dmax = float(rng.uniform(0, 1.2) * (U[j] - L[j]))
        a = rng.uniform(L[j], U[j], 200)
        b = np.clip(a - rng.uniform(0, dmax, 200), L[j], U[j])
        bound = op.pair_bound(float(L[j]), float(U[j]), dmax)
        _within("pair_bound", op.value(a) - op.value(b), -np.inf, np.array(bound))


def _check_envelopes(op: SShaped, rng: np.random.Generator) -> None:
    L, U = _boxes(rng, 40)
    for j in range(L.size):
        M = int(rng.integers(1, 17))
        grid = op.grid(L[j], U[j], M, extra=tuple(rng.uniform(L[j], U[j], 2)))
        if not (grid[0] == L[j] and np.all(np.diff(grid) > 0)):
            raise AssertionError(f"grid: not increasing from L on [{L[j]}, {U[j]}]")
        lo, up = op.envelope(grid)
        z = rng.uniform(grid[0], grid[-1], 300)
        g = op.value(z)
        _within("envelope", g, pwl_eval(grid, lo, z), pwl_eval(grid, up, z))
        p, q = float(L[j]), float(U[j])
        _within("max_slope", op.derivative(z[(z >= p) & (z <= q)]), 0.0, op.max_slope(p, q))
        s = float(rng.uniform(0, 1.2) * op.max_slope(p, q))
        zz = rng.uniform(p, q, 300)
        _within("dev_range", op.value(zz) - s * zz, *op.dev_range(s, p, q))


def _layers(rng: np.random.Generator, copies: int) -> Iterator[tuple[bool, bool, int]]:
    for coupling in (True, False) if copies == 2 else (False,):
        for cross_cuts in (True, False) if coupling else (False,):
            yield coupling, cross_cuts, int(rng.integers(1, 6))


def _check_encoding(op: Activation, rng: np.random.Generator) -> None:
    L, U = _boxes(rng, 24)
    for copies in (1, 2):
        for coupling, cross_cuts, M in _layers(rng, copies):
            a, b, dL, dU = _pairs(rng, L, U, 12)
            m = MilpModel()
            phi = [m.add_vars(L.size, L, U) for _ in range(copies)]
            layer = NeuronLayer(
                m, phi, L, U, dL, dU, 0, [], coupling=coupling, cross_cuts=cross_cuts, M=M
            )
            out = op.encode(layer)
            if len(out) != copies or any(np.shape(o) != L.shape for o in out):
                raise AssertionError("encode: one output column per neuron and copy expected")
            for row in range(a.shape[0]):
                points = [a[row], b[row]][:copies]
                vec = np.zeros(m.n_vars)
                for c in range(copies):
                    vec[phi[c]] = points[c]
                state = {"vec": vec, "phi": [[p] for p in points], "x": [], "z": []}
                for fill in layer.fillers:
                    fill(state)
                worst = m.violation(vec)
                if max(worst.values()) > 1e-7:
                    raise AssertionError(
                        f"encode (copies={copies}, coupling={coupling}, cross_cuts={cross_cuts}): "
                        f"a true point violates the rows by {worst}"
                    )
                for c in range(copies):
                    col = out[c]
                    got = np.where(col >= 0, vec[np.maximum(col, 0)], 0.0)
                    _close("encode: output column", got, op.value(points[c]), 1e-9, points[c])


def check_activation(op: Activation | str, *, seed: int = 0) -> None:
    """Check ``op`` (an :class:`Activation` or a registered name) on random inputs.

    * ``value`` is finite and monotone; ``torch_value`` agrees with it; ``derivative``
      matches finite differences where the function is smooth;
    * ``interval``, ``slope_range`` and ``diff_interval`` contain every sampled value,
      slope and difference of two points (pairs within the difference bounds);
      ``stable`` marks only intervals where the function is its chord;
    * ``encode``: the true point (one copy, or a pair, with and without the relational
      rows) with its auxiliary columns filled by the op's fillers satisfies every row,
      and the output columns hold ``g(φ)``;
    * a head's ``pair_bound``, and an S-shaped op's envelopes, ``max_slope`` and
      ``dev_range``, contain the sampled values.
    """
    if isinstance(op, str):
        op = ACTIVATIONS.get(op)
    if not (isinstance(getattr(op, "name", None), str) and op.name):
        raise AssertionError("an activation needs a name (the class attribute `name`)")
    rng = np.random.default_rng(seed)
    _check_function(op, rng)
    _check_bounds(op, rng)
    _check_encoding(op, rng)
    if op.head:
        _check_head(op, rng)
    if isinstance(op, SShaped):
        _check_envelopes(op, rng)
