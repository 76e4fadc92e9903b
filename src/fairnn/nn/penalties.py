"""Differentiable fairness penalties computed on a batch.

Each penalty reuses the torch twins in :mod:`fairnn.metrics.differentiable`,
so a penalty and the number it is meant to shrink share one definition.
"""

from __future__ import annotations

from typing import Literal

import torch

from fairnn.metrics.differentiable import group_means, max_gap

Mode = Literal["dp", "eo"]


def activation_gaps(
    values: torch.Tensor,
    y: torch.Tensor,
    s: torch.Tensor,
    mode: Mode,
    n_groups: int,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-column gap of group means: ``(n,)`` → 0-dim, ``(n, h)`` → ``(h,)``.

    ``dp``: (max − min over groups) of the mean of each column.
    ``eo``: the same within y=0 and within y=1, summed.
    Groups absent from the batch are skipped; with fewer than two present the
    gap is 0. Columns can be scores (GapReg) or hidden activations (RUNNER).
    """
    if mode == "dp":
        return max_gap(*group_means(values, s, n_groups, weight, return_present=True))
    cells = s.long() * 2 + (y > 0.5).long()
    means, present = group_means(values, cells, 2 * n_groups, weight, return_present=True)
    means = means.view(n_groups, 2, *means.shape[1:])
    present = present.view(n_groups, 2)
    return max_gap(means[:, 0], present[:, 0]) + max_gap(means[:, 1], present[:, 1])


def gap_penalty(
    scores: torch.Tensor,
    y: torch.Tensor,
    s: torch.Tensor,
    mode: Mode,
    n_groups: int,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """The soft gap of ``scores`` between groups (0-dim).

    ``dp``: |mean f over one group − mean over another|, max over group pairs
    (:func:`fairnn.metrics.differentiable.dp_gap_soft`). ``eo``: that gap within
    y=0 and within y=1, summed (``eodds_gap_sum_soft``; RUNNER's and Fair
    Mixup's GapReg-EO).
    """
    return activation_gaps(scores, y, s, mode, n_groups, weight)
