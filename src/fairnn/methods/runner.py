"""RUNNER: Responsible UNfair NEuron Repair (Li et al., ICSE 2024).

What it does, per training step on a group-balanced batch (the method as the
official code Ace0001/RUNNER ``utils.py``/``main.py`` defines it; the paper's
§3 describes the same two stages, neuron selection and repair):

1. **Unfair-neuron selection.** The soft fairness gap of the output,
   ``L_gap`` (DP: |mean f(B₀) − mean f(B₁)|; EO: that gap within y=0 and
   within y=1, summed), is differentiated with respect to each hidden layer's
   weights. Neuron *i* of layer *l* scores
   ``I_l(i) = Σ_j (W_l[i, j] · ∂L_gap/∂W_l[i, j])²`` (a first-order Taylor
   importance of its incoming weights to the gap); the top
   ``neuron_ratio`` of each hidden layer (``k = int(neuron_ratio · width)``,
   at least 1) form the set ``T_l``.
2. **Repair penalty.** ``R`` is the mean, over the selected neurons, of the
   gap between the groups' mean activations, summed over hidden layers; in
   EO mode within each label, summed, plus the output gap (RUNNER-EO =
   GapReg-EO + the neuron gaps). The loss is ``BCE + λ·R``.

Differences from the official code, and why:

* The official code deep-copies the model and optimizer at every step to get
  ``∂L_gap/∂W`` without disturbing the live gradients; fairnn takes the same
  gradient with ``torch.autograd.grad`` on the live graph (no copy, same
  numbers).
* More than two groups: gaps are the max pairwise gap (the code has two).
* ``k`` is at least one neuron, so tiny layers still get a penalty.
* **Repair of a trained model** (:meth:`Runner.repair`, ``fairnn repair``):
  the paper's framing. It fine-tunes a trained MLP with the same loss and,
  with ``scope="selected"`` (the default for repair), updates only the
  incoming weights and biases of the neurons selected at that step; every
  other parameter keeps its value. ``fit`` trains from scratch and updates
  everything, as the official code does.

The ablation ``NeuronImportance`` (``importance="loss"``) scores neurons by the
importance of their weights to the batch BCE instead of the gap.

Settings from the RUNNER README (seed 000): λ = 0.3 (DP) and 1.0 (EO) on
Adult; ``k`` per dataset and notion; the ``runner`` recipe's protocol fills them in
(:mod:`fairnn.papers.runner.protocol`).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Literal

import torch
from pydantic import Field
from torch import nn

from fairnn.datasets.core import TabularData
from fairnn.errors import ConfigError
from fairnn.methods.base import Method, MethodParams, register
from fairnn.methods.fitted import FittedModel
from fairnn.nn.penalties import activation_gaps, gap_penalty
from fairnn.training.config import TrainConfig
from fairnn.training.hooks import Batch, Forward, LoopState, Plugin
from fairnn.training.loop import fit, primary_loss


class RunnerParams(MethodParams):
    lam: float = Field(1.0, ge=0, description="λ, the weight of the neuron-gap penalty")
    mode: Literal["dp", "eo"] = Field("dp", description="fairness notion: dp or eo")
    neuron_ratio: float = Field(
        0.05, gt=0, le=1, description="k, the fraction of each hidden layer selected"
    )
    importance: Literal["gap", "loss"] = Field(
        "gap", description="score neurons by the gap (RUNNER) or the task loss (NeuronImportance)"
    )
    scope: Literal["all", "selected"] | None = Field(
        None,
        description="which parameters move: all, or only the selected neurons' incoming weights "
        "(default: all when training, selected when repairing)",
    )


class NeuronGapPenalty(Plugin):
    """Selects the top-k neurons by importance each step and penalises their group gaps."""

    needs_hidden = True

    def __init__(self, p: RunnerParams, scope: str) -> None:
        self.p, self.scope = p, scope
        self.selected: list[torch.Tensor] = []
        self.touched: list[torch.Tensor] = []

    def setup(self, state: LoopState) -> None:
        layers = getattr(state.model, "hidden_layers", None)
        if not layers:
            raise ConfigError(
                "RUNNER needs an MLP with hidden layers (fairnn.nn.MLP); this model has none"
            )
        self.layers: list[nn.Linear] = list(layers)
        self.n_groups = state.train.groups.n_groups
        self.touched = [
            torch.zeros(lay.out_features, dtype=torch.bool, device=state.device)
            for lay in self.layers
        ]

    def loss_terms(self, batch: Batch, fwd: Forward, state: LoopState) -> dict[str, torch.Tensor]:
        f = torch.sigmoid(fwd.logits)
        out_gap = gap_penalty(f, batch.y, batch.s, self.p.mode, self.n_groups)
        if self.p.importance == "gap":
            target = out_gap
        else:
            target = primary_loss(fwd.logits, batch.y, batch.w, state.train.task)
        weights = [lay.weight for lay in self.layers]
        grads = torch.autograd.grad(target, weights, retain_graph=True, allow_unused=True)
        penalty = out_gap if self.p.mode == "eo" else f.new_zeros(())
        self.selected = []
        for w, g, act in zip(weights, grads, fwd.hidden, strict=True):
            width = w.shape[0]
            k = max(1, int(self.p.neuron_ratio * width))
            score = (w.detach() * g).pow(2).sum(1) if g is not None else torch.zeros_like(w[:, 0])
            idx = torch.topk(score, k).indices
            self.selected.append(idx)
            penalty = (
                penalty
                + activation_gaps(act[:, idx], batch.y, batch.s, self.p.mode, self.n_groups).mean()
            )
        return {f"runner_{self.p.mode}": self.p.lam * penalty}

    @torch.no_grad()
    def after_backward(self, state: LoopState) -> None:
        if self.scope != "selected":
            return
        self._before = []
        for lay, idx, touched in zip(self.layers, self.selected, self.touched, strict=True):
            keep = torch.ones(lay.out_features, dtype=torch.bool, device=lay.weight.device)
            keep[idx] = False
            touched[idx] = True
            self._before.append((keep, lay.weight[keep].clone(), lay.bias[keep].clone()))

    @torch.no_grad()
    def after_step(self, state: LoopState) -> None:
        if self.scope != "selected":
            return
        # Adam moves a parameter even at zero gradient (momentum), so unselected rows are
        # restored rather than masked: exactly the selected neurons change at this step.
        for lay, (keep, w, b) in zip(self.layers, self._before, strict=True):
            lay.weight[keep] = w
            lay.bias[keep] = b


def _frozen_output(model: nn.Module) -> list[nn.Parameter]:
    return list(model.output.parameters()) if hasattr(model, "output") else []


@register
class Runner(Method[RunnerParams]):
    """RUNNER neuron repair (Li et al., ICSE 2024, §3; official code Ace0001/RUNNER)."""

    name = "runner"
    fairness_weight = "lam"
    aliases = ("NeuronImportance_GapReg",)
    stage = "in"
    paper = (
        "Li et al., RUNNER: Responsible UNfair NEuron Repair, ICSE 2024, §3 (code: Ace0001/RUNNER)"
    )
    can_repair = True

    def plugins(self, train: TabularData, val: TabularData | None) -> list[Plugin]:
        p = self.params
        return [NeuronGapPenalty(p, p.scope or "all")]

    def repair(
        self,
        fitted: FittedModel,
        train: TabularData,
        val: TabularData | None = None,
        *,
        config: TrainConfig | None = None,
        seed: int = 0,
    ) -> FittedModel:
        """A copy of ``fitted`` fine-tuned with RUNNER's loss (``fitted`` is left as it was).

        With ``scope="selected"`` (default here) only the selected neurons'
        incoming weights and biases change; the output layer is frozen.
        """
        p = self.params
        scope = p.scope or "selected"
        net = copy.deepcopy(fitted.network)
        frozen = _frozen_output(net) if scope == "selected" else []
        for q in frozen:
            q.requires_grad_(False)
        try:
            plugin = NeuronGapPenalty(p, scope)
            result = fit(net, train, val, config or TrainConfig(), plugins=[plugin], seed=seed)
        finally:
            for q in frozen:
                q.requires_grad_(True)
        record = {
            "method": self.name,
            "params": p.model_dump(mode="json"),
            "scope": scope,
            "best_epoch": result.best_epoch,
            "history": result.history,
            "neurons_touched": [int(t.sum()) for t in plugin.touched],
        }
        return replace(fitted, network=result.model, training={**fitted.training, "repair": record})


@register
class NeuronImportance(Runner):
    """RUNNER's ablation: neurons scored by their importance to the task loss (BCE)."""

    name = "neuron_importance"
    aliases = ("NeuronImportance",)
    paper = (
        "Li et al., RUNNER, ICSE 2024 — ablation NeuronImportance (importance from the task loss)"
    )

    def __init__(self, **params: object) -> None:
        params.setdefault("importance", "loss")
        super().__init__(**params)
