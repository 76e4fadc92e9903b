"""Witness pairs: snapped onto the domain and into the ε-ball, checked, kept if best.

A solver's incumbent (or a search's pair) is a float vector near the domain; before it
may stand as a witness it is projected (binary and one-hot columns rounded, integers
put on their grid), pulled back inside the ε-ball if rounding pushed it out, checked
exactly, and evaluated on the real network.
"""

from __future__ import annotations

import numpy as np

from fairnn.certify.domain import Domain
from fairnn.certify.metrics import SimilarityMetric
from fairnn.certify.network import CertNet

__all__ = ["BestPair", "feasible", "repair_pair"]


def repair_pair(
    domain: Domain, metric: SimilarityMetric, eps: float, x1: np.ndarray, x2: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Snap a pair onto the domain and inside the ε-ball; None if that fails.

    ``x'`` is projected onto the domain (binary and one-hot columns rounded,
    integers onto their grid). ``x''`` is projected too, except that its integer
    columns keep a whole number of steps from ``x'``, rounded toward zero. If the
    distance still exceeds ε (solver tolerances), the continuous part of the
    difference, then the integer part, is shrunk toward ``x'`` until it fits (the
    box holds, being convex and grid-aligned).
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
    cont = domain.continuous
    if metric.is_diagonal and metric.norm == "linf":
        # the weighted ℓ∞ ball is a box: clip the continuous part onto it
        r = metric.radius(eps)[cont] * (1 - 1e-12)
        bb = b.copy()
        bb[cont] = np.clip(b[cont], a[cont] - r, a[cont] + r)
        if metric.distance(a, bb)[0] <= eps and domain.contains(bb[None])[0]:
            return a, bb
    d = b - a
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        bb = b.copy()
        bb[cont] = a[cont] + mid * d[cont]
        if metric.distance(a, bb)[0] <= eps:
            lo = mid
        else:
            hi = mid
    b[cont] = a[cont] + lo * d[cont]
    if isint.any() and metric.distance(a, b)[0] > eps:
        step = domain.int_step[isint]
        k = np.round((b[isint] - a[isint]) / step)
        while np.any(k != 0) and metric.distance(a, b)[0] > eps:
            k = np.fix(k / 2)
            b[isint] = a[isint] + k * step
    if metric.distance(a, b)[0] <= eps and domain.contains(b[None])[0]:
        return a, b
    return None


def feasible(
    domain: Domain, metric: SimilarityMetric, eps: float, a: np.ndarray, b: np.ndarray
) -> bool:
    """Both points in the domain, within ε, and equal on the immutable columns."""
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    ok = bool(domain.contains(a2)[0] and domain.contains(b2)[0])
    ok = ok and bool(metric.distance(a2, b2)[0] <= eps)
    return ok and bool(np.all(a2[0, domain.equal] == b2[0, domain.equal]))


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
