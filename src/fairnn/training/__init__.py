"""The one training loop, its samplers and its configuration."""

from fairnn.training.config import TrainConfig
from fairnn.training.loop import (
    Batch,
    Forward,
    LoopState,
    Plugin,
    TrainResult,
    fit,
    predict_logits,
    primary_loss,
)
from fairnn.training.samplers import BalancedSampler, RandomSampler

__all__ = [
    "BalancedSampler",
    "Batch",
    "Forward",
    "LoopState",
    "Plugin",
    "RandomSampler",
    "TrainConfig",
    "TrainResult",
    "fit",
    "predict_logits",
    "primary_loss",
]
