"""Architectures a model file can name, so loading rebuilds the right module.

Every saved model records ``{"type": NAME, ...}``; :func:`build_network` dispatches on
``type`` through :data:`ARCHITECTURES`, a :class:`fairnn.registry.Registry` of builders
(``arch dict -> nn.Module``). Each architecture module registers its own builder when it
is imported (``ARCHITECTURES.register("mlp", MLP.from_config)``) and this module imports
none of them: :mod:`fairnn.nn`'s ``__init__`` imports every built-in architecture, and
Python runs it before any ``fairnn.nn.*`` module, so the registry is complete whenever
this module can be reached. Plugins add theirs with :func:`register_architecture`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fairnn.errors import ModelFileError
from fairnn.registry import Registry

if TYPE_CHECKING:
    from torch import nn

#: builds a module from the architecture a model file records
Builder = Callable[[dict[str, Any]], "nn.Module"]

#: architecture name (a model file's ``type``) -> builder
ARCHITECTURES: Registry[Builder] = Registry("architecture", error=ModelFileError)

__all__ = ["ARCHITECTURES", "Builder", "architecture_of", "build_network", "register_architecture"]


def register_architecture(name: str, builder: Builder) -> None:
    """Let model files name ``name``: ``builder(arch)`` rebuilds the module (replaces ``name``)."""
    ARCHITECTURES.register(name, builder, replace=True)


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
    """The module ``arch`` (a model file's architecture) describes, freshly initialised."""
    kind = arch.get("type")
    if not isinstance(kind, str) or kind not in ARCHITECTURES:
        raise ModelFileError(
            f"the model file names architecture {kind!r}, which this fairnn does not know; "
            f"known: {ARCHITECTURES.names()}"
        )
    try:
        return ARCHITECTURES.get(kind)(arch)
    except (TypeError, ValueError, KeyError) as e:
        raise ModelFileError(f"the model file's architecture {arch} is invalid: {e}") from None
