"""Heuristic search for unfair pairs (lower bounds only; nothing here is a certificate).

Projected gradient ascent on ``f(x') - f(x'')`` (global, :func:`search_pairs`), on the
logit ``±z(x)`` around given centres (local certificates, :func:`local_search`) or on
``|f(x) - f(x*)|`` around given inputs (IF-fair training's worst neighbour,
:func:`worst_neighbour`), on the continuous columns, from many starts. Discrete
columns (binary, one-hot, integer) are held per start at a random change that the
ε-ball allows on its own (:meth:`Projector.random_discrete`), so pairs that differ in
a category are tried too; a column the metric ignores entirely (weight 0, e.g. a
sensitive attribute) may always differ. The global search then climbs over the discrete
columns too (:class:`PairMoves`: one category, flip or integer step at a time, every
pair of categories of a block that may switch). Every returned pair is checked exactly
against the domain and the metric in float64 by the caller.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from fairnn.certify.bounds import delta_box
from fairnn.certify.domain import Domain
from fairnn.certify.metrics import SimilarityMetric
from fairnn.certify.parts import group_values, pair_parts, switching


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


class PairMoves:
    """Single changes of a pair's discrete columns, for a steepest-ascent coordinate search
    of ``|f(x') - f(x'')|`` over the pairs of the domain within ε (:meth:`ascend`).

    * constant moves ``x'[cols] = v', x''[cols] = v''``: every (``v'``, ``v''``) choice of
      each group of columns that may differ between the copies
      (:func:`~fairnn.certify.parts.switching`: a one-hot block or binary column the ball
      lets change, e.g. a sensitive attribute the metric ignores) and every value, the same
      for both points, of each other one-hot block and binary column;
    * integer moves: both points by ±1, ±2, ±4, ... grid steps or to the ends of the range
      (their difference kept), and ``x''`` alone to each difference the ball allows in the
      column (at most 9 of them).

    A gradient step cannot change a category or an integer by a whole step, so without these
    moves the search keeps the discrete part of its random starts; on Adult, whose numeric
    columns are all integers, that is every column. Continuous columns are left to the
    gradient steps. Moves that leave the box or the ball are not taken.
    """

    def __init__(self, domain: Domain, metric: SimilarityMetric, eps: float):
        self.domain, self.metric, self.eps = domain, metric, float(eps)
        dlo, dhi = delta_box(domain, metric, eps)
        groups = switching(domain, dlo, dhi)
        self.parts = pair_parts(domain, dlo, dhi)
        self.const: list[tuple[list[int], np.ndarray, np.ndarray]] = []
        for g in groups:
            vals = [v for v, _ in group_values(domain, g)]
            self.const += [(g, v1, v2) for v1 in vals for v2 in vals]
        moving = {j for g in groups for j in g}
        others = [list(b) for b in domain.blocks if not moving & set(b)]
        others += [[j] for j, k in enumerate(domain.kind) if k == "binary" and j not in moving]
        for g in others:
            self.const += [(g, v, v) for v, _ in group_values(domain, g)]
        self.ints = [j for j, k in enumerate(domain.kind) if k == "integer"]
        self.shifts, self.diffs = [], []
        for j in self.ints:
            span = int(domain.int_hi[j] - domain.int_lo[j])
            steps = 2 ** np.arange(max(span, 1).bit_length())
            self.shifts.append(np.concatenate([steps, -steps]))
            kmax = int(round(dhi[j] / domain.int_step[j])) if dhi[j] > 0 else 0
            diffs = np.unique(np.round(np.linspace(-kmax, kmax, min(2 * kmax + 1, 9))))
            self.diffs.append(diffs if kmax > 0 else np.zeros(0))

    def __bool__(self) -> bool:
        return bool(self.const or self.ints)

    def _k(self, X: np.ndarray, j: int) -> np.ndarray:
        dom = self.domain
        return np.round((X[..., j] - dom.int_origin[j]) / dom.int_step[j])

    def candidates(self, X1: np.ndarray, X2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(B, M, d)``: each pair with each of the ``M`` moves applied."""
        dom = self.domain
        M = len(self.const) + sum(
            2 + s.size + u.size for s, u in zip(self.shifts, self.diffs, strict=True)
        )
        C1 = np.repeat(X1[:, None, :], M, 1)
        C2 = np.repeat(X2[:, None, :], M, 1)
        m = 0
        for cols, v1, v2 in self.const:
            C1[:, m, cols] = v1
            C2[:, m, cols] = v2
            m += 1
        for j, shifts, diffs in zip(self.ints, self.shifts, self.diffs, strict=True):
            o, h = dom.int_origin[j], dom.int_step[j]
            k1, k2 = self._k(X1, j), self._k(X2, j)
            ends = np.stack(
                [dom.int_lo[j] - np.minimum(k1, k2), dom.int_hi[j] - np.maximum(k1, k2)]
            )
            t = np.concatenate(
                [
                    np.broadcast_to(shifts[:, None], (shifts.size, len(X1))),
                    ends,
                ]
            )
            n = t.shape[0]
            C1[:, m : m + n, j] = o + (k1 + t).T * h
            C2[:, m : m + n, j] = o + (k2 + t).T * h
            m += n
            C2[:, m : m + diffs.size, j] = o + (k1[:, None] + diffs[None, :]) * h
            m += diffs.size
        return C1, C2

    def allowed(self, C1: np.ndarray, C2: np.ndarray) -> np.ndarray:
        """Rows (pairs) in the box and within ε (the moves keep the grids and one-hot sums)."""
        dom, tol = self.domain, 1e-12
        lo, hi = dom.lower - tol, dom.upper + tol
        ok = np.ones(len(C1), bool)
        for pts in (C1, C2):
            ok &= np.all((lo <= pts) & (pts <= hi), axis=1)
        ok &= np.all(C1[:, dom.equal] == C2[:, dom.equal], axis=1)
        return ok & (self.metric.distance(C1, C2) <= self.eps)

    def ascend(
        self,
        f: Callable[[torch.Tensor], torch.Tensor],
        X1: np.ndarray,
        X2: np.ndarray,
        sweeps: int = 64,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """From each pair, the best single move while one improves ``|f(x') - f(x'')|`` by
        more than a relative 1e-5 (at most ``sweeps`` moves: along a ridge across two
        integer columns single moves crawl by tiny gains); returns the pairs reached and
        their values. Every move of every live pair is evaluated (a shortlist of the moves
        the gradient ranks highest was measured slower to reach as good pairs on Adult)."""
        X1, X2 = X1.copy(), X2.copy()
        val = _gap(f, X1, X2)
        live = np.ones(len(X1), bool)
        for _ in range(sweeps):
            idx = np.flatnonzero(live)
            if idx.size == 0:
                break
            C1, C2 = self.candidates(X1[idx], X2[idx])
            B, M, d = C1.shape
            ok = self.allowed(C1.reshape(-1, d), C2.reshape(-1, d)).reshape(B, M)
            v = np.full((B, M), -np.inf)
            v[ok] = _gap(f, C1[ok], C2[ok])
            k = v.argmax(1)
            gain = v[np.arange(B), k]
            better = gain > val[idx] * (1 + 1e-5)
            live[idx[~better]] = False
            up = idx[better]
            X1[up], X2[up], val[up] = C1[better, k[better]], C2[better, k[better]], gain[better]
        return X1, X2, val

    def kick(
        self, X1: np.ndarray, X2: np.ndarray, rng: np.random.Generator, n: int = 2
    ) -> tuple[np.ndarray, np.ndarray]:
        """The pairs with ``n`` random changes each: a random constant move, or an integer
        column of ``x'`` redrawn over its range (the difference kept); some may leave the box."""
        dom = self.domain
        X1, X2 = X1.copy(), X2.copy()
        G = len(self.const) + len(self.ints)
        for i, _ in np.ndindex(len(X1), n):
            g = int(rng.integers(0, G))
            if g < len(self.const):
                cols, v1, v2 = self.const[g]
                X1[i, cols], X2[i, cols] = v1, v2
            else:
                j = self.ints[g - len(self.const)]
                k = rng.integers(int(dom.int_lo[j]), int(dom.int_hi[j]) + 1)
                diff = self._k(X2[i], j) - self._k(X1[i], j)
                X1[i, j] = dom.int_origin[j] + k * dom.int_step[j]
                X2[i, j] = dom.int_origin[j] + (k + diff) * dom.int_step[j]
        return X1, X2

    def search(
        self,
        f: Callable[[torch.Tensor], torch.Tensor],
        X1: np.ndarray,
        X2: np.ndarray,
        rng: np.random.Generator,
        rounds: int = 12,
        keep: int = 8,
        copies: int = 4,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """An iterated local search: :meth:`ascend` from the pairs, then ``rounds`` times
        from ``copies`` copies of each of the ``keep`` best distinct pairs reached so far,
        each changed at random (:meth:`kick`): a single move rarely leaves a local maximum;
        two random ones and a climb often reach a better one. Returns every pair reached
        and its value."""
        A1, A2, v = self.ascend(f, X1, X2)
        for _ in range(rounds):
            _, first = np.unique(np.hstack([A1, A2]), axis=0, return_index=True)
            top = first[np.argsort(-v[first], kind="stable")[:keep]]
            K1, K2 = self.kick(np.repeat(A1[top], copies, 0), np.repeat(A2[top], copies, 0), rng)
            ok = self.allowed(K1, K2)
            B1, B2, w = self.ascend(f, K1[ok], K2[ok])
            A1, A2, v = np.vstack([A1, B1]), np.vstack([A2, B2]), np.concatenate([v, w])
        return A1, A2, v

    def part_starts(
        self,
        f: Callable[[torch.Tensor], torch.Tensor],
        pts: np.ndarray,
        first: np.ndarray,
        n: int,
        rng: np.random.Generator,
        points: int = 256,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` start pairs spread over the parts of the pair set (:mod:`.parts`: every
        (x', x'') choice of the switching groups): the points ``first`` (indices of ``pts``,
        best first) and random ones, each put in every part (the rest of the pair equal),
        the best part of each of the ``n`` best points."""
        d = pts.shape[1]
        if self.parts is None or n <= 0:
            return np.zeros((0, d)), np.zeros((0, d))
        lo1, hi1, lo2, _ = self.parts
        fixed = lo1 == hi1  # per part, the columns the part fixes in both copies (the groups)
        _, keep = np.unique(first, return_index=True)
        idx = np.asarray(first)[np.sort(keep)][: points // 2]
        idx = np.concatenate([idx, rng.integers(0, len(pts), points - idx.size)])
        X = pts[idx]
        K = len(lo1)
        X1 = np.where(fixed[None], lo1[None], X[:, None, :])
        X2 = np.where(fixed[None], lo2[None], X[:, None, :])
        v = _gap(f, X1.reshape(-1, d), X2.reshape(-1, d)).reshape(len(X), K)
        ok = self.allowed(X1.reshape(-1, d), X2.reshape(-1, d)).reshape(len(X), K)
        v = np.where(ok, v, -np.inf)
        p = v.argmax(1)
        top = np.argsort(-v[np.arange(len(X)), p])[:n]
        return X1[top, p[top]], X2[top, p[top]]


def _gap(f: Callable[[torch.Tensor], torch.Tensor], X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
    """``|f(x') - f(x'')|`` per row pair (float64, no gradient)."""
    with torch.no_grad():
        return (f(torch.as_tensor(X1)) - f(torch.as_tensor(X2))).abs().numpy()


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
    n_local: int | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The most unfair pair found: linearised steps from many points, then gradient polish.

    1. At every point ``x0`` (data rows and random domain points) the network is
       linearised; the metric's best step ``±Δ`` for that gradient gives the pairs
       ``(x0, x0 ± Δ)`` (clipped to the box, pulled back inside the ball).
    2. The ``top_k`` pairs by the real network's ``|f' - f''|``, and ``n_discrete``
       random pairs whose discrete columns differ as the ball allows
       (:meth:`Projector.random_discrete`), are polished together by projected
       gradient ascent on both points; the best pair each start reached counts.
    3. ``n_local`` pairs climb over the discrete columns (:class:`PairMoves`, a
       steepest-ascent coordinate search): half of them the best polished pairs, half the
       best points of step 1 and random ones, each put in the part of the pair set
       (:mod:`.parts`: a choice of category per copy of each block that may switch) where
       it is most unfair. ``None``: 32 when the search samples the domain
       (``n_random > 0``, the global certificate's search), 0 otherwise (the quick
       searches from branch and bound's leaf centres).
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
    if n_local is None:
        n_local = 32 if n_random > 0 else 0
    if n_local > 0:
        moves = PairMoves(domain, metric, eps)
        if moves:
            # the polished pairs and pairs spread over the parts climb over the discrete moves
            S = []
            for i in np.argsort(-vals)[: n_local // 2]:
                pair = (domain.project(a[i])[0], domain.project(b[i])[0])
                pair = repair(*pair) if repair is not None else pair
                if pair is not None:
                    S.append(pair)
            P1, P2 = moves.part_starts(f, pts, order % len(pts), n_local - len(S), rng)
            X1 = np.vstack([*(p[0] for p in S), P1])
            X2 = np.vstack([*(p[1] for p in S), P2])
            ok = moves.allowed(X1, X2)
            X1, X2, v = moves.search(f, X1[ok], X2[ok], rng)
            for i in np.argsort(-v)[:4]:
                consider(X1[i], X2[i])
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


def climb_pair(
    f: Callable[[torch.Tensor], torch.Tensor],
    domain: Domain,
    metric: SimilarityMetric,
    eps: float,
    pair: tuple[np.ndarray, np.ndarray],
    *,
    rounds: int = 4,
    copies: int = 8,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The best pair reached from ``pair`` (a witness, e.g. a solver's incumbent) over the
    discrete columns (:meth:`PairMoves.search`: a climb, then ``rounds`` climbs from
    ``copies`` random changes of the best); None when the domain has no discrete move or
    ``pair`` is outside the box or the ball."""
    moves = PairMoves(domain, metric, eps)
    a, b = (np.atleast_2d(np.asarray(p, dtype=np.float64)) for p in pair)
    if not moves or not moves.allowed(a, b)[0]:
        return None
    rng = np.random.default_rng(seed)
    X1, X2, v = moves.search(f, a, b, rng, rounds=rounds, keep=1, copies=copies)
    i = int(np.argmax(v))
    return X1[i], X2[i]


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
