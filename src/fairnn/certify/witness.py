"""Witness pairs: snapped onto the domain and into the ε-ball, checked, kept if best.

A solver's incumbent (or a search's pair) is a float vector near the domain; before it
may stand as a witness it is projected (binary and one-hot columns rounded, integers
put on their grid), pulled back inside the ε-ball if rounding pushed it out, checked
exactly, and evaluated on the real network.
"""

from __future__ import annotations

import numpy as np

from fairnn.certify.attack import climb_pair, polish_pair
from fairnn.certify.domain import Domain
from fairnn.certify.metrics import SimilarityMetric
from fairnn.certify.network import CertNet

__all__ = ["BestPair", "feasible", "polish_witness", "repair_pair"]


def repair_pair(
    domain: Domain, metric: SimilarityMetric, eps: float, x1: np.ndarray, x2: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Snap a pair onto the domain and inside the ε-ball; None if that fails.

    ``x'`` is projected onto the domain (binary and one-hot columns rounded,
    integers onto their grid). ``x''`` is projected too, except that its integer
    columns keep a whole number of steps from ``x'``, rounded toward zero. If the
    distance still exceeds ε (solver tolerances, the ℓ2 polytope's corners), the
    continuous part of the difference is moved toward the continuous step that best
    compensates the discrete part (least squares in the metric: zero for a diagonal
    metric, where the discrete and continuous columns do not interact), as little as
    needed: for a non-diagonal metric the continuous part often cancels the discrete
    part, and shrinking it toward zero would move the pair *out* of the ball. Then the
    integer part is halved until the pair fits (the box holds throughout: it is convex
    and grid-aligned).
    """
    a = domain.project(x1)[0]
    b = domain.project(x2)[0]
    isint = np.array([k == "integer" for k in domain.kind])
    if isint.any():
        step = domain.int_step[isint]
        q = (np.asarray(x2, np.float64).ravel()[isint] - a[isint]) / step
        b[isint] = a[isint] + np.fix(q + 1e-6 * np.sign(q)) * step
        b = np.clip(b, domain.lower, domain.upper)
    b[domain.equal] = a[domain.equal]
    if metric.distance(a, b)[0] <= eps:
        return a, b
    cont = domain.continuous & ~domain.equal
    if metric.is_diagonal and metric.norm == "linf":
        # the weighted ℓ∞ ball is a box: clip the continuous part onto it
        r = metric.radius(eps)[cont] * (1 - 1e-12)
        bb = b.copy()
        bb[cont] = np.clip(b[cont], a[cont] - r, a[cont] + r)
        if feasible(domain, metric, eps, a, bb):
            return a, bb
    if not metric.is_diagonal and cont.any():
        pair = _rescaled(domain, metric, eps, a, b, cont)
        if pair is not None:
            return pair
    step = domain.int_step[isint]
    k = np.round((b[isint] - a[isint]) / step) if isint.any() else np.zeros(0)
    while True:
        for anchor in _anchors(domain, metric, a, b, cont):
            pair = _toward(domain, metric, eps, a, b, cont, anchor)
            if pair is not None:
                return pair
        if not np.any(k != 0):
            return None
        k = np.fix(k / 2)  # the integer steps alone are too far: halve them
        b = b.copy()
        b[isint] = a[isint] + k * step


def _rescaled(
    domain: Domain,
    metric: SimilarityMetric,
    eps: float,
    a: np.ndarray,
    b: np.ndarray,
    cont: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """``x''`` with a small correction of its continuous columns, inside the box, that
    scales the metric's image ``A (x'' - x')`` down to just inside the ball (a pair from
    the ℓ2 polytope's corner, or rounded by the solver, is usually a hair outside)."""
    A = metric.matrix
    y = A @ (b - a)
    dist = float(metric.distance(a, b)[0])
    if not dist > 0:
        return None
    M = A[:, cont]
    lo, hi = domain.lower[cont] - b[cont], domain.upper[cont] - b[cont]
    for frac in (1 - 1e-9, 1 - 1e-6, 0.999, 0.99):
        delta = _bounded_lsq(M, y * (frac * eps / dist) - y, lo, hi)
        bb = b.copy()
        bb[cont] = np.clip(b[cont] + delta, domain.lower[cont], domain.upper[cont])
        if feasible(domain, metric, eps, a, bb):
            return a, bb
    return None


def _bounded_lsq(
    M: np.ndarray, t: np.ndarray, lo: np.ndarray, hi: np.ndarray, iters: int = 500
) -> np.ndarray:
    """``argmin ||M δ - t||_2`` over ``lo ≤ δ ≤ hi`` (``lo ≤ 0 ≤ hi``), approximately:
    projected gradient from 0 (accelerated), stopped early once it stalls."""
    L = float(np.linalg.norm(M, 2)) ** 2
    if not L > 0:
        return np.zeros(M.shape[1])
    x = z = np.zeros(M.shape[1])
    mom = 1.0
    for _ in range(iters):
        g = M.T @ (M @ z - t)
        x_new = np.clip(z - g / L, lo, hi)
        mom_new = 0.5 * (1 + np.sqrt(1 + 4 * mom * mom))
        z = x_new + ((mom - 1) / mom_new) * (x_new - x)
        if np.max(np.abs(x_new - x), initial=0.0) <= 1e-15 * (1 + np.max(np.abs(x_new))):
            return x_new
        x, mom = x_new, mom_new
    return x


def _anchors(
    domain: Domain, metric: SimilarityMetric, a: np.ndarray, b: np.ndarray, cont: np.ndarray
) -> list[np.ndarray]:
    """Continuous steps to move toward: the least-squares compensation of the discrete
    part (clipped to the box), then zero."""
    out = []
    if not metric.is_diagonal and cont.any():
        A = metric.matrix
        disc = b - a
        disc[cont] = 0.0
        c = -np.linalg.lstsq(A[:, cont], A @ disc, rcond=None)[0]
        anchor = np.zeros_like(a)
        anchor[cont] = np.clip(a[cont] + c, domain.lower[cont], domain.upper[cont]) - a[cont]
        out.append(anchor)
    out.append(np.zeros_like(a))
    return out


def _toward(
    domain: Domain,
    metric: SimilarityMetric,
    eps: float,
    a: np.ndarray,
    b: np.ndarray,
    cont: np.ndarray,
    anchor: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """``x''`` with its continuous step moved from ``b - a`` toward ``anchor`` by the least
    fraction that brings the pair inside the ball (the distance is convex along the way),
    or None if even the anchor is outside."""

    def at(t: float) -> np.ndarray:
        bb = b.copy()
        bb[cont] = a[cont] + (1 - t) * (b[cont] - a[cont]) + t * anchor[cont]
        return bb

    if metric.distance(a, at(1.0))[0] > eps:
        return None
    lo, hi = 0.0, 1.0  # distance > eps at lo, <= eps at hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if metric.distance(a, at(mid))[0] <= eps:
            hi = mid
        else:
            lo = mid
    bb = at(hi)
    if feasible(domain, metric, eps, a, bb):
        return a, bb
    return None


def feasible(
    domain: Domain, metric: SimilarityMetric, eps: float, a: np.ndarray, b: np.ndarray
) -> bool:
    """Both points in the domain, within ε, and equal on the immutable columns."""
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    ok = bool(domain.contains(a2)[0] and domain.contains(b2)[0])
    ok = ok and bool(metric.distance(a2, b2)[0] <= eps)
    return ok and bool(np.all(a2[0, domain.equal] == b2[0, domain.equal]))


def polish_witness(
    net: CertNet, domain: Domain, metric: SimilarityMetric, eps: float, best: BestPair
) -> None:
    """The best pair (often a solver's incumbent, stopped within its gap) polished by small
    gradient steps on its continuous columns (:func:`~fairnn.certify.attack.polish_pair`),
    then climbed over its discrete ones (:func:`~fairnn.certify.attack.climb_pair`); each
    result replaces it if it passes the exact check and is better."""
    if best.pair is None or not best.value > 0:
        return
    f = net.spec.torch_function()
    polished = polish_pair(
        f,
        domain,
        metric,
        eps,
        best.pair,
        repair=lambda a, b: repair_pair(domain, metric, eps, a, b),
    )
    if polished is not None and feasible(domain, metric, eps, *polished):
        best.offer(net, *polished)
    climbed = climb_pair(f, domain, metric, eps, best.pair)
    if climbed is not None and feasible(domain, metric, eps, *climbed):
        best.offer(net, *climbed)


class BestPair:
    """The best real-network pair seen so far (oriented so f(x') ≥ f(x''))."""

    def __init__(self) -> None:
        self.value = 0.0
        self.pair: tuple[np.ndarray, np.ndarray] | None = None

    def offer(self, net: CertNet, a: np.ndarray, b: np.ndarray) -> None:
        fa, fb = net.f(np.vstack([a, b]))
        v = abs(float(fa) - float(fb))
        if self.pair is None or v > self.value:
            self.value = v
            self.pair = (a, b) if fa >= fb else (b, a)
