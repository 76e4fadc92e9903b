"""NNFF's Boston regression model, ``5 + 45 · σ(w·x + b)`` (seed 002), as a module that
describes itself to certification (``certify_spec``; :func:`fairnn.certify.as_network`)."""

from __future__ import annotations

import torch
from torch import nn

from fairnn.certify.network import NetSpec


class SigmoidUnit(nn.Module):
    """``offset + scale · σ(w·x + b)``: the NNFF seed's Boston regression model (5 + 45·σ)."""

    def __init__(self, in_features: int, scale: float = 45.0, offset: float = 5.0) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, 1)
        self.scale = float(scale)
        self.offset = float(offset)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.offset + self.scale * torch.sigmoid(self.linear(x).squeeze(-1))

    def certify_spec(self) -> NetSpec:
        return NetSpec(
            (self.linear.weight.detach().double().cpu().numpy(),),
            (self.linear.bias.detach().double().cpu().numpy(),),
            "relu",
            "sigmoid",
            self.scale,
            self.offset,
        )
