"""The one training loop every in-processing method runs.

Methods plug in through :class:`~fairnn.training.hooks.Plugin` objects instead of
writing loops of their own:

* ``loss_terms`` adds named terms computed from the batch and the model's
  forward pass (logits and, when ``needs_hidden``, the hidden activations);
* ``transform_primary`` reshapes the primary loss (flooding);
* ``setup`` creates extra optimizers (adversaries, FairBiNN followers);
  ``after_backward`` may edit gradients or step those optimizers before the
  main step; ``after_step`` and ``on_epoch_end`` run after it;
* extra parameter groups go to the main optimizer through ``param_groups``;
* ``before_forward`` sees the gathered batch before the model runs on it
  (FairNeuron's per-row dropout mask);
* ``extra_rows`` names more training rows to run through the same forward pass
  (MinDiff's per-group batches); their logits reach ``loss_terms`` in
  ``Forward.extra`` and never enter the primary loss.

The regularizers of :mod:`fairnn.training.regularizers` (flooding, L2, early
stopping) come from :class:`TrainConfig` fields and apply to every method.

A :class:`~fairnn.training.samplers.Sampler` chooses the batch rows, and the
``select`` rule of :class:`~fairnn.training.config.TrainConfig` chooses the
epoch whose weights are kept. Data stays in tensors on the device; a batch is
an index gather, never per-sample Python.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from fairnn.datasets.core import TabularData
from fairnn.errors import ConfigError, InvalidValueError
from fairnn.training.config import TrainConfig
from fairnn.training.hooks import Batch, Forward, LoopState, Plugin
from fairnn.training.inference import predict_logits, scores_from_logits
from fairnn.training.optim import make_optimizer
from fairnn.training.regularizers import SELECTION_RULES, regularizer_plugins
from fairnn.training.samplers import BalancedSampler, RandomSampler, Sampler

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    model: nn.Module
    history: list[dict[str, float]]
    best_epoch: int
    select: str
    time_s: float
    #: the positive class's loss weight used (``TrainConfig.class_weight``), or None
    pos_weight: float | None = None


def primary_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    w: torch.Tensor | None,
    task: str,
    pos_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """BCE on logits (binary; ``pos_weight`` weighs the positive class, as torch's), cross-
    entropy on ``(n, C)`` logits (multiclass; ``y`` holds class ids) or squared error
    (regression), weighted mean over rows."""
    if task == "binary":
        per_row = nn.functional.binary_cross_entropy_with_logits(
            logits, y, reduction="none", pos_weight=pos_weight
        )
    elif task == "multiclass":
        per_row = nn.functional.cross_entropy(logits, y.long(), reduction="none")
    else:
        per_row = (logits - y) ** 2
    if w is None:
        return per_row.mean()
    return (per_row * w).sum() / w.sum().clamp_min(1e-12)


def resolve_device(device: str) -> torch.device:
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} was asked for but CUDA is not available here; use --device cpu"
        )
    return torch.device(device)


def _step_inputs(
    model: nn.Module, train: TabularData, config: TrainConfig
) -> tuple[Callable[..., Any], Any]:
    """The callable a training step runs and the inputs it gathers rows from.

    A model with ``precompute(X)`` and ``forward_precomputed(H, return_hidden)`` (a
    frozen feature map under a trainable head, e.g. random features) has its training
    inputs mapped once here; validation and prediction still run the whole model.
    """
    pre = getattr(model, "precompute", None)
    if pre is None or not isinstance(train.X, torch.Tensor):
        return model, train.X
    with torch.no_grad():
        size = config.eval_batch_size if train.X.ndim == 2 else 256
        H = torch.cat([pre(train.X[i : i + size]) for i in range(0, len(train), size)])
    return model.forward_precomputed, H


def _forward(
    model: Callable[..., Any],
    X: torch.Tensor,
    X_all: Any,
    extra: dict[str, torch.Tensor],
    needs_hidden: bool,
) -> Forward:
    """One forward pass over the batch and the plugins' extra rows (gathered from ``X_all``)."""
    n = X.shape[0]
    if extra:
        X = torch.cat([X, *(X_all[idx] for idx in extra.values())])
    if needs_hidden:
        logits, hidden = model(X, return_hidden=True)
        hidden = [h[:n] for h in hidden]
    else:
        logits, hidden = model(X), []
    out: dict[str, torch.Tensor] = {}
    start = n
    for name, idx in extra.items():
        out[name] = logits[start : start + idx.shape[0]]
        start += idx.shape[0]
    return Forward(logits[:n], hidden, out)


def class_pos_weight(train: TabularData, config: TrainConfig) -> torch.Tensor | None:
    """``config.class_weight`` as BCE's ``pos_weight`` for ``train`` (its sample weights
    count), on ``train``'s device; None without a class weight."""
    if config.class_weight is None:
        return None
    if train.task != "binary":
        raise ConfigError(
            f"class_weight weighs the positive class of a binary label; this task is "
            f"{train.task}: drop --class-weight"
        )
    w = train.sample_weight if train.sample_weight is not None else torch.ones_like(train.y)
    positives = float((w * train.y).sum())
    value = config.pos_weight(positives, float(w.sum()) - positives)
    return None if value is None else torch.tensor(value, device=train.y.device)


def make_sampler(data: TabularData, config: TrainConfig, gen: torch.Generator) -> Sampler:
    if config.sampler == "random":
        if config.batch_size > len(data):
            log.warning(
                "batch_size %d is larger than the %d training rows; it is clamped to %d (each "
                "step uses every row)",
                config.batch_size,
                len(data),
                len(data),
            )
        return RandomSampler(len(data), config.batch_size, gen, config.steps_per_epoch)
    n_cells = data.groups.n_groups * (2 if config.balance == "group_label" else 1)
    per_cell = config.per_cell or max(1, config.batch_size // n_cells)
    steps = config.steps_per_epoch or max(1, math.ceil(len(data) / (per_cell * n_cells)))
    return BalancedSampler(data, per_cell, gen, steps, config.balance)


class _Selector:
    """Tracks the best epoch under a selection rule on the validation split."""

    def __init__(
        self,
        rule: str | Callable[..., float],
        val: TabularData | None,
        config: TrainConfig,
        pos_weight: torch.Tensor | None = None,
    ):
        from fairnn.metrics import METRICS

        self.val, self.config = val, config
        self.pos_weight = pos_weight  # the training loss's class weight, for the val loss
        self.name = rule if isinstance(rule, str) else getattr(rule, "__name__", "custom")
        self.fn = rule if callable(rule) else None
        self.higher_better = False
        if isinstance(rule, str) and rule in SELECTION_RULES:
            self.fn = SELECTION_RULES[rule]
        elif isinstance(rule, str) and rule not in ("last", "loss"):
            if rule not in METRICS:
                raise ConfigError(
                    f"select={rule!r} is not 'last', 'loss', "
                    + ", ".join(repr(k) for k in SELECTION_RULES)
                    + " or a metric name; metrics: "
                    + ", ".join(sorted(METRICS))
                )
            self.higher_better = METRICS[rule].higher_is_better
        if val is None and self.name != "last":
            raise ConfigError(
                f"select={self.name!r} needs a validation split; pass val= or select='last'"
            )
        self._val_features: torch.Tensor | None = None
        self.best_value: float | None = None
        self.best_epoch = -1
        self.best_state: dict[str, torch.Tensor] | None = None
        self.since_best = 0

    def value(self, model: nn.Module) -> dict[str, float]:
        if self.val is None:
            return {}
        if getattr(model, "precompute", None) is not None and isinstance(self.val.X, torch.Tensor):
            # a frozen feature map: map the validation inputs once, score the head each epoch
            if self._val_features is None:
                self._val_features = _step_inputs(model, self.val, self.config)[1]
            with torch.no_grad():
                was = model.training
                model.eval()
                logits = model.forward_precomputed(self._val_features)  # type: ignore[operator]
                model.train(was)
        else:
            # images and texts: smaller chunks (activations, and lazily read image files)
            size = self.config.eval_batch_size if self.val.X.ndim == 2 else 256
            logits = predict_logits(model, self.val.X, min(self.config.eval_batch_size, size))
        loss = primary_loss(logits, self.val.y, None, self.val.task, self.pos_weight)
        out = {"val_loss": float(loss)}
        if self.name in ("last", "loss"):
            return out
        scores = scores_from_logits(logits, self.val.task).cpu().numpy()
        if self.fn is not None:
            out[f"val_{self.name}"] = float(self.fn(scores, self.val))
        else:
            from fairnn.metrics import evaluate

            vals = evaluate(
                self.val.y.cpu().numpy(),
                scores,
                sensitive_features=self.val.group_labels(),
                metrics=[self.name],
                task=self.val.task,
                threshold=self.config.threshold,
            )
            out[f"val_{self.name}"] = float(vals[self.name])
        return out

    def update(self, epoch: int, values: dict[str, float], model: nn.Module) -> bool:
        """Record an epoch; returns True when training should stop early."""
        if self.name == "last":
            self.best_epoch = epoch
            return False
        if epoch < self.config.select_from:
            return False
        v = values["val_loss"] if self.name == "loss" else values[f"val_{self.name}"]
        score = -v if self.higher_better else v
        if not np.isfinite(score):
            score = math.inf
        if self.best_value is None or score < self.best_value:
            self.best_value, self.best_epoch, self.since_best = score, epoch, 0
            self.best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
        else:
            self.since_best += 1
        return self.config.patience is not None and self.since_best >= self.config.patience


def fit(
    model: nn.Module,
    train: TabularData,
    val: TabularData | None = None,
    config: TrainConfig | None = None,
    *,
    plugins: Sequence[Plugin] = (),
    seed: int = 0,
    sampler: Sampler | None = None,
    select: str | Callable[[np.ndarray, TabularData], float] | None = None,
) -> TrainResult:
    """Train ``model`` in place and return it with its history.

    ``select`` overrides ``config.select`` and may be a callable
    ``(val_scores, val_data) -> float`` (lower is better).
    """
    config = config or TrainConfig()
    plugins = [*plugins, *regularizer_plugins(config)]
    if len(train) == 0:
        raise InvalidValueError("the training split is empty")
    device = resolve_device(config.device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model.to(device)
    train_d = train.to(device)
    val_d = val.to(device) if val is not None else None
    sampler = sampler or make_sampler(train_d, config, gen)
    pos_weight = class_pos_weight(train_d, config)

    groups: list[dict[str, Any]] | None = None
    for p in plugins:
        groups = p.param_groups(model) or groups
    params: Any = groups if groups is not None else model.parameters()
    opt = make_optimizer(
        config.optimizer,
        params,
        lr=config.lr,
        weight_decay=config.weight_decay,
        momentum=config.momentum,
    )

    schedule = (
        torch.optim.lr_scheduler.StepLR(opt, config.lr_decay_every, gamma=config.lr_decay)
        if config.lr_decay_every is not None and config.lr_decay != 1.0
        else None
    )

    # a model with a frozen feature map (random features) maps the training inputs once;
    # steps then run its trainable part only
    step_model, X_steps = _step_inputs(model, train_d, config)
    state = LoopState(model, opt, config, train_d, device, gen)
    for p in plugins:
        p.setup(state)
    needs_hidden = any(p.needs_hidden for p in plugins)
    rule = select if select is not None else config.select
    selector = _Selector(rule, val_d, config, pos_weight)
    history: list[dict[str, float]] = []
    show = config.progress and sys.stderr.isatty()
    t0 = time.perf_counter()
    bar = tqdm(range(config.epochs), desc="train", unit="epoch", disable=not show, leave=False)
    for epoch in bar:
        state.epoch = epoch
        model.train()
        count = 0
        sums: dict[str, torch.Tensor] = {}
        for idx in sampler.epoch():
            idx_d = idx.to(device)
            w = None if train_d.sample_weight is None else train_d.sample_weight[idx_d]
            batch = Batch(idx_d, X_steps[idx_d], train_d.y[idx_d], train_d.s[idx_d], w)
            for p in plugins:
                p.before_forward(batch, state)
            extra: dict[str, torch.Tensor] = {}
            for p in plugins:
                extra.update(p.extra_rows(batch, state))
            fwd = _forward(step_model, batch.X, X_steps, extra, needs_hidden)
            state.batch, state.forward = batch, fwd
            loss = primary_loss(fwd.logits, batch.y, batch.w, train_d.task, pos_weight)
            for p in plugins:
                loss = p.transform_primary(loss, state)
            state.terms = {"primary": loss.detach()}
            for p in plugins:
                for name, term in p.loss_terms(batch, fwd, state).items():
                    loss = loss + term
                    state.terms[name] = term.detach()
            state.terms["loss"] = loss.detach()
            state.loss = loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            for p in plugins:
                p.after_backward(state)
            opt.step()
            if schedule is not None:
                schedule.step()
            for p in plugins:
                p.after_step(state)
            state.step += 1
            count += 1
            for k, v in state.terms.items():  # summed on the device: no sync per step
                sums[k] = sums[k] + v if k in sums else v.clone()
        means = {k: float(v) / max(count, 1) for k, v in sums.items()}
        if not math.isfinite(means.get("loss", 0.0)):
            raise InvalidValueError(
                f"the training loss became {means['loss']} in epoch {epoch}; lower the learning "
                "rate or the penalty weight, or check the inputs for extreme values"
            )
        for p in plugins:
            p.on_epoch_end(state)
        record = {"epoch": float(epoch), "train_loss": means.get("loss", math.nan)}
        record.update({f"train_{k}": v for k, v in means.items() if k not in ("primary", "loss")})
        record.update(selector.value(model))
        history.append(record)
        stop = selector.update(epoch, record, model)
        bar.set_postfix({k: f"{v:.4f}" for k, v in record.items() if k != "epoch"})
        log.debug("epoch %d: %s", epoch, record)
        if stop:
            log.info("early stopping after epoch %d (best epoch %d)", epoch, selector.best_epoch)
            break
    bar.close()
    if selector.best_state is not None:
        model.load_state_dict(selector.best_state)
    model.eval()
    elapsed = time.perf_counter() - t0
    weight = None if pos_weight is None else float(pos_weight)
    return TrainResult(model, history, selector.best_epoch, selector.name, elapsed, weight)
