"""Differentiable torch twins of the score-based gaps, for penalties in training.

Each function here computes the same quantity as its numpy namesake in
:mod:`fairnn.metrics.functional` (to float precision), but on torch tensors,
on any device, with autograd. They are vectorised: group sums are a one-hot
matrix product (no Python loop over rows or groups, no host sync).

Differences from the numpy versions, on purpose, because a batch is not a
dataset:

* a group absent from the batch (or from a ``y`` cell, or with zero total
  weight there) is **skipped**: it does not enter the max/min, and nothing is
  NaN;
* a gap with fewer than two present groups is ``0`` (no signal), still
  attached to the graph (the numpy version reports NaN and warns);
* no input validation beyond shapes: these run inside the training loop.

``s`` holds integer group ids ``0 .. n_groups - 1`` (a long/int/bool tensor,
or floats holding integers). Pass ``n_groups`` to avoid one device-to-host sync
(``s.max()``) per call.
"""

from __future__ import annotations

import torch
from torch import Tensor

from fairnn.errors import InvalidValueError

__all__ = [
    "dp_gap_soft",
    "eodds_gap_max_soft",
    "eodds_gap_sum_soft",
    "eopp_gap_soft",
    "group_means",
    "max_gap",
]


def _flat(x: Tensor, name: str) -> Tensor:
    if x.dim() == 2 and x.shape[1] == 1:
        return x[:, 0]
    if x.dim() != 1:
        raise InvalidValueError(f"{name} must have shape (n,) or (n, 1); got {tuple(x.shape)}.")
    return x


def _ids(s: Tensor, n: int, device: torch.device) -> Tensor:
    s = _flat(torch.as_tensor(s), "s")
    if s.shape[0] != n:
        raise InvalidValueError(
            f"s and the values must have the same length; s has {s.shape[0]} rows, the values "
            f"have {n}."
        )
    return s.to(device=device, dtype=torch.long)


def group_means(
    values: Tensor,
    s: Tensor,
    n_groups: int | None = None,
    weight: Tensor | None = None,
    *,
    return_present: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Weighted mean of ``values`` per group: ``(n,) -> (G,)`` or ``(n, h) -> (G, h)``.

    ``means[g] = sum_{i: s_i = g} w_i v_i / sum_{i: s_i = g} w_i``. A group with
    no rows (or zero total weight) gets mean 0 and ``present[g] = False``; with
    ``return_present=True`` the function returns ``(means, present)``. ``(n, h)``
    activations give per-neuron group means (for neuron-level gaps).
    """
    if values.dim() not in (1, 2):
        raise InvalidValueError(
            f"values must have shape (n,) or (n, h); got {tuple(values.shape)}."
        )
    n = values.shape[0]
    ids = _ids(s, n, values.device)
    if n_groups is None:
        n_groups = int(ids.max().item()) + 1 if n > 0 else 0
    dtype = values.dtype if values.is_floating_point() else torch.get_default_dtype()
    onehot = torch.nn.functional.one_hot(ids, n_groups).to(dtype)  # (n, G)
    if weight is not None:
        weight = _flat(torch.as_tensor(weight), "weight").to(device=values.device, dtype=dtype)
        if weight.shape[0] != n:
            raise InvalidValueError(
                f"weight and the values must have the same length; weight has "
                f"{weight.shape[0]} rows, the values have {n}."
            )
        onehot = onehot * weight[:, None]
    v = values.to(dtype)
    v2 = v[:, None] if v.dim() == 1 else v
    sums = onehot.T @ v2  # (G, h)
    den = onehot.sum(dim=0)  # (G,)
    present = den > 0
    safe = torch.where(present, den, torch.ones_like(den))
    means = sums / safe[:, None]
    if v.dim() == 1:
        means = means[:, 0]
    return (means, present) if return_present else means


def max_gap(means: Tensor, present: Tensor) -> Tensor:
    """``max - min`` of ``means`` over present groups (per column for ``(G, h)``).

    0 where fewer than two groups are present. Differentiable: the gradient
    flows to the arg-max and arg-min groups.
    """
    mask = present if means.dim() == 1 else present[:, None]
    hi = torch.where(mask, means, torch.full_like(means, -torch.inf)).amax(dim=0)
    lo = torch.where(mask, means, torch.full_like(means, torch.inf)).amin(dim=0)
    enough = present.sum() >= 2
    return torch.where(enough, hi - lo, torch.zeros_like(hi))


def dp_gap_soft(
    scores: Tensor, s: Tensor, *, weight: Tensor | None = None, n_groups: int | None = None
) -> Tensor:
    """``max_a E[f | s=a] - min_a E[f | s=a]`` over groups present in the batch (0-dim tensor).

    The DP penalty of GapReg / FFB ``DiffDP`` / RUNNER-DP's output term; twin of
    :func:`fairnn.metrics.functional.dp_gap_soft`.
    """
    scores = _flat(scores, "scores")
    means, present = group_means(scores, s, n_groups, weight, return_present=True)
    return max_gap(means, present)


def _cell_gaps(
    scores: Tensor, y: Tensor, s: Tensor, weight: Tensor | None, n_groups: int | None
) -> tuple[Tensor, Tensor]:
    """Gaps of the mean score within ``y == 0`` and within ``y == 1``."""
    scores = _flat(scores, "scores")
    n = scores.shape[0]
    ids = _ids(s, n, scores.device)
    yy = _flat(torch.as_tensor(y), "y").to(scores.device)
    if yy.shape[0] != n:
        raise InvalidValueError(
            f"y and scores must have the same length; y has {yy.shape[0]} rows, scores {n}."
        )
    if n_groups is None:
        n_groups = int(ids.max().item()) + 1
    cell = ids * 2 + (yy > 0.5).long()  # (group, y) cell id
    means, present = group_means(scores, cell, 2 * n_groups, weight, return_present=True)
    means, present = means.view(n_groups, 2), present.view(n_groups, 2)
    return max_gap(means[:, 0], present[:, 0]), max_gap(means[:, 1], present[:, 1])


def eodds_gap_sum_soft(
    scores: Tensor,
    y: Tensor,
    s: Tensor,
    *,
    weight: Tensor | None = None,
    n_groups: int | None = None,
) -> Tensor:
    """``sum_{y in {0,1}} (max_a - min_a) E[f | y, s=a]``: GapReg-EO / FFB ``DiffEOdd``.

    Twin of :func:`fairnn.metrics.functional.eodds_gap_sum_soft`.
    """
    g0, g1 = _cell_gaps(scores, y, s, weight, n_groups)
    return g0 + g1


def eodds_gap_max_soft(
    scores: Tensor,
    y: Tensor,
    s: Tensor,
    *,
    weight: Tensor | None = None,
    n_groups: int | None = None,
) -> Tensor:
    """``max_{y in {0,1}} (max_a - min_a) E[f | y, s=a]``; twin of the numpy version."""
    g0, g1 = _cell_gaps(scores, y, s, weight, n_groups)
    return torch.maximum(g0, g1)


def eopp_gap_soft(
    scores: Tensor,
    y: Tensor,
    s: Tensor,
    *,
    weight: Tensor | None = None,
    n_groups: int | None = None,
) -> Tensor:
    """``(max_a - min_a) E[f | y=1, s=a]``: FFB ``DiffEOpp``; twin of the numpy version."""
    _, g1 = _cell_gaps(scores, y, s, weight, n_groups)
    return g1
