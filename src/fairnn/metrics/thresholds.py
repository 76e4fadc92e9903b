"""Per-group thresholds under a fairness constraint: the MinDiff paper's evaluation.

Veldanda et al., "Fairness via In-Processing in the Over-parameterized Regime: A
Cautionary Tale with MinDiff Loss" (TMLR 2023), §4 and the official ``eval.py``: for
two groups, sweep one decision threshold per group over a grid, keep the pairs whose
error-rate gap is within ``gamma`` (|FNR_a − FNR_b| ≤ 0.01 by default), and take the
pair with the highest (weighted) accuracy on the **validation** split; the same pair is
then applied to test. The paper's grid is 10,000 evenly spaced logits in [−20, 20];
here it is the same grid mapped to probabilities (``p > σ(t)`` ⇔ ``logit > t``).

The search is exact over the grid and does not enumerate the 10⁸ pairs: for each
threshold of group a the feasible thresholds of group b form one contiguous run (the
FNR, and the FPR, of a group are monotone in its threshold), whose best accuracy is a
range-maximum query on a sparse table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from fairnn.errors import InvalidValueError

Constraint = Literal["fnr", "fpr"]
#: the paper's grid: 10,000 logits evenly spaced in [-20, 20]
LOGIT_GRID = (-20.0, 20.0, 10_000)


def logit_grid(low: float = -20.0, high: float = 20.0, n: int = 10_000) -> np.ndarray:
    """The threshold grid in probability units: σ of ``n`` logits evenly spaced in [low, high]."""
    return 1.0 / (1.0 + np.exp(-np.linspace(low, high, n)))


@dataclass(frozen=True)
class ConstrainedThresholds:
    """The chosen per-group thresholds and what they achieve on the split they were chosen on."""

    thresholds: tuple[float, float]
    accuracy: float
    gap: float
    feasible: bool
    constraint: Constraint
    gamma: float


def _group_curves(
    y: np.ndarray, p: np.ndarray, w: np.ndarray, grid: np.ndarray, constraint: Constraint
) -> tuple[np.ndarray, np.ndarray]:
    """For each grid threshold t: the weighted count of correct decisions 1[p > t] and the
    error rate the constraint names (nondecreasing in t for FNR, nonincreasing for FPR)."""
    order = np.argsort(p, kind="stable")
    ps, ys, ws = p[order], y[order], w[order]
    pos_w = np.concatenate([[0.0], np.cumsum(ws * ys)])  # weight of positives with p <= t
    neg_w = np.concatenate([[0.0], np.cumsum(ws * (1 - ys))])
    k = np.searchsorted(ps, grid, side="right")  # rows with p <= t predicted 0
    fn, tn = pos_w[k], neg_w[k]
    P, N = pos_w[-1], neg_w[-1]
    correct = (P - fn) + tn
    if constraint == "fnr":
        rate = fn / P if P > 0 else np.zeros_like(fn)
    else:
        rate = (N - tn) / N if N > 0 else np.zeros_like(tn)
    return correct, rate


def _sparse_table(values: np.ndarray) -> list[np.ndarray]:
    """Argmax sparse table: level j holds the argmax of values[i : i + 2**j]."""
    levels = [np.arange(len(values))]
    j = 1
    while (1 << j) <= len(values):
        prev, half = levels[-1], 1 << (j - 1)
        a, b = prev[: len(values) - (1 << j) + 1], prev[half : half + len(values) - (1 << j) + 1]
        levels.append(np.where(values[b] > values[a], b, a))
        j += 1
    return levels


def _range_argmax(
    table: list[np.ndarray], values: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Argmax of values[lo:hi] for each (lo, hi) with hi > lo (earliest on ties)."""
    length = hi - lo
    j = np.floor(np.log2(np.maximum(length, 1))).astype(np.int64)
    out = np.empty(len(lo), dtype=np.int64)
    for level in np.unique(j):
        sel = j == level
        a = table[level][lo[sel]]
        b = table[level][hi[sel] - (1 << level)]
        out[sel] = np.where(values[b] > values[a], b, a)
    return out


def constrained_thresholds(
    y_true: Any,
    y_score: Any,
    groups: Any,
    *,
    gamma: float = 0.01,
    constraint: Constraint = "fnr",
    sample_weight: Any = None,
    grid: np.ndarray | None = None,
) -> ConstrainedThresholds:
    """Per-group thresholds maximising weighted accuracy subject to |Δrate| ≤ ``gamma``.

    ``groups`` holds group ids 0 and 1 (two groups, as in the paper); ``constraint`` is
    ``"fnr"`` (the paper's, FNR = P(ŷ=0 | y=1)) or ``"fpr"``. ``grid`` is a sorted array
    of probability thresholds (default :func:`logit_grid`). If no pair on the grid meets
    the constraint, the pair with the smallest gap is returned with ``feasible=False``.
    Ties go to the lowest thresholds.
    """
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_score, dtype=np.float64).ravel()
    g = np.asarray(groups).ravel()
    w = np.ones_like(p) if sample_weight is None else np.asarray(sample_weight, np.float64).ravel()
    if not (len(y) == len(p) == len(g) == len(w)):
        raise InvalidValueError(
            f"y_true, y_score, groups and sample_weight must have the same length, got "
            f"{len(y)}, {len(p)}, {len(g)}, {len(w)}"
        )
    if gamma < 0:
        raise InvalidValueError(f"gamma must be >= 0, got {gamma}")
    if constraint not in ("fnr", "fpr"):
        raise InvalidValueError(f"constraint must be 'fnr' or 'fpr', got {constraint!r}")
    present = np.unique(g)
    if not set(present.tolist()) <= {0, 1} or len(present) != 2:
        raise InvalidValueError(
            f"per-group thresholds under a constraint need exactly two groups with ids 0 and 1; "
            f"got group ids {present.tolist()[:10]} (pick two groups with subset())"
        )
    grid = logit_grid(*LOGIT_GRID) if grid is None else np.asarray(grid, dtype=np.float64)
    total = w.sum()
    c0, r0 = _group_curves(y[g == 0], p[g == 0], w[g == 0], grid, constraint)
    c1, r1 = _group_curves(y[g == 1], p[g == 1], w[g == 1], grid, constraint)
    # r1 is monotone in the threshold: make it nondecreasing to search it
    flip = constraint == "fpr"
    r1s, c1s = (r1[::-1], c1[::-1]) if flip else (r1, c1)
    lo = np.searchsorted(r1s, r0 - gamma - 1e-12, side="left")
    hi = np.searchsorted(r1s, r0 + gamma + 1e-12, side="right")
    ok = hi > lo
    if ok.any():
        table = _sparse_table(c1s)
        idx0 = np.nonzero(ok)[0]
        best1 = _range_argmax(table, c1s, lo[ok], hi[ok])
        acc = c0[idx0] + c1s[best1]
        k = int(np.argmax(acc))
        i, j = int(idx0[k]), int(best1[k])
        j = len(grid) - 1 - j if flip else j
        feasible = True
    else:  # no pair meets the constraint: the pair with the smallest gap
        pos = np.clip(np.searchsorted(r1s, r0), 1, len(grid) - 1)
        near = np.where(np.abs(r1s[pos - 1] - r0) <= np.abs(r1s[pos] - r0), pos - 1, pos)
        i = int(np.argmin(np.abs(r1s[near] - r0)))
        j = int(near[i])
        j = len(grid) - 1 - j if flip else j
        feasible = False
    return ConstrainedThresholds(
        (float(grid[i]), float(grid[j])),
        float((c0[i] + c1[j]) / total) if total > 0 else float("nan"),
        float(abs(r0[i] - r1[j])),
        feasible,
        constraint,
        float(gamma),
    )


def constrained_error(
    y_true: Any,
    y_score: Any,
    groups: Any,
    *,
    gamma: float = 0.01,
    constraint: Constraint = "fnr",
    sample_weight: Any = None,
) -> float:
    """1 − the best weighted accuracy reachable with per-group thresholds under the constraint,
    on the split itself (the validation criterion the paper's early stopping reads)."""
    return (
        1.0
        - constrained_thresholds(
            y_true,
            y_score,
            groups,
            gamma=gamma,
            constraint=constraint,
            sample_weight=sample_weight,
        ).accuracy
    )


def apply_thresholds(
    y_true: Any,
    y_score: Any,
    groups: Any,
    thresholds: tuple[float, float],
    *,
    constraint: Constraint = "fnr",
    sample_weight: Any = None,
) -> dict[str, float]:
    """Error and the constraint's gap on a split, deciding ``ŷ = 1[p > t_g]``."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_score, dtype=np.float64).ravel()
    g = np.asarray(groups).ravel().astype(np.int64)
    w = np.ones_like(p) if sample_weight is None else np.asarray(sample_weight, np.float64).ravel()
    yhat = (p > np.asarray(thresholds)[g]).astype(np.float64)
    err = float((w * (yhat != y)).sum() / w.sum())
    rates = []
    for k in (0, 1):
        cell = (g == k) & ((y == 1) if constraint == "fnr" else (y == 0))
        miss = (yhat[cell] == 0) if constraint == "fnr" else (yhat[cell] == 1)
        rates.append(float((w[cell] * miss).sum() / w[cell].sum()) if cell.any() else 0.0)
    return {"error": err, "gap": abs(rates[0] - rates[1])}
