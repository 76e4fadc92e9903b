"""Degenerate classifiers: models that predict (nearly) one class for everyone.

Such a model has a small fairness gap for free: it treats everyone alike, so its gap is
no achievement (a penalty weight set too high often ends here: "accuracy" at the
majority rate, gap 0). This module is the one definition every part of fairnn uses
(``fairnn train``'s warning and its ``degenerate`` field, the results database, the
reports that never rank such a model fairest):

* a split's share of positive decisions (``selection_rate``) below
  :data:`DEGENERATE_SHARE`, or above ``1 -`` it, is degenerate;
* without a selection rate (results stored before fairnn recorded it), a balanced
  accuracy within :data:`CHANCE_BAND` of 0.5 is taken as degenerate: predicting one
  class for everyone gives exactly 0.5.

A model is judged on :data:`JUDGED_SPLITS` (validation and test): what it does on its
own training rows says less.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "CHANCE_BAND",
    "DEGENERATE_SHARE",
    "JUDGED_SPLITS",
    "degenerate_splits",
    "one_class",
    "selection_rate",
    "why_degenerate",
]

#: a share of positive decisions below this, or above 1 minus it, is (nearly) one class
DEGENERATE_SHARE = 0.01
#: without a selection rate: a balanced accuracy this close to 0.5 is chance level
CHANCE_BAND = 0.01
#: the splits a model is judged on
JUDGED_SPLITS = ("val", "test")


def selection_rate(decisions: Any) -> float:
    """The share of positive (1) decisions; NaN for no decisions."""
    d = np.asarray(decisions, dtype=np.float64).ravel()
    return float(d.mean()) if d.size else math.nan


def _known(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def one_class(rate: float | None) -> int | None:
    """The class (0 or 1) a model with this selection rate predicts for (nearly) everyone,
    or None when it predicts both (or the rate is unknown)."""
    if not _known(rate):
        return None
    if rate < DEGENERATE_SHARE:  # type: ignore[operator]
        return 0
    if rate > 1 - DEGENERATE_SHARE:  # type: ignore[operator]
        return 1
    return None


def why_degenerate(metrics: Mapping[str, Any], split: str) -> str | None:
    """Why ``metrics`` (one split's: ``selection_rate``, else ``balanced_accuracy``) show a
    model that predicts (nearly) one class, or None when they do not (or cannot tell)."""
    rate = metrics.get("selection_rate")
    if _known(rate):
        cls = one_class(rate)
        if cls is None:
            return None
        share = rate if cls else 1 - rate
        return (
            f"selection rate {rate:.1%} on {split}: its small gap is no achievement: it "
            f"predicts nearly everyone as {cls} ({share:.1%} of rows)"
        )
    bal = metrics.get("balanced_accuracy")
    if _known(bal) and abs(bal - 0.5) <= CHANCE_BAND:
        return (
            f"chance-level balanced accuracy {bal:.3f} on {split}: it decides (nearly) "
            "alike for everyone"
        )
    return None


def degenerate_splits(
    metrics: Mapping[str, Mapping[str, Any]], splits: Iterable[str] = JUDGED_SPLITS
) -> dict[str, str]:
    """``{split: reason}`` for each of ``splits`` on which ``metrics`` (``{split: {metric:
    value}}``) show a degenerate model; empty when there is none."""
    out = {}
    for split in splits:
        why = why_degenerate(metrics.get(split) or {}, split)
        if why:
            out[split] = why
    return out
