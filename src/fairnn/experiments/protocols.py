"""Training protocols: the batch sampling, schedule and model selection a recipe implies.

A dataset recipe (:mod:`fairnn.datasets.recipes`) fixes the data; a protocol
fixes how the model is trained and selected on it. Protocols live in
:data:`PROTOCOLS`, registered under the name of the recipe (family) they belong
to; a recipe without one trains with ``clean``, fairnn's default. ``runner``
(also for ``runner-fixed``) reproduces RUNNER's code (Ace0001/RUNNER ``main.py``;
see docs/methods/runner notes):

* balanced draws without replacement: 500 rows per group (DP) or per
  (group, label) cell (EO), except EO-mode vanilla, which draws 2,000 rows
  uniformly at random;
* Adam, lr 1e-3; an epoch is 100 iterations; 10 epochs;
* selection: among epochs 1–9, the first with the lowest validation gap (ΔDP,
  or ΔEO as the paper's sum |ΔTPR| + |ΔFPR|);
* the adversarial baseline trains 15 epochs (README); the README's "5 epochs"
  for the other tabular methods disagrees with the code's 10, and fairnn
  follows the code;
* method parameters not given explicitly come from the README's tables: λ
  (Adult: 0.3 for DP, 1.0 for EO, for GapReg and RUNNER; the README gives no λ
  for the other datasets, so Adult's is used there too) and k
  (``neuron_ratio``, per dataset and notion).

Explicit user settings always win over the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fairnn.errors import ConfigError
from fairnn.methods.base import METHODS
from fairnn.methods.runner import RUNNER_LAMBDA, RUNNER_NEURON_RATIO
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


#: training protocols by recipe (family); recipes without one use ``clean``
PROTOCOLS: Registry[Protocol] = Registry("training protocol")
DEFAULT = "clean"

CLEAN: dict[str, Any] = {"epochs": 20, "batch_size": 256, "lr": 1e-3, "select": "loss"}
#: FairBiNN (docs/methods/fairbinn.md): ``fairbinn`` = the official code's defaults (the seed's
#: η 10000, batch 200, 200 epochs), ``fairbinn-paper`` = the paper's appendix (η 100, batch
#: 100, 50 epochs); Adam, leader lr 1e-3 (follower 1e-5 is the method's default). The last
#: epoch is kept: the official code's "Pareto front" is taken over test metrics; fairnn never
#: looks at test, and ``select`` may name a validation rule instead.
FAIRBINN: dict[str, dict[str, Any]] = {
    "fairbinn": {"epochs": 200, "batch_size": 200, "lr": 1e-3, "select": "last"},
    "fairbinn-paper": {"epochs": 50, "batch_size": 100, "lr": 1e-3, "select": "last"},
}
FAIRBINN_ETA = {"fairbinn": 10000.0, "fairbinn-paper": 100.0}


def _notion(mode: str) -> Notion:
    if mode not in NOTIONS:
        raise ConfigError(f"the fairness notion must be one of {', '.join(NOTIONS)}, got {mode!r}")
    return Notion(mode)


def runner_train(mode: str, method: str) -> dict[str, Any]:
    """RUNNER's code: balanced batches, 10 × 100 steps, the first epoch with the least val gap."""
    notion = _notion(mode)
    cfg: dict[str, Any] = {
        "epochs": 10,
        "steps_per_epoch": 100,
        "lr": 1e-3,
        "sampler": "balanced",
        "per_cell": 500,
        "balance": "group" if notion is Notion.DP else "group_label",
        "select": notion.gap_metric,
        "select_from": 1,
    }
    if notion is Notion.EO and method == "vanilla":
        cfg.update(sampler="random", batch_size=2000)
        del cfg["per_cell"], cfg["balance"]
    if method == "adversarial":
        cfg["epochs"] = 15
    return cfg


def runner_params(mode: str, method: str, dataset: str) -> dict[str, Any]:
    """λ and k from the RUNNER README's tables."""
    out: dict[str, Any] = {}
    if method in ("gapreg", "runner", "neuron_importance"):
        # the README gives λ for Adult only; fairnn uses Adult's λ on the other datasets
        out["lam"] = RUNNER_LAMBDA.get((dataset, mode), RUNNER_LAMBDA[("adult", mode)])
    if method in ("runner", "neuron_importance") and (dataset, mode) in RUNNER_NEURON_RATIO:
        out["neuron_ratio"] = RUNNER_NEURON_RATIO[(dataset, mode)]
    return out


def _fairbinn(recipe: str) -> Protocol:
    """FairBiNN's settings for ``recipe`` (its η goes to the fairbinn method only)."""

    def params(mode: str, method: str, dataset: str) -> dict[str, Any]:
        return {"eta": FAIRBINN_ETA[recipe]} if method == "fairbinn" else {}

    return Protocol(lambda mode, method: dict(FAIRBINN[recipe]), params)


PROTOCOLS.register(DEFAULT, Protocol(lambda mode, method: dict(CLEAN)))
PROTOCOLS.register("runner", Protocol(runner_train, runner_params), aliases=("runner-fixed",))
for _recipe in FAIRBINN:
    PROTOCOLS.register(_recipe, _fairbinn(_recipe))


def protocol_for(recipe: str) -> Protocol:
    """The protocol registered for ``recipe``, else the default (``clean``)."""
    return PROTOCOLS.get(recipe if recipe in PROTOCOLS else DEFAULT)


def protocol(recipe: str, mode: str, method: str) -> dict[str, Any]:
    """TrainConfig defaults for ``recipe`` in fairness ``mode`` for ``method`` (name or alias)."""
    return protocol_for(recipe).train(mode, METHODS.canonical(method))


def protocol_params(recipe: str, mode: str, method: str, dataset: str) -> dict[str, Any]:
    """Method parameter defaults a recipe's paper fixes (explicit parameters win)."""
    return protocol_for(recipe).params(mode, METHODS.canonical(method), dataset)
