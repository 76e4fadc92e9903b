"""Training protocols: the batch sampling, schedule and model selection a recipe implies.

A dataset recipe (:mod:`fairnn.datasets.recipes`) fixes the data; a protocol fixes how
the model is trained and selected on it, and which method parameters its paper sets.
Protocols live in :data:`PROTOCOLS`, registered under the name of the recipe (family)
they belong to; a recipe without one trains with the default recipe's protocol,
:data:`CLEAN`. Papers register theirs from their wings (``fairnn.papers.<paper>.protocol``,
e.g. RUNNER's balanced batches and λ/k tables), loaded when :data:`PROTOCOLS` is first
read (:func:`fairnn.registry.discover`). This module names no paper and no method.

Explicit user settings always win over the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fairnn.datasets.recipes import DEFAULT_RECIPE
from fairnn.errors import ConfigError
from fairnn.methods.base import METHODS
from fairnn.notion import NOTIONS, Notion
from fairnn.registry import Registry

#: TrainConfig values for (fairness mode, canonical method name)
TrainValues = Callable[[str, str], dict[str, Any]]
#: method parameter defaults for (fairness mode, canonical method name, dataset)
ParamValues = Callable[[str, str, str], dict[str, Any]]


def no_params(mode: str, method: str, dataset: str) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Protocol:
    """How a recipe's runs train (``train``) and which method parameters its paper fixes
    (``params``); explicit user settings win over both."""

    train: TrainValues
    params: ParamValues = no_params


#: training protocols by recipe (family); recipes without one use the default recipe's
PROTOCOLS: Registry[Protocol] = Registry("training protocol", discover="protocol")
DEFAULT = DEFAULT_RECIPE

#: the default protocol: TrainConfig values for the clean recipe and any recipe without one
CLEAN: dict[str, Any] = {"epochs": 20, "batch_size": 256, "lr": 1e-3, "select": "loss"}


def notion_of(mode: str) -> Notion:
    """The :class:`~fairnn.notion.Notion` named ``mode``; anything else raises."""
    if mode not in NOTIONS:
        raise ConfigError(f"the fairness notion must be one of {', '.join(NOTIONS)}, got {mode!r}")
    return Notion(mode)


PROTOCOLS.register(DEFAULT, Protocol(lambda mode, method: dict(CLEAN)))


def protocol_for(recipe: str) -> Protocol:
    """The protocol registered for ``recipe``, else the default recipe's."""
    return PROTOCOLS.get(recipe if recipe in PROTOCOLS else DEFAULT)


def protocol(recipe: str, mode: str, method: str) -> dict[str, Any]:
    """TrainConfig defaults for ``recipe`` in fairness ``mode`` for ``method`` (name or alias)."""
    return protocol_for(recipe).train(mode, METHODS.canonical(method))


def protocol_params(recipe: str, mode: str, method: str, dataset: str) -> dict[str, Any]:
    """Method parameter defaults a recipe's paper fixes (explicit parameters win)."""
    return protocol_for(recipe).params(mode, METHODS.canonical(method), dataset)
