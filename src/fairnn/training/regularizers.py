"""Regularizers every in-processing method can combine with, set in :class:`TrainConfig`.

Veldanda et al. (TMLR 2023, §5) find that MinDiff stops working once a model
interpolates its training data, and bring it back with three standard regularizers;
fairnn applies them through the one training loop, so they work with any
in-processing method (``gapreg``, ``adversarial``, ``mindiff``, …):

* **L2**: ``weight_decay`` (the optimizer's weight decay, as the MinDiff code passes it
  to Adam; not an explicit loss term);
* **flooding** (Ishida et al., "Do We Need Zero Training Loss After Achieving Zero
  Training Error?", ICML 2020): ``flood_level`` b turns the primary loss L into
  |L − b| + b, so below b the gradient flips sign and the training loss hovers around b.
  As in the MinDiff code it reshapes the primary loss only, not the fairness terms;
* **early stopping**: ``select`` picks the epoch whose weights are kept on validation
  (a metric, ``loss``, or :data:`SELECTION_RULES`' ``constrained_error``, the paper's
  fairness-constrained validation error) and ``patience`` stops training.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from fairnn.datasets.core import TabularData
from fairnn.errors import ConfigError
from fairnn.training.config import TrainConfig
from fairnn.training.hooks import LoopState, Plugin


class Flooding(Plugin):
    """|L − b| + b on the primary loss (Ishida et al., ICML 2020, Eq. 2)."""

    def __init__(self, flood_level: float) -> None:
        if flood_level < 0:
            raise ConfigError(f"flood_level must be >= 0, got {flood_level}; try 0.1")
        self.b = float(flood_level)

    def transform_primary(self, loss: torch.Tensor, state: LoopState) -> torch.Tensor:
        return (loss - self.b).abs() + self.b


class CertifiableTraining(Plugin):
    """L1 on the weights and ReLU stability (Xiao et al., ICLR 2019, §3.2-3.3).

    ``stability``: for every hidden neuron, interval arithmetic over the ℓ∞ ball of radius
    ``eps`` around each row gives ``[l, u]``; the term ``−tanh(1 + l·u)`` is near −1 when
    ``l·u > 0`` (the neuron is stable: one side of 0 on the whole ball) and rises toward
    ``tanh(1)`` as the interval straddles 0. Averaged over rows and neurons.
    """

    def __init__(self, l1: float, stability: float, eps: float) -> None:
        self.l1, self.stability, self.eps = float(l1), float(stability), float(eps)

    def setup(self, state: LoopState) -> None:
        from fairnn.nn.mlp import MLP

        if not isinstance(state.model, MLP):
            raise ConfigError(
                f"l1 and relu_stability need fairnn's MLP; this method trains a "
                f"{type(state.model).__name__}: drop --l1/--relu-stability"
            )

    def loss_terms(self, batch: Any, fwd: Any, state: LoopState) -> dict[str, torch.Tensor]:
        model = state.model
        terms: dict[str, torch.Tensor] = {}
        if self.l1:
            weights = [layer.weight for layer in (*model.hidden_layers, model.output)]
            terms["l1"] = self.l1 * sum(w.abs().sum() for w in weights)
        if self.stability:
            per_layer = [
                -torch.tanh(1 + lo * hi).mean()
                for lo, hi in pre_activation_bounds(model, batch.X, self.eps)
            ]
            terms["relu_stability"] = self.stability * torch.stack(per_layer).mean()
        return terms


def pre_activation_bounds(model: Any, X: torch.Tensor, eps: float) -> list[tuple[Any, Any]]:
    """Interval bounds ``(lo, hi)`` of each hidden layer's pre-activations of fairnn's MLP
    ``model`` over the ℓ∞ ball of radius ``eps`` around each row of ``X`` (centre-radius
    form; the activations are monotone)."""
    mid, rad = X, torch.full_like(X, eps)
    out = []
    for layer in model.hidden_layers:
        z_mid, z_rad = layer(mid), rad @ layer.weight.abs().T
        lo, hi = z_mid - z_rad, z_mid + z_rad
        out.append((lo, hi))
        lo, hi = model.act(lo), model.act(hi)
        mid, rad = (hi + lo) / 2, (hi - lo) / 2
    return out


def unstable_share(model: Any, X: torch.Tensor, eps: float) -> float:
    """The share of hidden neurons whose interval over the ε-ball around a row of ``X``
    straddles 0 (what ``relu_stability`` lowers; each one is a binary in the MILP)."""
    with torch.no_grad():
        bounds = pre_activation_bounds(model, X, eps)
    n = sum(int(((lo < 0) & (hi > 0)).sum()) for lo, hi in bounds)
    return n / sum(lo.numel() for lo, _ in bounds)


def regularizer_plugins(config: TrainConfig) -> list[Plugin]:
    """The plugins :class:`TrainConfig`'s regularizer fields ask for (L2 is the optimizer's)."""
    out: list[Plugin] = [Flooding(config.flood_level)] if config.flood_level else []
    if config.l1 or config.relu_stability:
        out.append(CertifiableTraining(config.l1, config.relu_stability, config.stability_eps))
    return out


def constrained_error(scores: np.ndarray, val: TabularData) -> float:
    """Validation error of the best per-group thresholds under |ΔFNR| ≤ 0.01 (MinDiff §4)."""
    from fairnn.metrics.thresholds import constrained_error as _ce

    s = val.s.detach().cpu().numpy()
    if val.groups.n_groups != 2:
        raise ConfigError(
            f"select='constrained_error' compares two groups, but the data has "
            f"{val.groups.n_groups} ({', '.join(val.groups.labels)}); use another select rule"
        )
    w = None if val.sample_weight is None else val.sample_weight.detach().cpu().numpy()
    return _ce(val.y.detach().cpu().numpy(), scores, s, sample_weight=w)


#: named validation rules beyond ``last``, ``loss`` and the metrics (lower is better)
SELECTION_RULES: dict[str, Callable[[np.ndarray, TabularData], float]] = {
    "constrained_error": constrained_error,
}
