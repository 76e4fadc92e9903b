"""Differentiable fairness penalties computed on a batch.

Each penalty reuses the torch twin of a metric in :mod:`fairnn.metrics`, so a
penalty and the number it is meant to shrink share one definition.
"""

from __future__ import annotations

from typing import Literal

import torch

from fairnn.metrics.differentiable import dp_gap_soft, eodds_gap_sum_soft

Mode = Literal["dp", "eo"]


def gap_penalty(
    scores: torch.Tensor,
    y: torch.Tensor,
    s: torch.Tensor,
    mode: Mode,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """The soft gap of ``scores`` between groups.

    ``dp``: |mean f over one group − mean over another|, max over group pairs.
    ``eo``: the same gap within y=0 and within y=1, summed (RUNNER's and Fair
    Mixup's GapReg-EO).
    """
    if mode == "dp":
        return dp_gap_soft(scores, s, weight=weight)
    return eodds_gap_sum_soft(scores, y, s, weight=weight)
