"""The identity ``g(z) = z``: the head of a logit or regression output.

It is not a hidden activation (an affine layer followed by the identity merges into
the next one, so :class:`~fairnn.certify.network.NetSpec` refuses it there); its
encoding, for completeness, is the pre-activation columns themselves (no rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fairnn.certify.ops.base import Activation, NeuronLayer, register

if TYPE_CHECKING:
    import torch


@register
class Identity(Activation):
    name = "identity"
    hidden = False
    head = True
    linear = True
    piecewise_linear = True

    def value(self, x: np.ndarray) -> np.ndarray:
        return x

    def torch_value(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def derivative(self, z: np.ndarray) -> np.ndarray:
        return np.ones_like(z, dtype=np.float64)

    def slope_range(self, L: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.ones_like(L), np.ones_like(L)

    def stable(self, L: np.ndarray, U: np.ndarray) -> np.ndarray:
        return np.ones(np.shape(L), dtype=bool)

    def encode(self, layer: NeuronLayer) -> list[np.ndarray]:
        return [p.copy() for p in layer.phi]

    def pair_bound(self, L: float, U: float, dmax: float) -> float:
        """``a - b ≤ dmax`` (and the pair ``a = b`` gives 0)."""
        return max(dmax, 0.0)
