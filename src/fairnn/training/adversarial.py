"""Adversarial training inside the one loop: Zhang, Lemoine & Mitchell (AIES 2018), §3.

Per batch, with ``L_P`` the model's loss and ``L_A`` the adversary's loss on the
same forward pass, the model's parameters move along

    ∇L_P − proj_{∇L_A} ∇L_P − α ∇L_A

(per parameter tensor, as AIF360 does): the projection removes the part of
the update that would help the adversary, and ``−α∇L_A`` actively hurts it.
The adversary minimises ``L_A`` with its own optimizer. ``order`` chooses when
the adversary steps: ``"simultaneous"`` (both gradients from the same forward
pass; the adversary steps just before the model, as in AIF360 and in the
fairness-reprogramming code, which saves ``∇L_A`` for the trigger, steps the
adversary, then steps the trigger) or ``"adversary_first"`` (the adversary
steps, then the model's update uses the updated adversary). Fairness
reprogramming (:mod:`fairnn.methods.reprogram`) passes ``params`` = the trigger's.
With ``projection=False`` the update is plain ``∇L_P − α∇L_A``
(gradient reversal with weight α).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import nn

from fairnn.nn.adversary import Adversary
from fairnn.training.hooks import Batch, Forward, LoopState, Plugin
from fairnn.training.optim import make_optimizer

Order = Literal["simultaneous", "adversary_first"]


class AdversarialPlugin(Plugin):
    """Trains ``adversary`` against the model and projects the model's gradient.

    ``params`` picks the model parameters the adversarial update applies to
    (default: every trainable parameter of the model; FairBiNN passes only its
    fairness layers). ``layer`` selects the hidden representation the
    adversary reads when ``adversary.source == "representation"``.
    """

    def __init__(
        self,
        adversary: Adversary,
        *,
        alpha: float,
        lr: float = 1e-4,
        projection: bool = True,
        order: Order = "simultaneous",
        params: Callable[[nn.Module], list[nn.Parameter]] | None = None,
        layer: int = -1,
    ) -> None:
        self.adversary, self.alpha, self.lr = adversary, alpha, lr
        self.projection, self.order, self.select_params, self.layer = (
            projection,
            order,
            params,
            layer,
        )
        self.needs_hidden = adversary.source == "representation"
        self._g_adv: tuple[torch.Tensor | None, ...] = ()
        self._adv_grads: tuple[torch.Tensor | None, ...] | None = None

    def setup(self, state: LoopState) -> None:
        self.adversary.to(state.device)
        self.opt = make_optimizer("adam", self.adversary.parameters(), lr=self.lr)
        chosen = self.select_params(state.model) if self.select_params else state.model.parameters()
        self.params = [p for p in chosen if p.requires_grad]

    def _input(self, fwd: Forward) -> torch.Tensor:
        return fwd.hidden[self.layer] if self.needs_hidden else fwd.logits

    def loss_terms(self, batch: Batch, fwd: Forward, state: LoopState) -> dict[str, torch.Tensor]:
        x = self._input(fwd)
        if self.order == "adversary_first":
            self.opt.zero_grad(set_to_none=True)
            self.adversary.loss(x.detach(), batch.y, batch.s).backward()
            self.opt.step()
        loss_a = self.adversary.loss(x, batch.y, batch.s)
        self._g_adv = torch.autograd.grad(loss_a, self.params, retain_graph=True, allow_unused=True)
        if self.order == "simultaneous":
            adv_params = list(self.adversary.parameters())
            self._adv_grads = torch.autograd.grad(loss_a, adv_params, retain_graph=True)
        state.terms["adversary_loss"] = loss_a.detach()
        return {}

    @torch.no_grad()
    def after_backward(self, state: LoopState) -> None:
        for p, g_a in zip(self.params, self._g_adv, strict=True):
            if p.grad is None or g_a is None:
                continue
            if self.projection:
                unit = g_a / (g_a.norm() + 1e-12)
                p.grad -= (p.grad * unit).sum() * unit
            p.grad -= self.alpha * g_a
        if self._adv_grads is not None:
            for p, g in zip(self.adversary.parameters(), self._adv_grads, strict=True):
                p.grad = g
            self.opt.step()
            self._adv_grads = None
