"""Branch and bound over ReLU phases: tighter proven bounds on the parts of a global certificate.

The symbolic bound of a part (:mod:`fairnn.certify.parts`, :func:`~fairnn.certify.symbolic.pair_bounds`)
is loose where a neuron is unstable: its relaxation lets the difference of the two copies
pass anywhere between ``min(0, Δφ)`` and ``max(0, Δφ)``. Here a part's pair set is split
by the **phase** of one hidden ReLU in each copy (``φ ≥ 0`` or ``φ ≤ 0``; up to four
children, every pair in exactly one up to the shared boundary), and each child is bounded
again with the split neurons narrowed to their side (``pair_bounds(signs=...)``): a neuron
split alike in both copies passes the difference on exactly. This is the ReLU splitting of
complete verifiers (Bunel et al., "Branch and bound for piecewise linear neural network
verification", JMLR 2020, §5, without the Lagrangian of β-CROWN), applied to the
two-copy problem. The neuron split next is the one whose relaxation adds most to the
leaf's bound on ``|Δ logit|`` (:attr:`~fairnn.certify.symbolic.PairBounds.slack`, the
intercept each neuron's difference lines put into the back-substituted bound, as BaBSR
scores the single-network problem, Bunel et al. §5.1).

When the difference box is symmetric (every metric's is), each part bounds only
``f(x') - f(x'')``: the pairs where it is negative lie, swapped, in the mirrored part
(copy 1's and copy 2's categories exchanged), which bounds them, as the part MILPs do with
their row ``z' ≥ z''``. One sign is often far easier than the other.

The search is best first over all parts together, many leaves per call; a leaf at or below
the best real pair (``floor()``) is dropped, since no pair in it can do better. At any
moment the bound of a part is the largest of its live leaves and of the leaves dropped or
found empty, so :func:`split_parts` may stop at any time (deadline, ``stop``, or
:data:`MAX_OPEN` live leaves) and what it returns is proven.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fairnn.certify.network import NetSpec
from fairnn.certify.symbolic import pair_bounds

__all__ = ["BATCH", "MAX_OPEN", "SplitResult", "split_parts"]

#: leaves split per round (their children are bounded in one call)
BATCH = 64
#: live leaves kept at most (memory: two sign arrays of the hidden width per leaf)
MAX_OPEN = 200_000
#: seconds between two ``progress`` calls
PROGRESS_EVERY = 0.5


@dataclass
class SplitResult:
    """Proven bounds per part after splitting, and what the search did."""

    bounds: np.ndarray
    bounded: int
    open: int
    rounds: int
    time_s: float


@dataclass(eq=False)
class _Leaf:
    part: int
    signs: tuple[list[np.ndarray], list[np.ndarray]]
    upper: float
    #: the split to make next: (layer, neuron, copy 1 unstable, copy 2 unstable), or None
    choice: tuple[int, int, bool, bool] | None


def _choices(pb, slack: list[np.ndarray], n: int) -> list[tuple[int, int, bool, bool] | None]:
    """The neuron with the largest ``slack`` among those unstable in either copy, per row."""
    best_v = np.full(n, 0.0)
    best = np.full((n, 2), -1)
    for k, (r, s) in enumerate(zip(pb.layers[:-1], slack, strict=True)):
        u = ((r.L1 < 0) & (r.U1 > 0)) | ((r.L2 < 0) & (r.U2 > 0))
        sc = np.where(u, s, 0.0)
        j = sc.argmax(1)
        v = sc[np.arange(n), j]
        better = v > best_v
        best_v = np.where(better, v, best_v)
        best[better] = np.stack([np.full(n, k), j], 1)[better]
    out: list[tuple[int, int, bool, bool] | None] = []
    for i in range(n):
        k, j = (int(v) for v in best[i])
        if k < 0:
            out.append(None)
            continue
        r = pb.layers[k]
        out.append((k, j, bool(r.L1[i, j] < 0 < r.U1[i, j]), bool(r.L2[i, j] < 0 < r.U2[i, j])))
    return out


def _children(leaf: _Leaf) -> list[tuple[list[np.ndarray], list[np.ndarray]]]:
    assert leaf.choice is not None
    k, j, u1, u2 = leaf.choice
    s1, s2 = leaf.signs
    out = []
    for a in (1, -1) if u1 else (int(s1[k][j]),):
        for b in (1, -1) if u2 else (int(s2[k][j]),):
            c1 = [s.copy() for s in s1]
            c2 = [s.copy() for s in s2]
            c1[k][j], c2[k][j] = a, b
            out.append((c1, c2))
    return out


def split_parts(
    spec: NetSpec,
    parts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    dlo: np.ndarray,
    dhi: np.ndarray,
    blocks,
    upper: np.ndarray,
    floor: Callable[[], float],
    deadline: float,
    stop: threading.Event | None = None,
    *,
    batch: int = BATCH,
    max_open: int = MAX_OPEN,
    progress: Callable[[float], None] | None = None,
) -> SplitResult:
    """Proven bounds on ``f(x') - f(x'')`` (on ``|f(x') - f(x'')|`` when the difference
    box is not symmetric) per part ``(lo1, hi1, lo2, hi2)`` (rows) for the difference box
    ``[dlo, dhi]``, by splitting ReLU phases until ``deadline`` (``time.perf_counter()``),
    ``stop``, ``max_open`` live leaves or nothing left above ``floor()``; ``upper`` holds
    the parts' bounds so far (each result is at most its entry). The largest result bounds
    ``|f(x') - f(x'')|`` over the union of the parts when every part's mirror (copies'
    boxes swapped) is among them, as :func:`~fairnn.certify.parts.pair_parts` makes them.
    Only ReLU nets split; other nets keep ``upper``. ``progress(bound)`` receives the
    largest part bound now, every :data:`PROGRESS_EVERY` seconds."""
    t0 = time.perf_counter()
    upper = np.asarray(upper, dtype=np.float64).copy()
    P = len(upper)
    if spec.activation != "relu" or len(spec.weights) < 2 or spec.weights[-1].shape[0] != 1:
        return SplitResult(upper, 0, 0, 0, 0.0)
    widths = [w.shape[0] for w in spec.weights[:-1]]
    lo1, hi1, lo2, hi2 = (np.asarray(a, dtype=np.float64) for a in parts)
    # the bound of a part is the largest of its live leaves and of those dropped
    dropped = np.full(P, -np.inf)
    heap: list[tuple[float, int, _Leaf]] = []
    key = 0
    # with a symmetric difference box every pair's mirror is in the mirrored part, so each
    # part need only bound f(x') - f(x'') (as the part MILPs do, with their row z' >= z'')
    signed = bool(np.array_equal(np.asarray(dlo), -np.asarray(dhi)))
    side = 0 if spec.head_scale >= 0 else 1  # the slack of the bound that counts
    v = floor()
    roots = []
    for p in range(P):
        if upper[p] <= v:
            dropped[p] = upper[p]
            continue
        zero = ([np.zeros(w, np.int8) for w in widths], [np.zeros(w, np.int8) for w in widths])
        roots.append(_Leaf(p, zero, float(upper[p]), None))
    bounded = rounds = 0

    def bound(leaves: list[_Leaf]) -> None:
        nonlocal bounded
        idx = np.array([lf.part for lf in leaves])
        signs = tuple(
            [np.stack([lf.signs[c][k] for lf in leaves]) for k in range(len(widths))]
            for c in (0, 1)
        )
        pb = pair_bounds(
            spec, lo1[idx], hi1[idx], lo2[idx], hi2[idx], dlo, dhi, blocks, signs=signs
        )
        ups = np.atleast_1d(pb.output_bound(signed=signed))
        slack = (
            pb.slack[side] if signed else [np.maximum(u, d) for u, d in zip(*pb.slack, strict=True)]
        )
        for lf, u, ch in zip(leaves, ups, _choices(pb, slack, len(leaves)), strict=True):
            lf.upper = min(lf.upper, float(u))
            lf.choice = ch
        bounded += len(leaves)

    def push(leaves: list[_Leaf]) -> None:
        nonlocal key
        v = floor()
        for lf in leaves:
            if lf.upper <= v or lf.choice is None:
                # below a real pair, or nothing left to split: its bound stands as it is
                dropped[lf.part] = max(dropped[lf.part], lf.upper)
                continue
            heapq.heappush(heap, (-lf.upper, key, lf))
            key += 1

    if roots:
        bound(roots)
        push(roots)
    shown = time.perf_counter()
    while heap:
        if time.perf_counter() >= deadline or (stop is not None and stop.is_set()):
            break
        if len(heap) >= max_open:
            break
        rounds += 1
        taken = [heapq.heappop(heap)[2] for _ in range(min(batch, len(heap)))]
        kids = [_Leaf(lf.part, signs, lf.upper, None) for lf in taken for signs in _children(lf)]
        bound(kids)
        push(kids)
        # the floor may have risen: leaves below it are dropped as they come up
        v = floor()
        while heap and -heap[0][0] <= v:
            lf = heapq.heappop(heap)[2]
            dropped[lf.part] = max(dropped[lf.part], lf.upper)
        if progress is not None and time.perf_counter() - shown >= PROGRESS_EVERY:
            shown = time.perf_counter()
            progress(float(max(-heap[0][0] if heap else -np.inf, dropped.max())))
    live = np.full(P, -np.inf)
    for _, _, lf in heap:
        live[lf.part] = max(live[lf.part], lf.upper)
    out = np.maximum(live, dropped)
    out = np.minimum(upper, np.where(np.isfinite(out), out, upper))
    return SplitResult(out, bounded, len(heap), rounds, time.perf_counter() - t0)
