"""FairBiNN's training protocols (docs/methods/fairbinn.md), one per recipe.

``fairbinn`` is the official code's defaults (the seed's η 10000, batch 200, 200
epochs), ``fairbinn-paper`` the paper's appendix (η 100, batch 100, 50 epochs); both
Adam with leader lr 1e-3 (the follower's 1e-5 is the method's default). The last epoch
is kept: the official code's "Pareto front" is taken over test metrics; fairnn never
looks at test, and ``select`` may name a validation rule instead. η goes to the
``fairbinn`` method only.
"""

from __future__ import annotations

from typing import Any

from fairnn.experiments.protocols import PROTOCOLS, Protocol

#: TrainConfig values by recipe
FAIRBINN: dict[str, dict[str, Any]] = {
    "fairbinn": {"epochs": 200, "batch_size": 200, "lr": 1e-3, "select": "last"},
    "fairbinn-paper": {"epochs": 50, "batch_size": 100, "lr": 1e-3, "select": "last"},
}
#: the fairbinn method's η by recipe
FAIRBINN_ETA = {"fairbinn": 10000.0, "fairbinn-paper": 100.0}


def fairbinn_protocol(recipe: str) -> Protocol:
    """FairBiNN's settings for ``recipe`` (its η goes to the fairbinn method only)."""

    def params(mode: str, method: str, dataset: str) -> dict[str, Any]:
        return {"eta": FAIRBINN_ETA[recipe]} if method == "fairbinn" else {}

    return Protocol(lambda mode, method: dict(FAIRBINN[recipe]), params)


for _recipe in FAIRBINN:
    PROTOCOLS.register(_recipe, fairbinn_protocol(_recipe))
