"""Architectures a model file can name, so loading rebuilds the right module.

Every saved model records ``{"type": NAME, ...}``; :func:`build_network`
dispatches on ``type``. Later architectures (FairBiNN's network, CNNs, text
encoders) register themselves here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from fairnn.errors import ModelFileError
from fairnn.nn.mlp import MLP

_BUILDERS: dict[str, Callable[[dict[str, Any]], nn.Module]] = {"mlp": MLP.from_config}


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
