"""``certify_global``: a proven bound on ``max |f(x') - f(x'')|`` over all pairs within ε.

The pipeline: bound propagation and LP tightening (:mod:`.bounds`), the MILP
(:mod:`.encoding`), a solver with a time limit (:mod:`.solvers`) whose claim is checked
against every real pair known and cross-checked if refuted (:mod:`.verify`), then the
witness: the solver's incumbent is snapped onto the domain and into the ε-ball
(:mod:`.witness`) and evaluated on the real network; a gradient attack
(:mod:`.attack`) supplies candidate pairs too. ``delta_lower`` is the largest real
value among the candidates that pass an exact check, and ``delta_upper`` the smallest
proven bound. With a sigmoid or tanh head, the piecewise-linear envelope is refined
around the witness's logits and the problem solved again while the gap is above
``target_gap`` and time remains; every round's bound is sound, so the smallest is
reported. A solver bound below a real pair found later is dropped; when no solver bound
stands after a refuted claim, the propagated bound is reported with status
``unverified`` and the reason.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from fairnn.certify.attack import search_pairs
from fairnn.certify.bounds import delta_box
from fairnn.certify.certificate import Certificate, rel_gap
from fairnn.certify.config import CertifyConfig
from fairnn.certify.domain import Domain
from fairnn.certify.encoding import EncodeOptions, Encoding, encode, rehead
from fairnn.certify.metrics import SimilarityMetric
from fairnn.certify.network import CertNet
from fairnn.certify.ops import Activation, SShaped, activation
from fairnn.certify.parts import pair_parts
from fairnn.certify.problem import prepare
from fairnn.certify.progress import anytime
from fairnn.certify.relu_split import SplitResult, split_parts
from fairnn.certify.solvers import SolveResult, SolveWatch
from fairnn.certify.symbolic import pair_bounds
from fairnn.certify.verify import checked_solve
from fairnn.certify.witness import BestPair, feasible, polish_witness, repair_pair
from fairnn.datasets.core import TabularData

__all__ = ["SPLIT_SHARE", "WHOLE_SHARE", "certify_global"]

#: with parts, the share of the time the whole problem's MILP gets first
WHOLE_SHARE = 0.5
#: the share of the parts' time spent splitting ReLU phases before their MILPs
SPLIT_SHARE = 0.5


def _fine_points(head: SShaped, zs: np.ndarray, target_gap: float, value: float) -> list[float]:
    """Breakpoints around the logits ``zs`` fine enough that the envelope error there is a
    small part of ``target_gap · value`` (chord/tangent error ≈ |g''| h² / 8 per side)."""
    lo, hi = float(np.min(zs)), float(np.max(zs))
    width = max(hi - lo, 1e-3)
    budget = max(target_gap * value / 8.0, 1e-9)
    h = head.fine_step(budget)
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


def _incumbent(
    net: CertNet,
    domain: Domain,
    met: SimilarityMetric,
    cfg: CertifyConfig,
    data: TabularData | None,
) -> BestPair:
    """The best pair before any MILP: ``x' = x''`` (always feasible: δ_lower >= 0 with a
    witness), then the pair search's."""
    best = BestPair()
    x_any = domain.sample(1, np.random.default_rng(cfg.seed))[0]
    best.offer(net, x_any, x_any.copy())
    if cfg.attack:
        pts = None if data is None else data.X.detach().cpu().numpy().astype(np.float64)
        found = search_pairs(
            net.spec.torch_function(),
            domain,
            met,
            cfg.eps,
            points=pts,
            seed=cfg.seed,
            repair=lambda a, b: repair_pair(domain, met, cfg.eps, a, b),
        )
        if found is not None and feasible(domain, met, cfg.eps, *found):
            best.offer(net, *found)
    return best


@dataclass
class _Rounds:
    """What the solve-and-refine rounds proved and spent."""

    upper: float
    status: str = "bound_only"  # until a solver proves a bound below the propagated one
    result: SolveResult | None = None
    count: int = 0
    solve_s: float = 0.0
    nodes: int = 0
    statuses: list[str] = field(default_factory=list)
    trace: list[tuple] = field(default_factory=list)
    #: accepted solver bounds (scaled) with their status, in order
    accepted: list[tuple[float, str]] = field(default_factory=list)
    #: why solver claims were refuted (:mod:`.verify`), and cross-checks that replaced them
    refuted: list[str] = field(default_factory=list)
    cross_checked: list[str] = field(default_factory=list)

    def add(self, other: _Rounds) -> None:
        """Count ``other``'s solves, time, nodes and messages in these (bounds aside)."""
        self.count += other.count
        self.solve_s += other.solve_s
        self.nodes += other.nodes
        self.statuses += other.statuses
        self.trace += other.trace
        self.refuted += other.refuted
        self.cross_checked += other.cross_checked
        self.result = other.result if self.result is None else self.result


def _solve_rounds(
    enc: Encoding,
    opts: EncodeOptions,
    cfg: CertifyConfig,
    problem: tuple[CertNet, Domain, SimilarityMetric],
    best: BestPair,
    upper: float,
    t0: float,
    stop: threading.Event,
) -> _Rounds:
    """Solve, check the claim (:func:`.verify.checked_solve`), take the incumbent as a
    witness, refine the head grid around it, repeat while the gap is above ``target_gap``,
    rounds and time remain and the head is not linear."""
    net, domain, met = problem
    spec = net.spec
    head: Activation = activation(spec.head)
    scale = abs(spec.head_scale)
    out = _Rounds(upper)
    cur = enc
    deadline = t0 + cfg.time_limit
    # the first solve always runs: on a loaded machine the bound tightening and the pair
    # search can use up a short limit, and a certificate without a single solve is no use
    first_floor = min(max(0.1 * cfg.time_limit, 1.0), cfg.time_limit)
    while not (stop.is_set() and out.count):  # Ctrl-C: finish with what is proven
        remaining = deadline - time.perf_counter() - 0.3  # room to finish
        if out.count == 0 and remaining < first_floor:
            remaining = first_floor
            deadline = time.perf_counter() + first_floor + 0.3
        if remaining <= 0.05:
            break
        start = None
        points = []
        if best.pair is not None:
            start = cur.assignment(list(best.pair))
            points.append(start)
        checked = checked_solve(
            cur.model,
            points,
            solver=cfg.solver,
            time_limit=remaining,
            deadline=deadline - 0.3,
            cross_check=cfg.cross_check,
            start=start,
            threads=cfg.threads,
            seed=cfg.seed,
            mip_rel_gap=cfg.target_gap / 2,
        )
        result = checked.result
        out.result = result
        out.count += 1
        for r in checked.tried:
            out.solve_s += r.time_s
            out.nodes += r.nodes
            out.statuses.append(r.status)
            if r.x is not None:
                pair = repair_pair(domain, met, cfg.eps, r.x[cur.x[0]], r.x[cur.x[1]])
                if pair is not None:
                    best.offer(net, *pair)
        if checked.reason is not None:
            out.refuted.append(checked.reason)
        elif len(checked.tried) > 1:
            out.cross_checked.append(result.message)
        if result.bound is not None:
            bound = scale * result.bound
            out.accepted.append((bound, result.status))
            if bound <= out.upper:
                out.upper = bound
                out.status = result.status
        gap = rel_gap(out.upper, best.value)
        out.trace.append(
            (
                round(out.upper, 6),
                round(best.value, 6),
                None if result.bound is None else round(scale * result.bound, 6),
                round(result.time_s, 2),
            )
        )
        if (
            head.linear
            or checked.reason is not None
            or gap <= cfg.target_gap
            or out.count > cfg.refine_rounds
            or result.x is None
            or result.status != "optimal"
        ):
            break
        zs = [float(result.x[cur.z[0]]), float(result.x[cur.z[1]])]
        extra = _refine_points(cur.head_grid, zs) + list(opts.head_extra[0])
        opts = replace(opts, head_extra=(tuple(sorted(set(extra))), ()))
        cur = rehead(enc, opts)
    return out


def _settle(
    rounds: _Rounds, start: float, relax: float, lower: float
) -> tuple[float, str, str | None]:
    """The reported bound, status and (for ``unverified``) the reason.

    A solver bound stands only if no real pair found since exceeds it; when none stands
    and a claim was refuted, the propagated bound (proven by fairnn itself) is reported
    with status ``unverified``. Should even that be below a real pair (a bug), no bound is
    reported (``inf``).
    """
    standing = [(b, st) for b, st in rounds.accepted if b >= lower]
    for b, _ in rounds.accepted:
        if b < lower:
            rounds.refuted.append(
                f"the solver bound {b:.9g} is below a real pair found later ({lower:.9g})"
            )
    upper, status = start, "bound_only"
    for b, st in standing:
        if b <= upper:
            upper, status = b, st
    reason = None
    if not math.isfinite(upper):
        upper = relax  # no solver bound: the propagated one is still proven
    if rounds.refuted and status == "bound_only":
        status, reason = "unverified", "; ".join(rounds.refuted)
    if upper < lower:
        return (
            math.inf,
            "unverified",
            f"the propagated bound {upper:.9g} is below a real pair ({lower:.9g}); please "
            "report this as a bug",
        )
    return upper, status, reason


@dataclass
class _Parts:
    """What the parts of the pair set (:mod:`.parts`) proved: a bound per part."""

    prop: np.ndarray  # the propagated (symbolic) bound of each part
    upper: np.ndarray  # the bound each part ends with (proven)
    status: list[str]  # per part: pruned, optimal, time_limit, bound_only, unverified
    reasons: list[str]
    rounds: _Rounds
    solved: int = 0  # parts whose MILP ran
    split: SplitResult | None = None  # what ReLU splitting did first

    def settle(self, lower: float) -> tuple[float, str, str | None]:
        """The reported bound, status and reason: the largest part bound; the worst status
        among the parts that could hold a pair above ``lower``."""
        upper = float(max(self.upper.max(), lower))
        live = [st for st, u in zip(self.status, self.upper, strict=True) if u > lower]
        order = ("unverified", "bound_only", "time_limit")
        status = next((st for st in order if st in live), "optimal")
        reason = "; ".join(self.reasons) if status == "unverified" else None
        if self.upper.max() < lower * (1 - 1e-9):  # impossible unless a bound is wrong
            return (
                math.inf,
                "unverified",
                (
                    f"the part bounds ({self.upper.max():.9g}) are below a real pair "
                    f"({lower:.9g}); please report this as a bug"
                ),
            )
        return upper, status, reason

    def merge_into(self, rounds: _Rounds) -> _Rounds:
        """The whole problem's rounds with the parts' solves added (their bound unchanged)."""
        rounds.add(self.rounds)
        return rounds

    def summary(self) -> dict[str, Any]:
        return {
            "pruned": int(sum(st == "pruned" for st in self.status)),
            "solved": self.solved,
            "bounds": [round(float(u), 6) for u in self.upper],
            **(
                {}
                if self.split is None
                else {
                    "split": {
                        "leaves": self.split.bounded,
                        "open": self.split.open,
                        "time_s": round(self.split.time_s, 3),
                    }
                }
            ),
        }


class _PartBest(BestPair):
    """The best real pair of one part, oriented (``f(x') ≥ f(x'')``) and inside it, so it
    satisfies the part's encoding; every pair offered also goes to the global ``best``."""

    def __init__(self, part: tuple[np.ndarray, ...], best: BestPair) -> None:
        super().__init__()
        self.part, self.best = part, best

    def offer(self, net: CertNet, a: np.ndarray, b: np.ndarray) -> None:
        self.best.offer(net, a, b)
        fa, fb = net.f(np.vstack([a, b]))
        pair = (a, b) if fa >= fb else (b, a)
        if _inside(pair, self.part):
            super().offer(net, *pair)


def _inside(pair: tuple[np.ndarray, np.ndarray], part: tuple[np.ndarray, ...]) -> bool:
    lo1, hi1, lo2, hi2 = part
    a, b = pair
    tol = 1e-9
    return bool(
        np.all(a >= lo1 - tol) and np.all(a <= hi1 + tol)
        and np.all(b >= lo2 - tol) and np.all(b <= hi2 + tol)
    )  # fmt: skip


def _parts_details(prop: np.ndarray | None, parted: _Parts | None) -> dict[str, Any]:
    """``details["parts"]``: how many parts, their largest symbolic bound, and (when the
    whole problem left a gap) what their MILPs did."""
    if prop is None:
        return {}
    out: dict[str, Any] = {"count": int(prop.size), "bound": float(prop.max())}
    return {"parts": {**out, **({} if parted is None else parted.summary())}}


def _solve_parts(
    parts: tuple[np.ndarray, ...],
    dbox: tuple[np.ndarray, np.ndarray],
    prop: np.ndarray,
    opts: EncodeOptions,
    cfg: CertifyConfig,
    problem: tuple[CertNet, Domain, SimilarityMetric],
    best: BestPair,
    t0: float,
    stop: threading.Event,
    progress: Callable[[float], None] | None = None,
) -> _Parts:
    """Settle the parts whose bound ``prop`` (proven: the part's symbolic bound, capped by
    the whole problem's) is at or below the best real pair, and solve the others' MILPs
    (:func:`_solve_rounds` on the part's ``pair_boxes``), the largest bound first, each
    with an equal share of the time left."""
    net, domain, met = problem
    spec = net.spec
    deadline = t0 + cfg.time_limit
    # ReLU splitting first (:mod:`.relu_split`): cheap, batched, and it settles parts
    split = split_parts(
        spec,
        parts,  # type: ignore[arg-type]
        *dbox,
        domain.blocks,
        prop,
        lambda: best.value,
        time.perf_counter() + SPLIT_SHARE * max(deadline - time.perf_counter(), 0.0),
        stop,
        progress=progress,
    )
    prop = split.bounds
    P = list(zip(*parts, strict=True))
    upper = prop.copy()
    status = ["time_limit"] * len(P)  # a part left unsolved keeps its (capped) bound
    reasons: list[str] = []
    agg = _Rounds(float(prop.max()))
    solved = 0
    order = [int(p) for p in np.argsort(-prop, kind="stable")]
    for k, p in enumerate(order):
        if prop[p] <= best.value:
            status[p] = "pruned"  # no pair of this part beats a real pair
            continue
        if stop.is_set():
            continue  # Ctrl-C: the part keeps its propagated bound
        left = sum(1 for q in order[k:] if prop[q] > best.value)
        remaining = deadline - time.perf_counter()
        if remaining < 0.3:
            continue  # out of time
        share = max(remaining / left, min(remaining, 0.5))
        lo1, hi1, lo2, hi2 = P[p]
        # LP tightening of the part: at most a third of its share
        popts = replace(opts, bounds_time_limit=share / 3)
        enc = encode(spec, domain, met, cfg.eps, options=popts, pair_boxes=((lo1, hi1), (lo2, hi2)))
        mine = _PartBest(P[p], best)
        if best.pair is not None:
            mine.offer(net, *best.pair)
        sub = cfg.model_copy(update={"time_limit": share})
        rounds = _solve_rounds(
            enc, popts, sub, problem, mine, float(prop[p]), time.perf_counter(), stop
        )
        upper[p], status[p], reason = _settle(rounds, float(prop[p]), float(prop[p]), mine.value)
        if reason:
            reasons.append(reason)
        agg.add(rounds)
        solved += 1
    return _Parts(prop, upper, status, reasons, agg, solved, split)


def certify_global(
    model: Any,
    features: Any = None,
    *,
    config: CertifyConfig | None = None,
    data: TabularData | None = None,
    **settings: Any,
) -> Certificate:
    """Certify ``max |f(x') - f(x'')|`` over all pairs of the input domain within ε.

    Returns a :class:`Certificate` whose ``delta_upper`` is proven and whose
    ``delta_lower`` is attained by the real network at ``witness``. The settings
    (``eps``, ``metric``, ``time_limit``, ...) come as a :class:`CertifyConfig` and/or
    keyword arguments. ``data`` (a :class:`TabularData`) seeds the attack and, for
    ``metric="mahalanobis"`` without a matrix, trains Benussi's sensitive-subspace probe.
    """
    t0 = time.perf_counter()
    cfg = CertifyConfig.of(config, settings).resolve("global")
    shown: dict[str, Any] = {"scale": 1.0, "best": None, "label": "solver bound"}

    def describe(bound: float, incumbent: float) -> str:
        best = shown["best"]
        lower = 0.0 if best is None else best.value
        label, value = shown["label"], shown["scale"] * bound
        return f"{label} {value:.6g}, witness {lower:.6g} (Ctrl-C: stop)"

    with anytime(cfg.progress, describe) as watch:
        return _certify(model, features, cfg, data, t0, watch, shown)


def _certify(
    model: Any,
    features: Any,
    cfg: CertifyConfig,
    data: TabularData | None,
    t0: float,
    watch: SolveWatch,
    shown: dict[str, Any],
) -> Certificate:
    net, domain, met = prepare(
        model,
        features,
        metric=cfg.metric,
        weights=cfg.weights,
        data=data,
        output=cfg.output,
        integers=cfg.integers,
    )
    spec = net.spec
    head = activation(spec.head)
    scale = abs(spec.head_scale)
    opts = cfg.options or EncodeOptions(
        bounds=cfg.bounds, M=cfg.M, hidden_M=cfg.M, threads=cfg.threads
    )
    if opts.bounds_time_limit is None:
        # at most half of the time on LP-tightening neuron bounds, the rest for the MILP
        opts = replace(opts, bounds_time_limit=0.5 * cfg.time_limit)
    best = _incumbent(net, domain, met, cfg, data)
    shown.update(scale=scale, best=best)
    t_attack = time.perf_counter() - t0
    if cfg.search == "branch":
        from fairnn.certify.branch import certify_branch

        shown["label"] = "proven bound"

        def progress(bound: float, witness: float) -> None:
            if watch.on_bound is not None:
                watch.on_bound(bound / scale, bound / scale)

        return certify_branch(
            net, domain, met, cfg, best, t0, watch.stop, t_attack, progress=progress
        )
    if isinstance(head, SShaped) and best.pair is not None and best.value > 0:
        # a fine head grid around the incumbent's logits from the start
        zi = spec.logit(np.vstack(best.pair))
        fine = _fine_points(head, zi, cfg.target_gap, best.value / scale)
        opts = replace(opts, head_extra=(tuple(fine), ()))
    # the pair set cut per switching category (:mod:`.parts`); not for the published
    # encoding's comparison, which has no propagated bounds
    dbox = delta_box(domain, met, cfg.eps)
    parts = pair_parts(domain, *dbox, cfg.pieces) if cfg.use_propagated_bound else None
    enc: Encoding = encode(spec, domain, met, cfg.eps, options=opts)
    relax = scale * enc.relaxation_bound()  # padded: a bound leaving propagation
    prop = None
    if parts is not None:  # each part's symbolic bound: their largest bounds every pair
        prop = pair_bounds(spec, *parts, *dbox, domain.blocks)
        prop = prop.output_bound()
        relax = min(relax, float(prop.max()))
    # the propagated bound is fairnn's (relational bounds); the published encoding has none
    upper = relax if cfg.use_propagated_bound else math.inf
    # with parts, the whole problem gets its share of the time first (small nets close there)
    whole = (
        cfg
        if parts is None
        else cfg.model_copy(update={"time_limit": WHOLE_SHARE * cfg.time_limit})
    )
    rounds = _solve_rounds(enc, opts, whole, (net, domain, met), best, upper, t0, watch.stop)
    parted: _Parts | None = None
    if parts is not None and prop is not None:
        cap, _, _ = _settle(rounds, upper, relax, best.value)
        if rel_gap(cap, best.value) > cfg.target_gap and not watch.stop.is_set():

            def split_progress(bound: float) -> None:
                # the proven bound over all parts, not a part MILP's (unscaled for the line)
                if watch.on_bound is not None:
                    shown["label"] = "proven bound"
                    watch.on_bound(bound / scale, bound / scale)
                    shown["label"] = "solver bound"

            parted = _solve_parts(
                parts,
                dbox,
                np.minimum(prop, cap),
                opts,
                cfg,
                (net, domain, met),
                best,
                t0,
                watch.stop,
                split_progress,
            )
            rounds = parted.merge_into(rounds)
    if cfg.attack:
        polish_witness(net, domain, met, cfg.eps, best)
    if parted is None and any("violates the encoding" in r for r in rounds.refuted):
        # a real pair falls outside the encoding: its (LP-tightened) bounds are suspect, so
        # the fallback is the bound of plain interval arithmetic
        plain = encode(spec, domain, met, cfg.eps, options=replace(opts, bounds="interval"))
        relax = max(relax, scale * plain.relaxation_bound())
        upper = relax if cfg.use_propagated_bound else math.inf
    lower = best.value
    upper, status, reason = _settle(rounds, upper, relax, lower)
    if parted is not None and status != "unverified":
        # every part's bound is also capped by the whole problem's: the smaller stands
        p_upper, p_status, p_reason = parted.settle(lower)
        if p_upper < upper:
            upper, status, reason = p_upper, p_status, p_reason
    witness = None if best.pair is None else [best.pair[0].tolist(), best.pair[1].tolist()]
    size = {**spec.to_dict(), **enc.size(), "domain": domain.to_dict()}
    result = rounds.result
    return Certificate(
        property="global",
        metric=met.to_dict(),
        epsilon=float(cfg.eps),
        delta_upper=float(upper),
        delta_lower=float(lower),
        witness=witness,
        status=status,
        gap=rel_gap(upper, lower),
        time_s=time.perf_counter() - t0,
        model_size=size,
        solver=cfg.solver,
        output=net.output,
        solver_gap=None if result is None else result.gap,
        details={
            "relaxation_bound": float(relax),
            "bounds_s": enc.bounds_s,
            "build_s": enc.build_s,
            "attack_s": t_attack,
            "solve_s": rounds.solve_s,
            "nodes": rounds.nodes,
            "rounds": rounds.count,
            "statuses": rounds.statuses,
            "trace": rounds.trace,
            "metric_outer_factor": met.outer_factor(opts.l2_levels, opts.l2_encoding),
            "z_bounds": list(enc.z_bounds),
            "dz_bounds": None if enc.dz_bounds is None else list(enc.dz_bounds),
            "bounds": opts.bounds,
            "M": opts.M,
            **_parts_details(prop, parted),
            **({"interrupted": True} if watch.stop.is_set() else {}),
            **({"reason": reason} if reason else {}),
            **({"refuted": rounds.refuted} if rounds.refuted else {}),
            **({"cross_checked": rounds.cross_checked} if rounds.cross_checked else {}),
        },
    )
