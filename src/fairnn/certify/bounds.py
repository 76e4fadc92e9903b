"""Sound bounds on pre-activations: interval arithmetic, then LP tightening.

Two kinds of bounds feed the encoding:

* **per copy**, ``L ≤ φ(x) ≤ U`` for every input ``x`` the problem allows (the
  domain for a global certificate, the ε-ball around the centre for a local one);
  they give the big-M constants of the ReLU encoding and the grid of the
  piecewise-linear sigmoid;
* **relational**, ``dL ≤ φ(x') - φ(x'') ≤ dU`` for every pair within ε
  (global only). For small ε these are far tighter than ``[L - U, U - L]``, and
  they are what keeps the two network copies from drifting apart in the LP
  relaxation (the differential-verification idea of ReluDiff, Paulsen et al.,
  ICSE 2020).

Interval arithmetic propagates both through the layers: affine maps here, activations
through their ops (:meth:`~fairnn.certify.ops.Activation.interval`, and for the
difference :meth:`~fairnn.certify.ops.Activation.diff_interval`: an activation with
slope between ``m`` and ``k`` on ``[L, U]`` maps ``Δφ`` to ``s·Δφ`` with ``s ∈ [m,
k]``, by the mean value theorem). :func:`delta_box` and :func:`ball_box` bound the
inputs from the metric and the domain. :class:`LpTightener`
then solves the LP relaxation of the encoding built so far, once minimising and
once maximising each quantity (Benussi et al. do the same with one LP per
neuron and bound). Each LP result is widened by the floating-point margin
(:func:`~fairnn.certify.margin.pad_up`, for the LP solver's tolerances) and
intersected with the interval bound; both are sound, so the intersection is. The LP
is the relaxation of the *conditioned* model
(:meth:`~fairnn.certify.milp.MilpModel.conditioned`), a superset, so its bounds hold
for the model as built.
"""

from __future__ import annotations

import math

import numpy as np

from fairnn.certify.domain import Domain
from fairnn.certify.margin import BOUND_MARGIN, pad_down, pad_up
from fairnn.certify.metrics import SimilarityMetric
from fairnn.certify.milp import MilpModel
from fairnn.certify.network import NetSpec
from fairnn.certify.ops import activation

#: widening of every LP bound for the LP solver's feasibility tolerance (the one margin)
LP_MARGIN = BOUND_MARGIN


# -- inputs ---------------------------------------------------------------------------------
def delta_box(
    domain: Domain, metric: SimilarityMetric, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on Δ_j = x'_j - x''_j implied by the metric, the domain and the kinds.

    ``|Δ_j| ≤ r_j`` (the metric's per-feature radius) and the column's width; a binary
    or one-hot column whose radius is below its width cannot change, an integer column
    moves by whole steps, an immutable column not at all.
    """
    r = metric.radius(eps)
    width = domain.upper - domain.lower
    hi = np.minimum(r, width)
    for j, k in enumerate(domain.kind):
        if k in ("binary", "onehot"):
            if r[j] < width[j] * (1 - 1e-12):
                hi[j] = 0.0
        elif k == "integer" and math.isfinite(r[j]):
            hi[j] = min(hi[j], math.floor(r[j] / domain.int_step[j] + 1e-9) * domain.int_step[j])
    hi[domain.equal] = 0.0
    return -hi, hi


def ball_box(
    domain: Domain, x0: np.ndarray, dlo: np.ndarray, dhi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The box ``x0 + [dlo, dhi]`` within the domain, widened to hold ``x0`` (rows of ``x0``
    are centres; a test point may lie outside the training range)."""
    lo = np.maximum(domain.lower, x0 + dlo)
    hi = np.minimum(domain.upper, x0 + dhi)
    return np.minimum(lo, x0), np.maximum(hi, x0)


# -- layers ---------------------------------------------------------------------------------
def affine(
    W: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Interval image of ``W x + b`` for ``lo ≤ x ≤ hi`` (columns of a 2-D ``lo``: boxes)."""
    Wp, Wn = np.maximum(W, 0.0), np.minimum(W, 0.0)
    if np.ndim(lo) == 2:
        b = b[:, None]
    return Wp @ lo + Wn @ hi + b, Wp @ hi + Wn @ lo + b


def interval_layers(
    spec: NetSpec, lo: np.ndarray, hi: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Interval bounds ``(L, U)`` on every layer's pre-activations (the last: the logit) for
    inputs in ``[lo, hi]``; with 2-D ``lo`` and ``hi``, each column is one box."""
    act = activation(spec.activation)
    out = []
    for li, (W, b) in enumerate(zip(spec.weights, spec.biases, strict=True)):
        L, U = affine(W, b, lo, hi)
        out.append((L, U))
        if li < len(spec.weights) - 1:
            lo, hi = act.interval(L, U)
    return out


def affine_onehot(
    W: np.ndarray,
    b: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    blocks: tuple[tuple[int, ...], ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`affine`, exact on one-hot blocks (exactly one column is 1)."""
    inblock = np.zeros(W.shape[1], dtype=bool)
    for blk in blocks:
        inblock[list(blk)] = True
    L, U = affine(W[:, ~inblock], b, lo[~inblock], hi[~inblock])
    for blk in blocks:
        cols = list(blk)
        Wb = W[:, cols]
        # columns pinned to 0 (upper bound 0) cannot be the active one
        live = hi[cols] > 0.5
        if not live.any():
            continue
        L = L + Wb[:, live].min(1)
        U = U + Wb[:, live].max(1)
    return L, U


def diff_affine(W: np.ndarray, dlo: np.ndarray, dhi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interval image of ``W Δ`` for ``dlo ≤ Δ ≤ dhi`` (biases cancel)."""
    Wp, Wn = np.maximum(W, 0.0), np.minimum(W, 0.0)
    return Wp @ dlo + Wn @ dhi, Wp @ dhi + Wn @ dlo


def diff_affine_onehot(
    W: np.ndarray,
    dlo: np.ndarray,
    dhi: np.ndarray,
    blocks: tuple[tuple[int, ...], ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`diff_affine`; a block that may change contributes ``W_a - W_b``."""
    inblock = np.zeros(W.shape[1], dtype=bool)
    for blk in blocks:
        inblock[list(blk)] = True
    L, U = diff_affine(W[:, ~inblock], dlo[~inblock], dhi[~inblock])
    for blk in blocks:
        cols = list(blk)
        if np.all(dlo[cols] == 0) and np.all(dhi[cols] == 0):
            continue
        Wb = W[:, cols]
        L = L + Wb.min(1) - Wb.max(1)
        U = U + Wb.max(1) - Wb.min(1)
    return L, U


class LpTightener:
    """Minimise and maximise linear expressions over the LP relaxation of a model."""

    def __init__(self, model: MilpModel, threads: int | None = None) -> None:
        import highspy

        from fairnn.certify.solvers import highs_model, new_highs

        self._hs = highspy
        self.h = new_highs(None, threads)
        self.h.setOptionValue("presolve", "off")
        self.h.passModel(highs_model(model.conditioned(), relax=True, maximize=True))
        self.n = model.n_vars
        self.solves = 0

    def optimise(self, cols: np.ndarray, vals: np.ndarray, maximize: bool) -> float | None:
        hs = self._hs
        h = self.h
        cols32 = np.asarray(cols, dtype=np.int32)
        h.changeColsCost(len(cols32), cols32, np.asarray(vals, dtype=np.float64))
        h.changeObjectiveSense(hs.ObjSense.kMaximize if maximize else hs.ObjSense.kMinimize)
        h.run()
        self.solves += 1
        status = h.getModelStatus()
        out: float | None
        if status == hs.HighsModelStatus.kOptimal:
            out = float(h.getInfo().objective_function_value)
        elif status == hs.HighsModelStatus.kUnbounded:
            out = np.inf if maximize else -np.inf
        else:
            out = None
        h.changeColsCost(len(cols32), cols32, np.zeros(len(cols32)))
        return out

    def range(self, cols: np.ndarray, vals: np.ndarray) -> tuple[float, float]:
        """``(min, max)`` of ``vals · x[cols]``, widened by the floating-point margin (±inf if
        unknown)."""
        lo = self.optimise(cols, vals, maximize=False)
        hi = self.optimise(cols, vals, maximize=True)
        lo = -np.inf if lo is None else pad_down(lo)
        hi = np.inf if hi is None else pad_up(hi)
        return lo, hi
