"""The adversary of adversarial debiasing: it predicts the group from the model's output.

Zhang, Lemoine & Mitchell, "Mitigating Unwanted Biases with Adversarial
Learning", AIES 2018, §3-4, as AIF360 implements it: the adversary sees
``σ((1 + |c|) · logit)`` with a learnable ``c``; for demographic parity its
input is that score alone, for equalized odds the score together with
``score · y`` and ``score · (1 − y)``. A linear layer maps the input to one
logit (two groups) or to one logit per group (more than two; softmax). With
``source="representation"`` the adversary reads a hidden representation
instead (FairBiNN's ``adv`` mode), through an MLP of ``hidden`` sizes.

Fairness reprogramming (Zhang et al., NeurIPS 2022, §3.2; the official code's
``Adversary`` and ``Adversary4Z``) uses the same scaled score and adds options:
``n_classes > 1`` reads ``C`` logits through ``softmax((1 + |c|) · logits)`` and, for
EO, appends ``s ⊙ onehot(y)`` (the CelebA code); ``with_logits`` appends the raw
logits, ``with_logits_y`` appends ``logit · y`` and ``logit · (1 − y)``, ``single_y``
appends ``y`` (the Civil Comments code's flags; binary only). ``hidden`` adds ReLU
layers in front of the output layer for either source.
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
        *,
        n_classes: int = 1,
        with_logits: bool = False,
        with_logits_y: bool = False,
        single_y: bool = False,
    ) -> None:
        super().__init__()
        self.mode, self.source, self.n_groups = mode, source, n_groups
        self.n_classes = int(n_classes)
        self.with_logits, self.with_logits_y, self.single_y = with_logits, with_logits_y, single_y
        if self.n_classes > 1 and (with_logits_y or single_y):
            raise ValueError("with_logits_y and single_y need a binary model (one logit)")
        if source == "output":
            self.c = nn.Parameter(torch.ones(1))
            c = self.n_classes
            width = c if mode == "dp" else (3 * c if c == 1 else 2 * c)
            width += c if with_logits else 0
            width += 2 if with_logits_y and mode == "eo" else 0
            width += 1 if single_y and mode == "eo" else 0
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
            return self._output_features(x, y)
        if self.mode == "dp":
            return x
        yy = y.unsqueeze(-1)
        return torch.cat([x, yy, 1 - yy], dim=-1)

    def _output_features(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        scaled = (1 + self.c.abs()) * x
        if self.n_classes > 1:
            s = torch.softmax(scaled, dim=-1)
            logits = x
        else:
            s, logits = torch.sigmoid(scaled).unsqueeze(-1), x.unsqueeze(-1)
        parts = [s]
        if self.mode == "eo":
            if self.n_classes > 1:
                parts.append(s * nn.functional.one_hot(y.long(), self.n_classes).to(s.dtype))
            else:
                yy = y.unsqueeze(-1).to(s.dtype)
                parts += [s * yy, s * (1 - yy)]
        if self.with_logits:
            parts.append(logits)
        if self.mode == "eo" and self.n_classes == 1:
            yy = y.unsqueeze(-1).to(s.dtype)
            if self.with_logits_y:
                parts += [logits * yy, logits * (1 - yy)]
            if self.single_y:
                parts.append(yy)
        return torch.cat(parts, dim=-1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = self.net(self.features(x, y))
        return out.squeeze(-1) if self.n_groups == 2 else out

    def loss(self, x: torch.Tensor, y: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the adversary's group prediction (mean over the batch)."""
        out = self(x, y)
        if self.n_groups == 2:
            return nn.functional.binary_cross_entropy_with_logits(out, s.float())
        return nn.functional.cross_entropy(out, s.long())
