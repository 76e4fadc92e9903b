"""NNFF's Boston similarity weights (seed 002, code ``fairnn.py``, ``A``), registered as the
metric weight preset ``nnff`` (``--weights nnff``;
:data:`fairnn.certify.metrics.WEIGHT_PRESETS`).

The seed chooses the weights by rank of importance, summing to 1, with ``B`` (a race
proxy) at 0, and uses them as *squared* ℓ2 weights, ``d = sqrt(Σ a_i Δ_i²)``;
:func:`nnff_boston_weights` returns the equivalent scale weights ``sqrt(a_i)``.
``PIRATIO`` in the seed is fairnn's ``PTRATIO``.
"""

from __future__ import annotations

import math

from fairnn.certify.metrics import WEIGHT_PRESETS
from fairnn.datasets.core import FeatureMeta, TabularData

NNFF_BOSTON_SQUARED_WEIGHTS: dict[str, float] = {
    "RM": 13 / 90,
    "LSTAT": 12 / 90,
    "INDUS": 11 / 90,
    "NOX": 10 / 90,
    "CRIM": 9 / 90,
    "AGE": 8 / 90,
    "DIS": 7 / 90,
    "TAX": 6 / 90,
    "PTRATIO": 5 / 90,
    "ZN": 4 / 90,
    "RAD": 3 / 90,
    "CHAS": 2 / 90,
    "B": 0.0,
}


def nnff_boston_weights() -> dict[str, float]:
    """The seed's Boston weights as scale weights for
    :func:`~fairnn.certify.metrics.weighted_metric` (ℓ2)."""
    return {k: math.sqrt(v) for k, v in NNFF_BOSTON_SQUARED_WEIGHTS.items()}


@WEIGHT_PRESETS.register("nnff")
def nnff_preset(features: FeatureMeta, data: TabularData | None = None) -> dict[str, float]:
    """The seed's Boston weights of the features present (others keep the default weight)."""
    return {k: v for k, v in nnff_boston_weights().items() if k in features.names}
