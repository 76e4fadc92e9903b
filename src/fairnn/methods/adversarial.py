"""Adversarial debiasing (Zhang, Lemoine & Mitchell, AIES 2018, §3–4).

An adversary predicts the group from the model's output (DP) or from the
output and the label (EO); the model is trained with its gradient projected
away from the adversary's and pushed against it (``∇L_P − proj ∇L_P − λ∇L_A``),
as AIF360's implementation does (:mod:`fairnn.training.adversarial`).

Settings: λ = 0.5, adversary learning rate 1e-4 and 15 epochs for tabular data
follow the RUNNER README (seed 000), whose baseline this is; AIF360's default λ
is 0.1. RUNNER's README writes the loss as ``L_cls + λ L_adv`` without saying
whether it projects; fairnn projects by default (the method as published) and
``projection=False`` gives the plain gradient-reversal form.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fairnn.datasets.core import TabularData
from fairnn.methods.base import Method, MethodParams, register
from fairnn.nn.adversary import Adversary
from fairnn.training.adversarial import AdversarialPlugin
from fairnn.training.hooks import Plugin


class AdversarialParams(MethodParams):
    lam: float = Field(0.5, ge=0, description="λ (AIF360's adversary_loss_weight α)")
    mode: Literal["dp", "eo"] = Field("dp", description="dp: adversary sees ŷ; eo: ŷ and y")
    adv_lr: float = Field(1e-4, gt=0, description="the adversary's learning rate")
    projection: bool = Field(True, description="remove the projection on the adversary gradient")
    adv_hidden: list[int] = Field(
        default_factory=list,
        description="adversary hidden layers ([]: linear, as AIF360; the reprogramming "
        "paper's AdvIn uses a 3-layer MLP)",
    )


@register
class AdversarialDebiasing(Method[AdversarialParams]):
    """Adversarial debiasing with the projected update (Zhang et al., AIES 2018)."""

    name = "adversarial"
    fairness_weight = "lam"
    aliases = ("adv", "Adversarial")
    stage = "in"
    paper = "Zhang, Lemoine & Mitchell, Mitigating Unwanted Biases with Adversarial Learning, AIES 2018, §3-4"

    def plugins(self, train: TabularData, val: TabularData | None) -> list[Plugin]:
        p = self.params
        adversary = Adversary(n_groups=train.groups.n_groups, mode=p.mode, hidden=p.adv_hidden)
        return [AdversarialPlugin(adversary, alpha=p.lam, lr=p.adv_lr, projection=p.projection)]
