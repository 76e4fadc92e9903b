"""The MILP encoding of one or two copies of a network.

A **global** certificate maximises ``f(x') - f(x'')`` over pairs in the domain
with ``d(x', x'') ≤ ε``; the problem is symmetric in the two copies, so this
maximum is the maximum of ``|f(x') - f(x'')|``. A **local** certificate fixes
one member of the pair at a centre ``x0`` and needs only one copy: because
``f`` is monotone in the logit ``z``, the extremes of ``z`` over the ball give δ
exactly.

What is encoded, and why each piece is sound (every true input, or pair, has an
assignment of the auxiliary variables that satisfies every row; the MILP
maximum is therefore at least the true maximum):

* **Inputs** (:mod:`fairnn.certify.domain`): boxes, binary and one-hot columns
  as 0/1 variables with one row per block, exact integers through an integer
  variable ``k`` and ``x = origin + step·k``, immutable columns equal across the
  pair.
* **Metric** (:mod:`fairnn.certify.metrics`): ℓ∞ as a box, ℓ1 by splitting
  ``AΔ = p - n``, ℓ2 by the Ben-Tal–Nemirovski polyhedral tree (or Benussi's box
  of the ellipsoid, ``l2_encoding="box"``). Per-feature bounds ``|Δ_j| ≤ r_j``
  implied by the metric are added as rows; a discrete column whose ``r_j`` is
  below its step cannot change, and is tied across the pair.
* **Affine layers**: equality rows.
* **Activations** (:mod:`fairnn.certify.ops`, one class per activation, each
  with its own soundness argument): each hidden layer is encoded by its op,
  using the per-copy bounds ``L ≤ φ ≤ U`` and the difference bounds of
  :mod:`fairnn.certify.bounds`: ReLU exactly by big-M with relational rows
  between the copies (:mod:`~fairnn.certify.ops.relu`), sigmoid and tanh between
  sound piecewise-linear envelopes (:mod:`~fairnn.certify.ops.sshaped`).
* **The head** (sigmoid or tanh, pairs): the same envelopes, the first copy on
  the upper envelope and the second on the lower, so the objective bounds
  ``σ(z') - σ(z'')`` from above; or the difference bound of
  :meth:`_Builder._difference_head`; a linear head (identity) is ``z' - z''``.
* **Symmetry**: with two copies the row ``z' ≥ z''`` is added; some maximiser
  satisfies it (swap the pair otherwise), so the maximum is unchanged.

:meth:`Encoding.assignment` builds the full variable vector of given inputs; the
soundness tests check that it satisfies every row.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from fairnn.certify import bounds as B
from fairnn.certify.domain import Domain
from fairnn.certify.margin import pad_up
from fairnn.certify.metrics import L2_LEVELS, SimilarityMetric
from fairnn.certify.milp import INF, MilpModel
from fairnn.certify.network import NetSpec
from fairnn.certify.ops import Activation, NeuronLayer, SShaped, activation
from fairnn.certify.ops.pwl import (
    DEFAULT_M,
    PWL_MARGIN,
    fill_incremental,
    fill_sos2,
    incremental,
    pwl_eval,
    sos2,
)
from fairnn.errors import InvalidValueError

__all__ = [
    "DEFAULT_M",
    "PWL_MARGIN",
    "EncodeOptions",
    "Encoding",
    "LayerRecord",
    "encode",
    "pwl_envelope",
    "pwl_eval",
    "pwl_grid",
    "rehead",
    "sigmoid_pair_bound",
]


# -- piecewise-linear envelopes, by activation name ---------------------------------------
def _sshaped(kind: str) -> SShaped:
    op = activation(kind)
    if not isinstance(op, SShaped):
        raise InvalidValueError(f"{kind} has no piecewise-linear envelope (sigmoid or tanh)")
    return op


def pwl_grid(
    kind: str, L: float, U: float, M: int = DEFAULT_M, extra: Sequence[float] = ()
) -> np.ndarray:
    """Breakpoints on ``[L, U]``: ``2M + 1`` uniform in value, split at 0, plus ``extra``
    (:meth:`fairnn.certify.ops.SShaped.grid`)."""
    return _sshaped(kind).grid(L, U, M, extra)


def pwl_envelope(kind: str, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values of the sound lower and upper piecewise-linear envelopes at the breakpoints
    (:meth:`fairnn.certify.ops.SShaped.envelope`)."""
    return _sshaped(kind).envelope(grid)


def sigmoid_pair_bound(kind: str, L: float, U: float, dmax: float) -> float:
    """``max g(a) - g(b)`` over ``a, b ∈ [L, U]``, ``0 ≤ a - b ≤ dmax`` (closed form;
    :meth:`fairnn.certify.ops.Activation.pair_bound`)."""
    return activation(kind).pair_bound(L, U, dmax)


# -- the encoding ------------------------------------------------------------------------
@dataclass
class EncodeOptions:
    """How the problem is built (see the module docstring)."""

    #: interval | symbolic (back-substitution, :mod:`.symbolic`) | lp (symbolic, then LP)
    bounds: str = "lp"
    M: int = DEFAULT_M  # output head grid: 2M + 1 breakpoints
    hidden_M: int = DEFAULT_M
    l2_levels: int = L2_LEVELS
    l2_encoding: str = "btn"  # btn | box
    coupling: bool = True
    cross_cuts: bool = True
    symmetry: bool = True
    head_extra: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
    head_encoding: str = "auto"  # auto | difference | envelopes | both
    threads: int | None = None
    #: seconds the LP tightening may take in all; neurons left when it runs out keep their
    #: interval bounds (sound, looser). None: no limit.
    bounds_time_limit: float | None = None

    @classmethod
    def published(cls, **overrides: Any) -> EncodeOptions:
        """Benussi et al.'s encoding as coded: LP bounds per neuron, plain big-M (no
        relational rows, no symmetry row), the sigmoid head as convex-combination weights
        with a binary per segment on a 2M+1 grid, the Mahalanobis ball by its bounding box."""
        base: dict[str, Any] = dict(
            bounds="lp",
            coupling=False,
            cross_cuts=False,
            symmetry=False,
            head_encoding="sos2",
            l2_encoding="box",
        )
        base.update(overrides)
        return cls(**base)

    def __post_init__(self) -> None:
        if self.bounds not in ("lp", "symbolic", "interval"):
            raise InvalidValueError(
                f"bounds must be 'lp', 'symbolic' or 'interval', got {self.bounds!r}"
            )
        if self.l2_encoding not in ("btn", "box"):
            raise InvalidValueError(f"l2_encoding must be 'btn' or 'box', got {self.l2_encoding!r}")
        if self.head_encoding not in ("auto", "difference", "envelopes", "both", "sos2"):
            raise InvalidValueError(
                "head_encoding must be auto, difference, envelopes, both or sos2, got "
                f"{self.head_encoding!r}"
            )
        if self.M < 1 or self.hidden_M < 1:
            raise InvalidValueError("M must be >= 1")


@dataclass
class LayerRecord:
    kind: str
    L: np.ndarray
    U: np.ndarray
    dL: np.ndarray | None
    dU: np.ndarray | None
    unstable: int = 0


@dataclass
class Encoding:
    """A built problem: the model, where the inputs and logits live, and the bounds used."""

    model: MilpModel
    spec: NetSpec
    x: list[np.ndarray]
    z: list[int]
    layers: list[LayerRecord]
    z_bounds: tuple[float, float]
    dz_bounds: tuple[float, float] | None
    head_grid: np.ndarray | None = None
    head_lower: np.ndarray | None = None
    head_upper: np.ndarray | None = None
    lp_solves: int = 0
    build_s: float = 0.0
    bounds_s: float = 0.0
    fillers: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)
    x0: np.ndarray | None = None
    body: MilpModel | None = None
    body_fillers: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)
    options: EncodeOptions | None = None

    @property
    def pair(self) -> bool:
        return len(self.x) == 2

    def assignment(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        """The full variable vector of given inputs (one per copy): a feasible point."""
        spec = self.spec
        act = activation(spec.activation)
        st: dict[str, Any] = {"vec": np.zeros(self.model.n_vars), "x": [], "phi": [], "z": []}
        for x in xs:
            h = np.asarray(x, dtype=np.float64)
            phis = []
            for W, b in zip(spec.weights[:-1], spec.biases[:-1], strict=True):
                phi = W @ h + b
                phis.append(phi)
                h = act.value(phi)
            st["x"].append(np.asarray(x, dtype=np.float64))
            st["phi"].append(phis)
            st["z"].append(float(spec.weights[-1][0] @ h + spec.biases[-1][0]))
        for fill in self.fillers:
            fill(st)
        return st["vec"]

    def relaxation_bound(self) -> float:
        """A bound on the objective proven by the bounds alone (no MILP), widened by the
        floating-point margin (:func:`~fairnn.certify.margin.pad_up`): the interval bounds
        can be exact (the maximum at a corner of the box), and a real forward pass rounds
        differently."""
        if not self.pair:
            raise InvalidValueError("only a pair encoding has a relaxation bound on f' - f''")
        assert self.dz_bounds is not None
        return pad_up(activation(self.spec.head).pair_bound(*self.z_bounds, self.dz_bounds[1]))

    def size(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.model.size())
        # only ReLU layers have neurons that need a binary (the key keeps its name)
        out["unstable_relu"] = int(sum(r.unstable for r in self.layers))
        out["lp_solves"] = self.lp_solves
        return out


class _Builder:
    def __init__(
        self,
        spec: NetSpec,
        domain: Domain,
        metric: SimilarityMetric,
        eps: float,
        x0: np.ndarray | None,
        opts: EncodeOptions,
        piece: tuple[np.ndarray, np.ndarray] | None = None,
        pair_boxes: tuple[tuple[np.ndarray, np.ndarray], ...] | None = None,
    ) -> None:
        if spec.in_features != domain.dim:
            raise InvalidValueError(
                f"the network takes {spec.in_features} inputs but the domain has {domain.dim} features"
            )
        if metric.dim != domain.dim:
            raise InvalidValueError(
                f"the metric is defined on {metric.dim} features but the domain has {domain.dim}"
            )
        if not (eps >= 0 and math.isfinite(eps)):
            raise InvalidValueError(f"eps must be a finite number >= 0, got {eps}")
        self.spec, self.dom, self.metric, self.eps, self.opts = (
            spec,
            domain,
            metric,
            float(eps),
            opts,
        )
        self.x0 = None if x0 is None else np.asarray(x0, dtype=np.float64)
        self.copies = 1 if x0 is not None else 2
        self.piece = piece
        self.pair_boxes = pair_boxes
        #: LP tightening runs
        self._lp = opts.bounds == "lp"
        self.m = MilpModel()
        self.fillers: list[Callable[[dict[str, Any]], None]] = []
        self.lp_solves = 0
        self.bounds_s = 0.0

    # -- inputs -----------------------------------------------------------------------
    def inputs(self) -> None:
        m, dom = self.m, self.dom
        dlo, dhi = B.delta_box(dom, self.metric, self.eps)
        self.dbox = (dlo, dhi)
        if self.x0 is not None:
            lo, hi = B.ball_box(dom, self.x0, dlo, dhi)
            if self.piece is not None:  # a part of the ball (bounds of the caller's split)
                lo, hi = np.maximum(lo, self.piece[0]), np.minimum(hi, self.piece[1])
                if np.any(lo > hi):
                    raise InvalidValueError("the piece does not meet the ball around x0")
            boxes = [(lo, hi)]
        elif self.pair_boxes is not None:  # one box per copy, inside the domain
            boxes = [
                (np.maximum(dom.lower, lo), np.minimum(dom.upper, hi)) for lo, hi in self.pair_boxes
            ]
            if any(np.any(lo > hi) for lo, hi in boxes):
                raise InvalidValueError("a copy's box does not meet the domain")
        else:
            boxes = [(dom.lower.copy(), dom.upper.copy())] * 2
        self.boxes = boxes
        self.x: list[np.ndarray] = []
        for c, (lo, hi) in enumerate(boxes):
            is_int = np.array(
                [
                    k in ("binary", "onehot") and lo[j] == 0.0 and hi[j] == 1.0
                    for j, k in enumerate(dom.kind)
                ]
            )
            x = m.add_vars(dom.dim, lo, hi, is_int)
            self.x.append(x)
            for j, k in enumerate(dom.kind):
                if k in ("binary", "onehot") and not is_int[j] and hi[j] > lo[j]:
                    bj = m.add_var(0, 1, True)
                    m.add_row([x[j], bj], [1.0, -(hi[j] - lo[j])], lo[j], lo[j])
                    self._fill_aux_binary(c, j, bj, lo[j], hi[j])
                elif k == "integer" and hi[j] > lo[j]:
                    org, stp = dom.int_origin[j], dom.int_step[j]
                    klo = math.ceil((lo[j] - org) / stp - 1e-7)
                    khi = math.floor((hi[j] - org) / stp + 1e-7)
                    kj = m.add_var(klo, khi, True)
                    m.add_row([x[j], kj], [1.0, -stp], org, org)
                    self._fill_int(c, j, kj, org, stp)
            for blk in dom.blocks:
                m.add_row(x[list(blk)], np.ones(len(blk)), 1.0, 1.0)

        def fill_x(st: dict[str, Any]) -> None:
            for c, xv in enumerate(st["x"]):
                st["vec"][self.x[c]] = xv

        self.fillers.append(fill_x)
        if self.copies == 2:
            tied = np.flatnonzero((dlo == 0) & (dhi == 0))
            loose = np.flatnonzero(
                ~((dlo == 0) & (dhi == 0)) & (np.isfinite(dlo) | np.isfinite(dhi))
            )
            x1, x2 = self.x
            for j in tied:
                m.add_row([x1[j], x2[j]], [1.0, -1.0], 0.0, 0.0)
            tight = [j for j in loose if dhi[j] < dom.upper[j] - dom.lower[j]]
            for j in tight:
                m.add_row([x1[j], x2[j]], [1.0, -1.0], dlo[j], dhi[j])
        self.metric_rows()

    def _fill_aux_binary(self, c: int, j: int, col: int, lo: float, hi: float) -> None:
        def fill(st: dict[str, Any]) -> None:
            st["vec"][col] = round((st["x"][c][j] - lo) / (hi - lo))

        self.fillers.append(fill)

    def _fill_int(self, c: int, j: int, col: int, org: float, stp: float) -> None:
        def fill(st: dict[str, Any]) -> None:
            st["vec"][col] = round((st["x"][c][j] - org) / stp)

        self.fillers.append(fill)

    # -- the metric ---------------------------------------------------------------------
    def _delta_rows(self, A: np.ndarray, extra_cols: np.ndarray, extra_vals: np.ndarray, lo, hi):
        """Rows ``lo ≤ A Δ + extra ≤ hi`` with Δ = x' - x'' (or x - x0)."""
        m = self.m
        if self.copies == 2:
            cols = np.concatenate([self.x[0], self.x[1]])
            AA = np.hstack([A, -A])
            shift = np.zeros(A.shape[0])
        else:
            cols = self.x[0]
            AA = A
            shift = A @ self.x0
        if extra_cols.size:
            AA = np.hstack([AA, extra_vals])
            cols = np.concatenate([cols, extra_cols])
        return m.add_rows(AA, cols, np.asarray(lo) + shift, np.asarray(hi) + shift)

    def _delta_values(self, st: dict[str, Any]) -> np.ndarray:
        if self.copies == 2:
            return st["x"][0] - st["x"][1]
        return st["x"][0] - self.x0

    def metric_rows(self) -> None:
        met, eps, m = self.metric, self.eps, self.m
        A = met.matrix
        k = A.shape[0]
        if k == 0:
            return
        none = np.zeros(0, dtype=np.int64)
        if met.norm == "linf":
            if met.is_diagonal:
                return  # |w_j Δ_j| <= eps is the Δ box (pair rows or the local variable box)
            self._delta_rows(A, none, np.zeros((k, 0)), -eps, eps)
            return
        if met.norm == "l1":
            p = m.add_vars(k, 0.0, eps)
            n = m.add_vars(k, 0.0, eps)
            ex = np.hstack([-np.eye(k), np.eye(k)])
            self._delta_rows(A, np.concatenate([p, n]), ex, 0.0, 0.0)
            m.add_row(np.concatenate([p, n]), np.ones(2 * k), -INF, eps)

            def fill(st: dict[str, Any]) -> None:
                y = A @ self._delta_values(st)
                st["vec"][p] = np.maximum(y, 0)
                st["vec"][n] = np.maximum(-y, 0)

            self.fillers.append(fill)
            return
        # ℓ2
        if self.opts.l2_encoding == "box" or k == 1:
            self._delta_rows(A, none, np.zeros((k, 0)), -eps, eps)
            return
        if met.null_basis is not None:
            # y = Δ - N t with t free: ||y||_2 <= eps/√c for some t iff ||PΔ|| <= eps/√c
            N = met.null_basis
            d, q = N.shape
            r = eps / math.sqrt(met.level)
            y = m.add_vars(d, -r, r)
            tv = m.add_vars(q, -INF, INF)
            self._delta_rows(
                np.eye(d), np.concatenate([y, tv]), np.hstack([-np.eye(d), -N]), 0.0, 0.0
            )

            def fill_yt(st: dict[str, Any]) -> None:
                dv = self._delta_values(st)
                tt = N.T @ dv
                st["vec"][tv] = tt
                st["vec"][y] = dv - N @ tt

            self.fillers.append(fill_yt)
            eps = r
            k = d
        else:
            y = m.add_vars(k, -eps, eps)
            self._delta_rows(A, y, -np.eye(k), 0.0, 0.0)

            def fill_y(st: dict[str, Any]) -> None:
                st["vec"][y] = A @ self._delta_values(st)

            self.fillers.append(fill_y)
        nodes: list[tuple[int, bool]] = [(int(v), True) for v in y]  # (column, signed?)
        while len(nodes) > 1:
            nxt: list[tuple[int, bool]] = []
            for i in range(0, len(nodes) - 1, 2):
                nxt.append((self._btn(nodes[i][0], nodes[i + 1][0], eps), False))
            if len(nodes) % 2:
                nxt.append(nodes[-1])
            nodes = nxt
        root = nodes[0][0]
        m.set_bounds(np.array([root]), np.array([0.0]), np.array([eps]))

    def _btn(self, a: int, b: int, eps: float) -> int:
        """Ben-Tal–Nemirovski: a column t with ``||(a, b)||_2 ≤ t / cos(π/2^(ν+1))`` and
        every true point feasible with ``t = ||(a, b)||_2`` (``eps`` bounds every node)."""
        m, nu = self.m, self.opts.l2_levels
        xi = m.add_vars(nu + 1, 0.0, eps)
        eta = m.add_vars(nu + 1, 0.0, eps)
        t = m.add_var(0.0, eps)
        m.add_row([xi[0], a], [1.0, -1.0], 0.0, INF)
        m.add_row([xi[0], a], [1.0, 1.0], 0.0, INF)
        m.add_row([eta[0], b], [1.0, -1.0], 0.0, INF)
        m.add_row([eta[0], b], [1.0, 1.0], 0.0, INF)
        for j in range(1, nu + 1):
            th = math.pi / 2 ** (j + 1)
            c, s = math.cos(th), math.sin(th)
            m.add_row([xi[j], xi[j - 1], eta[j - 1]], [1.0, -c, -s], 0.0, 0.0)
            m.add_row([eta[j], xi[j - 1], eta[j - 1]], [1.0, s, -c], 0.0, INF)
            m.add_row([eta[j], xi[j - 1], eta[j - 1]], [1.0, -s, c], 0.0, INF)
        m.add_row([t, xi[nu]], [1.0, -1.0], 0.0, INF)
        m.add_row([eta[nu], xi[nu]], [1.0, -math.tan(math.pi / 2 ** (nu + 1))], -INF, 0.0)

        def fill(st: dict[str, Any]) -> None:
            v = st["vec"]
            va, vb = v[a], v[b]
            cx, cy = abs(va), abs(vb)
            v[xi[0]], v[eta[0]] = cx, cy
            for j in range(1, nu + 1):
                th = math.pi / 2 ** (j + 1)
                c, s = math.cos(th), math.sin(th)
                cx, cy = c * cx + s * cy, abs(-s * cx + c * cy)
                v[xi[j]], v[eta[j]] = cx, cy
            v[t] = math.hypot(va, vb)

        self.fillers.append(fill)
        return t

    # -- layers --------------------------------------------------------------------------
    def _tighten(self, phi: list[np.ndarray], L, U, dL, dU, op: Activation) -> None:
        """LP-tighten the per-copy bounds, then (pairs) the difference bounds, in place."""
        if not self._lp:
            return
        t0 = time.perf_counter()
        tight = B.LpTightener(self.m, self.opts.threads)
        cand = op.tighten(L, U)
        # one domain for both copies: the pair set is symmetric and copy 1 speaks for both;
        # with pair_boxes, L and U are the hull of both copies' ranges
        asym = self.copies == 2 and self.pair_boxes is not None
        copies = phi if asym else phi[:1]
        budget = self.opts.bounds_time_limit
        t_end = math.inf if budget is None else t0 + max(budget - self.bounds_s, 0.0)
        for j in cand:
            if time.perf_counter() > t_end:
                break  # out of time: the rest keep their interval bounds
            ranges = [tight.range(np.array([p[j]]), np.array([1.0])) for p in copies]
            lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
            L[j], U[j] = max(L[j], lo), min(U[j], hi)
            if L[j] > U[j]:  # numerical noise on a (near) fixed value: keep both
                L[j], U[j] = U[j], L[j]
        if asym:
            cols = np.concatenate(phi).astype(np.int32)
            tight.h.changeColsBounds(cols.size, cols, np.tile(L, 2), np.tile(U, 2))
            diff = np.array([1.0, -1.0])
            for j in op.tighten(L, U):
                if time.perf_counter() > t_end:
                    break
                lo, hi = tight.range(np.array([phi[0][j], phi[1][j]]), diff)
                dL[j], dU[j] = max(dL[j], lo), min(dU[j], hi)
        elif self.copies == 2:
            # the pair set is symmetric: copy 2 has copy 1's bounds, and max Δ = -min Δ
            cols = np.concatenate(phi).astype(np.int32)
            tight.h.changeColsBounds(cols.size, cols, np.tile(L, 2), np.tile(U, 2))
            dcand = op.tighten(L, U)
            for j in dcand:
                if time.perf_counter() > t_end:
                    break
                hi = tight.optimise(np.array([phi[0][j], phi[1][j]]), np.array([1.0, -1.0]), True)
                if hi is not None:
                    hi = pad_up(hi)
                    dU[j] = min(dU[j], hi)
                    dL[j] = max(dL[j], -dU[j])
        self.lp_solves += tight.solves
        self.bounds_s += time.perf_counter() - t0

    def layers(self) -> None:
        spec, dom, m = self.spec, self.dom, self.m
        # post-activation bounds of the previous layer, per copy and for the difference
        if self.copies == 1:
            xlo, xhi = m.lb[self.x[0]].copy(), m.ub[self.x[0]].copy()
        else:  # both copies' boxes (with pair_boxes: their hull; bounds hold for both)
            (lo1, hi1), (lo2, hi2) = self.boxes
            xlo, xhi = np.minimum(lo1, lo2), np.maximum(hi1, hi2)
        dlo, dhi = self.dbox
        if self.copies == 1:
            dlo, dhi = np.maximum(dlo, xlo - xhi), np.minimum(dhi, xhi - xlo)
        else:
            dlo, dhi = np.maximum(dlo, lo1 - hi2), np.minimum(dhi, hi1 - lo2)
        prev = [x.copy() for x in self.x]  # column per unit, -1 for a constant 0
        sym = self._symbolic(xlo, xhi, dlo, dhi)
        self.records: list[LayerRecord] = []
        n_layers = len(spec.weights)
        # the last layer is the logit: bounded and tightened as an identity
        hidden, logit = activation(spec.activation), activation("identity")
        for li in range(n_layers):
            W, b = spec.weights[li], spec.biases[li]
            last = li == n_layers - 1
            if li == 0:
                L, U = B.affine_onehot(W, b, xlo, xhi, dom.blocks)
                dL, dU = B.diff_affine_onehot(W, dlo, dhi, dom.blocks)
            else:
                L, U = B.affine(W, b, xlo, xhi)
                dL, dU = B.diff_affine(W, dlo, dhi)
            col_L, col_U = L, U
            if sym is not None:  # both sound: keep the tighter of each
                L, U = np.maximum(L, sym[li][0]), np.minimum(U, sym[li][1])
                dL, dU = np.maximum(dL, sym[li][2]), np.minimum(dU, sym[li][3])
            n = W.shape[0]
            phi = []
            for c in range(self.copies):
                live = prev[c] >= 0
                p = m.add_vars(n, -INF, INF)
                A = np.hstack([np.eye(n), -W[:, live]])
                m.add_rows(A, np.concatenate([p, prev[c][live]]), b, b)
                phi.append(p)
            self._fill_phi(phi, li, last)
            op = logit if last else hidden
            self._tighten(phi, L, U, dL, dU, op)
            for c in range(self.copies):
                # the columns keep the interval bounds unless LP tightening ran: HiGHS is
                # much slower with every column at its tight symbolic bound (docs/certify.md)
                m.set_bounds(phi[c], *((L, U) if self._lp else (col_L, col_U)))
            rec = LayerRecord(op.name, L.copy(), U.copy(), dL.copy(), dU.copy())
            self.records.append(rec)
            if last:
                self.z = [int(p[0]) for p in phi]
                self.z_bounds = (float(L[0]), float(U[0]))
                self.dz_bounds = (float(dL[0]), float(dU[0])) if self.copies == 2 else None
                break
            layer = NeuronLayer(
                m,
                phi,
                L,
                U,
                dL,
                dU,
                li,
                self.fillers,
                coupling=self.opts.coupling,
                cross_cuts=self.opts.cross_cuts,
                M=self.opts.hidden_M,
            )
            prev = op.encode(layer)
            rec.unstable = layer.unstable
            xlo, xhi = op.interval(L, U)
            dlo, dhi = op.diff_interval(L, U, dL, dU)

    def _symbolic(self, xlo, xhi, dlo, dhi) -> list[tuple[np.ndarray, ...]] | None:
        """Per layer ``(L, U, dL, dU)`` by back-substitution (:mod:`.symbolic`) over the
        input box (and, for pairs, the difference box), or None with ``bounds="interval"``."""
        if self.opts.bounds == "interval":
            return None
        from fairnn.certify.symbolic import copy_bounds, pair_bounds

        t0 = time.perf_counter()
        blocks = self.dom.blocks
        if self.copies == 1:
            out = [
                (L[0], U[0], np.full(L.shape[1], -np.inf), np.full(L.shape[1], np.inf))
                for L, U in copy_bounds(self.spec, xlo, xhi, blocks)
            ]
        else:
            (lo1, hi1), (lo2, hi2) = self.boxes
            pb = pair_bounds(self.spec, lo1, hi1, lo2, hi2, dlo, dhi, blocks)
            out = [
                (np.minimum(r.L1, r.L2)[0], np.maximum(r.U1, r.U2)[0], r.dL[0], r.dU[0])
                for r in pb.layers
            ]
        self.bounds_s += time.perf_counter() - t0
        return out

    def _fill_phi(self, phi: list[np.ndarray], li: int, last: bool) -> None:
        def fill(st: dict[str, Any]) -> None:
            for c, p in enumerate(phi):
                st["vec"][p] = st["z"][c] if last else st["phi"][c][li]

        self.fillers.append(fill)

    # -- head and objective --------------------------------------------------------------
    def head(self) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        m, g = self.m, activation(self.spec.head)
        if self.copies == 1:
            return None, None, None
        z1, z2 = self.z
        if self.opts.symmetry:
            m.add_row([z1, z2], [1.0, -1.0], 0.0, INF)
        assert self.dz_bounds is not None
        m.add_row([z1, z2], [1.0, -1.0], -INF, self.dz_bounds[1])
        if g.linear:
            m.set_objective([z1, z2], [1.0, -1.0])
            return None, None, None
        assert isinstance(g, SShaped)
        Lz, Uz = self.z_bounds
        extra = tuple(self.opts.head_extra[0]) + tuple(self.opts.head_extra[1])
        grid = g.grid(Lz, Uz, self.opts.M, extra)
        enc = self.opts.head_encoding
        if not self.opts.symmetry and enc in ("auto", "difference", "both"):
            enc = "envelopes"  # the difference bound needs z' >= z''
        if enc == "auto":
            # the difference bound loses accuracy as the logit gap T grows; past a point
            # the two envelopes are added as a second bound (the smaller one counts)
            T = float(self.dz_bounds[1])
            enc = "difference" if T <= 0.5 else "both"
        lo_v = up_v = None
        if enc == "sos2":
            # Benussi et al.'s formulation: convex-combination weights with one binary
            # per segment, upper envelope on the first copy, lower on the second
            lo_v, up_v = g.envelope(grid)
            lam1, s1 = sos2(m, grid, z1)
            lam2, s2 = sos2(m, grid, z2)
            m.set_objective(np.concatenate([lam1, lam2]), np.concatenate([up_v, -lo_v]))

            def fill_weights(st: dict[str, Any]) -> None:
                fill_sos2(st["vec"], grid, lam1, s1, st["z"][0])
                fill_sos2(st["vec"], grid, lam2, s2, st["z"][1])

            self.fillers.append(fill_weights)
            return grid, lo_v, up_v
        obj_cols: list[np.ndarray] = []
        if enc in ("difference", "both"):
            v = self._difference_head(g, grid)
            obj_cols.append(v)
        if enc in ("envelopes", "both"):
            lo_v, up_v = g.envelope(grid)
            d1, y1 = incremental(m, grid, z1, up_v, "max")
            d2, y2 = incremental(m, grid, z2, lo_v, "min")
            du, dl = np.diff(up_v), np.diff(lo_v)
            env = m.add_var(-INF, INF)
            m.add_row(
                np.concatenate([[env], d1, d2]),
                np.concatenate([[1.0], -du, dl]),
                -INF,
                float(up_v[0] - lo_v[0]),
            )

            def fill(st: dict[str, Any]) -> None:
                fill_incremental(st["vec"], grid, d1, y1, st["z"][0])
                fill_incremental(st["vec"], grid, d2, y2, st["z"][1])
                gz = g.value(np.array(st["z"]))
                st["vec"][env] = float(gz[0] - gz[1])

            self.fillers.append(fill)
            obj_cols.append(np.array([env]))
        if len(obj_cols) == 1:
            m.set_objective(obj_cols[0], np.ones(obj_cols[0].size))
        else:
            # the objective is at most each of the two bounds
            V = m.add_var(-INF, INF)
            for cols in obj_cols:
                m.add_row(
                    np.concatenate([[V], cols]),
                    np.concatenate([[1.0], -np.ones(cols.size)]),
                    -INF,
                    0.0,
                )

            def fill_v(st: dict[str, Any]) -> None:
                gz = g.value(np.array(st["z"]))
                st["vec"][V] = float(gz[0] - gz[1])

            self.fillers.append(fill_v)
            m.set_objective([V], [1.0])
        return grid, lo_v, up_v

    def _difference_head(self, g: SShaped, grid: np.ndarray) -> np.ndarray:
        """Bound ``g(z') - g(z'')`` directly, segment by segment of ``z''``.

        With ``t = z' - z'' ∈ [0, T]`` and ``z''`` in segment ``[a, b]``, both logits
        lie in the window ``W = [a, b + T]``, and (mean value theorem, and the exact
        extremes of ``g(z) - s·z`` on an interval)

        * ``g(z') - g(z'') ≤ S·t`` with ``S`` the largest slope of ``g`` on ``W``;
        * ``g(z') - g(z'') ≤ s·t + (max_W (g - s·z) - min_[a,b] (g - s·z))`` for the
          chord slope ``s`` of ``W``.

        One binary per segment picks the segment of ``z''`` (a disaggregated,
        convex-hull formulation), and the objective is the chosen segment's
        smaller bound. Every true pair satisfies the rows with its own segment
        and ``v`` equal to its true difference.
        """
        m = self.m
        z1, z2 = self.z
        Lz, Uz = self.z_bounds
        T = max(float(self.dz_bounds[1]), 0.0)
        K = grid.size - 1
        a, b = grid[:-1], grid[1:]
        y = m.add_vars(K, 0.0, 1.0, True)
        zz = m.add_vars(K, np.minimum(a, 0.0), np.maximum(b, 0.0))
        tt = m.add_vars(K, 0.0, T)
        v = m.add_vars(K, -INF, INF)
        m.add_row(y, np.ones(K), 1.0, 1.0)
        m.add_row(np.concatenate([zz, [z2]]), np.concatenate([np.ones(K), [-1.0]]), 0.0, 0.0)
        m.add_row(
            np.concatenate([tt, [z1, z2]]), np.concatenate([np.ones(K), [-1.0, 1.0]]), 0.0, 0.0
        )
        for k in range(K):
            wa, wb = a[k], min(b[k] + T, Uz)
            Tk = max(min(T, Uz - a[k]), 0.0)
            S = float(g.max_slope(wa, wb))
            s = (
                0.0
                if wb <= wa
                else float((g.value(np.array([wb]))[0] - g.value(np.array([wa]))[0]) / (wb - wa))
            )
            hi_w = g.dev_range(s, wa, wb)[1]
            lo_s = g.dev_range(s, a[k], b[k])[0]
            C = hi_w - lo_s + PWL_MARGIN
            m.add_row([zz[k], y[k]], [1.0, -a[k]], 0.0, INF)
            m.add_row([zz[k], y[k]], [1.0, -b[k]], -INF, 0.0)
            m.add_row([tt[k], y[k]], [1.0, -Tk], -INF, 0.0)
            m.add_row([v[k], tt[k]], [1.0, -S * (1 + 1e-12)], -INF, 0.0)
            m.add_row([v[k], tt[k], y[k]], [1.0, -s, -C], -INF, 0.0)

        def fill(st: dict[str, Any]) -> None:
            vec = st["vec"]
            za, zb = st["z"]
            k = int(np.clip(np.searchsorted(grid, zb, side="right") - 1, 0, K - 1))
            vec[y] = vec[zz] = vec[tt] = vec[v] = 0.0
            vec[y[k]] = 1.0
            vec[zz[k]] = zb
            vec[tt[k]] = za - zb
            gz = g.value(np.array([za, zb]))
            vec[v[k]] = float(gz[0] - gz[1])

        self.fillers.append(fill)
        return v


def encode(
    spec: NetSpec,
    domain: Domain,
    metric: SimilarityMetric,
    eps: float,
    *,
    x0: np.ndarray | None = None,
    options: EncodeOptions | None = None,
    piece: tuple[np.ndarray, np.ndarray] | None = None,
    pair_boxes: tuple[tuple[np.ndarray, np.ndarray], ...] | None = None,
) -> Encoding:
    """Build the pair problem (``x0=None``) or the single-copy problem around ``x0``.

    The pair problem's objective is the head's bound on ``g(z') - g(z'')``
    (without the head's scale and offset); the single-copy problem has no
    objective (the caller maximises and minimises ``z``). ``piece`` (single copy only), a
    box ``(lo, hi)``, restricts the ball to its part inside the box. ``pair_boxes`` (pairs
    only), ``((lo1, hi1), (lo2, hi2))``, gives each copy its own box (within the domain):
    a part of the pair set, e.g. one category of a switchable block per copy. The pair set
    is then not symmetric: LP tightening bounds both copies (their hull) and both ends of
    each difference; the row
    ``z' ≥ z''`` stays, so the problem bounds the positive part of ``f(x') - f(x'')`` on the
    part, and the mirrored part bounds the other sign.
    """
    if piece is not None and x0 is None:
        raise InvalidValueError("a piece restricts the ball around x0: pass x0 as well")
    if pair_boxes is not None and x0 is not None:
        raise InvalidValueError("pair_boxes split the pair problem: not with x0")
    opts = options or EncodeOptions()
    t0 = time.perf_counter()
    b = _Builder(spec, domain, metric, eps, x0, opts, piece, pair_boxes)
    b.inputs()
    b.layers()
    body = b.m.copy() if b.copies == 2 and not activation(spec.head).linear else None
    body_fillers = list(b.fillers)
    grid, lo_v, up_v = b.head()
    return Encoding(
        model=b.m,
        spec=spec,
        x=b.x,
        z=b.z,
        layers=b.records[:-1],
        z_bounds=b.z_bounds,
        dz_bounds=b.dz_bounds,
        head_grid=grid,
        head_lower=lo_v,
        head_upper=up_v,
        lp_solves=b.lp_solves,
        build_s=time.perf_counter() - t0,
        bounds_s=b.bounds_s,
        fillers=b.fillers,
        x0=b.x0,
        body=body,
        body_fillers=body_fillers,
        options=opts,
    )


def rehead(enc: Encoding, options: EncodeOptions) -> Encoding:
    """The same pair problem with the head rebuilt under ``options`` (a refined grid)."""
    if enc.body is None:
        raise InvalidValueError("only a pair encoding with a sigmoid or tanh head can be re-headed")
    b = object.__new__(_Builder)
    b.spec, b.opts, b.copies = enc.spec, options, 2
    b.m = enc.body.copy()
    b.fillers = list(enc.body_fillers)
    b.z, b.z_bounds, b.dz_bounds = list(enc.z), enc.z_bounds, enc.dz_bounds
    grid, lo_v, up_v = b.head()
    return replace(
        enc,
        model=b.m,
        head_grid=grid,
        head_lower=lo_v,
        head_upper=up_v,
        fillers=b.fillers,
        options=options,
    )
