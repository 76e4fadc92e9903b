"""What sigmoid and tanh share: S-shaped, convex left of 0 and concave right of it.

**The envelopes** (:meth:`SShaped.grid`, :meth:`SShaped.envelope`): sound piecewise-
linear lower and upper bounds on a grid of ``2M + 1`` breakpoints (Benussi et al.:
``M = 16``), uniform in the function's value and split at the inflection point 0 so
no segment changes convexity. On a convex segment the chord is above the function and
the midpoint tangent below it (swapped on a concave segment); at each breakpoint the
upper value is the largest of the adjacent upper lines and the lower value the
smallest of the adjacent lower lines, so the linear interpolation between breakpoint
values stays above (below) each segment's upper (lower) line, hence above (below) the
function. The grid always starts at ``L`` and ends at ``U`` exactly (no clipping of
the range). Breakpoint values are widened by :data:`~fairnn.certify.ops.pwl.PWL_MARGIN`
for rounding.

**Hidden neurons** (:meth:`SShaped.encode`) are sandwiched between the two envelopes,
with a binary per segment forcing the weights onto two adjacent breakpoints (SOS2).
Between two copies, ``Δζ = s·Δφ`` for a slope ``s`` in :meth:`SShaped.slope_range`
(mean value theorem), written as the two chords of that bow-tie over ``[dL, dU]``.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from fairnn.certify.milp import INF
from fairnn.certify.ops.base import Activation, NeuronLayer
from fairnn.certify.ops.pwl import DEFAULT_M, PWL_MARGIN, fill_sos2, sos2
from fairnn.errors import InvalidValueError


class SShaped(Activation):
    """A smooth, increasing activation with its only inflection point at 0 (g'' > 0 left
    of 0, < 0 right of it) and a closed-form inverse: sigmoid and tanh."""

    head = True
    #: the chord/tangent error of a grid step ``h`` is ≈ |g''| h² / 8; the step that keeps
    #: it at a budget for |g''| <= 0.1 is divided by this (tanh's |g''| is 8× larger)
    step_divisor: ClassVar[float] = 1.0

    @abstractmethod
    def inverse(self, v: np.ndarray) -> np.ndarray:
        """``g⁻¹(v)`` (values at or beyond the range's ends clipped just inside it)."""

    @abstractmethod
    def slope_points(self, s: float) -> list[float]:
        """Where ``g'(z) = s`` (closed form), for the extremes of ``g(z) - s·z``."""

    # -- bounds ----------------------------------------------------------------------
    def slope_range(self, L: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``g'`` peaks at 0 and falls away from it, so the extremes on ``[L, U]`` are at the
        point nearest 0 and at the end farthest from it."""
        peak = np.clip(0.0, L, U)
        far = np.where(np.abs(L) > np.abs(U), L, U)
        return self.derivative(far), self.derivative(peak)

    def max_slope(self, p: float, q: float) -> float:
        """The largest derivative on ``[p, q]`` (it peaks at 0)."""
        c = min(max(0.0, p), q)
        return float(self.derivative(np.array([c]))[0])

    def dev_range(self, s: float, p: float, q: float) -> tuple[float, float]:
        """Exact ``min`` and ``max`` of ``g(z) - s·z`` on ``[p, q]`` (widened by the margin).

        The extremes are at the ends or where ``g'(z) = s`` (:meth:`slope_points`).
        """
        cands = [p, q, *self.slope_points(s)]
        z = np.array([c for c in cands if p <= c <= q] or [p])
        vals = self.value(z) - s * z
        pad = PWL_MARGIN * (1 + float(np.abs(vals).max()))
        return float(vals.min()) - pad, float(vals.max()) + pad

    def pair_bound(self, L: float, U: float, dmax: float) -> float:
        """``max g(a) - g(b)`` over ``a, b ∈ [L, U]``, ``0 ≤ a - b ≤ dmax`` (closed form).

        ``g(b + t) - g(b)`` grows with ``t`` and, for fixed ``t``, is largest when the
        window ``[b, b + t]`` is centred on the inflection point 0.
        """
        t = min(max(dmax, 0.0), U - L)
        if t <= 0:
            return 0.0
        b = min(max(-t / 2, L), U - t)
        v = self.value(np.array([b + t, b]))
        return float(v[0] - v[1])

    def fine_step(self, budget: float) -> float:
        """A grid step whose envelope error (≈ |g''| h² / 8) stays near ``budget``."""
        return math.sqrt(8.0 * budget / 0.1) / self.step_divisor

    # -- the envelopes ---------------------------------------------------------------
    def grid(
        self, L: float, U: float, M: int = DEFAULT_M, extra: Sequence[float] = ()
    ) -> np.ndarray:
        """Breakpoints on ``[L, U]``: ``2M + 1`` uniform in value, split at 0, plus ``extra``."""
        L, U = float(L), float(U)
        if not (math.isfinite(L) and math.isfinite(U)):
            raise InvalidValueError(f"cannot grid an unbounded range [{L}, {U}]")
        if 1e-9 * (1 + abs(L)) > U - L:
            U = L + 1e-9 * (1 + abs(L))  # a wider range is still sound
        gL, gU = self.value(np.array([L, U]))
        with np.errstate(divide="ignore", invalid="ignore"):
            if L < 0 < U:
                g0 = float(self.value(np.array([0.0]))[0])
                left = self.inverse(np.linspace(gL, g0, M + 1))
                right = self.inverse(np.linspace(g0, gU, M + 1))
                pts = np.concatenate([left, right, [0.0]])
            else:
                pts = self.inverse(np.linspace(gL, gU, 2 * M + 1))
        pts = np.concatenate([pts[np.isfinite(pts)], np.asarray(extra, dtype=np.float64), [L, U]])
        pts = np.unique(np.clip(pts, L, U))
        keep = np.concatenate([[True], np.diff(pts) > 1e-12 * (1 + np.abs(pts[1:]))])
        pts = pts[keep]
        pts[0], pts[-1] = L, U
        if L < 0 < U and not np.any(pts == 0.0):
            pts = np.unique(np.concatenate([pts, [0.0]]))
        return pts

    def envelope(self, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values of the sound lower and upper piecewise-linear envelopes at the breakpoints."""
        g = np.asarray(grid, dtype=np.float64)
        K = g.size - 1
        a, b = g[:-1], g[1:]
        fa, fb = self.value(a), self.value(b)
        m = 0.5 * (a + b)
        fm, dm = self.value(m), self.derivative(m)
        # tangent at the midpoint, evaluated at both ends
        ta, tb = fm + dm * (a - m), fm + dm * (b - m)
        convex = b <= 0  # convex left of 0, concave right of it
        lo_a = np.where(convex, ta, fa)
        lo_b = np.where(convex, tb, fb)
        up_a = np.where(convex, fa, ta)
        up_b = np.where(convex, fb, tb)
        lower = np.full(K + 1, np.inf)
        upper = np.full(K + 1, -np.inf)
        lower[:-1] = np.minimum(lower[:-1], lo_a)
        lower[1:] = np.minimum(lower[1:], lo_b)
        upper[:-1] = np.maximum(upper[:-1], up_a)
        upper[1:] = np.maximum(upper[1:], up_b)
        pad = PWL_MARGIN * (1 + np.abs(self.value(g)))
        return lower - pad, upper + pad

    # -- the MILP --------------------------------------------------------------------
    def encode(self, layer: NeuronLayer) -> list[np.ndarray]:
        m, phi, L, U, dL, dU = layer.model, layer.phi, layer.L, layer.U, layer.dL, layer.dU
        n = L.size
        gL, gU = self.interval(L, U)
        out = []
        fills = []
        for c in range(layer.copies):
            zeta = m.add_vars(n, gL - PWL_MARGIN, gU + PWL_MARGIN)
            out.append(zeta)
            for j in range(n):
                grid = self.grid(L[j], U[j], layer.M)
                lo_v, up_v = self.envelope(grid)
                lam, ys = sos2(m, grid, int(phi[c][j]))
                m.add_row(
                    np.concatenate([[zeta[j]], lam]), np.concatenate([[1.0], -up_v]), -INF, 0.0
                )
                m.add_row(
                    np.concatenate([[zeta[j]], lam]), np.concatenate([[1.0], -lo_v]), 0.0, INF
                )
                fills.append((c, j, grid, lam, ys, int(zeta[j])))
        if layer.copies == 2 and layer.coupling:
            mn, mx = self.slope_range(L, U)
            for j in range(n):
                dl, du = float(dL[j]), float(dU[j])
                if not (dl < 0 < du):
                    continue
                w = du - dl
                z1, z2 = int(out[0][j]), int(out[1][j])
                p1, p2 = int(phi[0][j]), int(phi[1][j])
                # upper chord through (dl, mn·dl), (du, mx·du); lower through (dl, mx·dl), (du, mn·du)
                su = (mx[j] * du - mn[j] * dl) / w
                cu = mn[j] * dl - su * dl
                sl = (mn[j] * du - mx[j] * dl) / w
                cl = mx[j] * dl - sl * dl
                m.add_row([z1, z2, p1, p2], [1, -1, -su, su], -INF, cu + 1e-12)
                m.add_row([z1, z2, p1, p2], [1, -1, -sl, sl], cl - 1e-12, INF)

        li = layer.index

        def fill(st: dict[str, Any]) -> None:
            v = st["vec"]
            for c, j, grid, lam, ys, zc in fills:
                ph = float(st["phi"][c][li][j])
                fill_sos2(v, grid, lam, ys, ph)
                v[zc] = float(self.value(np.array([ph]))[0])

        layer.fillers.append(fill)
        return out
