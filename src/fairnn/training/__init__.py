"""The one training loop, its samplers and its configuration."""

from fairnn.training.config import TrainConfig
from fairnn.training.hooks import Batch, Forward, LoopState, Plugin
from fairnn.training.inference import predict_logits, scores_from_logits
from fairnn.training.loop import TrainResult, fit, primary_loss
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
    "scores_from_logits",
]
