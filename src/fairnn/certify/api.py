"""``certify_global`` and ``certify_local``: ε-δ individual-fairness certificates.

Both take a model (a saved or fitted fairnn model, a :class:`~fairnn.nn.MLP`, a
user's ``nn.Sequential``, or a module with ``certify_spec()``), the feature
metadata (from the model, a :class:`~fairnn.datasets.core.TabularData`, a
:class:`~fairnn.datasets.core.FeatureMeta` or a ready
:class:`~fairnn.certify.domain.Domain`), a metric and ε, and return
:class:`~fairnn.certify.certificate.Certificate` objects.

The pipeline: bound propagation and LP tightening (:mod:`.bounds`), the MILP
(:mod:`.encoding`), a solver with a time limit (:mod:`.solvers`), then the
witness: the solver's incumbent is snapped onto the domain (binary and one-hot
columns rounded, integers put on their grid), pulled back inside the ε-ball if
rounding pushed it out, and evaluated on the real network; a gradient attack
(:mod:`.attack`) supplies candidate pairs too. ``delta_lower`` is the largest
real value among the candidates that pass an exact check, and ``delta_upper``
the smallest proven bound. With a sigmoid or tanh head, the piecewise-linear
envelope is refined around the witness's logits and the problem solved again
while the gap is above ``target_gap`` and time remains; every round's bound is
sound, so the smallest is reported.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from fairnn.certify.attack import search_pairs
from fairnn.certify.certificate import Certificate, LocalCertificates, rel_gap
from fairnn.certify.domain import Domain
from fairnn.certify.encoding import EncodeOptions, Encoding, encode, rehead
from fairnn.certify.metrics import SimilarityMetric, make_metric
from fairnn.certify.network import CertNet, activate, as_network
from fairnn.certify.solvers import SolveResult, pad_up, solve
from fairnn.datasets.core import FeatureMeta, TabularData
from fairnn.errors import ConfigError, InvalidValueError
from fairnn.validation import check_number

log = logging.getLogger(__name__)


# -- inputs ---------------------------------------------------------------------------------
def check_budget(eps: float, time_limit: float) -> None:
    """Refuse a radius that is not a finite number >= 0 and a time limit that is not > 0."""
    check_number(eps, "eps", ge=0, error=InvalidValueError)
    check_number(time_limit, "time_limit", gt=0, hint="seconds")


def _features_of(model: Any, features: Any) -> FeatureMeta | Domain:
    if features is None:
        features = getattr(model, "features", None)
    if isinstance(features, TabularData):
        features = features.features
    if not isinstance(features, FeatureMeta | Domain):
        raise InvalidValueError(
            "certification needs the input domain: pass features= (a FeatureMeta, a TabularData "
            "or a Domain) or a fairnn model that carries its feature metadata"
        )
    return features


def prepare(
    model: Any,
    features: Any = None,
    *,
    metric: str | SimilarityMetric = "linf",
    weights: Any = None,
    data: TabularData | None = None,
    output: str | None = None,
    integers: str = "exact",
) -> tuple[CertNet, Domain, SimilarityMetric]:
    """The network, domain and metric a certificate is computed for."""
    task = getattr(model, "task", None)
    if task is None and isinstance(features, TabularData):
        task = features.task
    if task is None and data is not None:
        task = data.task
    net = as_network(model, task=task, output=output)
    feats = _features_of(model, features if features is not None else data)
    if isinstance(feats, Domain):
        domain = feats
        meta = None
    else:
        meta = feats
        domain = Domain.from_features(meta, integers)  # type: ignore[arg-type]
    if isinstance(metric, SimilarityMetric):
        met = metric
    else:
        if meta is None:
            if metric in ("linf", "l1", "l2"):
                from fairnn.certify.metrics import weighted_metric

                met = weighted_metric(metric, domain.dim, weights)  # type: ignore[arg-type]
            else:
                raise ConfigError(f"metric {metric!r} needs feature metadata; pass a FeatureMeta")
        else:
            met = make_metric(metric, meta, weights=weights, data=data)
    if net.spec.in_features != domain.dim:
        raise InvalidValueError(
            f"the network takes {net.spec.in_features} inputs but there are {domain.dim} features"
        )
    return net, domain, met


# -- witnesses ----------------------------------------------------------------------------
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


def _feasible(domain: Domain, metric: SimilarityMetric, eps: float, a, b) -> bool:
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    ok = bool(domain.contains(a2)[0] and domain.contains(b2)[0])
    ok = ok and bool(metric.distance(a2, b2)[0] <= eps)
    return ok and bool(np.all(a2[0, domain.equal] == b2[0, domain.equal]))


class _Best:
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


def _torch_f(net: CertNet):
    spec = net.spec
    Ws = [torch.as_tensor(W) for W in spec.weights]
    bs = [torch.as_tensor(b) for b in spec.biases]
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[spec.activation]
    head = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda t: t}[spec.head]

    def f(x: torch.Tensor) -> torch.Tensor:
        h = x
        for W, b in zip(Ws[:-1], bs[:-1], strict=True):
            h = act(h @ W.T + b)
        return spec.head_offset + spec.head_scale * head((h @ Ws[-1].T + bs[-1])[:, 0])

    return f


def _fine_points(kind: str, zs: np.ndarray, target_gap: float, value: float) -> list[float]:
    """Breakpoints around the logits ``zs`` fine enough that the envelope error there is a
    small part of ``target_gap · value`` (chord/tangent error ≈ |g''| h² / 8 per side)."""
    lo, hi = float(np.min(zs)), float(np.max(zs))
    width = max(hi - lo, 1e-3)
    budget = max(target_gap * value / 8.0, 1e-9)
    h = math.sqrt(8.0 * budget / 0.1)  # |σ''| <= 0.097, |tanh''| <= 0.77 (scaled below)
    if kind == "tanh":
        h /= math.sqrt(8.0)
    h = min(max(h, width / 64), 0.25)
    a, b = lo - 2 * width - 4 * h, hi + 2 * width + 4 * h
    n = int(min(max(math.ceil((b - a) / h), 2), 96))
    return np.linspace(a, b, n + 1).tolist()


def _refine_points(grid: np.ndarray, zs: list[float]) -> list[float]:
    """Extra breakpoints: each solution logit, and its segment and neighbours subdivided."""
    out: list[float] = []
    K = grid.size - 1
    for z in zs:
        k = int(np.clip(np.searchsorted(grid, z, side="right") - 1, 0, K - 1))
        for kk, n in ((k - 1, 4), (k, 16), (k + 1, 4)):
            if 0 <= kk < K:
                out.extend(np.linspace(grid[kk], grid[kk + 1], n + 1)[1:-1].tolist())
        out.append(float(z))
    return out


# -- global ---------------------------------------------------------------------------------
def certify_global(
    model: Any,
    features: Any = None,
    *,
    eps: float,
    metric: str | SimilarityMetric = "linf",
    weights: Any = None,
    data: TabularData | None = None,
    output: str | None = None,
    solver: str = "highs",
    time_limit: float = 60.0,
    target_gap: float = 5e-3,
    M: int = 16,
    bounds: str = "lp",
    integers: str = "exact",
    refine_rounds: int = 4,
    attack: bool = True,
    options: EncodeOptions | None = None,
    threads: int | None = None,
    seed: int = 0,
    use_propagated_bound: bool = True,
) -> Certificate:
    """Certify ``max |f(x') - f(x'')|`` over all pairs of the input domain within ε.

    Returns a :class:`Certificate` whose ``delta_upper`` is proven and whose
    ``delta_lower`` is attained by the real network at ``witness``. ``data`` (a
    :class:`TabularData`) seeds the attack and, for ``metric="mahalanobis"``
    without a matrix, trains Benussi's sensitive-subspace probe.
    """
    t0 = time.perf_counter()
    check_budget(eps, time_limit)
    net, domain, met = prepare(
        model, features, metric=metric, weights=weights, data=data, output=output, integers=integers
    )
    spec = net.spec
    scale = abs(spec.head_scale)
    opts = options or EncodeOptions(bounds=bounds, M=M, hidden_M=M, threads=threads)
    if opts.bounds_time_limit is None:
        # at most half of the time on LP-tightening neuron bounds, the rest for the MILP
        opts = replace(opts, bounds_time_limit=0.5 * time_limit)
    best = _Best()
    # a pair with x' = x'' is always feasible: δ_lower >= 0 with a witness
    x_any = domain.sample(1, np.random.default_rng(seed))[0]
    best.offer(net, x_any, x_any.copy())
    if attack:
        pts = None if data is None else data.X.detach().cpu().numpy().astype(np.float64)
        found = search_pairs(
            _torch_f(net),
            domain,
            met,
            eps,
            points=pts,
            seed=seed,
            repair=lambda a, b: repair_pair(domain, met, eps, a, b),
        )
        if found is not None and _feasible(domain, met, eps, *found):
            best.offer(net, *found)
    t_attack = time.perf_counter() - t0
    if spec.head != "identity" and best.pair is not None and best.value > 0:
        # a fine head grid around the incumbent's logits from the start
        zi = spec.logit(np.vstack(best.pair))
        opts = replace(
            opts,
            head_extra=(tuple(_fine_points(spec.head, zi, target_gap, best.value / scale)), ()),
        )
    enc: Encoding = encode(spec, domain, met, eps, options=opts)
    relax = scale * enc.relaxation_bound()
    # the propagated bound is fairnn's (relational bounds); the published encoding has none
    upper = relax if use_propagated_bound else math.inf
    result: SolveResult | None = None
    rounds = 0
    solve_s = 0.0
    nodes = 0
    statuses: list[str] = []
    trace: list[tuple] = []
    status = "bound_only"  # until a solver proves a bound below the propagated one
    cur = enc
    while True:
        remaining = time_limit - (time.perf_counter() - t0) - 0.3  # room to finish
        if remaining <= 0.05:
            break
        start = None
        if best.pair is not None:
            start = cur.assignment(list(best.pair))
        result = solve(
            cur.model,
            solver=solver,
            time_limit=remaining,
            start=start,
            threads=threads,
            seed=seed,
            mip_rel_gap=target_gap / 2,
        )
        rounds += 1
        solve_s += result.time_s
        nodes += result.nodes
        statuses.append(result.status)
        if result.bound is not None and scale * result.bound <= upper:
            upper = scale * result.bound
            status = result.status
        if result.x is not None:
            pair = repair_pair(domain, met, eps, result.x[cur.x[0]], result.x[cur.x[1]])
            if pair is not None:
                best.offer(net, *pair)
        gap = rel_gap(upper, best.value)
        trace.append(
            (
                round(upper, 6),
                round(best.value, 6),
                None if result.bound is None else round(scale * result.bound, 6),
                round(result.time_s, 2),
            )
        )
        if (
            spec.head == "identity"
            or gap <= target_gap
            or rounds > refine_rounds
            or result.x is None
            or result.status != "optimal"
        ):
            break
        zs = [float(result.x[cur.z[0]]), float(result.x[cur.z[1]])]
        extra = _refine_points(cur.head_grid, zs) + list(opts.head_extra[0])
        opts = replace(opts, head_extra=(tuple(sorted(set(extra))), ()))
        cur = rehead(enc, opts)
    if not math.isfinite(upper):
        upper = relax  # no solver bound: the propagated one is still proven
    lower = best.value
    if upper < lower:
        # the proven bound must dominate any real value; a violation means a bug
        raise AssertionError(
            f"certificate bound {upper} is below the real witness value {lower}: unsound encoding"
        )
    witness = None if best.pair is None else [best.pair[0].tolist(), best.pair[1].tolist()]
    size = {**spec.to_dict(), **enc.size(), "domain": domain.to_dict()}
    return Certificate(
        property="global",
        metric=met.to_dict(),
        epsilon=float(eps),
        delta_upper=float(upper),
        delta_lower=float(lower),
        witness=witness,
        status=status,
        gap=rel_gap(upper, lower),
        time_s=time.perf_counter() - t0,
        model_size=size,
        solver=solver,
        output=net.output,
        solver_gap=None if result is None else result.gap,
        details={
            "relaxation_bound": float(relax),
            "bounds_s": enc.bounds_s,
            "build_s": enc.build_s,
            "attack_s": t_attack,
            "solve_s": solve_s,
            "nodes": nodes,
            "rounds": rounds,
            "statuses": statuses,
            "trace": trace,
            "metric_outer_factor": met.outer_factor(opts.l2_levels, opts.l2_encoding),
            "z_bounds": list(enc.z_bounds),
            "dz_bounds": None if enc.dz_bounds is None else list(enc.dz_bounds),
            "bounds": opts.bounds,
            "M": opts.M,
        },
    )


# -- local ---------------------------------------------------------------------------------
def _fast_affine(net: CertNet, domain: Domain, met: SimilarityMetric, eps: float, X: np.ndarray):
    """Exact local extremes of z where the network is affine on the ε-box (weighted ℓ∞).

    Interval bounds over the box ``x0 ± r`` (∩ domain) show which points keep
    every ReLU stable; there ``z(x) = c·x + d`` on the whole box, and the maximum
    and minimum of a linear function over the box (with its discrete columns) is
    attained coordinate by coordinate (one-hot blocks: the best category).
    Returns ``(ok, zmax, zmin, xmax, xmin)``.
    """
    from fairnn.certify import bounds as B
    from fairnn.certify.encoding import _Builder

    spec = net.spec
    n, d = X.shape
    b = _Builder(spec, domain, met, eps, X[0], EncodeOptions(bounds="interval"))
    dlo, dhi = b._delta_box()
    lo = np.maximum(domain.lower, X + dlo)
    hi = np.minimum(domain.upper, X + dhi)
    lo, hi = np.minimum(lo, X), np.maximum(hi, X)
    # discrete columns move only by whole steps that fit in the ball: integers by
    # ⌊r/step⌋ steps, binaries and one-hot categories only when the radius covers a flip
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
    ok = np.ones(n, dtype=bool)
    Lb, Ub = lo.T, hi.T  # (d, n)
    C = None
    for li, (W, bias) in enumerate(zip(spec.weights, spec.biases, strict=True)):
        Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
        L = Wp @ Lb + Wn @ Ub + bias[:, None]
        U = Wp @ Ub + Wn @ Lb + bias[:, None]
        if li == len(spec.weights) - 1:
            break
        if spec.activation != "relu":
            ok[:] = False
            break
        ok &= np.all((L >= 0) | (U <= 0), axis=0)
        Lb, Ub = np.maximum(L, 0), np.maximum(U, 0)
    del B
    if not ok.any():
        return ok, None, None, None, None
    # the linear map of each stable point: product of masked weights
    idx = np.flatnonzero(ok)
    X0 = X[idx]
    h = X0.T
    C = np.repeat(np.eye(d)[None], idx.size, 0)  # (m, d_cur, d)
    for W, bias in zip(spec.weights[:-1], spec.biases[:-1], strict=True):
        phi = W @ h + bias[:, None]
        act = (phi > 0).astype(np.float64)  # stable, so the sign at x0 is the sign everywhere
        C = act.T[:, :, None] * np.einsum("ij,mjk->mik", W, C)
        h = np.maximum(phi, 0)
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


def certify_local(
    model: Any,
    X: Any,
    features: Any = None,
    *,
    eps: float,
    metric: str | SimilarityMetric = "linf",
    weights: Any = None,
    data: TabularData | None = None,
    output: str | None = None,
    solver: str = "highs",
    time_limit: float = 10.0,
    bounds: str = "interval",
    integers: str = "exact",
    progress: bool = True,
    fast: bool = True,
    threads: int | None = None,
) -> LocalCertificates:
    """Local certificates: for each row ``x0`` of ``X``, ``max |f(x0) - f(x)|`` over the
    domain points ``x`` with ``d(x0, x) ≤ ε``.

    Because ``f`` is monotone in the logit, δ comes from the extremes of ``z``
    over the ball: exact for ReLU networks (MILP), proven per point within
    ``time_limit`` seconds. Points where the network is affine on the ball
    (weighted ℓ∞) are solved in closed form, vectorised. The domain box is
    widened to contain each ``x0`` (a test point may lie outside the training
    range); the discrete structure of ``x0`` must be valid.
    """
    t0 = time.perf_counter()
    check_budget(eps, time_limit)
    if isinstance(X, TabularData):
        if data is None:
            data = X
        X = X.X
    Xn = np.atleast_2d(
        np.asarray(X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X, dtype=np.float64)
    )
    net, domain, met = prepare(
        model, features, metric=metric, weights=weights, data=data, output=output, integers=integers
    )
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
    Xn = domain.project(Xn)  # snap float32 rows onto the integer grid (|change| <= 1e-5)
    spec = net.spec
    scale = abs(spec.head_scale)
    f0 = net.f(Xn)
    z0 = spec.logit(Xn)
    ok = np.zeros(len(Xn), dtype=bool)
    if fast and met.is_diagonal and met.norm == "linf" and spec.activation == "relu":
        ok, zmax, zmin, XM, Xm = _fast_affine(net, domain, met, eps, Xn)
    opts = EncodeOptions(bounds=bounds, threads=threads)
    certs: list[Certificate] = []
    show = progress and sys.stderr.isatty()
    from tqdm.auto import tqdm

    for i in tqdm(range(len(Xn)), desc="certify", unit="pt", disable=not show, leave=False):
        ti = time.perf_counter()
        x0 = Xn[i]
        status = "optimal"
        size: dict[str, Any] = {}
        if ok[i]:
            z_hi, z_lo = float(zmax[i]), float(zmin[i])
            cand = [XM[i], Xm[i]]
            z_hi_b, z_lo_b = pad_up(z_hi), -pad_up(-z_lo)
            how = "affine"
        else:
            enc = encode(spec, domain, met, eps, x0=x0, options=opts)
            z = enc.z[0]
            enc.model.set_objective([z], [1.0])
            # local problems are small: close the gap fully (it is also faster than 1e-4 here)
            r_max = solve(
                enc.model,
                solver=solver,
                time_limit=time_limit / 2,
                threads=threads,
                mip_rel_gap=1e-7,
            )
            enc.model.set_objective([z], [-1.0])
            r_min = solve(
                enc.model,
                solver=solver,
                time_limit=time_limit / 2,
                threads=threads,
                mip_rel_gap=1e-7,
            )
            z_hi_b = r_max.bound if r_max.bound is not None else enc.z_bounds[1]
            z_lo_b = -r_min.bound if r_min.bound is not None else enc.z_bounds[0]
            z_hi_b = min(z_hi_b, enc.z_bounds[1])
            z_lo_b = max(z_lo_b, enc.z_bounds[0])
            cand = [r.x[enc.x[0]] for r in (r_max, r_min) if r.x is not None]
            status = "optimal" if r_max.status == r_min.status == "optimal" else "time_limit"
            size = enc.size()
            how = "milp"
        # δ upper from the proven logit range (the head is monotone)
        up_hi = scale * (
            activate(spec.head, np.array([z_hi_b]))[0] - activate(spec.head, np.array([z0[i]]))[0]
        )
        up_lo = scale * (
            activate(spec.head, np.array([z0[i]]))[0] - activate(spec.head, np.array([z_lo_b]))[0]
        )
        upper = pad_up(max(up_hi, up_lo, 0.0))
        best_v, best_x = 0.0, x0.copy()
        for xc in cand:
            pair = repair_pair(domain, met, eps, x0, xc)
            if pair is None:
                continue
            v = abs(float(net.f(pair[1][None])[0]) - float(f0[i]))
            if v > best_v:
                best_v, best_x = v, pair[1]
        if upper < best_v:
            raise AssertionError(f"local bound {upper} below the real witness value {best_v}")
        certs.append(
            Certificate(
                property="local",
                metric=met.to_dict(),
                epsilon=float(eps),
                delta_upper=float(upper),
                delta_lower=float(best_v),
                witness=[x0.tolist(), best_x.tolist()],
                status=status,
                gap=rel_gap(upper, best_v),
                time_s=time.perf_counter() - ti,
                model_size={**spec.to_dict(), **size},
                solver="closed-form" if how == "affine" else solver,
                output=net.output,
                details={
                    "method": how,
                    "z0": float(z0[i]),
                    "z_range": [float(z_lo_b), float(z_hi_b)],
                },
            )
        )
    return LocalCertificates(certs, float(eps), met.to_dict(), time.perf_counter() - t0)


def certify_model(
    model: Any,
    *,
    eps: float,
    metric: str = "linf",
    weights: Any = None,
    local: int = 0,
    train: TabularData | None = None,
    rows: TabularData | None = None,
    solver: str = "highs",
    time_limit: float = 60.0,
    output: str | None = None,
    integers: str = "exact",
    progress: bool = True,
) -> dict[str, Any]:
    """What ``fairnn certify`` prints, as a JSON-ready dict (``text`` holds the summary).

    ``train`` (the model's training split) seeds the attack, trains the
    Mahalanobis probe and derives ``weights="rank"``; ``rows`` supplies the first
    ``local`` points for local certificates (0: one global certificate).
    """
    check_number(local, "local", integer=True, ge=0, hint="rows to certify; 0: the whole domain")
    check_budget(eps, time_limit)
    common: dict[str, Any] = dict(
        eps=eps,
        metric=metric,
        weights=weights,
        data=train,
        output=output,
        solver=solver,
        time_limit=time_limit,
        integers=integers,
    )
    if local > 0:
        if rows is None:
            raise ConfigError(
                "--local needs the model's data (the model file names none); certify globally "
                "or use the Python API with your rows"
            )
        n = min(local, len(rows))
        res = certify_local(
            model,
            rows.X[:n],
            getattr(model, "features", None) or rows,
            progress=progress,
            **common,
        )
        out = res.to_dict()
        s = res.summary_dict()
        out["text"] = (
            f"local ε-δ-IF around {s['points']} rows, metric {metric}, ε = {eps:g}\n"
            f"  δ upper (proven): max {s['delta_upper_max']:.6g}, mean {s['delta_upper_mean']:.6g}\n"
            f"  δ lower (real network at witnesses): max {s['delta_lower_max']:.6g}\n"
            f"  exact (gap 0): {s['exact']} of {s['points']}; {s['time_s']:.2f}s "
            f"({s['per_second']:.1f} points/s)"
        )
        return out
    cert = certify_global(model, **common)
    out = cert.to_dict()
    out["text"] = cert.summary()
    return out
