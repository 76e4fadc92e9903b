"""Heuristic search for unfair pairs (lower bounds only; nothing here is a certificate).

Projected gradient ascent on ``f(x') - f(x'')`` (global, :func:`search_pairs`), on the
logit ``±z(x)`` around given centres (local certificates, :func:`local_search`) or on
``|f(x) - f(x*)|`` around given inputs (IF-fair training's worst neighbour,
:func:`worst_neighbour`), on the continuous columns, from many starts. Discrete
columns (binary, one-hot, integer) are held per start at a random change that the
ε-ball allows on its own (:meth:`Projector.random_discrete`), so pairs that differ in
a category are tried too; a column the metric ignores entirely (weight 0, e.g. a
sensitive attribute) may always differ. Every returned pair is checked exactly
against the domain and the metric in float64 by the caller.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from fairnn.certify.bounds import delta_box
from fairnn.certify.domain import Domain
from fairnn.certify.metrics import SimilarityMetric


class Projector:
    """Projection of (x, Δ) onto the box and the metric ball (torch, batched)."""

    def __init__(self, domain: Domain, metric: SimilarityMetric, eps: float, dtype=torch.float64):
        self.domain, self.metric = domain, metric
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
        #: ``fixed @ comp.T``: the continuous step that best offsets a discrete step ``fixed``
        #: in the metric (least squares; None for a diagonal metric, where nothing offsets)
        self.comp = None
        cont = domain.continuous & ~domain.equal
        if not metric.is_diagonal and cont.any() and metric.matrix.shape[0]:
            A = metric.matrix
            P = np.zeros((domain.dim, domain.dim))
            P[cont] = -np.linalg.pinv(A[:, cont], rcond=1e-10) @ A
            P[:, cont] = 0.0
            self.comp = torch.as_tensor(P, dtype=dtype)
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

    def random_discrete(
        self, x: np.ndarray, rng: np.random.Generator, p: float = 0.3
    ) -> np.ndarray:
        """Per row of ``x`` (domain points), a random step of the discrete columns that the
        ε-ball allows: each binary flips, each one-hot block changes category and each
        integer moves by up to its largest allowed number of steps, with probability
        ``p`` each; a row whose discrete step the continuous columns cannot offset back
        into the ball (least squares, :attr:`comp`) gets none."""
        dom, n = self.domain, x.shape[0]
        dlo, dhi = delta_box(dom, self.metric, self.eps)
        y = x.copy()
        inblock = {j for b in dom.blocks for j in b}
        for j, kind in enumerate(dom.kind):
            if dhi[j] <= 0 or j in inblock:
                continue
            pick = rng.random(n) < p
            if kind == "binary":
                y[pick, j] = dom.lower[j] + dom.upper[j] - x[pick, j]
            elif kind == "integer":
                kmax = int(round(dhi[j] / dom.int_step[j]))
                k = rng.integers(-kmax, kmax + 1, n) * dom.int_step[j]
                y[pick, j] = np.clip(x[pick, j] + k[pick], dom.lower[j], dom.upper[j])
        for blk in dom.blocks:
            cols = np.asarray(blk)
            if np.all(dhi[cols] <= 0):
                continue
            pick = np.flatnonzero(rng.random(n) < p)
            y[np.ix_(pick, cols)] = 0.0
            y[pick, cols[rng.integers(0, len(cols), pick.size)]] = 1.0
        step = y - x
        # a row whose discrete step cannot be brought inside the ball gets none
        offset = step if self.comp is None else step + step @ self.comp.numpy().T
        too_far = self.metric.distance(x, x + offset) > self.eps
        step[too_far] = 0.0
        return step

    def best_step(self, g: torch.Tensor, fixed: torch.Tensor) -> torch.Tensor:
        """Per row, the Δ that maximises ``g·Δ`` over the ball with the discrete part held
        at ``fixed`` (the continuous part offsets it first, then spends what is left of ε
        along the metric's best direction); the box is left to :meth:`delta`."""
        fx = fixed.detach().cpu().numpy()
        base = fx if self.comp is None else fx + fx @ self.comp.cpu().numpy().T
        r0 = self.metric.distance(np.zeros_like(base), base)
        if self.diag_linf:
            budget = np.where(r0 <= self.eps, self.eps, 0.0)
        elif self.norm == "l2":
            budget = np.sqrt(np.maximum(self.eps**2 - r0**2, 0.0))
        else:
            budget = np.maximum(self.eps - r0, 0.0)
        cont = self.cont.cpu().numpy()
        D = _direction(self.metric, g.detach().cpu().numpy(), cont, budget)
        return torch.as_tensor(np.where(cont, base + D, fx), dtype=g.dtype).to(g.device)

    def inside(self, delta: torch.Tensor) -> torch.Tensor:
        """Rows whose Δ is within the ball (up to rounding; the caller checks exactly)."""
        return self.dist(delta) <= self.eps * (1 + 1e-9) + 1e-12

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
        """A Δ on the continuous columns with ``x + Δ`` in the box and ``d ≤ eps``.

        Outside the ball, the continuous part is moved toward the step that best
        compensates the discrete part (:attr:`comp`; zero for a diagonal metric) until
        the distance fits (bisection; the distance is convex along the way)."""
        d = torch.where(self.cont, delta, fixed)
        d = torch.maximum(torch.minimum(d, self.r), -self.r)
        d = torch.where(self.cont, torch.clamp(x + d, self.lo, self.hi) - x, d)
        if self.diag_linf:
            return d
        cd = torch.where(self.cont, d, torch.zeros_like(d))
        fixed_part = d - cd
        over = self.dist(d) > self.eps
        if not over.any():
            return d
        anchor = torch.zeros_like(d)
        if self.comp is not None:
            anchor = fixed_part @ self.comp.T
            anchor = torch.where(self.cont, torch.clamp(x + anchor, self.lo, self.hi) - x, anchor)
        lo_s = torch.zeros_like(d[:, 0])  # the share of the current step kept
        hi_s = torch.ones_like(lo_s)
        for _ in range(40):
            mid = 0.5 * (lo_s + hi_s)
            ok = self.dist(fixed_part + anchor + mid[:, None] * (cd - anchor)) <= self.eps
            lo_s = torch.where(ok, mid, lo_s)
            hi_s = torch.where(ok, hi_s, mid)
        scale = torch.where(over, lo_s, torch.ones_like(lo_s))
        return fixed_part + anchor + scale[:, None] * (cd - anchor)


def _direction(
    metric: SimilarityMetric, c: np.ndarray, cont: np.ndarray, eps: float | np.ndarray
) -> np.ndarray:
    """Per row of ``c``, the Δ on the continuous columns (``cont``) that maximises ``c·Δ``
    on the metric ball of radius ``eps`` (a number, or one per row), the box ignored;
    columns the metric ignores get a huge step (the box clip decides how far)."""
    big = 1e6
    c = np.where(cont[None, :], c, 0.0)
    eps = np.broadcast_to(np.asarray(eps, dtype=np.float64).reshape(-1, 1), (c.shape[0], 1))
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
            D[rows[ok], j[ok]] = np.sign(c[rows[ok], j[ok]]) * eps[rows[ok], 0] / wc[j[ok]]
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
    if metric.norm == "l2":
        rng_part = cc @ Gp
        q = np.sqrt(np.maximum((rng_part * cc).sum(1, keepdims=True), 1e-300))
        D[:, cont] = eps * rng_part / q + big * null
        return D
    # Δ = A⁺ y: c·Δ = h·y with h = c A⁺, maximised over ||y|| ≤ ε by a vertex of the
    # ℓ1 ball (the largest |h_i|) or the sign vector of the ℓ∞ box
    Ap = np.linalg.pinv(A, rcond=1e-10)
    h = cc @ Ap
    if metric.norm == "l1":
        y = np.zeros_like(h)
        i = np.abs(h).argmax(1)
        rows = np.arange(h.shape[0])
        y[rows, i] = np.sign(h[rows, i])
    else:
        y = np.sign(h)
    D[:, cont] = eps * (y @ Ap.T) + big * null
    return D


def _ascent_step(
    proj: Projector,
    x: torch.Tensor,
    delta: torch.Tensor,
    g: torch.Tensor,
    fixed: torch.Tensor,
    step: torch.Tensor,
    t: int,
    fw: torch.Tensor,
) -> torch.Tensor:
    """One ascent step on Δ along ``g``: a projected sign step of size ``step`` per
    coordinate, or (rows ``fw``, non-box metrics) a Frank-Wolfe step toward the ball's best
    point for the linearised objective (:meth:`Projector.best_step`), which follows the
    ball's shape where sign steps along the coordinates leave it."""
    signed = proj.delta(x, delta + step * g.sign(), fixed)
    if proj.diag_linf or not bool(fw.any()):
        return signed  # the ball is a box: sign steps reach its corners
    gamma = 2.0 / (t + 3.0)
    frank = proj.delta(x, delta + gamma * (proj.best_step(g, fixed) - delta), fixed)
    return torch.where(fw[:, None], frank, signed)


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
    n_discrete: int = 64,
    seed: int = 0,
    repair: Callable[..., tuple[np.ndarray, np.ndarray] | None] | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The most unfair pair found: linearised steps from many points, then gradient polish.

    1. At every point ``x0`` (data rows and random domain points) the network is
       linearised; the metric's best step ``±Δ`` for that gradient gives the pairs
       ``(x0, x0 ± Δ)`` (clipped to the box, pulled back inside the ball).
    2. The ``top_k`` pairs by the real network's ``|f' - f''|``, and ``n_discrete``
       random pairs whose discrete columns differ as the ball allows
       (:meth:`Projector.random_discrete`), are polished together by projected
       gradient ascent on both points; the best pair each start reached counts.
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
    proj = Projector(domain, metric, eps)
    if n_discrete > 0:
        # random pairs: a discrete change the ball allows (a category change, a flip,
        # integer steps) and a random continuous step out to the ball's boundary; the
        # best of them by the real network start the polish too
        base = pts[rng.integers(0, len(pts), 2 * n_random)]
        disc = proj.random_discrete(base, rng)
        span_np = np.minimum(proj.r.numpy(), hi - lo)
        step = rng.normal(size=base.shape) * span_np * 4.0
        with torch.no_grad():
            xb = torch.as_tensor(base)
            dd = proj.delta(xb, torch.as_tensor(step), torch.as_tensor(disc)).numpy()
            other = domain.project(base + dd)
            other = np.where(proj.cont.numpy(), base + dd, other)
            v = (f(xb) - f(torch.as_tensor(other))).abs().numpy()
        for i in np.argsort(-v)[:n_discrete]:
            starts.append((base[i], other[i]))
    if not starts:
        return best
    a, b, vals = _polish(f, proj, starts, steps, lr0=0.02)
    for i in np.argsort(-vals)[:8]:
        consider(domain.project(a[i])[0], domain.project(b[i])[0])
    return best


def _polish(
    f: Callable[[torch.Tensor], torch.Tensor],
    proj: Projector,
    starts: list[tuple[np.ndarray, np.ndarray]],
    steps: int,
    lr0: float,
    fine: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Projected gradient ascent on ``f(x') - f(x' + Δ)`` from each start pair: ``x'`` moves
    in the box, ``Δ`` in the ball (continuous columns; the discrete part of each start is
    kept). Returns the best pair each start reached (``x'``, ``x''`` rows) and its value.
    ``fine``: steps scaled to the ball's radius instead of the box's width (a polish of a
    pair already near a maximum)."""
    S1 = torch.as_tensor(np.vstack([p[0] for p in starts]))
    S2 = torch.as_tensor(np.vstack([p[1] for p in starts]))
    with torch.no_grad():
        flip = (f(S1) < f(S2))[:, None]
    x = torch.where(flip, S2, S1)
    fixed = torch.where(proj.cont, torch.zeros_like(x), torch.where(flip, S1, S2) - x)
    delta = proj.delta(x, torch.where(flip, S1, S2) - x, fixed)
    span = (proj.hi - proj.lo).clamp(min=1e-12)
    rstep = torch.minimum(proj.r, span)
    xstep = rstep if fine else span
    cont_t = proj.cont
    best_x, best_d = x.clone(), delta.clone()
    best_row = torch.full((x.shape[0],), -np.inf, dtype=x.dtype)
    fw = torch.as_tensor(np.arange(x.shape[0]) % 2 == 1)  # every other start: Frank-Wolfe
    for t in range(steps + 1):
        lr = lr0 * (1 - t / steps) + lr0 / 20
        x = x.detach().requires_grad_(True)
        delta = delta.detach().requires_grad_(True)
        obj = f(x) - f(x + delta)
        with torch.no_grad():
            better = (obj > best_row) & proj.inside(delta)
            best_row = torch.where(better, obj, best_row)
            best_x = torch.where(better[:, None], x, best_x)
            best_d = torch.where(better[:, None], delta, best_d)
        if t == steps:
            break
        gx, gd = torch.autograd.grad(obj.sum(), [x, delta])
        with torch.no_grad():
            x = torch.where(cont_t, torch.clamp(x + lr * xstep * gx.sign(), proj.lo, proj.hi), x)
            delta = _ascent_step(proj, x, delta, gd, fixed, 5 * lr * rstep, t, fw)
    a = best_x.detach().numpy()
    return a, a + best_d.detach().numpy(), best_row.numpy()


def polish_pair(
    f: Callable[[torch.Tensor], torch.Tensor],
    domain: Domain,
    metric: SimilarityMetric,
    eps: float,
    pair: tuple[np.ndarray, np.ndarray],
    *,
    steps: int = 60,
    repair: Callable[..., tuple[np.ndarray, np.ndarray] | None] | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """A pair near ``pair`` (a witness, e.g. a solver's incumbent) with a larger
    ``|f(x') - f(x'')|``, by small projected gradient steps; None if none is found."""
    proj = Projector(domain, metric, eps)
    a, b, vals = _polish(f, proj, [pair], steps, lr0=0.05, fine=True)
    if not vals[0] > -np.inf:
        return None
    out = (domain.project(a[0])[0], domain.project(b[0])[0])
    return repair(*out) if repair is not None else out


def local_search(
    z: Callable[[torch.Tensor], torch.Tensor],
    X0: np.ndarray,
    domain: Domain,
    metric: SimilarityMetric,
    eps: float,
    *,
    starts: int = 8,
    steps: int = 60,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``x`` near each centre ``x0`` (rows of ``X0``) that reach a high and a low
    logit ``z(x)`` (``f`` is monotone in ``z``): projected sign-gradient ascent on ``±z``
    from ``starts`` starts per centre and direction (random continuous steps in the ball,
    half of them with a random discrete change the ball allows), batched over the centres.
    Returns ``(X_high, X_low)``; each row still needs the exact check (the ball is met by
    bisection in torch)."""
    rng = np.random.default_rng(seed)
    n, d = X0.shape
    proj = Projector(domain, metric, eps)
    reps = 2 * starts  # per centre: `starts` for max z, `starts` for min z
    x = np.repeat(X0, reps, 0)
    disc = proj.random_discrete(x, rng)
    disc[rng.random(len(x)) < 0.5] = 0.0
    sign = np.tile(np.repeat([1.0, -1.0], starts), n)
    xt = torch.as_tensor(x)
    fixed = torch.as_tensor(disc)
    rstep = torch.minimum(proj.r, (proj.hi - proj.lo).clamp(min=1e-12))
    init = torch.as_tensor(rng.uniform(-1, 1, x.shape)) * rstep
    init[::starts] = 0.0  # one start per direction at the centre itself
    delta = proj.delta(xt, init, fixed)
    sg = torch.as_tensor(sign)
    fw = torch.as_tensor(rng.random(len(x)) < 0.5)  # half the starts take Frank-Wolfe steps
    best_d = delta.clone()
    best_row = torch.full((len(x),), -np.inf, dtype=xt.dtype)
    for t in range(steps + 1):
        lr = 0.25 * (1 - t / steps) ** 2 + 5e-3
        delta = delta.detach().requires_grad_(True)
        obj = sg * z(xt + delta)
        with torch.no_grad():
            better = (obj > best_row) & proj.inside(delta)
            best_row = torch.where(better, obj, best_row)
            best_d = torch.where(better[:, None], delta, best_d)
        if t == steps:
            break
        (g,) = torch.autograd.grad(obj.sum(), [delta])
        with torch.no_grad():
            delta = _ascent_step(proj, xt, delta, g, fixed, lr * rstep, t, fw)
    pts = (xt + best_d).detach().numpy().reshape(n, 2, starts, d)
    score = best_row.numpy().reshape(n, 2, starts)
    pick = score.argmax(2)
    rows = np.arange(n)
    return pts[rows, 0, pick[:, 0]], pts[rows, 1, pick[:, 1]]


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
        if P.comp is not None:
            P.comp = P.comp.to(dev, dt)
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
