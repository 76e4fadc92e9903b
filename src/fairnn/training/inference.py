"""Running a trained network: logits in chunks and the scores they stand for.

Model files (:class:`fairnn.methods.fitted.FittedModel`), validation inside the loop
and the studies predict through these two functions, without the training loop.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["predict_logits", "scores_from_logits"]


@torch.no_grad()
def predict_logits(model: nn.Module, X: torch.Tensor, batch_size: int = 65536) -> torch.Tensor:
    """Logits for every row of ``X`` in eval mode, in chunks, on ``X``'s device."""
    was_training = model.training
    model.eval()
    try:
        outs = [model(X[i : i + batch_size]) for i in range(0, X.shape[0], batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outs) if outs else X.new_zeros((0,))


def scores_from_logits(logits: torch.Tensor, task: str) -> torch.Tensor:
    """Probabilities (sigmoid; softmax over classes for multiclass), or the values (regression)."""
    if task == "multiclass":
        return torch.softmax(logits, dim=-1)
    return torch.sigmoid(logits) if task == "binary" else logits
