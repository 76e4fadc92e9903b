"""Training protocols: the batch sampling, schedule and model selection a recipe implies.

A dataset recipe (:mod:`fairnn.datasets.recipes`) fixes the data; a protocol
fixes how the model is trained and selected on it. ``clean`` is fairnn's
default; ``runner`` reproduces RUNNER's code (Ace0001/RUNNER ``main.py``;
see docs/methods/runner notes):

* balanced draws without replacement: 500 rows per group (DP) or per
  (group, label) cell (EO), except EO-mode vanilla, which draws 2,000 rows
  uniformly at random;
* Adam, lr 1e-3; an epoch is 100 iterations; 10 epochs;
* selection: among epochs 1–9, the first with the lowest validation gap (ΔDP,
  or ΔEO as the paper's sum |ΔTPR| + |ΔFPR|).

Explicit user settings always win over the protocol.
"""

from __future__ import annotations

from typing import Any

from fairnn.methods.base import get_method

CLEAN: dict[str, Any] = {"epochs": 20, "batch_size": 256, "lr": 1e-3, "select": "loss"}


def protocol(recipe: str, mode: str, method: str) -> dict[str, Any]:
    """TrainConfig defaults for ``recipe`` in fairness ``mode`` for ``method``."""
    if recipe.startswith("runner"):
        cfg: dict[str, Any] = {
            "epochs": 10,
            "steps_per_epoch": 100,
            "lr": 1e-3,
            "sampler": "balanced",
            "per_cell": 500,
            "balance": "group" if mode == "dp" else "group_label",
            "select": "dp_gap" if mode == "dp" else "eodds_gap_sum",
            "select_from": 1,
        }
        if mode == "eo" and get_method(method).name == "vanilla":
            cfg.update(sampler="random", batch_size=2000)
            del cfg["per_cell"], cfg["balance"]
        return cfg
    return dict(CLEAN)
