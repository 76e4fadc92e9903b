"""FairBiNN: bilevel (Stackelberg) training of accuracy and fairness layers.

Yazdani-Jahromi et al., "Fair Bilevel Neural Network (FairBiNN): On Balancing
Fairness and Accuracy via Stackelberg Equilibrium", NeurIPS 2024 (arXiv
2410.16432). The network (:class:`fairnn.nn.fairbinn.FairBiNNNet`) splits its
parameters into θ_a (the accuracy layers, the *leader*) and θ_f (a block of
fairness layers, the *follower*). Training modes (``mode``):

* ``reg``: the Lagrangian baseline, one optimizer over θ_a ∪ θ_f on
  ``BCE + η · L_fair``;
* ``bilevel`` (alias ``linear``, the official code's name): the paper's
  Algorithm 1. Per batch the leader steps on BCE, then, on a fresh forward pass
  with the leader's new weights, the follower steps on ``η · L_fair`` with its
  own Adam (learning rate ``fairness_learning_rate``, paper 1e-5). Each loss
  reaches only its own parameters. ``order="code"`` reproduces the official
  ``train_tabular.py`` instead: the follower steps first, and the leader's
  gradients are not cleared in between, so the leader's step also carries
  ``∇_{θ_a} η · L_fair`` (at the follower's old weights);
* ``adv``: the follower is trained against an adversary that predicts the
  sensitive attribute from the output (``adv_source="output"``) or from the
  fairness block's representation, with the shared projected update of Zhang
  et al. (:mod:`fairnn.training.adversarial`) applied to θ_f only; the leader
  steps on BCE;
* ``hybrid``: ``adv`` plus the regularizer: the follower's gradient is
  ``η ∇ L_fair − α ∇ L_A``. Zhang et al.'s projection (``projection=True``) is off
  by default: it is meant for a task gradient, and the follower's own gradient is
  already a fairness gradient, whose component along ``∇ L_A`` the projection would
  remove (in ``adv`` the follower has no own gradient, so it changes nothing).

``L_fair`` is the soft DP gap, |mean p(ŷ=1) of one group − another's| (max over
group pairs; groups absent from a batch are skipped), or with
``fairness="eo"`` the soft ΔEO (that gap within y=0 plus within y=1).
``fair_loss="fairtorch"`` is the official code's loss, labelled as a
compatibility option: ``(μ₀ − μ)²/2`` on twice-sigmoided scores.

Scale note: with Adam, a loss that reaches a parameter set alone is invariant
to its weight, so η does not change ``bilevel`` (paper order) or ``adv``; the
follower's learning rate and the number of steps set the trade-off there. η
matters for ``reg``, ``hybrid`` (relative to the adversary weight) and
``order="code"`` (through the leaked gradient). See docs/methods/fairbinn.md.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import torch
from pydantic import Field, field_validator, model_validator
from torch import nn

from fairnn.datasets.core import TabularData
from fairnn.methods.base import Architecture, Method, MethodParams, register
from fairnn.metrics.differentiable import dp_gap_soft, eodds_gap_sum_soft, group_means
from fairnn.nn.adversary import Adversary
from fairnn.nn.fairbinn import FairBiNNNet, resolve_sizes
from fairnn.training.adversarial import AdversarialPlugin
from fairnn.training.hooks import Batch, Forward, LoopState, Plugin
from fairnn.training.optim import make_optimizer

log = logging.getLogger(__name__)
#: the official code's ExponentialLR: every 50 epochs, leader lr × 0.5, follower lr × 0.9
CODE_SCHEDULE = (50, 0.5, 0.9)


class FairBiNNParams(MethodParams):
    mode: Literal["reg", "bilevel", "linear", "adv", "hybrid"] = Field(
        "bilevel", description="reg, bilevel (alias linear), adv or hybrid"
    )
    fairness: Literal["dp", "eo"] = Field("dp", description="the fairness notion of L_fair")
    eta: float = Field(10000.0, ge=0, description="η, the weight of the fairness loss")
    acc_layers: list[int] | None = Field(
        None, description="accuracy layer widths after the input, the last the output (1)"
    )
    fairness_layers: list[int] | None = Field(
        None, description="widths through the fairness block, its input included"
    )
    fairness_position: int = Field(2, ge=1, description="the block follows accuracy layer p-1")
    network_learning_rate: float | None = Field(
        None, gt=0, description="the leader's learning rate (default: the training lr)"
    )
    fairness_learning_rate: float = Field(1e-5, gt=0, description="the follower's learning rate")
    order: Literal["paper", "code"] = Field(
        "paper", description="bilevel: paper (leader first) or code (follower first, leaked grads)"
    )
    fair_loss: Literal["gap", "fairtorch"] = Field(
        "gap", description="gap (the paper) or fairtorch (the official code's DP loss)"
    )
    alpha: float | None = Field(
        None, ge=0, description="adv/hybrid: the adversary's weight (default η)"
    )
    adv_source: Literal["output", "representation"] = Field(
        "output", description="adv/hybrid: what the adversary reads"
    )
    adv_hidden: list[int] = Field(
        [64], description="adv/hybrid: the hidden widths of a representation adversary"
    )
    adv_lr: float = Field(1e-3, gt=0, description="adv/hybrid: the adversary's learning rate")
    projection: bool = Field(
        False, description="adv/hybrid: project θ_f's own gradient off the adversary's"
    )
    lr_schedule: Literal["none", "code"] = Field(
        "none", description="code: the official ×0.5 / ×0.9 learning-rate decay every 50 epochs"
    )

    @field_validator("mode")
    @classmethod
    def _alias(cls, v: str) -> str:
        return "bilevel" if v == "linear" else v

    @field_validator("acc_layers", "fairness_layers", "adv_hidden", mode="before")
    @classmethod
    def _one_width(cls, v: Any) -> Any:
        return [v] if isinstance(v, int) and not isinstance(v, bool) else v

    @model_validator(mode="after")
    def _consistent(self) -> FairBiNNParams:
        if self.order == "code" and self.mode != "bilevel":
            raise ValueError(
                "order='code' reproduces the official bilevel ('linear') update; it does not "
                f"apply to mode {self.mode!r}"
            )
        if self.fair_loss == "fairtorch" and self.fairness != "dp":
            raise ValueError(
                "fair_loss='fairtorch' is the official code's DP loss; use 'gap' for eo"
            )
        return self


def fairness_loss(
    logits: torch.Tensor,
    batch: Batch,
    n_groups: int,
    fairness: Literal["dp", "eo"] = "dp",
    form: Literal["gap", "fairtorch"] = "gap",
) -> torch.Tensor:
    """L_fair on a batch (unweighted by η; groups absent from the batch are skipped)."""
    p = torch.sigmoid(logits)
    if form == "fairtorch":
        # the official DemographicParityLoss: a second sigmoid, then only group 0's mean
        # against the batch mean: mean(relu(M μ)²) = (μ₀ − μ)² / 2 (0 when group 0 is absent)
        q = torch.sigmoid(p)
        means, present = group_means(q, batch.s, n_groups, batch.w, return_present=True)
        mu = q.mean() if batch.w is None else (q * batch.w).sum() / batch.w.sum().clamp_min(1e-12)
        diff = torch.where(present[0], means[0] - mu, torch.zeros_like(mu))
        return 0.5 * diff**2
    if fairness == "dp":
        return dp_gap_soft(p, batch.s, weight=batch.w, n_groups=n_groups)
    return eodds_gap_sum_soft(p, batch.y, batch.s, weight=batch.w, n_groups=n_groups)


class FairBiNNPlugin(Plugin):
    """The leader/follower updates of one FairBiNN mode inside the one training loop.

    The main optimizer of the loop holds the leader θ_a (``reg``: θ_a and θ_f;
    ``adv``/``hybrid``: θ_a and, in a second group at the follower's learning
    rate, θ_f). ``bilevel`` gives the follower its own Adam, stepped in
    ``after_step`` (paper order) or ``before_forward`` (code order).
    """

    def __init__(self, params: FairBiNNParams, n_groups: int) -> None:
        self.p, self.n_groups = params, n_groups
        self._leak: tuple[torch.Tensor | None, ...] | None = None
        self._follower_grads: tuple[torch.Tensor | None, ...] | None = None
        self.follower_opt: torch.optim.Optimizer | None = None
        self._fair_value: torch.Tensor | None = None

    @staticmethod
    def split(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        if not isinstance(model, FairBiNNNet):
            raise TypeError(f"FairBiNN trains a FairBiNNNet, got {type(model).__name__}")
        return list(model.accuracy_parameters()), list(model.fairness_parameters())

    def _fair(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        return fairness_loss(logits, batch, self.n_groups, self.p.fairness, self.p.fair_loss)

    # -- optimizers -----------------------------------------------------------
    def param_groups(self, model: nn.Module) -> list[dict[str, Any]]:
        leader, follower = self.split(model)
        lead: dict[str, Any] = {"params": leader, "role": "leader"}
        if self.p.network_learning_rate is not None:
            lead["lr"] = self.p.network_learning_rate
        if self.p.mode == "reg":
            return [{**lead, "params": leader + follower}]
        if self.p.mode == "bilevel":
            return [lead]
        return [lead, {"params": follower, "lr": self.p.fairness_learning_rate, "role": "follower"}]

    def setup(self, state: LoopState) -> None:
        self.leader, self.follower = self.split(state.model)
        if self.p.mode == "bilevel":
            self.follower_opt = make_optimizer(
                "adam",
                [{"params": self.follower, "role": "follower"}],
                lr=self.p.fairness_learning_rate,
            )

    def _step_follower(self, grads: tuple[torch.Tensor | None, ...]) -> None:
        assert self.follower_opt is not None
        for p, g in zip(self.follower, grads, strict=True):
            p.grad = torch.zeros_like(p) if g is None else g
        self.follower_opt.step()

    # -- hooks ----------------------------------------------------------------
    def before_forward(self, batch: Batch, state: LoopState) -> None:
        if self.p.mode != "bilevel" or self.p.order != "code":
            return
        # the official order: one zero_grad, the follower's step on η·L_fair first; the
        # leader's share of that backward pass stays in its gradient (added back below)
        state.model.zero_grad(set_to_none=True)
        fair = self._fair(state.model(batch.X), batch)
        grads = torch.autograd.grad(
            self.p.eta * fair, self.leader + self.follower, allow_unused=True
        )
        n = len(self.leader)
        self._leak = grads[:n]
        self._step_follower(grads[n:])
        self._fair_value = fair.detach()

    def loss_terms(self, batch: Batch, fwd: Forward, state: LoopState) -> dict[str, torch.Tensor]:
        mode = self.p.mode
        if mode == "bilevel":
            if self.p.order == "code" and self._fair_value is not None:
                state.terms["fair"] = self._fair_value
            return {}  # paper order: the follower's term is computed after the leader's step
        fair = self._fair(fwd.logits, batch)
        state.terms["fair"] = fair.detach()
        if mode == "reg":
            return {"eta_fair": self.p.eta * fair}
        if mode == "hybrid":
            self._follower_grads = torch.autograd.grad(
                self.p.eta * fair, self.follower, retain_graph=True, allow_unused=True
            )
        return {}

    @torch.no_grad()
    def after_backward(self, state: LoopState) -> None:
        mode = self.p.mode
        if mode in ("adv", "hybrid"):
            # the follower's own gradient replaces the BCE gradient on θ_f; the adversarial
            # plugin (after this one) then projects it and pushes against the adversary
            grads = self._follower_grads or (None,) * len(self.follower)
            for p, g in zip(self.follower, grads, strict=True):
                p.grad = torch.zeros_like(p) if g is None else g.clone()
            self._follower_grads = None
        elif mode == "bilevel" and self.p.order == "code" and self._leak is not None:
            for p, g in zip(self.leader, self._leak, strict=True):
                if g is not None:
                    p.grad = g.clone() if p.grad is None else p.grad + g
            self._leak = None

    def after_step(self, state: LoopState) -> None:
        if self.p.mode != "bilevel" or self.p.order != "paper":
            return
        # Algorithm 1, step 2: a fresh forward with the leader's new θ_a, then θ_f alone
        batch = state.batch
        assert batch is not None
        fair = self._fair(state.model(batch.X), batch)
        grads = torch.autograd.grad(self.p.eta * fair, self.follower, allow_unused=True)
        self._step_follower(grads)
        state.terms["fair"] = fair.detach()

    def on_epoch_end(self, state: LoopState) -> None:
        every, lead, follow = CODE_SCHEDULE
        if self.p.lr_schedule != "code" or (state.epoch + 1) % every:
            return
        opts = [state.optimizer, *([self.follower_opt] if self.follower_opt else [])]
        for opt in opts:
            for group in opt.param_groups:
                group["lr"] *= follow if group.get("role") == "follower" else lead


@register
class FairBiNN(Method[FairBiNNParams]):
    """Accuracy layers (leader) and fairness layers (follower) trained as a Stackelberg game."""

    name = "fairbinn"
    fairness_weight = "eta"
    aliases = ("FairBiNN",)
    stage = "in"
    notion_param = "fairness"
    paper = (
        "Yazdani-Jahromi et al., Fair Bilevel Neural Network (FairBiNN), NeurIPS 2024, "
        "Algorithm 1 (arXiv 2410.16432)"
    )

    def build_network(self, train: TabularData, architecture: Architecture) -> nn.Module:
        p = self.params
        if architecture != Architecture():
            log.warning(
                "fairbinn builds its network from acc_layers, fairness_layers and "
                "fairness_position; the architecture %s is ignored",
                architecture.model_dump(),
            )
        return FairBiNNNet.from_sizes(
            train.n_features, p.acc_layers, p.fairness_layers, p.fairness_position
        )

    def plugins(self, train: TabularData, val: TabularData | None) -> list[Plugin]:
        p = self.params
        n_groups = train.groups.n_groups
        out: list[Plugin] = [FairBiNNPlugin(p, n_groups)]
        if p.mode in ("adv", "hybrid"):
            _, fair_sizes = resolve_sizes(
                train.n_features, p.acc_layers, p.fairness_layers, p.fairness_position
            )
            representation = p.adv_source == "representation"
            adversary = Adversary(
                n_groups=n_groups,
                mode=p.fairness,
                source=p.adv_source,
                in_features=fair_sizes[-1] if representation else None,
                hidden=p.adv_hidden if representation else (),
            )
            # index of the fairness block's output among the hidden activations
            layer = (p.fairness_position - 1) + (len(fair_sizes) - 1) - 1
            out.append(
                AdversarialPlugin(
                    adversary,
                    alpha=p.eta if p.alpha is None else p.alpha,
                    lr=p.adv_lr,
                    projection=p.projection,
                    params=lambda m: list(m.fairness_parameters()),
                    layer=layer,
                )
            )
        return out
