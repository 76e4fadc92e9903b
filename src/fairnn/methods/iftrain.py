"""IF-fair training (the NNFF seed's Problem 2; Benussi et al., IJCAI 2022, §5).

The loss is ``λ·L(x, y) + (1 − λ)·|f(x) − f(x*)|`` where ``f`` is the model's
output (the probability for a binary task, the prediction for regression) and
``x*`` is the worst neighbour of ``x`` inside the ``d_fair`` ball of radius ε
(within the input domain):

* ``attack="pgd"`` (default, fast): projected sign-gradient ascent on
  ``|f(x*) − f(x)|`` from a random start in the ball, ``steps`` steps, on the
  continuous and integer columns (a heuristic worst neighbour);
* ``attack="milp"`` (exact, slow): the local MILP of :mod:`fairnn.certify`
  (the same encoding as ``certify_local``) gives the exact worst neighbour of
  the first ``milp_rows`` rows of each batch; PGD covers the rest. Benussi et
  al. solve a local MILP for every row with an 18 s limit in 10 processes.

As in Benussi et al.'s code, the fairness term is switched on after a warm-up:
for the first ``warmup`` fraction of the epochs the model trains on ``L`` alone.
The similarity metric is weighted ℓ∞ (default), ℓ1 or ℓ2 over the model's
features, with the sensitive features free (weight 0), as in
:func:`fairnn.certify.metrics.weighted_metric`.

Defaults: ``lam = 0.5`` as in the code. Benussi's ε = 0.2 is in MinMax-scaled
units; fairnn's recipes standardise features, so ε here is in standard
deviations (default 0.1).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import Field

from fairnn.datasets.core import TabularData
from fairnn.methods.base import Method, MethodParams, register
from fairnn.training.hooks import Batch, Forward, LoopState, Plugin


class IFTrainParams(MethodParams):
    eps: float = Field(0.1, ge=0, description="radius of the d_fair ball (model-input units)")
    lam: float = Field(0.5, ge=0, le=1, description="weight of the task loss (λ)")
    metric: Literal["linf", "l1", "l2"] = "linf"
    weights: dict[str, float] | None = Field(
        None, description="per-feature metric weights (default 1; sensitive 0)"
    )
    warmup: float = Field(0.5, ge=0, lt=1, description="fraction of epochs without the term")
    attack: Literal["pgd", "milp"] = "pgd"
    steps: int = Field(10, ge=1, description="PGD steps per batch")
    milp_rows: int = Field(8, ge=1, description="rows per batch solved exactly (attack=milp)")


class IFTrainPlugin(Plugin):
    """Adds ``(1 − λ)·mean |f(x) − f(x*)|`` after the warm-up and scales the task loss by λ."""

    def __init__(self, params: IFTrainParams, train: TabularData) -> None:
        from fairnn.certify.attack import Projector
        from fairnn.certify.domain import Domain
        from fairnn.certify.metrics import weighted_metric

        self.p = params
        self.task = train.task
        self.domain = Domain.from_features(train.features, integers="relax")
        self.metric = weighted_metric(params.metric, train.features, params.weights)
        self.proj = Projector(self.domain, self.metric, params.eps, dtype=torch.float32)
        self.features = train.features
        self.warm_epochs = 0

    def setup(self, state: LoopState) -> None:
        self.warm_epochs = int(round(self.p.warmup * state.config.epochs))

    def _on(self, state: LoopState) -> bool:
        return state.epoch >= self.warm_epochs

    def _f(self, model: torch.nn.Module):
        binary = self.task == "binary"

        def f(x: torch.Tensor) -> torch.Tensor:
            out = model(x)
            return torch.sigmoid(out) if binary else out

        return f

    def transform_primary(self, loss: torch.Tensor, state: LoopState) -> torch.Tensor:
        return self.p.lam * loss if self._on(state) else loss

    def loss_terms(self, batch: Batch, fwd: Forward, state: LoopState) -> dict[str, torch.Tensor]:
        if not self._on(state) or self.p.lam >= 1.0:
            return {}
        from fairnn.certify.attack import worst_neighbour

        model = state.model
        f = self._f(model)
        x = batch.X
        x_star = worst_neighbour(f, x, self.proj, steps=self.p.steps, generator=state.generator)
        if self.p.attack == "milp":
            x_star = self._milp(model, x, x_star)
        fx = torch.sigmoid(fwd.logits) if self.task == "binary" else fwd.logits
        term = (fx - f(x_star)).abs().mean()
        return {"if_gap": (1.0 - self.p.lam) * term}

    def _milp(self, model: torch.nn.Module, x: torch.Tensor, x_star: torch.Tensor) -> torch.Tensor:
        """Replace the first rows' PGD neighbours by the local MILP's exact worst neighbour."""
        from fairnn.certify.local import certify_local

        n = min(self.p.milp_rows, x.shape[0])
        was = model.training
        model.eval()
        try:
            res = certify_local(
                model,
                x[:n].detach().cpu().double().numpy(),
                self.domain.widened(points=x[:n].detach().cpu().double().numpy()),
                eps=self.p.eps,
                metric=self.metric,
                output="probability" if self.task == "binary" else "value",
                time_limit=2.0,
                progress=False,
            )
        finally:
            model.train(was)
        out = x_star.clone()
        for i, c in enumerate(res):
            if c.witness is not None:
                out[i] = torch.as_tensor(np.asarray(c.witness[1]), dtype=x.dtype, device=x.device)
        return out


@register
class IFTrain(Method[IFTrainParams]):
    """IF-fair training: the task loss plus the output gap to the worst d_fair neighbour."""

    name = "iftrain"
    aliases = ("if_train", "ifair_milp")
    stage = "in"
    paper = (
        "Benussi et al., Individual Fairness Guarantees for Neural Networks, IJCAI 2022 "
        "(MILP/PGD fair training); NNFF seed Problem 2"
    )

    def plugins(self, train: TabularData, val: TabularData | None) -> list[Plugin]:
        return [IFTrainPlugin(self.params, train)]
