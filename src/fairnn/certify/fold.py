"""The single-copy MILP of a ReLU network on one piece of a ball, with its stable neurons
folded away.

On a piece of a local certificate's ball (:func:`fairnn.certify.local._pieces`) most
neurons are stable: on fairnn's default Adult model (200-200) a median of 6 of 400 are
not. The full encoding (:mod:`.encoding`) still writes every pre-activation as a column
with its equality row (about 45,000 nonzeros), and HiGHS spends its time presolving them
away (about 30 ms a piece; folded, 1-2 ms). Here they are substituted before the model is
built, as a MIP presolve would. The MILP is the big-M one of Tjeng, Xiao & Tedrake (ICLR
2019, section "Formulating piecewise-linear functions"), where a neuron whose bounds fix
its phase needs no binary: it is linear or zero. Every layer's output is an affine map
``h = A s + c`` of the *signal* columns ``s`` (the free input columns and the outputs
``ζ`` of the unstable neurons so far). A stable active neuron passes ``A_j s + c_j`` on, a
stable inactive one 0; an unstable neuron gets ``ζ ∈ [0, max(U, 0)]``, ``β ∈ {0, 1}``
and the three big-M rows of :mod:`fairnn.certify.ops.relu` with ``φ`` replaced by its
affine map; the logit gets one column ``z`` and one row. The inputs (boxes, integer
grids, one-hot and binary columns, the metric's rows) are the full encoding's own
(:meth:`._Builder.inputs`).

**Soundness.** The per-neuron bounds ``L ≤ φ ≤ U`` are the caller's sound (padded) bounds
on the piece. The folded coefficients are computed in floating point: for every neuron,
:func:`fold_piece` bounds how far ``A s + c`` can be from the exact pre-activation at any
``s`` in the columns' boxes (Higham's ``γ_n`` for each product and sum, the earlier layers'
error carried through ``|W|``, doubled) and widens every row that holds a folded map by
that amount. So every true input of the piece, with ``ζ = max(φ, 0)``, ``β = [φ > 0]``
and ``z`` its true logit, satisfies every row; the model's maximum of ``z`` is at least
the true one (:meth:`~fairnn.certify.encoding.Encoding.assignment` builds that point, and
``tests/certify/test_local_fold.py`` checks it).
"""

from __future__ import annotations

import time

import numpy as np

from fairnn.certify.domain import Domain
from fairnn.certify.encoding import EncodeOptions, Encoding, LayerRecord, _Builder
from fairnn.certify.margin import gamma
from fairnn.certify.metrics import SimilarityMetric
from fairnn.certify.milp import INF
from fairnn.certify.network import NetSpec

__all__ = ["fold_piece", "foldable"]


def foldable(spec: NetSpec, opts: EncodeOptions, lo: np.ndarray, hi: np.ndarray) -> bool:
    """Whether :func:`fold_piece` can build the problem on the boxes ``[lo, hi]``: ReLU
    hidden layers, bounds that the caller computes (symbolic or interval; LP tightening
    needs the full model) and finite boxes (the rounding bound needs ``|x|``)."""
    return (
        spec.activation == "relu"
        and opts.bounds in ("symbolic", "interval")
        and bool(np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)))
    )


def fold_piece(
    spec: NetSpec,
    domain: Domain,
    metric: SimilarityMetric,
    eps: float,
    x0: np.ndarray,
    piece: tuple[np.ndarray, np.ndarray],
    layer_bounds: list[tuple[np.ndarray, np.ndarray]],
    options: EncodeOptions,
) -> Encoding:
    """The single-copy problem around ``x0`` restricted to ``piece`` (see the module
    docstring), with no objective. ``layer_bounds`` are sound ``(L, U)`` on every layer's
    pre-activations over the piece (the last: the logit), as
    :func:`fairnn.certify.symbolic.copy_bounds` gives them."""
    t0 = time.perf_counter()
    b = _Builder(spec, domain, metric, eps, x0, options, piece)
    b.inputs()
    m = b.m
    xcols = b.x[0]
    lo, hi = m.lb[xcols], m.ub[xcols]
    free = lo < hi
    sig = xcols[free]  # the signal columns
    mag = np.maximum(np.abs(lo[free]), np.abs(hi[free]))  # |s| on their boxes
    fixed = np.where(free, 0.0, lo)
    W0, b0 = spec.weights[0], spec.biases[0]
    A = W0[:, free]
    c = W0 @ fixed + b0
    err = 2.0 * gamma(W0.shape[1] + 1) * (np.abs(W0) @ np.abs(fixed) + np.abs(b0))
    records: list[LayerRecord] = []
    unstable_all: list[np.ndarray] = []
    zetas: list[np.ndarray] = []
    betas: list[np.ndarray] = []
    n_layers = len(spec.weights)
    for li in range(1, n_layers):
        L, U = (np.asarray(v, dtype=np.float64) for v in layer_bounds[li - 1])
        active, inactive = L >= 0, U <= 0
        unst = np.flatnonzero(~active & ~inactive)
        zeta = m.add_vars(unst.size, 0.0, np.maximum(U[unst], 0.0))
        beta = m.add_vars(unst.size, 0.0, 1.0, True)
        k = unst.size
        if k:
            # rows over [ζ (k), β (k), s]: ζ - φ >= 0; ζ - φ - Lβ <= -L; ζ - Uβ <= 0
            eye = np.eye(k)
            Au = A[unst]
            blk = np.vstack(
                [
                    np.hstack([eye, np.zeros((k, k)), -Au]),
                    np.hstack([eye, -np.diag(L[unst]), -Au]),
                    np.hstack([eye, -np.diag(U[unst]), np.zeros_like(Au)]),
                ]
            )
            cu, eu = c[unst], err[unst]
            row_lo = np.concatenate([cu - eu, np.full(k, -INF), np.full(k, -INF)])
            row_hi = np.concatenate([np.full(k, INF), cu - L[unst] + eu, np.zeros(k)])
            m.add_rows(blk, np.concatenate([zeta, beta, sig]), row_lo, row_hi)
        records.append(LayerRecord("relu", L.copy(), U.copy(), None, None, int(k)))
        unstable_all.append(unst)
        zetas.append(zeta)
        betas.append(beta)
        # the layer's output h = H s' + g over the signal columns s' = [s, ζ]
        W, bias = spec.weights[li], spec.biases[li]
        Wa = W[:, active]
        Aa, ca, ea = A[active], c[active], err[active]
        absW = np.abs(Wa)
        A = np.hstack([Wa @ Aa, W[:, unst]])
        c = Wa @ ca + bias
        n_terms = int(active.sum()) + k + 1
        err = absW @ ea + 2.0 * gamma(n_terms) * (
            absW @ (np.abs(Aa) @ mag) + absW @ np.abs(ca) + np.abs(bias)
        )
        sig = np.concatenate([sig, zeta])
        mag = np.concatenate([mag, np.maximum(U[unst], 0.0)])
    zL, zU = (float(np.asarray(v).ravel()[0]) for v in layer_bounds[-1])
    z = m.add_var(zL, zU)
    m.add_row(
        np.concatenate([[z], sig]),
        np.concatenate([[1.0], -A[0]]),
        float(c[0] - err[0]),
        float(c[0] + err[0]),
    )

    def fill(st: dict) -> None:
        vec = st["vec"]
        for li, (unst, zeta, beta) in enumerate(zip(unstable_all, zetas, betas, strict=True)):
            ph = st["phi"][0][li][unst]
            vec[zeta] = np.maximum(ph, 0.0)
            vec[beta] = (ph > 0).astype(np.float64)
        vec[z] = st["z"][0]

    b.fillers.append(fill)
    return Encoding(
        model=m,
        spec=spec,
        x=b.x,
        z=[int(z)],
        layers=records,
        z_bounds=(zL, zU),
        dz_bounds=None,
        build_s=time.perf_counter() - t0,
        fillers=b.fillers,
        x0=b.x0,
        options=options,
    )
