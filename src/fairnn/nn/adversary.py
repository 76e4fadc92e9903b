"""The adversary of adversarial debiasing: it predicts the group from the model's output.

Zhang, Lemoine & Mitchell, "Mitigating Unwanted Biases with Adversarial
Learning", AIES 2018, §3-4, as AIF360 implements it: the adversary sees
``σ((1 + |c|) · logit)`` with a learnable ``c``; for demographic parity its
input is that score alone, for equalized odds the score together with
``score · y`` and ``score · (1 − y)``. A linear layer maps the input to one
logit (two groups) or to one logit per group (more than two; softmax). With
``source="representation"`` the adversary reads a hidden representation
instead (FairBiNN's ``adv`` mode), through an MLP of ``hidden`` sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

Notion = Literal["dp", "eo"]


class Adversary(nn.Module):
    def __init__(
        self,
        n_groups: int = 2,
        mode: Notion = "dp",
        source: Literal["output", "representation"] = "output",
        in_features: int | None = None,
        hidden: Sequence[int] = (),
    ) -> None:
        super().__init__()
        self.mode, self.source, self.n_groups = mode, source, n_groups
        if source == "output":
            self.c = nn.Parameter(torch.ones(1))
            width = 1 if mode == "dp" else 3
        else:
            if in_features is None:
                raise ValueError("an adversary on a representation needs in_features")
            self.register_parameter("c", None)
            width = in_features + (2 if mode == "eo" else 0)
        layers: list[nn.Module] = []
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1 if n_groups == 2 else n_groups))
        self.net = nn.Sequential(*layers)

    def features(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The adversary's input from model logits ``(n,)`` or a representation ``(n, h)``."""
        if self.source == "output":
            s = torch.sigmoid((1 + self.c.abs()) * x).unsqueeze(-1)
            if self.mode == "dp":
                return s
            yy = y.unsqueeze(-1)
            return torch.cat([s, s * yy, s * (1 - yy)], dim=-1)
        if self.mode == "dp":
            return x
        yy = y.unsqueeze(-1)
        return torch.cat([x, yy, 1 - yy], dim=-1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = self.net(self.features(x, y))
        return out.squeeze(-1) if self.n_groups == 2 else out

    def loss(self, x: torch.Tensor, y: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the adversary's group prediction (mean over the batch)."""
        out = self(x, y)
        if self.n_groups == 2:
            return nn.functional.binary_cross_entropy_with_logits(out, s.float())
        return nn.functional.cross_entropy(out, s.long())
