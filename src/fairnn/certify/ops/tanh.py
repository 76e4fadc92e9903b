"""The hyperbolic tangent: a hidden activation and an output head."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from fairnn.certify.ops.base import register
from fairnn.certify.ops.sshaped import SShaped

if TYPE_CHECKING:
    import torch


@register
class Tanh(SShaped):
    name = "tanh"
    #: |tanh''| <= 0.77 against |σ''| <= 0.097: a √8 times finer refinement grid
    step_divisor = math.sqrt(8.0)

    def value(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def torch_value(self, t: torch.Tensor) -> torch.Tensor:
        return t.tanh()

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """``tanh' = 1 - tanh²`` (at most 1, at 0)."""
        g = self.value(z)
        return 1 - g * g

    def inverse(self, v: np.ndarray) -> np.ndarray:
        return np.arctanh(np.clip(v, -1 + 1e-16, 1 - 1e-16))

    def slope_points(self, s: float) -> list[float]:
        """``1 - tanh² = s`` at ``z = ±atanh(√(1 - s))`` (for ``0 < s ≤ 1``)."""
        out: list[float] = []
        if 0 < s <= 1:
            r = math.sqrt(max(1 - s, 0.0))
            if r < 1:
                out += [math.atanh(r), -math.atanh(r)]
        return out
