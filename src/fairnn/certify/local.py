"""``certify_local``: for each point ``x0``, a proven bound on ``max |f(x0) - f(x)|`` over
the domain points ``x`` within ε of it.

Because ``f`` is monotone in the logit, δ comes from the extremes of ``z`` over the
ball: exact for ReLU networks (single-copy MILPs, one per piece of the ball, with the
stable neurons folded away: :func:`_milp_range`, :mod:`.fold`), proven per point within
the time limit. Points where the network is affine on the whole ball (weighted ℓ∞) are
solved in closed form, vectorised (:func:`affine_extremes`). Around
the others, a gradient search on the logit (:func:`~fairnn.certify.attack.local_search`,
batched over the points) finds real points with a high and a low logit: they are
witnesses, warm starts, and the floor each solver claim is checked against
(:mod:`.verify`); a refuted claim falls back to the interval range of the logit (status
``unverified``).
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import numpy as np
import torch

from fairnn.certify import bounds as B
from fairnn.certify.attack import local_search
from fairnn.certify.certificate import Certificate, LocalCertificates, rel_gap
from fairnn.certify.config import CertifyConfig
from fairnn.certify.domain import Domain
from fairnn.certify.encoding import EncodeOptions, encode
from fairnn.certify.fold import fold_piece, foldable
from fairnn.certify.leaves import LeafPool
from fairnn.certify.margin import pad_down, pad_up
from fairnn.certify.metrics import SimilarityMetric
from fairnn.certify.network import CertNet, NetSpec
from fairnn.certify.ops import activation
from fairnn.certify.problem import prepare
from fairnn.certify.solvers import SMALL_MIP
from fairnn.certify.verify import checked_solve
from fairnn.certify.witness import repair_pair
from fairnn.datasets.core import TabularData
from fairnn.errors import InvalidValueError

__all__ = ["affine_extremes", "certify_local"]

#: build each piece's MILP with its stable neurons folded away (:mod:`.fold`) where the
#: network allows; ``False`` builds the full encoding (:mod:`.encoding`) instead, for
#: comparisons (benchmarks/local_certificates.py, tests)
FOLD = True
#: rows per worker task (their pair search is batched); fixed, so that the certificates do
#: not depend on the number of workers
ROWS_PER_TASK = 16


def _discrete_box(
    domain: Domain, X: np.ndarray, lo: np.ndarray, hi: np.ndarray, dlo: np.ndarray, dhi: np.ndarray
) -> None:
    """Shrink the boxes ``[lo, hi]`` around the rows of ``X`` in place: discrete columns
    move only by whole steps that fit in the ball (integers by ⌊r/step⌋ steps, binaries
    and one-hot categories only when the radius covers a flip)."""
    kind = np.asarray(domain.kind)
    isint = kind == "integer"
    if isint.any():
        step = domain.int_step[isint]
        k = np.floor(np.minimum(dhi[isint], -dlo[isint]) / step + 1e-9) * step
        lo[:, isint] = np.maximum(lo[:, isint], X[:, isint] - k)
        hi[:, isint] = np.minimum(hi[:, isint], X[:, isint] + k)
    isbin = kind == "binary"
    if isbin.any():
        span = domain.upper[isbin] - domain.lower[isbin]
        can = np.minimum(dhi[isbin], -dlo[isbin]) >= span * (1 - 1e-12)
        lo[:, isbin] = np.where(can, domain.lower[isbin], X[:, isbin])
        hi[:, isbin] = np.where(can, domain.upper[isbin], X[:, isbin])
    for blk in domain.blocks:
        cols = np.asarray(list(blk))
        can = np.minimum(dhi[cols], -dlo[cols]) >= 1 - 1e-12  # this category may switch
        free = can[X[:, cols].argmax(1)][:, None] & can[None, :]  # ... and the active one
        lo[:, cols] = np.where(free, 0.0, X[:, cols])
        hi[:, cols] = np.where(free, 1.0, X[:, cols])


def affine_extremes(
    net: CertNet, domain: Domain, met: SimilarityMetric, eps: float, X: np.ndarray
) -> tuple[np.ndarray, Any, Any, Any, Any]:
    """Exact local extremes of z where the network is affine on the ε-box (weighted ℓ∞).

    Interval bounds over the box ``x0 ± r`` (∩ domain; :mod:`.bounds`) show which
    points keep every neuron on one affine piece of its activation (a stable ReLU);
    there ``z(x) = c·x + d`` on the whole box, and the maximum and minimum of a linear
    function over the box (with its discrete columns) is attained coordinate by
    coordinate (one-hot blocks: the best category). Returns ``(ok, zmax, zmin, xmax,
    xmin)``.
    """
    spec = net.spec
    act = activation(spec.activation)
    n, d = X.shape
    dlo, dhi = B.delta_box(domain, met, float(eps))
    lo, hi = B.ball_box(domain, X, dlo, dhi)
    _discrete_box(domain, X, lo, hi, dlo, dhi)
    ok = np.ones(n, dtype=bool)
    for L, U in B.interval_layers(spec, lo.T, hi.T)[:-1]:  # (units, n) per hidden layer
        ok &= np.all(act.stable(L, U), axis=0)
    if not ok.any():
        return ok, None, None, None, None
    # the linear map of each stable point: product of the weights times the slopes at x0
    idx = np.flatnonzero(ok)
    X0 = X[idx]
    h = X0.T
    C = np.repeat(np.eye(d)[None], idx.size, 0)  # (m, d_cur, d)
    for W, bias in zip(spec.weights[:-1], spec.biases[:-1], strict=True):
        phi = W @ h + bias[:, None]
        slope = act.derivative(phi)  # stable, so the slope at x0 is the slope everywhere
        C = slope.T[:, :, None] * np.einsum("ij,mjk->mik", W, C)
        h = act.value(phi)
    c = np.einsum("j,mjk->mk", spec.weights[-1][0], C)  # (m, d)
    z0 = spec.logit(X0)
    lo_i, hi_i = lo[idx], hi[idx]
    xmax = np.where(c > 0, hi_i, lo_i)
    xmin = np.where(c > 0, lo_i, hi_i)
    for blk in domain.blocks:
        cols = list(blk)
        cb = c[:, cols]
        live = hi_i[:, cols] > 0.5
        cbm = np.where(live, cb, -np.inf)
        cbn = np.where(live, cb, np.inf)
        xmax[:, cols] = 0.0
        xmin[:, cols] = 0.0
        r = np.arange(idx.size)
        xmax[r, np.asarray(cols)[cbm.argmax(1)]] = 1.0
        xmin[r, np.asarray(cols)[cbn.argmin(1)]] = 1.0
    zmax = z0 + np.einsum("mk,mk->m", c, xmax - X0)
    zmin = z0 + np.einsum("mk,mk->m", c, xmin - X0)
    out_max = np.full(n, np.nan)
    out_min = np.full(n, np.nan)
    out_max[idx], out_min[idx] = zmax, zmin
    XM = np.full((n, d), np.nan)
    Xm = np.full((n, d), np.nan)
    XM[idx], Xm[idx] = xmax, xmin
    return ok, out_max, out_min, XM, Xm


def _rows(X: Any) -> np.ndarray:
    return np.atleast_2d(
        np.asarray(X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X, dtype=np.float64)
    )


def _check_rows(domain: Domain, Xn: np.ndarray) -> tuple[Domain, np.ndarray]:
    """The domain widened to hold the rows, and the rows snapped onto its grid."""
    if Xn.shape[1] != domain.dim:
        raise InvalidValueError(f"X has {Xn.shape[1]} columns but the domain has {domain.dim}")
    domain = domain.widened(points=Xn)
    bad = ~domain.contains(Xn, tol=1e-5)
    if bad.any():
        raise InvalidValueError(
            f"{int(bad.sum())} row(s) of X break the discrete structure of the features (first: "
            f"row {int(np.flatnonzero(bad)[0])}); one-hot blocks need exactly one 1, binary "
            "columns their two values, integer columns their grid"
        )
    return domain, domain.project(Xn)  # snap float32 rows onto the integer grid (|change| <= 1e-5)


def _pieces(
    domain: Domain, lo: np.ndarray, hi: np.ndarray, most: int = 128
) -> tuple[np.ndarray, np.ndarray]:
    """The ball's box ``[lo, hi]`` cut into pieces, one per choice of category of each
    one-hot block that may switch (their union is the box's set of valid inputs). A box
    with more than ``most`` choices stays whole."""
    free = [list(b) for b in domain.blocks if np.any(hi[list(b)] > lo[list(b)])]
    options = [[c for c in b if hi[c] > 0.5] for b in free]
    if not free or math.prod(len(o) for o in options) > most:
        return lo[None].copy(), hi[None].copy()
    P_lo, P_hi = [lo.copy()], [hi.copy()]
    for cols, live in zip(free, options, strict=True):
        nxt_lo, nxt_hi = [], []
        for pl, ph in zip(P_lo, P_hi, strict=True):
            for c in live:
                ql, qh = pl.copy(), ph.copy()
                ql[cols], qh[cols] = 0.0, 0.0
                ql[c], qh[c] = 1.0, 1.0
                nxt_lo.append(ql)
                nxt_hi.append(qh)
        P_lo, P_hi = nxt_lo, nxt_hi
    return np.array(P_lo), np.array(P_hi)


def _milp_range(
    spec: NetSpec,
    domain: Domain,
    met: SimilarityMetric,
    x0: np.ndarray,
    cfg: CertifyConfig,
    opts: EncodeOptions,
    known: list[np.ndarray],
) -> tuple[float, float, list[np.ndarray], str, dict[str, Any], list[str]]:
    """The proven range of ``z`` over the ball around ``x0``, the solvers' solutions as
    candidate witnesses, the status, the problem's size and the reasons any solver claim
    was refuted.

    The ball is cut into pieces, one per category of each one-hot block that may switch
    (:func:`_pieces`): on a piece far fewer neurons are unstable. Each piece gets a
    bound from back-substitution (:mod:`.symbolic`); for each of max z and min z, a
    piece whose bound cannot beat the best real point is settled by that bound, the
    others by a MILP on the piece (the largest bound first): for a ReLU network the
    piece's MILP has its stable neurons folded away (:mod:`.fold`, the same bounds reused;
    one solver thread unless ``threads`` says otherwise), else it is the full encoding.
    ``known`` are real points of the ball (``x0`` and the pair search's): they check every
    claim inside their piece (:func:`.verify.checked_solve`) and warm-start the solver. A
    piece whose claim is refuted, or whose solve proves nothing, keeps its propagated
    bound. (Settling pieces by interval bounds before computing symbolic ones was
    measured: 4.6 of 5 pieces stay open either way, and it saved nothing.)"""
    from fairnn.certify.symbolic import copy_bounds

    t0 = time.perf_counter()
    dlo, dhi = B.delta_box(domain, met, float(cfg.eps))
    lo, hi = B.ball_box(domain, x0[None], dlo, dhi)
    _discrete_box(domain, x0[None], lo, hi, dlo, dhi)
    P_lo, P_hi = _pieces(domain, lo[0], hi[0], cfg.pieces)
    if met.is_diagonal and len(P_lo) > 1:
        # a piece whose nearest point (coordinate by coordinate, for a weighted norm) is
        # farther than ε holds no point of the ball: under ℓ1 or ℓ2 a category switch moves
        # two columns and may cost more than each alone. Its MILP is infeasible, a claim
        # :mod:`.verify` never accepts (the certificate would be left unverified).
        near = np.clip(x0, P_lo, P_hi)
        far = met.distance(np.broadcast_to(x0, near.shape), near) > cfg.eps * (1 + 1e-9) + 1e-12
        P_lo, P_hi = P_lo[~far], P_hi[~far]
    method = "interval" if opts.bounds == "interval" else "symbolic"
    layer_bounds = copy_bounds(spec, P_lo, P_hi, domain.blocks, method=method)
    zL, zU = layer_bounds[-1]
    prop = (zL[:, 0], zU[:, 0])  # padded bounds of z on each piece
    fold = FOLD and foldable(spec, opts, P_lo, P_hi)
    # a folded piece is a MILP of a few dozen columns: one thread (HiGHS's thread pool costs
    # more than such a solve; points run in parallel on workers) and small-MIP tuning
    solve_kw: dict[str, Any] = {"threads": cfg.threads}
    if fold:
        solve_kw = {"threads": 1 if cfg.threads is None else cfg.threads, "tuning": SMALL_MIP}
    known_z = spec.logit(np.array(known)) if known else np.zeros(0)
    inside = [
        [k for k, x in enumerate(known) if np.all(x >= pl - 1e-9) and np.all(x <= ph + 1e-9)]
        for pl, ph in zip(P_lo, P_hi, strict=True)
    ]
    encs: dict[int, Any] = {}
    cand: list[np.ndarray] = []
    statuses: list[str] = []
    reasons: list[str] = []
    size: dict[str, Any] = {"pieces": len(P_lo), "milps": 0}
    ends = []
    for sign in (1.0, -1.0):
        bound = sign * (prop[1] if sign > 0 else prop[0])  # sign · z <= bound, per piece
        best = float(np.max(sign * known_z)) if known_z.size else -math.inf
        status = "optimal"
        for p in np.argsort(-bound):
            if bound[p] <= best:
                continue  # this piece cannot beat a real point: its bound settles it
            if p not in encs:
                piece = (P_lo[p], P_hi[p])
                if fold:
                    bounds_p = [(L[p], U[p]) for L, U in layer_bounds]
                    encs[p] = fold_piece(spec, domain, met, cfg.eps, x0, piece, bounds_p, opts)
                else:
                    encs[p] = encode(spec, domain, met, cfg.eps, x0=x0, options=opts, piece=piece)
            enc = encs[p]
            z = enc.z[0]
            enc.model.set_objective([z], [sign])
            points = [enc.assignment([known[k]]) for k in inside[p]]
            zs = [sign * float(v[z]) for v in points]
            start = points[int(np.argmax(zs))] if points else None
            checked = checked_solve(
                enc.model,
                points,
                solver=cfg.solver,
                time_limit=max(
                    t0 + cfg.time_limit * (1 if sign < 0 else 0.5) - time.perf_counter(), 0.05
                ),
                deadline=t0 + cfg.time_limit,
                cross_check=cfg.cross_check,
                start=start,
                mip_rel_gap=1e-7,
                **solve_kw,
            )
            size["milps"] += 1
            for r in checked.tried:
                if r.x is not None:
                    x = r.x[enc.x[0]]
                    cand.append(x)
                    best = max(best, sign * float(spec.logit(x[None])[0]))
            r = checked.result
            if checked.reason is not None:
                reasons.append(checked.reason)
                status = "unverified"
                continue
            if (r.bound is None or r.status != "optimal") and status == "optimal":
                status = r.status if r.bound is not None else "bound_only"
            if r.bound is not None:
                bound[p] = min(bound[p], r.bound)
        statuses.append(status)
        ends.append(sign * float(np.max(bound)))
    size["lp_solves"] = 0
    for e in encs.values():  # the largest piece solved (LP solves: all of them)
        for k, v in e.size().items():
            if k == "lp_solves":
                size[k] += v
            elif isinstance(v, (int, float)):
                size[k] = max(size.get(k, 0), v)
    if "unverified" in statuses:
        status = "unverified"
    elif statuses == ["optimal", "optimal"]:
        status = "optimal"
    else:
        status = "time_limit"
    return ends[1], ends[0], cand, status, size, reasons


def _known_points(
    spec: NetSpec,
    domain: Domain,
    met: SimilarityMetric,
    Xn: np.ndarray,
    cfg: CertifyConfig,
) -> list[list[np.ndarray]]:
    """Real points of each ball around the rows ``Xn``: its centre and those with a high
    and a low logit that the pair search finds (witnesses, warm starts, and the floor every
    solver claim is checked against)."""
    known_all: list[list[np.ndarray]] = [[x0] for x0 in Xn]
    if not cfg.attack or not len(Xn):
        return known_all
    found = local_search(spec.torch_logit(), Xn, domain, met, cfg.eps, seed=cfg.seed)
    for known, x0, xh, xl in zip(known_all, Xn, *found, strict=True):
        for xc in (xh, xl):
            pair = repair_pair(domain, met, cfg.eps, x0, xc)
            if pair is not None:
                known.append(pair[1])
    return known_all


def _rows_task(args: tuple) -> tuple[list[list[np.ndarray]], list[tuple]]:
    """A worker's task: the pair search (:func:`_known_points`) on a chunk of rows, then
    each row's proven logit range (:func:`_milp_range`) and the seconds it took."""
    spec, domain, met, Xc, cfg, opts = args
    known = _known_points(spec, domain, met, Xc, cfg)
    out = []
    for x0, kn in zip(Xc, known, strict=True):
        t0 = time.perf_counter()
        out.append((*_milp_range(spec, domain, met, x0, cfg, opts, kn), time.perf_counter() - t0))
    return known, out


def _solve_rows(
    pool: LeafPool,
    spec: NetSpec,
    domain: Domain,
    met: SimilarityMetric,
    Xn: np.ndarray,
    cfg: CertifyConfig,
    opts: EncodeOptions,
    todo: np.ndarray,
) -> tuple[list[list[np.ndarray]], dict[int, tuple]]:
    """The real points known in each ball (its centre, and the pair search's for the rows
    ``todo``) and the proven logit range of each row ``todo``, in chunks of
    :data:`ROWS_PER_TASK` rows on the ``pool``'s workers
    (:class:`~fairnn.certify.leaves.LeafPool`): the pair search runs there too, so it is
    shared out with the MILPs. The chunks do not depend on the number of workers, so
    neither do the certificates."""
    from tqdm.auto import tqdm

    known_all: list[list[np.ndarray]] = [[x0] for x0 in Xn]
    out: dict[int, tuple] = {}
    rows = np.flatnonzero(todo)
    chunks = [rows[k : k + ROWS_PER_TASK] for k in range(0, rows.size, ROWS_PER_TASK)]
    show = cfg.progress and sys.stderr.isatty()
    with tqdm(total=rows.size, desc="certify", unit="pt", disable=not show, leave=False) as bar:
        tasks = [(spec, domain, met, Xn[c], cfg, opts) for c in chunks]
        for c, (known, res) in zip(chunks, pool.imap(_rows_task, tasks), strict=True):
            for i, kn, r in zip(c, known, res, strict=True):
                known_all[int(i)] = kn
                out[int(i)] = r
            bar.update(len(c))
    return known_all, out


def certify_local(
    model: Any,
    X: Any,
    features: Any = None,
    *,
    config: CertifyConfig | None = None,
    data: TabularData | None = None,
    **settings: Any,
) -> LocalCertificates:
    """Local certificates: for each row ``x0`` of ``X``, ``max |f(x0) - f(x)|`` over the
    domain points ``x`` with ``d(x0, x) ≤ ε``.

    Because ``f`` is monotone in the logit, δ comes from the extremes of ``z``
    over the ball: exact for ReLU networks (MILP), proven per point within
    ``time_limit`` seconds. Points where the network is affine on the ball
    (weighted ℓ∞) are solved in closed form, vectorised. The domain box is
    widened to contain each ``x0`` (a test point may lie outside the training
    range); the discrete structure of ``x0`` must be valid. The settings come as a
    :class:`CertifyConfig` and/or keyword arguments.
    """
    t0 = time.perf_counter()
    cfg = CertifyConfig.of(config, settings).resolve("local")
    if isinstance(X, TabularData):
        if data is None:
            data = X
        X = X.X
    Xn = _rows(X)
    net, domain, met = prepare(
        model,
        features,
        metric=cfg.metric,
        weights=cfg.weights,
        data=data,
        output=cfg.output,
        integers=cfg.integers,
    )
    domain, Xn = _check_rows(domain, Xn)
    spec = net.spec
    head = activation(spec.head)
    scale = abs(spec.head_scale)
    f0 = net.f(Xn)
    z0 = spec.logit(Xn)
    ok = np.zeros(len(Xn), dtype=bool)
    closed_form = met.is_diagonal and met.norm == "linf"
    if cfg.fast and closed_form and activation(spec.activation).piecewise_linear:
        ok, zmax, zmin, XM, Xm = affine_extremes(net, domain, met, cfg.eps, Xn)
    opts = EncodeOptions(bounds=cfg.bounds, threads=cfg.threads)
    with LeafPool(cfg.workers, cfg.backend, cfg.scheduler) as pool:
        known_all, ranges = _solve_rows(pool, spec, domain, met, Xn, cfg, opts, ~ok)
    certs: list[Certificate] = []
    for i in range(len(Xn)):
        ti = time.perf_counter()
        x0 = Xn[i]
        status = "optimal"
        size: dict[str, Any] = {}
        reasons: list[str] = []
        known = known_all[i]
        if ok[i]:
            z_hi, z_lo = float(zmax[i]), float(zmin[i])
            cand = [XM[i], Xm[i]]
            z_hi_b, z_lo_b = pad_up(z_hi), pad_down(z_lo)
            how = "affine"
        else:
            z_lo_b, z_hi_b, cand, status, size, reasons, solve_s = ranges[i]
            ti -= solve_s  # the time its range took (in a worker, or here)
            how = "milp"
        # δ upper from the proven logit range (the head is monotone)
        g = head.value
        up_hi = scale * (g(np.array([z_hi_b]))[0] - g(np.array([z0[i]]))[0])
        up_lo = scale * (g(np.array([z0[i]]))[0] - g(np.array([z_lo_b]))[0])
        upper = pad_up(max(up_hi, up_lo, 0.0))
        best_v, best_x = 0.0, x0.copy()
        for xc in [*cand, *known[1:]]:
            pair = repair_pair(domain, met, cfg.eps, x0, xc)
            if pair is None:
                continue
            v = abs(float(net.f(pair[1][None])[0]) - float(f0[i]))
            if v > best_v:
                best_v, best_x = v, pair[1]
        if upper < best_v:
            # the proven range misses a real point: a bug; no bound is claimed
            reasons.append(
                f"the proven bound {upper:.9g} is below a real point ({best_v:.9g}); please "
                "report this as a bug"
            )
            upper, status = math.inf, "unverified"
        details: dict[str, Any] = {
            "method": how,
            "z0": float(z0[i]),
            "z_range": [float(z_lo_b), float(z_hi_b)],
        }
        if reasons:
            details["reason" if status == "unverified" else "refuted"] = "; ".join(reasons)
        certs.append(
            Certificate(
                property="local",
                metric=met.to_dict(),
                epsilon=float(cfg.eps),
                delta_upper=float(upper),
                delta_lower=float(best_v),
                witness=[x0.tolist(), best_x.tolist()],
                status=status,
                gap=rel_gap(upper, best_v),
                time_s=time.perf_counter() - ti,
                model_size={**spec.to_dict(), **size},
                solver="closed-form" if how == "affine" else cfg.solver,
                output=net.output,
                details=details,
            )
        )
    return LocalCertificates(certs, float(cfg.eps), met.to_dict(), time.perf_counter() - t0)
