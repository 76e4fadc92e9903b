"""Symbolic (back-substitution) bounds on the two copies of a network and their difference.

:func:`pair_bounds` bounds, for every pair with ``x'`` in a box (one-hot blocks: exactly
one live column is 1), ``x''`` in a second box and ``x' - x''`` in a difference box,

* each copy's pre-activations ``L ≤ φ ≤ U``, by back-substitution through linear
  relaxations of the activations (CROWN, Zhang et al., NeurIPS 2018, §3; DeepPoly,
  Singh et al., POPL 2019): the bound of a neuron is a linear function of the input,
  made concrete over the box only at the end, so the correlations interval arithmetic
  forgets are kept. The relaxation of each op is its
  :meth:`~fairnn.certify.ops.Activation.linear_bounds`;
* the difference ``dL ≤ φ' - φ'' ≤ dU``, by back-substitution through the **difference
  network**: biases cancel, so ``Δφ_1 = W_1 Δx`` and ``Δφ_k = W_k Δζ_{k-1}``, and by the
  mean value theorem ``Δζ = s·Δφ`` with a slope ``s ∈ [m, k]``
  (:meth:`~fairnn.certify.ops.Activation.slope_range` over the hull of both copies'
  bounds). Over ``Δφ ∈ [dL, dU]`` the set ``{s·Δφ}`` lies between ``min(mΔφ, kΔφ)``
  (concave) and ``max(mΔφ, kΔφ)`` (convex), so the chords of those two functions are
  sound linear bounds; where the sign of ``Δφ`` is known they are exact lines through
  0. A stable neuron (``m = k``) passes the difference on exactly, and an op may use each
  copy's own bounds for more (ReLU: one copy's known phase gives one side exactly);
  :meth:`~fairnn.certify.ops.Activation.pair_diff_lines` holds the lines. The bound is a linear
  function of ``Δx`` alone, so it shrinks with ε, as the differential verification of
  ReluDiff/NeuroDiff (Paulsen et al., ICSE 2020, ASE 2020) does with symbolic intervals.

Every layer's symbolic bounds are intersected with interval arithmetic's
(:mod:`fairnn.certify.bounds`) and with ``[L' - U'', U' - L'']`` (both sound), and
widened by the floating-point margin (:mod:`fairnn.certify.margin`) before the next layer
uses them. Boxes come in batches (rows), so a branch and bound bounds many leaves in one
call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairnn.certify.margin import BOUND_MARGIN, pad_up
from fairnn.certify.network import NetSpec
from fairnn.certify.ops import activation
from fairnn.errors import InvalidValueError

__all__ = ["LayerBounds", "PairBounds", "copy_bounds", "pair_bounds"]

#: boxes bounded per back-substitution pass (memory: chunk × width² floats per layer)
CHUNK = 64
METHODS = ("interval", "symbolic")
Blocks = tuple[tuple[int, ...], ...]


@dataclass
class LayerBounds:
    """Bounds of one layer's pre-activations, one row per box: each copy and the difference."""

    L1: np.ndarray
    U1: np.ndarray
    L2: np.ndarray
    U2: np.ndarray
    dL: np.ndarray
    dU: np.ndarray


@dataclass
class PairBounds:
    """What :func:`pair_bounds` proves, layer by layer (the last layer is the logit)."""

    spec: NetSpec
    layers: list[LayerBounds]
    batched: bool
    #: rows (boxes) that hold no pair meeting their ``signs``: their bound is 0
    empty: np.ndarray | None = None
    #: ``(up, down)``, each a list per hidden layer of ``(n, width)``: what each neuron's
    #: difference relaxation adds to the bound on ``Δ logit`` (up) and on ``-Δ logit``
    #: (down); symbolic method, one logit. Where a split pays most.
    slack: tuple[list[np.ndarray], list[np.ndarray]] | None = None

    def output_bound(
        self, head: str | None = None, head_scale: float | None = None, *, signed: bool = False
    ):
        """A sound upper bound on ``|f(x') - f(x'')|`` per box (a float for one box),
        where ``f = offset + head_scale · head(z)``, widened by the floating-point margin.
        ``signed``: a bound on ``f(x') - f(x'')`` only (on its positive part): the head is
        increasing, so it comes from the upper end of the logit difference (the lower end
        when ``head_scale`` is negative)."""
        g = activation(self.spec.head if head is None else head)
        hs = self.spec.head_scale if head_scale is None else head_scale
        scale = abs(hs)
        z = self.layers[-1]
        lo = np.minimum(z.L1, z.L2)[:, 0]
        hi = np.maximum(z.U1, z.U2)[:, 0]
        if signed:
            dmax = np.maximum(z.dU if hs >= 0 else -z.dL, 0.0)[:, 0]
        else:
            dmax = np.maximum(z.dU, -z.dL)[:, 0]
        out = np.array(
            [
                pad_up(scale * g.pair_bound(float(a), float(b), float(d)))
                for a, b, d in zip(lo, hi, dmax, strict=True)
            ]
        )
        if self.empty is not None:
            out[self.empty] = 0.0
        return out if self.batched else float(out[0])

    def unstable(self) -> int:
        """Neurons whose activation is not one affine piece over either copy's bounds."""
        act = activation(self.spec.activation)
        return int(
            sum(
                (~act.stable(np.minimum(r.L1, r.L2), np.maximum(r.U1, r.U2))).sum()
                for r in self.layers[:-1]
            )
        )


# -- concretization -------------------------------------------------------------------------
def _blocks_mask(d: int, blocks: Blocks) -> np.ndarray:
    inblock = np.zeros(d, dtype=bool)
    for blk in blocks:
        inblock[list(blk)] = True
    return inblock


def _box_max(A: np.ndarray, lo: np.ndarray, hi: np.ndarray, blocks: Blocks) -> np.ndarray:
    """``max A·x`` over ``x`` in the box (per row of ``lo``) with one-hot ``blocks``:
    ``A`` is ``(n, m, d)``, the result ``(n, m)``. A block contributes its largest
    coefficient among live columns (upper bound above 1/2)."""
    inb = _blocks_mask(A.shape[-1], blocks)
    Ap, An = np.maximum(A[..., ~inb], 0.0), np.minimum(A[..., ~inb], 0.0)
    out = np.einsum("nmd,nd->nm", Ap, hi[:, ~inb]) + np.einsum("nmd,nd->nm", An, lo[:, ~inb])
    for blk in blocks:
        cols = list(blk)
        live = hi[:, cols] > 0.5  # (n, b)
        v = np.where(live[:, None, :], A[..., cols], -np.inf).max(-1)
        out += np.where(np.isfinite(v), v, 0.0)
    return out


def _diff_max(
    A: np.ndarray,
    dlo: np.ndarray,
    dhi: np.ndarray,
    hi1: np.ndarray,
    hi2: np.ndarray,
    blocks: Blocks,
) -> np.ndarray:
    """``max A·Δ`` over differences ``Δ = x' - x''``: a box off the blocks; on a block
    that may change, ``Δ = e_a - e_b`` with ``a`` live in copy 1 and ``b`` in copy 2."""
    inb = _blocks_mask(A.shape[-1], blocks)
    Ap, An = np.maximum(A[..., ~inb], 0.0), np.minimum(A[..., ~inb], 0.0)
    out = np.einsum("nmd,nd->nm", Ap, dhi[:, ~inb]) + np.einsum("nmd,nd->nm", An, dlo[:, ~inb])
    for blk in blocks:
        cols = list(blk)
        moves = (dhi[:, cols] > 0).any(1) | (dlo[:, cols] < 0).any(1)  # (n,)
        if not moves.any():
            continue
        Ab = A[..., cols]
        top = np.where((hi1[:, cols] > 0.5)[:, None, :], Ab, -np.inf).max(-1)
        bot = np.where((hi2[:, cols] > 0.5)[:, None, :], Ab, np.inf).min(-1)
        v = np.where(np.isfinite(top) & np.isfinite(bot), top - bot, 0.0)
        out += np.where(moves[:, None], np.maximum(v, 0.0), 0.0)
    return out


# -- back-substitution ----------------------------------------------------------------------
def _back(
    spec: NetSpec,
    k: int,
    lines: list[tuple[np.ndarray, ...]],
    upper: bool,
    n: int,
    biases: bool,
    slack: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``Λ`` and ``c`` with ``±φ_k ≤ Λ·x + c`` (``upper``: ``φ_k ≤``; else ``-φ_k ≤``) over
    the relaxation ``lines[j] = (al, bl, au, bu)`` of layers ``j < k``; ``Λ`` is
    ``(n, width_k, d)`` in terms of the first layer's input. ``slack`` (when given, for a
    layer ``k`` of width 1) receives, per layer ``j`` from the last down, each neuron's
    share ``(n, width_j)`` of ``c``: what its relaxation's intercepts add to the bound."""
    W = spec.weights[k]
    sign = 1.0 if upper else -1.0
    lam = np.broadcast_to(sign * W, (n, *W.shape)).copy()
    const = np.zeros((n, W.shape[0]))
    if biases:
        const += sign * spec.biases[k]
    for j in range(k - 1, -1, -1):
        al, bl, au, bu = lines[j]  # each (n, width_j)
        Lp, Ln = np.maximum(lam, 0.0), np.minimum(lam, 0.0)
        # Λ ζ_j ≤ Λ⁺(au φ + bu) + Λ⁻(al φ + bl)
        share = Lp * bu[:, None, :] + Ln * bl[:, None, :]
        const += share.sum(-1)
        if slack is not None:
            slack.append(share[:, 0, :])
        lam = Lp * au[:, None, :] + Ln * al[:, None, :]
        if biases:
            const += lam @ spec.biases[j]
        lam = lam @ spec.weights[j]
    return lam, const


def _pad(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return lo - BOUND_MARGIN * (1 + np.abs(lo)), hi + BOUND_MARGIN * (1 + np.abs(hi))


def _split(L: np.ndarray, U: np.ndarray, sign: np.ndarray | None) -> None:
    """Narrow ``[L, U]`` in place to the side of 0 that ``sign`` fixes (+1: ``φ ≥ 0``,
    -1: ``φ ≤ 0``, 0: both)."""
    if sign is not None:
        np.maximum(L, np.where(sign > 0, 0.0, -np.inf), out=L)
        np.minimum(U, np.where(sign < 0, 0.0, np.inf), out=U)


def _chunk(
    spec: NetSpec,
    boxes: tuple[np.ndarray, ...],
    blocks: Blocks,
    method: str,
    signs: tuple[list[np.ndarray], list[np.ndarray]] | None = None,
) -> list[LayerBounds]:
    lo1, hi1, lo2, hi2, dlo, dhi = boxes
    n = lo1.shape[0]
    # differences the two boxes allow at all
    dlo, dhi = np.maximum(dlo, lo1 - hi2), np.minimum(dhi, hi1 - lo2)
    act = activation(spec.activation)
    symbolic = method == "symbolic"
    # interval state: post-activation boxes per copy and of the difference
    post = [(lo1, hi1), (lo2, hi2)]
    dpost = (dlo, dhi)
    his = (hi1, hi2)
    lines: list[list[tuple[np.ndarray, ...]]] = [[], []]
    dlines: list[tuple[np.ndarray, ...]] = []
    out: list[LayerBounds] = []
    empty = np.zeros(n, dtype=bool)
    slack: tuple[list[np.ndarray], list[np.ndarray]] | None = None
    n_layers = len(spec.weights)
    for li in range(n_layers):
        W = spec.weights[li]
        last = li == n_layers - 1
        Ls, Us = [], []
        for c in range(2):
            box = (lo1, hi1) if c == 0 else (lo2, hi2)
            L, U = _copy_layer(spec, li, post[c], box, lines[c], blocks, symbolic, n)
            if signs is not None and not last:
                _split(L, U, signs[c][li])
                dead = (L > U).any(1)
                if dead.any():  # no input of the box meets the signs: an empty leaf
                    empty |= dead
                    L[dead], U[dead] = 0.0, 0.0
            Ls.append(L)
            Us.append(U)
        # the difference
        if li == 0:
            A = np.broadcast_to(W, (n, *W.shape))
            dU = _diff_max(A, dlo, dhi, *his, blocks)
            dL = -_diff_max(-A, dlo, dhi, *his, blocks)
        else:
            Wp, Wn = np.maximum(W, 0.0), np.minimum(W, 0.0)
            dU = dpost[1] @ Wp.T + dpost[0] @ Wn.T
            dL = dpost[0] @ Wp.T + dpost[1] @ Wn.T
            if symbolic:
                up: list[np.ndarray] | None = [] if last and W.shape[0] == 1 else None
                dn: list[np.ndarray] | None = [] if up is not None else None
                lam, const = _back(spec, li, dlines, True, n, False, up)
                dU = np.minimum(dU, _diff_max(lam, dlo, dhi, *his, blocks) + const)
                lam, const = _back(spec, li, dlines, False, n, False, dn)
                dL = np.maximum(dL, -(_diff_max(lam, dlo, dhi, *his, blocks) + const))
                if up is not None and dn is not None:
                    slack = (up[::-1], dn[::-1])  # first layer first
        dU = np.minimum(dU, Us[0] - Ls[1])
        dL = np.maximum(dL, Ls[0] - Us[1])
        dL, dU = _pad(dL, dU)
        dead = (dL > dU).any(1)
        if dead.any():
            empty |= dead
            dL[dead], dU[dead] = 0.0, 0.0
        out.append(LayerBounds(Ls[0], Us[0], Ls[1], Us[1], dL, dU))
        if last:
            break
        op = act
        for c in range(2):
            post[c] = op.interval(Ls[c], Us[c])
            if symbolic:
                lines[c].append(op.linear_bounds(Ls[c], Us[c]))
        dpost = op.pair_diff_interval(Ls[0], Us[0], Ls[1], Us[1], dL, dU)
        if symbolic:
            dlines.append(op.pair_diff_lines(Ls[0], Us[0], Ls[1], Us[1], dL, dU))
    return out, empty, slack


def pair_bounds(
    spec: NetSpec,
    lo1: np.ndarray,
    hi1: np.ndarray,
    lo2: np.ndarray,
    hi2: np.ndarray,
    dlo: np.ndarray,
    dhi: np.ndarray,
    blocks: Blocks = (),
    *,
    method: str = "symbolic",
    signs: tuple[list[np.ndarray], list[np.ndarray]] | None = None,
) -> PairBounds:
    """Sound bounds on both copies and their difference for every pair with ``x'`` in
    ``[lo1, hi1]``, ``x''`` in ``[lo2, hi2]`` and ``x' - x''`` in ``[dlo, dhi]``.

    The boxes are ``(d,)`` for one problem or ``(n, d)`` for a batch (every argument
    broadcast to the batch); ``blocks`` are the domain's one-hot blocks (a column with upper
    bound at most 1/2 is not the block's active one). ``method`` is ``"symbolic"``
    (back-substitution, intersected with intervals) or ``"interval"``.

    ``signs`` (ReLU splitting, as in the branch and bound of Bunel et al., JMLR 2020, §5)
    restricts the pairs further to those whose hidden pre-activations have fixed signs:
    ``signs[c][k]`` is an ``(n, width_k)`` array per copy ``c`` and hidden layer ``k`` of
    +1 (``φ ≥ 0``), -1 (``φ ≤ 0``) or 0 (free). The split neurons' bounds are narrowed to
    their side before the next layer's relaxation uses them, which is sound for the
    restricted set; a row whose signs no pair meets is :attr:`PairBounds.empty`.
    """
    if method not in METHODS:
        raise InvalidValueError(f"method must be one of {METHODS}, got {method!r}")
    arrs = [np.asarray(a, dtype=np.float64) for a in (lo1, hi1, lo2, hi2, dlo, dhi)]
    batched = any(a.ndim == 2 for a in arrs) or signs is not None
    d = spec.in_features
    n = max(a.shape[0] if a.ndim == 2 else 1 for a in arrs)
    if signs is not None:
        n = max([n, *(np.atleast_2d(a).shape[0] for sc in signs for a in sc)])
    for name, a in zip(("lo1", "hi1", "lo2", "hi2", "dlo", "dhi"), arrs, strict=True):
        if a.shape[-1] != d:
            raise InvalidValueError(
                f"{name} has {a.shape[-1]} columns; the network takes {d} inputs"
            )
    arrs = [np.broadcast_to(a, (n, d)) for a in arrs]
    if np.any(arrs[0] > arrs[1]) or np.any(arrs[2] > arrs[3]) or np.any(arrs[4] > arrs[5]):
        raise InvalidValueError("a box has a lower bound above its upper bound")
    if signs is not None:
        hidden = len(spec.weights) - 1
        if len(signs) != 2 or any(len(sc) != hidden for sc in signs):
            raise InvalidValueError(
                f"signs must hold, for each of the 2 copies, one array per hidden layer ({hidden})"
            )
    parts = [
        _chunk(
            spec,
            tuple(a[s : s + CHUNK] for a in arrs),
            tuple(blocks),
            method,
            None
            if signs is None
            else tuple(
                [np.broadcast_to(a, (n, a.shape[-1]))[s : s + CHUNK] for a in sc] for sc in signs
            ),
        )
        for s in range(0, n, CHUNK)
    ]
    layers = [
        LayerBounds(*(np.concatenate([getattr(p[0][i], f) for p in parts]) for f in _FIELDS))
        for i in range(len(parts[0][0]))
    ]
    slack = None
    if parts[0][2] is not None:
        slack = tuple(
            [np.concatenate([p[2][side][j] for p in parts]) for j in range(len(parts[0][2][0]))]
            for side in (0, 1)
        )
    return PairBounds(spec, layers, batched, np.concatenate([p[1] for p in parts]), slack)


_FIELDS = ("L1", "U1", "L2", "U2", "dL", "dU")


def copy_bounds(
    spec: NetSpec,
    lo: np.ndarray,
    hi: np.ndarray,
    blocks: Blocks = (),
    *,
    method: str = "symbolic",
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sound bounds ``(L, U)`` on every layer's pre-activations (the last: the logit) of one
    copy, for inputs in the boxes ``[lo, hi]`` (rows: ``(n, d)``, or ``(d,)``) with one-hot
    ``blocks``; padded by the floating-point margin. Each entry is ``(n, width)``."""
    if method not in METHODS:
        raise InvalidValueError(f"method must be one of {METHODS}, got {method!r}")
    lo = np.atleast_2d(np.asarray(lo, dtype=np.float64))
    hi = np.atleast_2d(np.asarray(hi, dtype=np.float64))
    if lo.shape != hi.shape or lo.shape[1] != spec.in_features:
        raise InvalidValueError(
            f"lo {lo.shape} and hi {hi.shape} must be (n, {spec.in_features}) boxes"
        )
    parts = [
        _copy(spec, lo[s : s + CHUNK], hi[s : s + CHUNK], tuple(blocks), method)
        for s in range(0, lo.shape[0], CHUNK)
    ]
    return [
        (np.concatenate([p[i][0] for p in parts]), np.concatenate([p[i][1] for p in parts]))
        for i in range(len(parts[0]))
    ]


def _copy(
    spec: NetSpec, lo: np.ndarray, hi: np.ndarray, blocks: Blocks, method: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    n = lo.shape[0]
    act = activation(spec.activation)
    post = (lo, hi)
    lines: list[tuple[np.ndarray, ...]] = []
    out = []
    for li in range(len(spec.weights)):
        L, U = _copy_layer(spec, li, post, (lo, hi), lines, blocks, method == "symbolic", n)
        out.append((L, U))
        if li == len(spec.weights) - 1:
            break
        post = act.interval(L, U)
        if method == "symbolic":
            lines.append(act.linear_bounds(L, U))
    return out


def _copy_layer(
    spec: NetSpec,
    li: int,
    post: tuple[np.ndarray, np.ndarray],
    box: tuple[np.ndarray, np.ndarray],
    lines: list[tuple[np.ndarray, ...]],
    blocks: Blocks,
    symbolic: bool,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Layer ``li``'s pre-activation bounds of one copy: interval arithmetic from the
    previous layer's output box ``post``, intersected with back-substitution to the input
    ``box`` (the first layer: exact over the box and its one-hot blocks); padded."""
    W, b = spec.weights[li], spec.biases[li]
    plo, phi = post
    if li == 0:
        A = np.broadcast_to(W, (n, *W.shape))
        U = _box_max(A, plo, phi, blocks) + b
        L = -_box_max(-A, plo, phi, blocks) + b
    else:
        Wp, Wn = np.maximum(W, 0.0), np.minimum(W, 0.0)
        U = phi @ Wp.T + plo @ Wn.T + b
        L = plo @ Wp.T + phi @ Wn.T + b
        if symbolic:
            lam, const = _back(spec, li, lines, True, n, True)
            U = np.minimum(U, _box_max(lam, *box, blocks) + const)
            lam, const = _back(spec, li, lines, False, n, True)
            L = np.maximum(L, -(_box_max(lam, *box, blocks) + const))
    return _pad(L, U)
