"""Architectures a model file can name, so loading rebuilds the right module.

Every saved model records ``{"type": NAME, ...}``; :func:`build_network`
dispatches on ``type``. Later architectures (FairBiNN's network, CNNs, text
encoders) register themselves here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from fairnn.errors import ConfigError, ModelFileError
from fairnn.nn.cnn import SmallCNN
from fairnn.nn.mlp import MLP
from fairnn.nn.random_features import RandomReLUFeatures
from fairnn.nn.resnet import PreActResNet
from fairnn.nn.text import TextClassifier
from fairnn.nn.user import SequentialNet

_BUILDERS: dict[str, Callable[[dict[str, Any]], nn.Module]] = {
    "mlp": MLP.from_config,
    "cnn": SmallCNN.from_config,
    "preact_resnet": PreActResNet.from_config,
    "text": TextClassifier.from_config,
    "random_features": RandomReLUFeatures.from_config,
    "sequential": SequentialNet.from_config,
    "reprogram": lambda arch: _triggered(arch),
}


def _triggered(arch: dict[str, Any]) -> nn.Module:
    from fairnn.nn.trigger import TriggeredModel  # imports this module

    return TriggeredModel.from_config(arch)


def register_architecture(name: str, builder: Callable[[dict[str, Any]], nn.Module]) -> None:
    _BUILDERS[name] = builder


def architecture_of(model: nn.Module) -> dict[str, Any]:
    """The JSON description of ``model`` (it must carry a ``config`` with ``to_dict``)."""
    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "to_dict"):
        raise ModelFileError(
            f"cannot describe a {type(model).__name__} for a model file: fairnn saves modules "
            "that carry a config (fairnn.nn.MLP and the registered architectures)"
        )
    return config.to_dict()


def build_network(arch: dict[str, Any]) -> nn.Module:
    kind = arch.get("type")
    if kind not in _BUILDERS:
        raise ModelFileError(
            f"the model file names architecture {kind!r}, which this fairnn does not know; "
            f"known: {sorted(_BUILDERS)}"
        )
    try:
        return _BUILDERS[kind](arch)
    except (TypeError, ValueError, KeyError) as e:
        raise ModelFileError(f"the model file's architecture {arch} is invalid: {e}") from None


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
