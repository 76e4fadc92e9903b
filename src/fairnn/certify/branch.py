"""Branch and bound over the input domain: an anytime global certificate for larger nets.

One MILP over the whole domain (:mod:`fairnn.certify.global_`) stalls on wide nets: every
neuron is unstable over the whole box. Here the domain of the first copy ``x'`` is cut
into **leaves**, sub-boxes (continuous and integer columns as intervals, binary columns
pinned or free, a one-hot block as a subset of live categories: the others pinned to 0).
For a leaf, the second copy ``x''`` lies in ``box2 = [lo1 - Δhi, hi1 - Δlo]`` within the
domain (:func:`~fairnn.certify.bounds.delta_box`); on a one-hot block that ``x''`` may
change (a protected attribute the metric ignores), a leaf also holds ``x''``'s own subset
of live categories, split like ``x'``'s. :func:`~fairnn.certify.symbolic.pair_bounds`
proves an upper bound on ``|f(x') - f(x'')|`` over the leaf's pairs, many leaves per call.
The search:

* keeps the live leaves and the pruned ones covering every pair of the domain (a split
  replaces a leaf by two that cover it), so the proven bound at any moment is
  ``max(best real pair, max over live leaves)``;
* **prunes** a leaf whose bound is at or below the best real pair (the witness): no pair
  in it can do better;
* each round takes the :data:`BATCH` live leaves with the largest bounds (a fixed number,
  whatever the number of workers, and ties broken by creation order, so the search is the
  same for any number of workers) and **splits** each: first the one-hot blocks both copies
  may change, in both copies, down to single categories (when they have at most
  :data:`MOVING_FIRST` category pairs: a split of one copy alone does not lower the bound,
  both together do), then on the column or block whose split lowers the children's bound
  most, among the :data:`CANDIDATES` with the largest first-layer influence (weight times
  width over the unstable neurons); a child's bound is also capped by its parent's (both
  sound);
* **closes** a leaf with the exact MILP (:func:`~fairnn.certify.encoding.encode` on the
  domain narrowed to the hull of ``box1`` and ``box2``: both copies range over it, a
  superset of the leaf's pairs, and :func:`~fairnn.certify.verify.checked_solve` with a short time limit) once it
  has at most :data:`MILP_UNSTABLE` unstable neurons, or when its best split lowers the
  bound by less than 1 % (:data:`STALL`) and either ``x'``'s box is already within the
  ε-box where ``x''`` may move (splitting ``x'`` no longer shrinks ``x''``'s box) or the
  splits down to it stalled :data:`STALL_SPLITS` times in a row; a MILP bound
  replaces the leaf's only when it is lower, and its incumbent is a candidate witness. The
  MILPs of a round run on the workers (:class:`~fairnn.certify.leaves.LeafPool`), merged
  in the order of the leaves;
* finds real pairs at the new leaves' centres and their best neighbours (the gradient
  search of :func:`~fairnn.certify.attack.search_pairs` from the centres); each pair is
  checked exactly (:func:`~fairnn.certify.witness.feasible`) before it counts.

It stops at ``target_gap``, the time limit, Ctrl-C (the ``stop`` event) or when no leaf
is left to work on. The idea is the input splitting of complete verifiers (e.g. Wang et
al., "Formal security analysis of neural networks using symbolic intervals", USENIX
Security 2018, §4 (iterative refinement); Bunel et al., "Branch and bound for piecewise
linear neural network verification", JMLR 2020, §4), applied to the two-copy fairness
problem.
"""

from __future__ import annotations

import heapq
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
from fairnn.certify.encoding import EncodeOptions, encode
from fairnn.certify.leaves import LeafPool
from fairnn.certify.metrics import SimilarityMetric
from fairnn.certify.network import CertNet, NetSpec
from fairnn.certify.ops import activation
from fairnn.certify.parts import moving_blocks
from fairnn.certify.symbolic import pair_bounds
from fairnn.certify.verify import checked_solve
from fairnn.certify.witness import BestPair, feasible, polish_witness, repair_pair

__all__ = ["BATCH", "CANDIDATES", "MILP_UNSTABLE", "Leaf", "Search", "certify_branch"]

#: leaves taken per round (fixed: the search does not depend on the number of workers)
BATCH = 16
#: split candidates tried per leaf (the children of each are bounded, the best kept)
CANDIDATES = 3
#: a leaf with at most this many unstable neurons is closed by its MILP
MILP_UNSTABLE = 32
#: leaf MILP time limit: this fraction of the certificate's time, within [0.5 s, 10 s]
LEAF_TIME_FRACTION = 0.05
#: split the one-hot blocks both copies may change first, in both copies, when they have at
#: most this many category pairs in all
MOVING_FIRST = 256
#: a split "stops paying" when its best child bound is above this fraction of the parent's
STALL = 0.99
#: ... and a leaf reached by this many such splits in a row goes to its MILP
STALL_SPLITS = 6
#: neuron bounds of the leaf MILPs (:class:`~fairnn.certify.encoding.EncodeOptions`)
LEAF_BOUNDS = "symbolic"


@dataclass(eq=False)
class Leaf:
    """A sub-box of copy 1's domain with its proven bound."""

    lo: np.ndarray
    hi: np.ndarray
    #: upper bounds of the second copy on the one-hot blocks it may change (its live
    #: categories; other columns unused): those blocks are split in both copies
    top2: np.ndarray
    upper: float
    key: int  # creation order: deterministic ties
    depth: int = 0
    unstable: int = 0
    #: splits in a row, down to this leaf, that did not lower the bound (:data:`STALL`)
    stalls: int = 0
    milp_tried: bool = False
    #: not worked on further: its MILP proved the bound (``exact``), or nothing is left to split
    closed: bool = False
    exact: bool = False
    #: first-layer neurons' weight in the split choice: unstable ones, by their bound's width
    weight: np.ndarray | None = field(default=None, repr=False)


@dataclass
class _Task:
    """One leaf MILP, as sent to a worker (everything picklable)."""

    spec: NetSpec
    domain: Domain
    metric: SimilarityMetric
    eps: float
    options: EncodeOptions
    solver: str
    time_limit: float
    threads: int | None
    seed: int
    mip_rel_gap: float
    cross_check: bool
    centre: np.ndarray
    #: the certificate's deadline, wall-clock (``time.time()``: the workers' clocks)
    deadline: float


@dataclass
class _Closed:
    """What a leaf MILP returned: its checked bound (unscaled; None if none stands), status,
    why a claim was refuted, and the incumbents (candidate witnesses)."""

    bound: float | None
    status: str
    reason: str | None
    pairs: list[tuple[np.ndarray, np.ndarray]]
    time_s: float
    nodes: int
    build_s: float


def _close(task: _Task) -> _Closed:
    """Solve one leaf's MILP (run on a worker)."""
    t0 = time.perf_counter()
    if time.time() > task.deadline - 0.2:  # queued past the deadline: nothing proven
        return _Closed(None, "not_run", None, [], 0.0, 0, 0.0)
    enc = encode(task.spec, task.domain, task.metric, task.eps, options=task.options)
    start = enc.assignment([task.centre, task.centre])  # x' = x'' is always feasible
    build = time.perf_counter() - t0
    left = min(max(task.time_limit - build, 0.2), task.deadline - time.time())
    if left < 0.1:
        return _Closed(None, "not_run", None, [], time.perf_counter() - t0, 0, build)
    checked = checked_solve(
        enc.model,
        [start],
        solver=task.solver,
        time_limit=left,
        deadline=time.perf_counter() + left,
        cross_check=task.cross_check,
        start=start,
        threads=task.threads,
        seed=task.seed,
        mip_rel_gap=task.mip_rel_gap,
    )
    pairs = [(r.x[enc.x[0]], r.x[enc.x[1]]) for r in checked.tried if r.x is not None]
    r = checked.result
    return _Closed(
        r.bound,
        r.status,
        checked.reason,
        pairs,
        time.perf_counter() - t0,
        sum(t.nodes for t in checked.tried),
        build,
    )


class Search:
    """The state of one branch and bound (see the module docstring); :meth:`run` does it."""

    def __init__(
        self,
        net: CertNet,
        domain: Domain,
        metric: SimilarityMetric,
        cfg: CertifyConfig,
        best: BestPair,
        *,
        method: str = "symbolic",
        batch: int = BATCH,
        candidates: int = CANDIDATES,
        milp_unstable: int = MILP_UNSTABLE,
        keep_pruned: bool = False,
    ) -> None:
        self.net, self.domain, self.metric, self.cfg, self.best = net, domain, metric, cfg, best
        self.spec = net.spec
        self.method = method
        self.batch, self.candidates, self.milp_unstable = batch, candidates, milp_unstable
        self.dlo, self.dhi = delta_box(domain, metric, cfg.eps)
        self.moving = moving_blocks(domain, self.dlo, self.dhi)  # blocks x'' may change
        #: few enough category pairs on the blocks both copies may change: split those first
        #: (neither copy's split alone lowers the bound, both together do)
        self.moving_first = math.prod(len(b) ** 2 for b in self.moving) <= MOVING_FIRST
        inblock = np.zeros(domain.dim, dtype=bool)
        for b in domain.blocks:
            inblock[list(b)] = True
        self.inblock = inblock
        self.act = activation(self.spec.activation)
        self.scale = abs(self.spec.head_scale)
        self.leaves: list[tuple[float, int, Leaf]] = []  # heap on (-upper, key)
        self.closed: list[Leaf] = []
        self.next_key = 0
        self.stats = {"explored": 0, "pruned": 0, "milp": 0, "closed_by_milp": 0, "rounds": 0}
        self.trace: list[tuple[float, float, float, int]] = []
        #: called with (bound, witness) as the search goes (a terminal's progress line)
        self.progress: Callable[[float, float], None] | None = None
        self.refuted: list[str] = []
        self.milp_s = 0.0
        #: the longest leaf MILP build so far: no MILP round starts without time for it
        self.build_s = 0.0
        self.nodes = 0
        self.root_upper = math.inf
        #: the pruned leaves themselves (``keep_pruned``: for tests of the covering)
        self.pruned: list[Leaf] | None = [] if keep_pruned else None

    # -- boxes --------------------------------------------------------------------------------
    def box2(
        self, lo1: np.ndarray, hi1: np.ndarray, top2: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Where the second copy may lie for the first in ``[lo1, hi1]`` (rows: leaves):
        within the ε-box of that box, and on a one-hot block it may change, in its live
        categories ``top2``."""
        dom = self.domain
        lo2 = np.maximum(dom.lower, lo1 - self.dhi)
        hi2 = np.minimum(dom.upper, hi1 - self.dlo)
        for cols in self.moving:
            lo2[..., cols] = dom.lower[cols]
            hi2[..., cols] = top2[..., cols]
        return lo2, hi2

    def bound(
        self, lo1: np.ndarray, hi1: np.ndarray, top2: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Proven bounds, unstable-neuron counts and first-layer split weights of the leaves
        ``[lo1, hi1]`` with second-copy categories ``top2`` (rows)."""
        lo2, hi2 = self.box2(lo1, hi1, top2)
        pb = pair_bounds(
            self.spec,
            lo1,
            hi1,
            lo2,
            hi2,
            self.dlo,
            self.dhi,
            self.domain.blocks,
            method=self.method,
        )
        up = np.atleast_1d(pb.output_bound(self.spec.head, self.spec.head_scale))
        unstable = np.zeros(len(up), dtype=int)
        for r in pb.layers[:-1]:
            hull = ~self.act.stable(np.minimum(r.L1, r.L2), np.maximum(r.U1, r.U2))
            unstable += hull.sum(1)
        r = pb.layers[0]
        L, U = np.minimum(r.L1, r.L2), np.maximum(r.U1, r.U2)
        weight = (~self.act.stable(L, U)) * (U - L) + 1e-12
        return up, unstable, weight

    def centre(self, leaf: Leaf) -> np.ndarray:
        """A domain point inside the leaf (its midpoint, snapped: the first live category)."""
        x = self.domain.project(0.5 * (leaf.lo + leaf.hi))[0]
        return np.clip(x, leaf.lo, leaf.hi)

    def leaf_domain(self, leaf: Leaf) -> Domain:
        """The domain narrowed to the hull of ``box1`` and ``box2``."""
        lo2, hi2 = self.box2(leaf.lo, leaf.hi, leaf.top2)
        lo, hi = np.minimum(leaf.lo, lo2), np.maximum(leaf.hi, hi2)
        dom = self.domain
        ilo, ihi = dom.int_lo.copy(), dom.int_hi.copy()
        isint = np.array([k == "integer" for k in dom.kind])
        if isint.any():
            step, org = dom.int_step[isint], dom.int_origin[isint]
            ilo[isint] = np.ceil((lo[isint] - org) / step - 1e-7)
            ihi[isint] = np.floor((hi[isint] - org) / step + 1e-7)
        return replace(dom, lower=lo, upper=hi, int_lo=ilo, int_hi=ihi)

    # -- splitting ------------------------------------------------------------------------
    def _candidates(self, leaf: Leaf) -> list[tuple[str, Any, float]]:
        """Splits of ``leaf`` by first-layer influence, largest first: ``(kind, column or
        live block columns, the share of the domain's width or categories left)``."""
        dom = self.domain
        if self.moving_first:
            for cols in self.moving:
                for kind, top in (("block", leaf.hi), ("block2", leaf.top2)):
                    live = [c for c in cols if top[c] > 0.5]
                    if len(live) > 1:
                        return [(kind, live, len(live) / len(cols))]
        w = leaf.weight
        W = self.spec.weights[0]
        infl = w @ np.abs(W)  # (d,)
        out: list[tuple[float, str, Any, float]] = []
        width = leaf.hi - leaf.lo
        share = width / np.maximum(dom.upper - dom.lower, 1e-300)
        for j in np.flatnonzero(~self.inblock & (share > 1e-9)):
            k = dom.kind[j]
            if k == "integer" and width[j] < dom.int_step[j] * (1 - 1e-9):
                continue
            out.append((float(infl[j] * width[j]), "col", int(j), float(share[j])))
        # one-hot blocks: the first copy's, and the second copy's where it may change
        blocks = [("block", b, leaf.hi) for b in dom.blocks]
        blocks += [("block2", b, leaf.top2) for b in self.moving]
        for kind, cols, top in blocks:
            live = [c for c in cols if top[c] > 0.5]
            if len(live) < 2:
                continue
            Wl = W[:, live]
            score = float(w @ (Wl.max(1) - Wl.min(1)))
            out.append((score, kind, live, len(live) / len(cols)))
        out.sort(key=lambda t: -t[0])
        return [c[1:] for c in out[: self.candidates]]

    def _children(self, leaf: Leaf, split: tuple[str, Any, float]) -> list[tuple[np.ndarray, ...]]:
        dom = self.domain
        kind, what, _ = split
        a_lo, a_hi, b_lo, b_hi = leaf.lo.copy(), leaf.hi.copy(), leaf.lo.copy(), leaf.hi.copy()
        a_t2, b_t2 = leaf.top2.copy(), leaf.top2.copy()
        if kind == "block2":
            half = len(what) // 2
            a_t2[what[half:]] = 0.0
            b_t2[what[:half]] = 0.0
        elif kind == "block":
            half = len(what) // 2
            a_hi[what[half:]] = 0.0
            a_lo[what[half:]] = 0.0
            b_hi[what[:half]] = 0.0
            b_lo[what[:half]] = 0.0
        else:
            j = what
            k = dom.kind[j]
            if k == "binary":
                a_hi[j] = leaf.lo[j]
                b_lo[j] = leaf.hi[j]
            elif k == "integer":
                org, step = dom.int_origin[j], dom.int_step[j]
                klo = round((leaf.lo[j] - org) / step)
                khi = round((leaf.hi[j] - org) / step)
                mid = (klo + khi) // 2
                a_hi[j] = org + mid * step
                b_lo[j] = org + (mid + 1) * step
            else:
                mid = 0.5 * (leaf.lo[j] + leaf.hi[j])
                a_hi[j] = mid
                b_lo[j] = mid
        return [(a_lo, a_hi, a_t2), (b_lo, b_hi, b_t2)]

    def _narrow(self, leaf: Leaf) -> bool:
        """Whether ``x'``'s box is within the ε-box on every column ``x''`` may move in (then
        ``x''``'s box no longer shrinks with it, and splitting ``x'`` stops paying)."""
        width = leaf.hi - leaf.lo
        moving = (self.dhi > 0) & ~self.inblock
        return bool(np.all(width[moving] <= 2 * self.dhi[moving] * (1 + 1e-9)))

    def _new_leaf(self, lo, hi, top2, upper: float, unstable: int, weight, depth: int) -> Leaf:
        leaf = Leaf(lo, hi, top2, upper, self.next_key, depth, unstable, weight=weight)
        self.next_key += 1
        self.stats["explored"] += 1
        return leaf

    def _push(self, leaf: Leaf) -> None:
        if leaf.upper <= self.best.value:
            self._pruned([leaf])
        elif leaf.closed:
            self.closed.append(leaf)
        else:
            heapq.heappush(self.leaves, (-leaf.upper, leaf.key, leaf))

    # -- the proven bound ---------------------------------------------------------------
    def upper(self) -> float:
        """The proven bound now: the union of the live leaves is the domain less the pruned."""
        tops = [-self.leaves[0][0]] if self.leaves else []
        tops += [c.upper for c in self.closed]
        return max([self.best.value, *tops])

    def prune(self) -> None:
        v = self.best.value
        keep = [t for t in self.leaves if t[2].upper > v]
        self._pruned([t[2] for t in self.leaves if t[2].upper <= v])
        heapq.heapify(keep)
        self.leaves = keep
        self._pruned([c for c in self.closed if c.upper <= v])
        self.closed = [c for c in self.closed if c.upper > v]

    def _pruned(self, leaves: list[Leaf]) -> None:
        self.stats["pruned"] += len(leaves)
        if self.pruned is not None:
            self.pruned.extend(leaves)

    def all_leaves(self) -> list[Leaf]:
        """The live leaves (open and closed by MILP); with the pruned ones they cover the
        domain."""
        return [t[2] for t in self.leaves] + list(self.closed)

    # -- real pairs -------------------------------------------------------------------------
    def offer(self, pairs: list[tuple[np.ndarray, np.ndarray]]) -> None:
        dom, met, eps = self.domain, self.metric, self.cfg.eps
        for a, b in pairs:
            pair = repair_pair(dom, met, eps, a, b)
            if pair is not None and feasible(dom, met, eps, *pair):
                self.best.offer(self.net, *pair)

    def search_from(self, centres: list[np.ndarray]) -> None:
        """Real pairs at the leaves' centres and their best neighbours within ε."""
        if not centres:
            return
        if not self.cfg.attack:
            return
        dom, met, eps = self.domain, self.metric, self.cfg.eps
        found = search_pairs(
            self.spec.torch_function(),
            dom,
            met,
            eps,
            points=np.vstack(centres),
            n_random=0,
            top_k=4,
            steps=10,
            n_discrete=0,
            seed=self.cfg.seed,
            repair=lambda a, b: repair_pair(dom, met, eps, a, b),
        )
        if found is not None and feasible(dom, met, eps, *found):
            self.best.offer(self.net, *found)

    # -- the search -------------------------------------------------------------------------
    def _task(self, leaf: Leaf, leaf_time: float, deadline: float) -> _Task:
        cfg = self.cfg
        # symbolic neuron bounds: no LP under a time limit, so a leaf's problem does not
        # depend on how busy its worker is (the same search for any number of workers)
        opts = cfg.options or EncodeOptions(bounds=LEAF_BOUNDS, M=cfg.M, hidden_M=cfg.M)
        opts = replace(opts, threads=cfg.threads or 1)
        return _Task(
            self.spec,
            self.leaf_domain(leaf),
            self.metric,
            cfg.eps,
            opts,
            cfg.solver,
            leaf_time,
            cfg.threads or 1,
            cfg.seed,
            cfg.target_gap / 2,
            cfg.cross_check,
            self.centre(leaf),
            time.time() + (deadline - time.perf_counter()),
        )

    def run(self, pool: LeafPool, t0: float, stop: threading.Event) -> None:
        cfg = self.cfg
        dom = self.domain
        deadline = t0 + float(cfg.time_limit or 60.0)
        leaf_time = min(max(LEAF_TIME_FRACTION * float(cfg.time_limit or 60.0), 0.5), 10.0)
        full = dom.upper.copy()
        up, unst, w = self.bound(dom.lower[None, :], dom.upper[None, :], full[None, :])
        root = self._new_leaf(
            dom.lower.copy(), dom.upper.copy(), full, float(up[0]), int(unst[0]), w[0], 0
        )
        self.root_upper = root.upper
        self.search_from([self.centre(root)])
        self._push(root)
        self._record(t0)
        while self.leaves:
            if stop.is_set() or time.perf_counter() >= deadline:
                break
            if rel_gap(self.upper(), self.best.value) <= cfg.target_gap:
                break
            self.stats["rounds"] += 1
            batch = [
                heapq.heappop(self.leaves)[2] for _ in range(min(self.batch, len(self.leaves)))
            ]
            moved = self._round(batch, pool, leaf_time, deadline)
            self.prune()
            self._record(t0)
            if not moved:  # no time left for the MILPs these leaves need
                break
        self._record(t0, last=True)

    def _round(self, batch: list[Leaf], pool: LeafPool, leaf_time: float, deadline: float) -> bool:
        """Split or close the ``batch``; whether any leaf was worked on."""
        small = [lf for lf in batch if lf.unstable <= self.milp_unstable and not lf.milp_tried]
        to_split = [lf for lf in batch if lf not in small]
        plans = self._plan(to_split)
        to_milp = list(small)
        for lf in to_split:
            plan = plans.get(lf.key)
            if plan is None and lf.milp_tried:  # nothing left to split, MILP tried: as it is
                lf.closed = True
            elif not lf.milp_tried and (
                plan is None
                or (
                    plan[0] >= STALL * lf.upper
                    and (self._narrow(lf) or lf.stalls + 1 >= STALL_SPLITS)
                )
            ):
                to_milp.append(lf)  # splitting does not pay (any more): its MILP, once
        to_milp.sort(key=lambda lf: lf.key)
        plans = {k: v for k, v in plans.items() if k not in {lf.key for lf in to_milp}}
        # the round must end by the deadline: the leaves share the time left
        left = deadline - time.perf_counter()
        lt = min(leaf_time, left * pool.workers / max(len(to_milp), 1))
        done: list[_Closed] = []
        if to_milp and lt > self.build_s + 0.3:
            done = pool.map(_close, [self._task(lf, lt, deadline) for lf in to_milp])
        else:
            to_milp = []
        milp_keys = {lf.key for lf in to_milp}
        for lf, res in zip(to_milp, done, strict=True):
            if res.status == "not_run":  # the deadline came first: the leaf stays as it was
                self.build_s = max(self.build_s, res.build_s)
                continue
            lf.milp_tried = True
            self.stats["milp"] += 1
            self.milp_s += res.time_s
            self.build_s = max(self.build_s, res.build_s)
            self.nodes += res.nodes
            if res.reason is not None:
                self.refuted.append(res.reason)
            self.offer(res.pairs)
            if res.bound is not None:
                b = self.scale * res.bound
                if b < lf.upper:
                    lf.upper = b
                if res.status == "optimal":
                    lf.closed = lf.exact = True
                    self.stats["closed_by_milp"] += 1
        centres: list[np.ndarray] = []
        for lf in batch:  # merged in a fixed order: the batch's
            if lf.key in milp_keys or lf.closed or lf.key not in plans:
                self._push(lf)
                continue
            top, kids = plans[lf.key]
            stalls = lf.stalls + 1 if top >= STALL * lf.upper else 0
            for lo, hi, top2, u, n, w in kids:
                kid = self._new_leaf(lo, hi, top2, min(u, lf.upper), n, w, lf.depth + 1)
                kid.stalls = stalls
                centres.append(self.centre(kid))
                self._push(kid)
        self.search_from(centres)
        return bool(centres) or bool(done) or any(lf.closed for lf in batch)

    def _plan(self, leaves: list[Leaf]) -> dict[int, tuple[float, list[tuple]]]:
        """The best split of each leaf: ``key -> (max child bound, children)``."""
        if not leaves:
            return {}
        cands = [self._candidates(lf) for lf in leaves]
        boxes: list[tuple[np.ndarray, ...]] = []
        for lf, cs in zip(leaves, cands, strict=True):
            for c in cs:
                boxes.extend(self._children(lf, c))
        if not boxes:
            return {}
        ups, unst, ws = self.bound(*(np.vstack([b[i] for b in boxes]) for i in range(3)))
        out: dict[int, tuple[float, list[tuple]]] = {}
        i = 0
        for lf, cs in zip(leaves, cands, strict=True):
            best_score, best_kids = None, None
            for c in cs:
                kids = [
                    (*boxes[i + t], min(float(ups[i + t]), lf.upper), int(unst[i + t]), ws[i + t])
                    for t in (0, 1)
                ]
                # the lowest children; on a tie, the split of the widest column or block
                score = (max(k[3] for k in kids), sum(k[3] for k in kids), -c[2])
                if best_score is None or score < best_score:
                    best_score, best_kids = score, kids
                i += 2
            if best_kids is not None:
                out[lf.key] = (best_score[0], best_kids)
        return out

    def _record(self, t0: float, last: bool = False) -> None:
        """A trace entry ``(seconds, bound, witness, leaves left)`` when the bound or the
        witness moved (and at the end)."""
        up, lo = round(self.upper(), 6), round(self.best.value, 6)
        if self.progress is not None:
            self.progress(up, lo)
        if last or not self.trace or self.trace[-1][1:3] != (up, lo):
            self.trace.append(
                (round(time.perf_counter() - t0, 2), up, lo, len(self.leaves) + len(self.closed))
            )


def certify_branch(
    net: CertNet,
    domain: Domain,
    metric: SimilarityMetric,
    cfg: CertifyConfig,
    best: BestPair,
    t0: float,
    stop: threading.Event,
    attack_s: float = 0.0,
    **options: Any,
) -> Certificate:
    """The global certificate by branch and bound over the input domain (module docstring),
    in the shape of :func:`~fairnn.certify.global_.certify_global`'s; ``options`` go to
    :class:`Search` (``batch``, ``candidates``, ``milp_unstable``, ``method``), ``start``
    to :class:`~fairnn.certify.leaves.LeafPool`, and ``progress(bound, witness)`` is called
    as the bound or the witness moves."""
    start = options.pop("start", "spawn")
    progress = options.pop("progress", None)
    search = Search(net, domain, metric, cfg, best, **options)
    search.progress = progress
    with LeafPool(cfg.workers, cfg.backend, cfg.scheduler, start) as pool:
        search.run(pool, t0, stop)
    if cfg.attack:
        polish_witness(net, domain, metric, cfg.eps, best)
    search.prune()
    upper, lower = search.upper(), best.value
    gap = rel_gap(upper, lower)
    if gap <= cfg.target_gap or (not search.leaves and all(c.exact for c in search.closed)):
        status = "optimal"
    elif upper < search.root_upper:
        status = "time_limit"
    else:
        status = "bound_only"
    witness = None if best.pair is None else [best.pair[0].tolist(), best.pair[1].tolist()]
    details: dict[str, Any] = {
        "search": "branch",
        "relaxation_bound": float(search.root_upper),
        "attack_s": attack_s,
        "solve_s": search.milp_s,
        "nodes": search.nodes,
        **search.stats,
        "open": len(search.leaves),
        "closed": len(search.closed),
        "workers": cfg.workers,
        "backend": cfg.backend,
        "batch": search.batch,
        "candidates": search.candidates,
        "milp_unstable": search.milp_unstable,
        "trace": search.trace,
        **({"interrupted": True} if stop.is_set() else {}),
        **({"refuted": search.refuted} if search.refuted else {}),
    }
    return Certificate(
        property="global",
        metric=metric.to_dict(),
        epsilon=float(cfg.eps),
        delta_upper=float(upper),
        delta_lower=float(lower),
        witness=witness,
        status=status,
        gap=gap,
        time_s=time.perf_counter() - t0,
        model_size={**net.spec.to_dict(), "domain": domain.to_dict()},
        solver=cfg.solver,
        output=net.output,
        details=details,
    )
