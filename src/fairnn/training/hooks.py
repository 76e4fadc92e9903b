"""The types an in-processing method plugs into the training loop with.

:class:`Plugin` is the set of hooks (every one optional) that
:func:`fairnn.training.fit` calls; :class:`Batch`, :class:`Forward` and
:class:`LoopState` are what those hooks see. They live apart from the loop so that
plugins (methods, regularizers, the adversarial update) import only these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from fairnn.datasets.core import TabularData
from fairnn.training.config import TrainConfig

__all__ = ["Batch", "Forward", "LoopState", "Plugin"]


@dataclass
class Batch:
    """Rows ``idx`` of the training data, gathered on the device."""

    idx: torch.Tensor
    X: torch.Tensor
    y: torch.Tensor
    s: torch.Tensor
    w: torch.Tensor | None


@dataclass
class Forward:
    """The model's output on a batch: logits ``(n,)`` and hidden activations."""

    logits: torch.Tensor
    hidden: list[torch.Tensor] = field(default_factory=list)
    #: logits of the rows plugins asked for with ``extra_rows``, by the name they gave
    extra: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class LoopState:
    """What a plugin can see and touch during training."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    config: TrainConfig
    train: TabularData
    device: torch.device
    generator: torch.Generator
    epoch: int = 0
    step: int = 0
    batch: Batch | None = None
    forward: Forward | None = None
    loss: torch.Tensor | None = None
    terms: dict[str, torch.Tensor] = field(default_factory=dict)


class Plugin:
    """Hooks an in-processing method adds to the loop; every hook is optional."""

    needs_hidden: bool = False

    def setup(self, state: LoopState) -> None:
        """Called once before the first step (create optimizers here)."""

    def param_groups(self, model: nn.Module) -> list[dict[str, Any]] | None:
        """Parameter groups for the main optimizer (``None``: all of ``model``)."""
        return None

    def before_forward(self, batch: Batch, state: LoopState) -> None:
        """The batch is gathered; the model has not run on it (set per-row state here)."""

    def extra_rows(self, batch: Batch, state: LoopState) -> dict[str, torch.Tensor]:
        """Training-row indices (by name) to forward together with the batch.

        They share the batch's forward pass (one call, as the MinDiff code concatenates
        its batches, which matters for batch normalisation); their logits arrive in
        ``Forward.extra[name]``. Return ``{}`` for none.
        """
        return {}

    def loss_terms(self, batch: Batch, fwd: Forward, state: LoopState) -> dict[str, torch.Tensor]:
        return {}

    def transform_primary(self, loss: torch.Tensor, state: LoopState) -> torch.Tensor:
        return loss

    def after_backward(self, state: LoopState) -> None:
        """Gradients of the total loss are in ``.grad``; the main step has not run."""

    def after_step(self, state: LoopState) -> None: ...

    def on_epoch_end(self, state: LoopState) -> None: ...
