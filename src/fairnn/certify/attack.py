"""Heuristic search for unfair pairs (lower bounds only; nothing here is a certificate).

Projected gradient ascent on ``f(x') - f(x'')`` (global) or ``|f(x) - f(x*)|``
around given inputs (IF-fair training's worst neighbour), on the continuous
columns, with the discrete columns held where they start. A column the metric
ignores entirely (weight 0, e.g. a sensitive attribute) may differ across the
pair: its value in the second point is drawn at random per start, so a
protected-attribute flip is among the pairs tried. Every returned pair is
checked exactly against the domain and the metric in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from fairnn.certify.domain import Domain
from fairnn.certify.metrics import SimilarityMetric


class Projector:
    """Projection of (x, Δ) onto the box and the metric ball (torch, batched)."""

    def __init__(self, domain: Domain, metric: SimilarityMetric, eps: float, dtype=torch.float64):
        self.lo = torch.as_tensor(domain.lower, dtype=dtype)
        self.hi = torch.as_tensor(domain.upper, dtype=dtype)
        self.cont = torch.as_tensor(domain.continuous & ~domain.equal)
        r = metric.radius(eps)
        self.r = torch.as_tensor(np.where(np.isfinite(r), r, 1e30), dtype=dtype)
        self.A = torch.as_tensor(metric.matrix, dtype=dtype)
        self.w = None if metric.weights is None else torch.as_tensor(metric.weights, dtype=dtype)
        self.norm, self.eps, self.diag_linf = (
            metric.norm,
            float(eps),
            (metric.is_diagonal and metric.norm == "linf"),
        )
        # discrete columns the metric ignores (e.g. a sensitive one-hot block) may flip
        free = metric.free_directions() & ~domain.continuous & ~domain.equal
        self.free_blocks = [list(b) for b in domain.blocks if free[list(b)].all()]
        inblock = {j for b in domain.blocks for j in b}
        self.free_binary = [
            j for j in np.flatnonzero(free) if domain.kind[j] == "binary" and j not in inblock
        ]

    def flip(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """``x`` with every free discrete column set at random (a protected-attribute flip)."""
        if not self.free_blocks and not self.free_binary:
            return torch.zeros_like(x)
        y = x.clone()
        n = x.shape[0]
        for j in self.free_binary:
            u = torch.rand(n, generator=generator).to(x.device) < 0.5
            y[:, j] = torch.where(u, self.lo[j] + self.hi[j] - x[:, j], x[:, j])
        for cols in self.free_blocks:
            pick = torch.randint(0, len(cols), (n,), generator=generator).to(x.device)
            y[:, cols] = 0.0
            y[torch.arange(n, device=x.device), torch.as_tensor(cols, device=x.device)[pick]] = 1.0
        return y - x

    def dist(self, delta: torch.Tensor) -> torch.Tensor:
        y = delta * self.w if self.w is not None else delta @ self.A.T
        if y.shape[1] == 0:
            return torch.zeros(y.shape[0], dtype=y.dtype)
        y = y.abs()
        if self.norm == "linf":
            return y.max(1).values
        if self.norm == "l1":
            return y.sum(1)
        return y.pow(2).sum(1).sqrt()

    def delta(self, x: torch.Tensor, delta: torch.Tensor, fixed: torch.Tensor) -> torch.Tensor:
        """A Δ on the continuous columns with ``x + Δ`` in the box and ``d ≤ eps``."""
        d = torch.where(self.cont, delta, fixed)
        d = torch.maximum(torch.minimum(d, self.r), -self.r)
        d = torch.where(self.cont, torch.clamp(x + d, self.lo, self.hi) - x, d)
        if not self.diag_linf:
            cd = torch.where(self.cont, d, torch.zeros_like(d))
            fixed_part = d - cd
            base = self.dist(fixed_part)
            full = self.dist(d)
            # shrink the continuous part until the distance fits (bisection-free for
            # norms: scale so the continuous contribution brings it under eps)
            over = full > self.eps
            if over.any():
                scale = torch.ones_like(full)
                lo_s = torch.zeros_like(full)
                hi_s = torch.ones_like(full)
                for _ in range(40):
                    mid = 0.5 * (lo_s + hi_s)
                    ok = self.dist(fixed_part + mid[:, None] * cd) <= self.eps
                    lo_s = torch.where(ok, mid, lo_s)
                    hi_s = torch.where(ok, hi_s, mid)
                scale = torch.where(over, lo_s, scale)
                d = fixed_part + scale[:, None] * cd
            del base
        return d


def _direction(metric: SimilarityMetric, c: np.ndarray, cont: np.ndarray, eps: float) -> np.ndarray:
    """Per row of ``c``, the Δ on the continuous columns (``cont``) that maximises ``c·Δ``
    on the metric ball, the box ignored; columns the metric ignores get a huge step
    (the box clip decides how far)."""
    big = 1e6
    c = np.where(cont[None, :], c, 0.0)
    D = np.zeros_like(c)
    if metric.weights is not None:
        w = metric.weights
        free = (w == 0) & cont
        seen = (w > 0) & cont
        wc = np.where(seen, w, 1.0)
        if metric.norm == "linf":
            D = np.where(seen, np.sign(c) * eps / wc, 0.0)
        elif metric.norm == "l1":
            score = np.where(seen, np.abs(c) / wc, -1.0)
            j = score.argmax(1)
            rows = np.arange(c.shape[0])
            ok = seen[j]
            D[rows[ok], j[ok]] = np.sign(c[rows[ok], j[ok]]) * eps / wc[j[ok]]
        else:
            g = np.where(seen, c / wc**2, 0.0)
            nrm = np.sqrt((np.where(seen, c / wc, 0.0) ** 2).sum(1, keepdims=True))
            D = eps * g / np.maximum(nrm, 1e-300)
        return np.where(free, np.sign(c) * big, D)
    A = metric.matrix[:, cont]
    G = A.T @ A
    Gp = np.linalg.pinv(G, rcond=1e-10, hermitian=True)
    cc = c[:, cont]
    null = cc - cc @ (Gp @ G)  # the part of c the metric does not see
    rng_part = cc @ Gp
    q = np.sqrt(np.maximum((rng_part * cc).sum(1, keepdims=True), 1e-300))
    D[:, cont] = eps * rng_part / q + big * null
    return D


def search_pairs(
    f: Callable[[torch.Tensor], torch.Tensor],
    domain: Domain,
    metric: SimilarityMetric,
    eps: float,
    *,
    points: np.ndarray | None = None,
    n_random: int = 2048,
    top_k: int = 16,
    steps: int = 80,
    seed: int = 0,
    repair: Callable[..., tuple[np.ndarray, np.ndarray] | None] | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The most unfair pair found: linearised steps from many points, then gradient polish.

    1. At every point ``x0`` (data rows and random domain points) the network is
       linearised; the metric's best step ``±Δ`` for that gradient gives the pairs
       ``(x0, x0 ± Δ)`` (clipped to the box, pulled back inside the ball).
    2. The ``top_k`` pairs by the real network's ``|f' - f''|`` are polished by
       projected gradient ascent on both points.
    Returns ``(x', x'')`` with ``f(x') ≥ f(x'')``, or None.
    """
    rng = np.random.default_rng(seed)
    pts = domain.sample(n_random, rng)
    if points is not None and len(points):
        P = domain.project(np.asarray(points, dtype=np.float64))  # snap float32 rows
        pts = np.vstack([P, pts])
    isint = np.array([k == "integer" for k in domain.kind])
    cont = (domain.continuous | isint) & ~domain.equal
    X = torch.as_tensor(pts).requires_grad_(True)
    f(X).sum().backward()
    c = X.grad.numpy()
    D = _direction(metric, c, cont, eps)
    if isint.any():  # integer columns move by whole steps, rounded toward zero
        step = domain.int_step[isint]
        q = np.clip(D[:, isint] / step, -1e9, 1e9)
        D[:, isint] = np.fix(q + 1e-9 * np.sign(q)) * step
    lo, hi = domain.lower, domain.upper
    cands1, cands2 = [], []
    for sgn in (1.0, -1.0):
        x2 = np.where(cont, np.clip(pts + sgn * D, lo, hi), pts)
        cands1.append(pts)
        cands2.append(x2)
    A1, A2 = np.vstack(cands1), np.vstack(cands2)
    with torch.no_grad():
        vals = (f(torch.as_tensor(A1)) - f(torch.as_tensor(A2))).abs().numpy()
    order = np.argsort(-vals)
    best: tuple[np.ndarray, np.ndarray] | None = None
    best_v = -1.0

    def consider(a: np.ndarray, b: np.ndarray) -> None:
        nonlocal best, best_v
        pair = repair(a, b) if repair is not None else (a, b)
        if pair is None:
            return
        a, b = pair
        with torch.no_grad():
            fa, fb = f(torch.as_tensor(np.vstack([a, b]))).numpy()
        v = abs(float(fa) - float(fb))
        if v > best_v:
            best_v = v
            best = (a, b) if fa >= fb else (b, a)

    starts = []
    for i in order[: 4 * top_k]:
        pair = repair(A1[i], A2[i]) if repair is not None else (A1[i], A2[i])
        if pair is None:
            continue
        consider(*pair)
        starts.append(pair)
        if len(starts) >= top_k:
            break
    if not starts:
        return best
    # polish: x' moves in the box, Δ stays in the ball (continuous columns)
    proj = Projector(domain, metric, eps)
    S1 = torch.as_tensor(np.vstack([p[0] for p in starts]))
    S2 = torch.as_tensor(np.vstack([p[1] for p in starts]))
    with torch.no_grad():
        flip = (f(S1) < f(S2))[:, None]
    x = torch.where(flip, S2, S1)
    fixed = torch.where(proj.cont, torch.zeros_like(x), torch.where(flip, S1, S2) - x)
    delta = proj.delta(x, torch.where(flip, S1, S2) - x, fixed)
    span = (proj.hi - proj.lo).clamp(min=1e-12)
    rstep = torch.minimum(proj.r, span)
    cont_t = proj.cont
    for t in range(steps):
        lr = 0.02 * (1 - t / steps) + 1e-3
        x = x.detach().requires_grad_(True)
        delta = delta.detach().requires_grad_(True)
        obj = f(x) - f(x + delta)
        gx, gd = torch.autograd.grad(obj.sum(), [x, delta])
        with torch.no_grad():
            x = torch.where(cont_t, torch.clamp(x + lr * span * gx.sign(), proj.lo, proj.hi), x)
            delta = proj.delta(x, delta + 5 * lr * rstep * gd.sign(), fixed)
        if t % 20 == 19 or t == steps - 1:
            a = x.detach().numpy()
            b = (x + delta).detach().numpy()
            with torch.no_grad():
                v = (f(torch.as_tensor(a)) - f(torch.as_tensor(b))).abs().numpy()
            i = int(v.argmax())
            consider(domain.project(a[i])[0], domain.project(b[i])[0])
    return best


def worst_neighbour(
    f: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    proj: Projector,
    *,
    steps: int = 10,
    step_size: float = 0.25,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``x*`` near each row of ``x`` that (approximately) maximises ``|f(x*) - f(x)|``.

    Projected sign-gradient ascent from a random start in the ball; continuous
    columns only. Returns a detached tensor on ``x``'s device.
    """
    dt = x.dtype
    dev = x.device
    P = proj
    if P.lo.device != dev or P.lo.dtype != dt:
        for name in ("lo", "hi", "r", "A"):
            setattr(P, name, getattr(P, name).to(dev, dt))
        P.cont = P.cont.to(dev)
        if P.w is not None:
            P.w = P.w.to(dev, dt)
    rstep = torch.minimum(P.r, (P.hi - P.lo).clamp(min=1e-12))
    fixed = P.flip(x, generator)
    noise = torch.rand(x.shape, generator=generator, dtype=dt).to(dev) * 2 - 1
    delta = P.delta(x, noise * rstep, fixed)
    with torch.no_grad():
        base = f(x)
    for _ in range(steps):
        delta = delta.detach().requires_grad_(True)
        obj = (f(x + delta) - base).abs().sum()
        (grad,) = torch.autograd.grad(obj, delta)
        with torch.no_grad():
            delta = P.delta(x, delta + step_size * rstep * grad.sign(), fixed)
    return (x + delta).detach()
