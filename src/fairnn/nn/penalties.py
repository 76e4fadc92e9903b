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


Kernel = Literal["gaussian", "laplacian"]
KERNELS: tuple[str, ...] = ("gaussian", "laplacian")


def kernel_matrix(
    a: torch.Tensor, b: torch.Tensor, kernel: Kernel = "gaussian", length: float = 0.1
) -> torch.Tensor:
    """``k(a_i, b_j)`` for every pair, as TensorFlow Model Remediation's MinDiff kernels.

    ``gaussian``: exp(−‖a − b‖² / l²) (``GaussianKernel``); ``laplacian``:
    exp(−‖a − b + 1e-8‖ / l) (``LaplacianKernel``; the 1e-8 keeps the gradient of the
    norm finite at a = b). ``a`` is ``(n,)`` or ``(n, d)``, ``b`` ``(m,)`` or ``(m, d)``;
    ``l`` is the kernel length (``kernel_length``, 0.1 by default in both).
    """
    a2 = a[:, None] if a.ndim == 1 else a.flatten(1)
    b2 = b[:, None] if b.ndim == 1 else b.flatten(1)
    diff = a2[:, None, :] - b2[None, :, :]
    if kernel == "gaussian":
        return torch.exp(-(diff**2).sum(-1) / length**2)
    if kernel == "laplacian":
        return torch.exp(-torch.linalg.vector_norm(diff + 1e-8, dim=-1) / length)
    raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")


def _block_mean(k: torch.Tensor, wa: torch.Tensor | None, wb: torch.Tensor | None) -> torch.Tensor:
    """Σ w_i w_j k_ij / Σ w_i w_j; 0 for an empty block (TF's ``_calculate_mean``)."""
    if k.numel() == 0:
        return k.new_zeros(())
    if wa is None and wb is None:
        return k.mean()
    wa = torch.ones(k.shape[0], device=k.device) if wa is None else wa
    wb = torch.ones(k.shape[1], device=k.device) if wb is None else wb
    ww = wa[:, None] * wb[None, :]
    return (k * ww).sum() / ww.sum().clamp_min(1e-12)


def mmd(
    p_a: torch.Tensor,
    p_b: torch.Tensor,
    kernel: Kernel = "gaussian",
    length: float = 0.1,
    weight_a: torch.Tensor | None = None,
    weight_b: torch.Tensor | None = None,
) -> torch.Tensor:
    """MinDiff's MMD between two sets of predictions: K_aa − 2·K_ab + K_bb (0-dim).

    The definition of TensorFlow Model Remediation's ``MMDLoss`` (``mmd_loss.py``) and of
    the MinDiff over-parameterization paper's code (Veldanda et al., TMLR 2023, §3;
    ``akshajkumarv/MinDiff``): each K is the (weighted) mean kernel value over all pairs of
    a block, diagonal pairs included (the biased V-statistic), with **no square root**.
    Pair weights are w_i·w_j (per-example weights); an empty block contributes 0. The
    inputs are usually sigmoid probabilities (TF's recommended ``predictions_transform``).
    """
    kaa = _block_mean(kernel_matrix(p_a, p_a, kernel, length), weight_a, weight_a)
    kbb = _block_mean(kernel_matrix(p_b, p_b, kernel, length), weight_b, weight_b)
    kab = _block_mean(kernel_matrix(p_a, p_b, kernel, length), weight_a, weight_b)
    return kaa - 2.0 * kab + kbb
