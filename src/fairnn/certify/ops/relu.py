"""ReLU: ``max(z, 0)``, encoded exactly with big-M and one binary per unstable neuron.

**Per copy** (the per-copy bounds ``L ≤ φ ≤ U`` of :mod:`fairnn.certify.bounds` give the
big-M constants): a stable neuron needs no binary (``L ≥ 0``: ``ζ = φ``; ``U ≤ 0``:
``ζ = 0``); an unstable one gets ``β ∈ {0, 1}`` and ``ζ ≥ φ``, ``ζ ≤ φ - L(1 - β)``,
``ζ ≤ Uβ``, ``ζ ≥ 0``, which hold exactly for ``ζ = max(φ, 0)``, ``β = [φ > 0]``.

**Between two copies** (relational rows, ``coupling``): ``Δζ = ζ' - ζ''`` lies between 0
and ``Δφ`` (ReLU is monotone and 1-Lipschitz), written as the two chords of that
bow-tie over ``[dL, dU]`` and four rows with the two binaries (``β' = 1 ⇒ Δζ ≤ Δφ``,
``β' = 0 ⇒ Δζ ≤ 0``, ``β'' = 1 ⇒ Δζ ≥ Δφ``, ``β'' = 0 ⇒ Δζ ≥ 0``), each checked case by
case to hold for every activation pattern. With ``cross_cuts``, ``φ'' ∈ [φ' - dU, φ' -
dL]`` gives ``φ' > dU ⇒ β'' = 1`` and ``φ' < dL ⇒ β'' = 0`` (and the mirror), as rows
linear in ``φ'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fairnn.certify.milp import INF
from fairnn.certify.ops.base import Activation, NeuronLayer, register

if TYPE_CHECKING:
    import torch


@register
class ReLU(Activation):
    name = "relu"
    piecewise_linear = True

    def value(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)

    def torch_value(self, t: torch.Tensor) -> torch.Tensor:
        return t.relu()

    def derivative(self, z: np.ndarray) -> np.ndarray:
        return (z > 0).astype(np.float64)

    def slope_range(self, L: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (L >= 0).astype(np.float64), (U > 0).astype(np.float64)

    def stable(self, L: np.ndarray, U: np.ndarray) -> np.ndarray:
        return (L >= 0) | (U <= 0)

    def pair_diff_interval(self, L1, U1, L2, U2, dL, dU):
        """The generic bounds, narrowed by each copy's known phase (see
        :meth:`pair_diff_lines`): ``Δζ ≤ Δ`` where copy 1 is active, ``≤ 0`` where it is
        inactive, ``≥ Δ`` where copy 2 is active, ``≥ 0`` where it is inactive."""
        lo, hi = super().pair_diff_interval(L1, U1, L2, U2, dL, dU)
        hi = np.where(L1 >= 0, np.minimum(hi, dU), np.where(U1 <= 0, np.minimum(hi, 0.0), hi))
        lo = np.where(L2 >= 0, np.maximum(lo, dL), np.where(U2 <= 0, np.maximum(lo, 0.0), lo))
        return lo, hi

    def pair_diff_lines(self, L1, U1, L2, U2, dL, dU):
        """The generic chords, replaced by exact lines where one copy's phase is known: with
        ``a ≥ 0``, ``relu(a) - relu(b) = min(Δ, a) ≤ Δ``; with ``a ≤ 0`` it is
        ``-relu(b) ≤ 0``; with ``b ≥ 0`` it is ``max(Δ, -b) ≥ Δ``; with ``b ≤ 0`` it is
        ``relu(a) ≥ 0``. Each of these lines lies on the right side of the chord it replaces
        over ``[dL, dU]`` (the chords bound ``max(0, Δ)`` from above and ``min(0, Δ)`` from
        below), so it is never looser. Both copies active (or inactive): exact, ``Δ`` (0)."""
        sl, cl, su, cu = super().pair_diff_lines(L1, U1, L2, U2, dL, dU)
        act1, ina1, act2, ina2 = L1 >= 0, U1 <= 0, L2 >= 0, U2 <= 0
        su = np.where(act1, 1.0, np.where(ina1, 0.0, su))
        cu = np.where(act1 | ina1, 0.0, cu)
        sl = np.where(act2, 1.0, np.where(ina2, 0.0, sl))
        cl = np.where(act2 | ina2, 0.0, cl)
        return sl, cl, su, cu

    def linear_bounds(
        self, L: np.ndarray, U: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The triangle relaxation (Ehlers, ATVA 2017; CROWN, Zhang et al., NeurIPS 2018):
        on an unstable neuron the chord ``U(z - L)/(U - L)`` above, and below the line
        through 0 of slope 1 if ``U ≥ -L`` else 0 (the adaptive choice of CROWN); a
        stable neuron is exact."""
        L = np.asarray(L, dtype=np.float64)
        U = np.asarray(U, dtype=np.float64)
        active, inactive = L >= 0, U <= 0
        unstable = ~active & ~inactive
        width = np.where(unstable, U - L, 1.0)
        au = np.where(active, 1.0, np.where(unstable, U / width, 0.0))
        bu = np.where(unstable, -L * U / width, 0.0)
        al = np.where(active, 1.0, np.where(unstable, (U >= -L).astype(np.float64), 0.0))
        return al, np.zeros_like(L), au, bu

    def tighten(self, L: np.ndarray, U: np.ndarray) -> np.ndarray:
        """Only unstable neurons: a stable one is encoded exactly whatever its bounds."""
        return np.flatnonzero((L < 0) & (U > 0))

    def encode(self, layer: NeuronLayer) -> list[np.ndarray]:
        m, phi, L, U, dL, dU = layer.model, layer.phi, layer.L, layer.U, layer.dL, layer.dU
        copies = layer.copies
        active = L >= 0
        inactive = U <= 0
        unstable = np.flatnonzero(~active & ~inactive)
        layer.unstable = int(unstable.size)
        out = []
        betas = []
        zetas = []
        for c in range(copies):
            col = np.where(active, phi[c], -1)
            zeta = m.add_vars(unstable.size, 0.0, np.maximum(U[unstable], 0.0))
            beta = m.add_vars(unstable.size, 0.0, 1.0, True)
            col[unstable] = zeta
            out.append(col)
            betas.append(beta)
            zetas.append(zeta)
            for i, j in enumerate(unstable):
                z, bt, p = int(zeta[i]), int(beta[i]), int(phi[c][j])
                m.add_row([z, p], [1.0, -1.0], 0.0, INF)  # ζ ≥ φ
                m.add_row([z, p, bt], [1.0, -1.0, -L[j]], -INF, -L[j])  # ζ ≤ φ - L(1-β)
                m.add_row([z, bt], [1.0, -U[j]], -INF, 0.0)  # ζ ≤ U β
        if copies == 2 and layer.coupling:
            for i, j in enumerate(unstable):
                z1, z2 = int(zetas[0][i]), int(zetas[1][i])
                p1, p2 = int(phi[0][j]), int(phi[1][j])
                b1, b2 = int(betas[0][i]), int(betas[1][i])
                dl, du = float(dL[j]), float(dU[j])
                lo0, hi0 = min(dl, 0.0), max(du, 0.0)
                m.add_row([z1, z2, p1, p2, b1], [1, -1, -1, 1, -dl], -INF, -dl)
                m.add_row([z1, z2, b1], [1, -1, -hi0], -INF, 0.0)
                m.add_row([z1, z2, b2], [1, -1, -lo0], 0.0, INF)
                m.add_row([z1, z2, p1, p2, b2], [1, -1, -1, 1, -du], -du, INF)
                if dl < 0 < du:
                    w = du - dl
                    m.add_row([z1, z2, p1, p2], [1, -1, -du / w, du / w], -INF, -du * dl / w)
                    m.add_row([z1, z2, p1, p2], [1, -1, dl / w, -dl / w], dl * du / w, INF)
                if layer.cross_cuts:
                    # φ'' ∈ [φ' - dU, φ' - dL]: φ' > dU forces β'' = 1, φ' < dL forces β'' = 0
                    # (and the same with the copies swapped, since φ' ∈ [φ'' + dL, φ'' + dU])
                    Lj, Uj = float(L[j]), float(U[j])
                    for pa, bb, lo_s, hi_s in ((p1, b2, du, dl), (p2, b1, -dl, -du)):
                        if lo_s < Uj:  # β ≥ (φ - lo_s)/(U - lo_s)
                            m.add_row([bb, pa], [Uj - lo_s, -1.0], -lo_s, INF)
                        if hi_s > Lj:  # β ≤ (φ - L)/(hi_s - L)
                            m.add_row([bb, pa], [hi_s - Lj, -1.0], -INF, -Lj)

        li = layer.index

        def fill(st: dict[str, Any]) -> None:
            for c in range(copies):
                ph = st["phi"][c][li][unstable]
                st["vec"][zetas[c]] = np.maximum(ph, 0.0)
                st["vec"][betas[c]] = (ph > 0).astype(np.float64)

        layer.fillers.append(fill)
        return out
