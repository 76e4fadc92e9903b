"""GapReg: the primary loss plus λ times a differentiable fairness gap.

Chuang & Mroueh, "Fair Mixup: Fairness via Interpolation", ICLR 2021, §3
("gap regularization"), the baseline RUNNER (ICSE 2024) builds on:
``L = BCE + λ · gap``, where gap is the soft DP gap |E f(x|s=a) − E f(x|s=b)|
(max over group pairs) or the soft EO gap (that gap within y=0 and within y=1,
summed). Fair Mixup suggests λ ∈ [0.1, 0.7] for DP and [0.5, 5] for EO on
Adult; RUNNER's README uses λ = 0.3 (DP) and 1.0 (EO).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from fairnn.datasets.core import TabularData
from fairnn.methods.base import Method, MethodParams, register
from fairnn.nn.penalties import gap_penalty
from fairnn.training.hooks import Batch, Forward, LoopState, Plugin


class GapRegParams(MethodParams):
    lam: float = Field(1.0, ge=0, description="λ, the weight of the gap penalty")
    mode: Literal["dp", "eo"] = Field("dp", description="which gap: dp or eo")


class GapPenalty(Plugin):
    """λ · soft gap of the batch's sigmoid outputs between groups."""

    def __init__(self, lam: float, mode: Literal["dp", "eo"]) -> None:
        self.lam, self.mode = lam, mode

    def setup(self, state: LoopState) -> None:
        self.n_groups = state.train.groups.n_groups

    def loss_terms(self, batch: Batch, fwd: Forward, state: LoopState) -> dict[str, torch.Tensor]:
        f = torch.sigmoid(fwd.logits)
        gap = gap_penalty(f, batch.y, batch.s, self.mode, self.n_groups)
        return {f"gap_{self.mode}": self.lam * gap}


@register
class GapReg(Method[GapRegParams]):
    """BCE + λ · gap (Fair Mixup's gap regularization, ICLR 2021, §3)."""

    name = "gapreg"
    fairness_weight = "lam"
    aliases = ("GapReg",)
    stage = "in"
    paper = "Chuang & Mroueh, Fair Mixup, ICLR 2021, §3 (gap regularization)"

    def plugins(self, train: TabularData, val: TabularData | None) -> list[Plugin]:
        p = self.params
        return [GapPenalty(p.lam, p.mode)]
