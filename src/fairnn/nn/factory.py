"""Default networks for image and text data (tabular data trains an MLP).

:func:`network_for_data` picks and sizes the network a method trains on non-tabular
data; the names it accepts are :data:`IMAGE_ARCHITECTURES` and :data:`TEXT_ARCHITECTURES`
(:class:`fairnn.methods.base.Architecture` validates ``--arch`` against them).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from fairnn.errors import ConfigError
from fairnn.nn.cnn import SmallCNN
from fairnn.nn.random_features import RandomReLUFeatures
from fairnn.nn.resnet import PreActResNet
from fairnn.nn.text import TextClassifier

__all__ = ["IMAGE_ARCHITECTURES", "TEXT_ARCHITECTURES", "network_for_data"]


IMAGE_ARCHITECTURES = ("cnn", "preact_resnet", "random_features")
TEXT_ARCHITECTURES = ("text", "transformer")


def network_for_data(
    data: Any,
    kind: str | None = None,
    *,
    width: int | None = None,
    hidden: list[int] | None = None,
    dropout: float = 0.0,
) -> nn.Module:
    """A fresh network for image or text data (``data.modality``).

    Images: ``cnn`` (default; ``width`` = first block's channels, 16) or
    ``preact_resnet`` (PreAct ResNet-18, ``width`` = k, 64). Text: ``text`` (default,
    mean-pooled embeddings; ``width`` = embedding dim, 64) or ``transformer`` (a
    one-layer transformer encoder); ``hidden[0]`` sizes the head.
    """
    modality = getattr(data, "modality", "tabular")
    if modality == "image":
        kind = kind or "cnn"
        channels = int(data.X.shape[1])
        if kind == "cnn":
            return SmallCNN(channels, width or 16, dropout=dropout, hidden=(hidden or [64])[0])
        if kind in ("preact_resnet", "resnet", "resnet18"):
            return PreActResNet(width or 64, channels)
        if kind == "random_features":
            return RandomReLUFeatures.for_data(data, width or 1000)
        raise ConfigError(f"architecture {kind!r} does not take images; use {IMAGE_ARCHITECTURES}")
    if modality == "text":
        kind = kind or "text"
        if kind not in TEXT_ARCHITECTURES:
            raise ConfigError(f"architecture {kind!r} does not take text; use {TEXT_ARCHITECTURES}")
        return TextClassifier(
            max(int(data.vocab_size), 2),
            dim=width or 64,
            hidden=(hidden or [64])[0],
            encoder="transformer" if kind == "transformer" else "bag",
            max_len=max(int(data.X.shape[1]), 16),
            dropout=dropout,
        )
    raise ConfigError(f"no default network for {modality!r} data; tabular data trains an MLP")
