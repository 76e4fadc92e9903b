"""Training settings shared by the Python API, the CLI and sweep files.

One pydantic model, so every entry point rejects the same bad value with the
same message.
"""

from __future__ import annotations

import contextlib
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from fairnn.errors import InvalidValueError
from fairnn.validation import ConfigModel


class TrainConfig(ConfigModel, what="training setting"):
    """How the one training loop runs.

    ``select`` names the model-selection rule applied after every epoch on the
    validation split: ``"last"`` keeps the final epoch, ``"loss"`` the epoch
    with the lowest validation loss, and any metric name of
    :data:`fairnn.metrics.METRICS` (e.g. ``"dp_gap"``) the best epoch by that
    metric (lowest gap, highest accuracy). Ties go to the earliest epoch.
    Epochs before ``select_from`` are never selected (RUNNER discards epoch 0).
    ``patience`` stops training after that many epochs without improvement.
    ``select="constrained_error"`` is the MinDiff paper's validation criterion (the
    error of the best per-group thresholds under |ΔFNR| ≤ 0.01; see
    :mod:`fairnn.training.regularizers`).

    Regularizers that combine with every in-processing method (Veldanda et al., TMLR
    2023, §5): ``weight_decay`` (L2, as the optimizer's weight decay, as the MinDiff
    code), ``flood_level`` (flooding, Ishida et al. 2020: the primary loss L becomes
    |L − b| + b) and early stopping (``select`` on validation, with ``patience``).

    Certifiable training (for :mod:`fairnn.certify`, with any in-processing method):
    ``l1`` adds λ·Σ|W| over the weight matrices (sparser nets have fewer unstable
    neurons and smaller MILPs); ``relu_stability`` adds λ·mean(−tanh(1 + l·u)) over the
    hidden neurons, ``[l, u]`` each pre-activation's interval bounds over the ℓ∞ ball of
    radius ``stability_eps`` (model-input units) around each training row: Xiao et al.,
    "Training for Faster Adversarial Robustness Verification via Inducing ReLU
    Stability", ICLR 2019, §3.3. It pushes neurons to one side of 0 near the data, so
    the MILP needs fewer binaries. Both need a :class:`~fairnn.nn.MLP`.

    ``lr_decay_every`` (steps) with ``lr_decay`` multiplies the main optimizer's
    learning rate by ``lr_decay`` every that many steps (a step schedule,
    ``torch.optim.lr_scheduler.StepLR``; the MinDiff paper's ×0.1 every 10k steps).
    Optimizers a method creates for itself (adversaries, FairBiNN's follower) keep
    their rate.

    A ``batch_size`` larger than the training rows is clamped to them (every step sees
    every row), with a warning naming both numbers.
    Non-finite floats (nan, inf) are refused, as in every fairnn settings model.

    Decisions and imbalanced labels (binary tasks):

    * ``threshold`` is the decision threshold the trained model keeps: decisions are
      ``ŷ = 1[p > threshold]`` (0.5 by default), in every label metric of the run (train,
      val and test), in validation selection by a label metric (``select="dp_gap"``) and in
      the saved model, whose ``predict`` uses it. It must lie in (0, 1).
    * ``class_weight`` weighs the positive class in the primary loss, as BCE's
      ``pos_weight`` (each positive row's loss counts that many times a negative row's):
      ``"balanced"`` sets it to (weighted) negatives / positives of the rows the model
      trains on, a number > 0 sets it directly, ``None`` (default) leaves the loss
      unweighted. The validation loss uses the same weight. The value used is recorded in
      the model file (``training.pos_weight``). Pre-processing sample weights still apply.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    epochs: int = Field(20, ge=1)
    batch_size: int = Field(256, ge=1)
    lr: float = Field(1e-3, gt=0)
    lr_decay: float = Field(1.0, gt=0, le=1)
    lr_decay_every: int | None = Field(None, ge=1)
    weight_decay: float = Field(0.0, ge=0)
    flood_level: float | None = Field(None, ge=0)
    l1: float = Field(0.0, ge=0)
    relu_stability: float = Field(0.0, ge=0)
    stability_eps: float = Field(0.05, gt=0)
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    momentum: float = Field(0.0, ge=0, lt=1)
    steps_per_epoch: int | None = Field(None, ge=1)
    sampler: Literal["random", "balanced"] = "random"
    balance: Literal["group", "group_label"] = "group"
    per_cell: int | None = Field(None, ge=1)
    select: str = "loss"
    select_from: int = Field(0, ge=0)
    patience: int | None = Field(None, ge=1)
    device: str = "cpu"
    progress: bool = True
    eval_batch_size: int = Field(65536, ge=1)
    threshold: float = 0.5
    class_weight: Literal["balanced"] | float | None = None

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, v: float) -> float:
        if not 0 < v < 1:
            raise ValueError(
                "threshold must be in (0, 1) (decisions are 1[p > threshold]; 0.5 by "
                "default); pass e.g. --threshold 0.3"
            )
        return v

    @field_validator("class_weight", mode="before")
    @classmethod
    def _class_weight(cls, v: object) -> object:
        if v is None or v == "balanced":
            return v
        number: float | None = None
        if isinstance(v, int | float) and not isinstance(v, bool):
            number = float(v)
        elif isinstance(v, str):  # a number given as text on a command line or in a file
            with contextlib.suppress(ValueError):
                number = float(v)
        if number is not None and 0 < number < float("inf"):
            return number
        raise ValueError(
            "class_weight must be 'balanced' or a number > 0 (the positive class's weight "
            "relative to the negative class's); pass --class-weight balanced or e.g. "
            "--class-weight 5"
        )

    def pos_weight(self, positives: float, negatives: float) -> float | None:
        """The positive class's loss weight for training rows with these (weighted) class
        counts: ``negatives / positives`` when ``class_weight="balanced"``, the number
        given, or None (no class weight). A class absent from the rows refuses "balanced"."""
        if self.class_weight is None:
            return None
        if self.class_weight != "balanced":
            return float(self.class_weight)
        if positives <= 0 or negatives <= 0:
            raise InvalidValueError(
                f"class_weight='balanced' needs both labels in the training rows (found "
                f"{positives:g} positive and {negatives:g} negative); pass a number or drop "
                "--class-weight"
            )
        return negatives / positives

    @field_validator("device")
    @classmethod
    def _device(cls, v: str) -> str:
        if v not in ("cpu", "cuda") and not v.startswith("cuda:"):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {v!r}")
        return v

    @classmethod
    def make(cls, **kwargs: object) -> TrainConfig:
        """Build a config; a bad value raises :class:`~fairnn.errors.ConfigError` (as ``cls()``)."""
        return cls(**kwargs)
