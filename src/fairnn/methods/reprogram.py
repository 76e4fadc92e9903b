"""Fairness reprogramming (Zhang et al., "Fairness Reprogramming", NeurIPS 2022, §3).

A trained model ``f*`` stays frozen; a fairness trigger ``δ``
(:mod:`fairnn.nn.trigger`) is learned in front of it on tuning data ``D_tune``:

    min_δ  CE(Y, f*(X̃)) + λ · max_φ [ −CE(Z, d(f*(X̃), Y; φ)) ]        (§3.2)

with a discriminator ``d(·; φ)`` that sees the prediction (DP) or the prediction
and the true label (EO) (:class:`fairnn.nn.adversary.Adversary`). Per batch, as
the official code (``CelebA/train.py``, ``CivilComments/train.py``) does: the
discriminator's loss is differentiated for the trigger gradient ``g_a``, the
discriminator steps, then the trigger steps along
``g_u − (g_u · ĝ_a) ĝ_a − λ g_a`` (Zhang, Lemoine & Mitchell 2018; per parameter
tensor): :class:`fairnn.training.adversarial.AdversarialPlugin` in the one
training loop, whose trainable parameters are the trigger's only.

Two methods live here:

* ``reprogram``: the trigger (tabular ``prepend``/``additive``, image
  ``patch``/``border``, text ``soft``/``hard``; ``trigger="auto"`` takes the first);
* ``adv_post`` (AdvPost, the paper's post-processing baseline): the same
  discriminator and update, but the whole trained model is fine-tuned.

The paper's in-processing baseline AdvIn is ``adversarial`` with ``adv_hidden``.
Both repair a trained model (``fairnn repair MODEL_DIR --method reprogram``);
``fit`` trains the base model as vanilla does, then repairs it. ``tune_ratio``
draws the tuning set as a random fraction of the training rows (the paper's
Figure 4). Decisions where paper and code differ: docs/methods/reprogramming.md.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field
from torch import nn

from fairnn.datasets.core import TabularData
from fairnn.errors import ConfigError, InvalidValueError
from fairnn.methods.adversarial import AdversarialDebiasing, AdversarialParams
from fairnn.methods.base import Method, MethodParams, check_training_data, register
from fairnn.methods.fitted import FittedModel
from fairnn.nn.adversary import Adversary
from fairnn.nn.trigger import Trigger, TriggeredModel, make_trigger
from fairnn.training.adversarial import AdversarialPlugin
from fairnn.training.config import TrainConfig
from fairnn.training.hooks import LoopState, Plugin
from fairnn.training.loop import TrainResult, fit

TriggerKind = Literal["auto", "prepend", "additive", "patch", "border", "soft", "hard"]


class TuningParams(MethodParams):
    """What the post-processing stage trains on and how long."""

    tune_ratio: float = Field(
        1.0, gt=0, le=1, description="fraction of the training rows in the tuning set D_tune"
    )
    tune_epochs: int | None = Field(
        None, ge=1, description="epochs on D_tune (default: the training config's)"
    )
    tune_lr: float | None = Field(
        None, gt=0, description="learning rate on D_tune (default: the training config's)"
    )


class ReprogramParams(TuningParams):
    lam: float = Field(1.0, ge=0, description="λ, the weight of the fairness (discriminator) term")
    mode: Literal["dp", "eo"] = Field("dp", description="dp: d sees ŷ; eo: d sees ŷ and y")
    trigger: TriggerKind = Field("auto", description="the trigger design (auto: by modality)")
    n_trigger: int = Field(
        5, ge=1, le=512, description="trigger tokens (text) or prepended features (tabular)"
    )
    patch_size: int | None = Field(None, ge=1, description="patch side in px (default 80/224)")
    border_width: int | None = Field(None, ge=1, description="frame width in px (default 20/224)")
    adv_lr: float = Field(0.01, gt=0, description="the discriminator's learning rate (paper)")
    adv_hidden: list[int] = Field(
        default_factory=lambda: [128, 128], description="discriminator hidden layers (3-layer MLP)"
    )
    projection: bool = Field(True, description="remove the utility gradient's projection on g_a")


class AdvPostParams(TuningParams, AdversarialParams):
    adv_lr: float = Field(0.01, gt=0, description="the discriminator's learning rate (paper)")
    adv_hidden: list[int] = Field(
        default_factory=lambda: [128, 128], description="discriminator hidden layers"
    )


def output_adversary(
    mode: str, data: TabularData, hidden: list[int], n_classes: int = 1
) -> Adversary:
    """The discriminator on the model's output, with the official code's input features.

    Binary models (Civil Comments scripts): DP reads ``[s, logit]``; EO reads
    ``[s, s·y, s·(1−y), logit·y, logit·(1−y), y]``. Multi-class models (CelebA):
    DP reads ``softmax((1+|c|)·logits)``, EO also ``s ⊙ onehot(y)``.
    """
    binary = n_classes == 1
    return Adversary(
        n_groups=data.groups.n_groups,
        mode=mode,  # type: ignore[arg-type]
        hidden=hidden,
        n_classes=n_classes,
        with_logits=binary and mode == "dp",
        with_logits_y=binary and mode == "eo",
        single_y=binary and mode == "eo",
    )


def tuning_set(train: TabularData, ratio: float, seed: int) -> TabularData:
    """``D_tune``: a random ``ratio`` of the training rows (all of them at 1)."""
    if ratio >= 1.0:
        return train
    n = len(train)
    k = max(2, int(round(ratio * n)))
    idx = np.sort(np.random.default_rng(seed).choice(n, min(k, n), replace=False))
    tune = train.subset(torch.as_tensor(idx))
    if tune.groups.n_groups > 1 and len(torch.unique(tune.s)) < 2:
        raise InvalidValueError(
            f"tune_ratio={ratio} leaves {len(tune)} tuning rows, all from one group; "
            "raise tune_ratio"
        )
    return tune


def _config(config: TrainConfig | None, p: TuningParams) -> TrainConfig:
    config = config or TrainConfig()
    updates: dict[str, Any] = {}
    if p.tune_epochs is not None:
        updates["epochs"] = p.tune_epochs
    if p.tune_lr is not None:
        updates["lr"] = p.tune_lr
    return config.model_copy(update=updates) if updates else config


class TriggerPlugin(Plugin):
    """The loop's main optimiser trains the trigger only; projects it after each step."""

    def __init__(self, trigger: Trigger) -> None:
        self.trigger = trigger

    def param_groups(self, model: nn.Module) -> list[dict[str, Any]]:
        return [{"params": list(self.trigger.parameters())}]

    def after_step(self, state: LoopState) -> None:
        self.trigger.project()


def n_outputs(model: nn.Module) -> int:
    """1 for a one-logit model, else the number of logits (``config.out_features``)."""
    return int(getattr(getattr(model, "config", None), "out_features", 1) or 1)


def train_trigger(
    base: nn.Module,
    trigger: Trigger,
    train: TabularData,
    val: TabularData | None,
    p: ReprogramParams,
    config: TrainConfig | None = None,
    *,
    seed: int = 0,
    n_classes: int | None = None,
) -> tuple[TriggeredModel, TrainResult]:
    """Train ``trigger`` in front of the frozen ``base`` through the one loop.

    ``base``'s parameters are frozen for the duration (and restored to their
    ``requires_grad`` afterwards); its weights and buffers are unchanged.
    """
    tune = tuning_set(train, p.tune_ratio, seed)
    model = TriggeredModel(base, trigger)
    torch.manual_seed(seed)
    adversary = output_adversary(p.mode, train, p.adv_hidden, n_classes or n_outputs(base))
    plugins: list[Plugin] = [
        TriggerPlugin(trigger),
        AdversarialPlugin(
            adversary,
            alpha=p.lam,
            lr=p.adv_lr,
            projection=p.projection,
            order="simultaneous",
            params=lambda m: list(m.trigger.parameters()),
        ),
    ]
    frozen = [(q, q.requires_grad) for q in base.parameters()]
    for q, _ in frozen:
        q.requires_grad_(False)
    try:
        result = fit(model, tune, val, _config(config, p), plugins=plugins, seed=seed)
    finally:
        for q, flag in frozen:
            q.requires_grad_(flag)
    return model, result


def _repair_record(method: Method, result: TrainResult, n_tune: int) -> dict[str, Any]:
    return {
        "method": method.name,
        "params": method.params.model_dump(mode="json"),
        "tuning_rows": n_tune,
        "best_epoch": result.best_epoch,
        "select": result.select,
        "time_s": result.time_s,
        "history": result.history,
    }


@register
class Reprogram(Method[ReprogramParams]):
    """Fairness reprogramming: a trained trigger in front of a frozen model (NeurIPS 2022)."""

    name = "reprogram"
    aliases = ("reprogramming", "FairReprogram")
    stage = "post"
    paper = "Zhang et al., Fairness Reprogramming, NeurIPS 2022, §3 (code: UCSB-NLP-Chang/Fairness-Reprogramming)"

    def make_trigger(self, base: nn.Module, data: TabularData, seed: int = 0) -> Trigger:
        p = self.params
        return make_trigger(
            p.trigger,
            data,
            base,
            k=p.n_trigger,
            patch_size=p.patch_size,
            border_width=p.border_width,
            seed=seed,
        )

    def repair(
        self,
        fitted: FittedModel,
        train: TabularData,
        val: TabularData | None = None,
        *,
        config: TrainConfig | None = None,
        seed: int = 0,
    ) -> FittedModel:
        """``fitted`` with a trained trigger in front of its (unchanged) network."""
        p = self.params
        check_training_data(train, "train")
        if fitted.task != "binary":
            raise ConfigError(
                "method 'reprogram' repairs binary classifiers through FittedModel; for a "
                "multi-class network call fairnn.methods.reprogram.train_trigger"
            )
        base = fitted.network
        if isinstance(base, TriggeredModel):  # reprogramming again replaces the trigger
            base = base.base
        trigger = self.make_trigger(base, train, seed)
        model, result = train_trigger(base, trigger, train, val, p, config, seed=seed)
        n_tune = len(tuning_set(train, p.tune_ratio, seed))
        return replace(
            fitted,
            network=model,
            training={**fitted.training, "reprogram": _repair_record(self, result, n_tune)},
        )


@register
class AdvPost(AdversarialDebiasing):
    """AdvPost: adversarial fine-tuning of the whole trained model (the paper's baseline)."""

    name = "adv_post"
    aliases = ("AdvPost",)
    stage = "post"
    Params = AdvPostParams
    params: AdvPostParams
    paper = "Zhang et al., Fairness Reprogramming, NeurIPS 2022, §4 baseline AdvPost (Zhang, Lemoine & Mitchell 2018 update)"

    def plugins(self, train: TabularData, val: TabularData | None) -> list[Plugin]:
        return []  # the base model trains as vanilla; the adversary acts in repair()

    def repair(
        self,
        fitted: FittedModel,
        train: TabularData,
        val: TabularData | None = None,
        *,
        config: TrainConfig | None = None,
        seed: int = 0,
    ) -> FittedModel:
        """A copy of ``fitted`` with every weight fine-tuned against the discriminator on
        ``D_tune`` (``fitted`` is left as it was)."""
        p = self.params
        check_training_data(train, "train")
        tune = tuning_set(train, p.tune_ratio, seed)
        torch.manual_seed(seed)
        adversary = output_adversary(p.mode, train, p.adv_hidden, n_outputs(fitted.network))
        plugin = AdversarialPlugin(
            adversary, alpha=p.lam, lr=p.adv_lr, projection=p.projection, order="simultaneous"
        )
        network = copy.deepcopy(fitted.network)
        result = fit(network, tune, val, _config(config, p), plugins=[plugin], seed=seed)
        record = _repair_record(self, result, len(tune))
        return replace(
            fitted, network=result.model, training={**fitted.training, "adv_post": record}
        )


def reprogram(
    module: nn.Module,
    train: TabularData,
    val: TabularData | None = None,
    *,
    config: TrainConfig | None = None,
    seed: int = 0,
    **params: Any,
) -> FittedModel:
    """Reprogram a user's trained ``module`` for ``train`` (Python API).

    ``module`` maps ``train.X`` to one logit per row: any ``nn.Module`` for image
    data, a module with ``embed``/``forward_embeddings``/``embedding`` for text
    (like :class:`fairnn.nn.TextClassifier`), an ``nn.Module`` whose first layer
    is an ``nn.Linear`` (``trigger="prepend"``) or any module (``"additive"``) for
    tabular rows. Its weights are not changed. ``params`` are
    :class:`ReprogramParams`. The result predicts and evaluates like any fitted
    model; it saves when ``module`` is a fairnn architecture.
    """
    fitted = FittedModel.from_module(module, train, method="user", mlp=False)
    return Reprogram(**params).repair(fitted, train, val, config=config, seed=seed)
