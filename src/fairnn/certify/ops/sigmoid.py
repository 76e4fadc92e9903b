"""The logistic sigmoid ``σ(z) = 1 / (1 + e^{-z})``: a hidden activation and the binary head."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from fairnn.certify.ops.base import register
from fairnn.certify.ops.sshaped import SShaped

if TYPE_CHECKING:
    import torch


@register
class Sigmoid(SShaped):
    name = "sigmoid"

    def value(self, x: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic

    def torch_value(self, t: torch.Tensor) -> torch.Tensor:
        return t.sigmoid()

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """``σ' = σ (1 - σ)`` (at most 1/4, at 0)."""
        g = self.value(z)
        return g * (1 - g)

    def inverse(self, v: np.ndarray) -> np.ndarray:
        v = np.clip(v, 1e-300, 1 - 1e-16)
        return np.log(v) - np.log1p(-v)

    def slope_points(self, s: float) -> list[float]:
        """``σ(1 - σ) = s`` at ``σ = (1 ± √(1 - 4s)) / 2`` (for ``0 < s ≤ 1/4``)."""
        out: list[float] = []
        if 0 < s <= 0.25:
            r = math.sqrt(max(1 - 4 * s, 0.0))
            for gv in ((1 - r) / 2, (1 + r) / 2):
                if 0 < gv < 1:
                    out.append(math.log(gv) - math.log1p(-gv))
        return out
