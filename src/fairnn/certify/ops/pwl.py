"""MILP formulations of a piecewise-linear function of one column, and their fillers.

Two standard formulations (Vielma, Ahmed and Nemhauser, "Mixed-integer models for
nonseparable piecewise-linear optimization", Oper. Res. 2010):

* :func:`sos2`: convex-combination weights ``λ`` on the breakpoints with one binary
  per segment, so at most two adjacent weights are nonzero (SOS2);
* :func:`incremental`: the incremental (delta) formulation, with binaries only where
  an optimiser would otherwise fill the segments out of order.

Each ``fill_*`` function writes the columns of a true value ``z`` into an assignment.
"""

from __future__ import annotations

import numpy as np

from fairnn.certify.milp import INF, MilpModel

__all__ = [
    "DEFAULT_M",
    "PWL_MARGIN",
    "fill_incremental",
    "fill_sos2",
    "incremental",
    "pwl_eval",
    "sos2",
]

#: widening of every piecewise-linear breakpoint value (floating-point rounding)
PWL_MARGIN = 1e-10
#: a grid of ``2M + 1`` breakpoints (Benussi et al.: M = 16)
DEFAULT_M = 16


def pwl_eval(grid: np.ndarray, values: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The piecewise-linear function through ``(grid, values)`` at ``z`` (inside the grid)."""
    return np.interp(np.asarray(z, np.float64), grid, values)


def _segment(grid: np.ndarray, z: float) -> tuple[int, float]:
    """The segment ``k`` of the grid that holds ``z`` (clipped onto it), and ``z``."""
    K = grid.size - 1
    z = min(max(z, grid[0]), grid[-1])
    return int(np.clip(np.searchsorted(grid, z, side="right") - 1, 0, K - 1)), z


def sos2(m: MilpModel, grid: np.ndarray, var: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights λ on the grid with Σλ = 1, Σ grid·λ = var, at most two adjacent nonzero."""
    K = grid.size - 1
    lam = m.add_vars(K + 1, 0.0, 1.0)
    m.add_row(lam, np.ones(K + 1), 1.0, 1.0)
    m.add_row(np.concatenate([lam, [var]]), np.concatenate([grid, [-1.0]]), 0.0, 0.0)
    ys = np.zeros(0, dtype=np.int64)
    if K > 1:
        ys = m.add_vars(K, 0.0, 1.0, True)
        m.add_row(ys, np.ones(K), 1.0, 1.0)
        for k in range(K + 1):
            adj = [ys[i] for i in (k - 1, k) if 0 <= i < K]
            m.add_row([lam[k], *adj], [1.0] + [-1.0] * len(adj), -INF, 0.0)
    return lam, ys


def fill_sos2(v: np.ndarray, grid: np.ndarray, lam: np.ndarray, ys: np.ndarray, z: float) -> None:
    k, z = _segment(grid, z)
    a, b = grid[k], grid[k + 1]
    t = 0.0 if b == a else (z - a) / (b - a)
    v[lam] = 0.0
    v[lam[k]] = 1.0 - t
    v[lam[k + 1]] = t
    if ys.size:
        v[ys] = 0.0
        v[ys[k]] = 1.0


def incremental(
    m: MilpModel, grid: np.ndarray, var: int, values: np.ndarray, sense: str
) -> tuple[np.ndarray, dict[int, int]]:
    """The incremental (delta) formulation of a piecewise-linear function of ``var``.

    ``var = g_0 + Σ δ_k (g_{k+1} - g_k)`` with ``1 ≥ δ_0 ≥ δ_1 ≥ … ≥ 0``; the
    function's value is ``v_0 + Σ δ_k (v_{k+1} - v_k)``. A binary ``y_k`` with
    ``δ_{k+1} ≤ y_k ≤ δ_k`` makes the segments fill in order; it is needed only
    where an optimiser would otherwise fill out of order: where the slope rises
    for a value that is maximised (``sense="max"``), where it falls for one that
    is minimised. Without it the value can only move against the optimiser, so
    the optimum is unchanged; every true point (segments filled in order, with
    its ``y``) satisfies all rows.
    """
    K = grid.size - 1
    dg = np.diff(grid)
    dv = np.diff(values)
    slope = dv / np.where(dg > 0, dg, 1.0)
    delta = m.add_vars(K, 0.0, 1.0)
    m.add_row(np.concatenate([delta, [var]]), np.concatenate([dg, [-1.0]]), -grid[0], -grid[0])
    ys: dict[int, int] = {}
    for k in range(K - 1):
        rises = slope[k + 1] > slope[k]
        need = rises if sense == "max" else (not rises) if sense == "min" else True
        if need:
            y = m.add_var(0.0, 1.0, True)
            ys[k] = y
            m.add_row([delta[k + 1], y], [1.0, -1.0], -INF, 0.0)
            m.add_row([y, delta[k]], [1.0, -1.0], -INF, 0.0)
        else:
            m.add_row([delta[k + 1], delta[k]], [1.0, -1.0], -INF, 0.0)
    return delta, ys


def fill_incremental(
    v: np.ndarray, grid: np.ndarray, delta: np.ndarray, ys: dict[int, int], z: float
) -> None:
    s, z = _segment(grid, z)
    a, b = grid[s], grid[s + 1]
    v[delta] = 0.0
    v[delta[:s]] = 1.0
    v[delta[s]] = 0.0 if b == a else (z - a) / (b - a)
    for k, y in ys.items():
        v[y] = 1.0 if k < s else 0.0
