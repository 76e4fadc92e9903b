"""The conversion between fairnn's by-group table and fairlearn's ``MetricFrame``.

The public API is :mod:`fairnn.interop` (``to_fairlearn`` / ``from_fairlearn``) and the
two methods of :class:`~fairnn.metrics.GroupMetricFrame`; both call these functions, which
live here, below the frame, so that no module of :mod:`fairnn.metrics` imports upward.

:func:`metric_frame` recomputes the table with fairlearn's own metric functions on the
frame's inputs (the same rows, groups, weights and threshold), so it is a real
``MetricFrame`` (``by_group``, ``difference()``, ``ratio()``, fairlearn's plots) and a
cross-check of fairnn's numbers. Label metrics read ``1[score > threshold]`` as fairnn
does. One known difference: fairlearn reports TPR (and the other rates) as 0 in a group
without the rows that define them, where fairnn reports NaN.

:func:`tables` reads a ``MetricFrame``'s ``overall`` and ``by_group`` values, renaming
fairlearn's and scikit-learn's metric functions to fairnn's names
(``true_positive_rate`` → ``tpr``, ``accuracy_score`` → ``accuracy``...); other names
are kept.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fairnn.errors import ConfigError, InvalidValueError

#: fairnn name -> (module, function name, reads labels (True) or scores (False))
FAIRLEARN_METRICS: dict[str, tuple[str, str, bool]] = {
    "accuracy": ("sklearn.metrics", "accuracy_score", True),
    "balanced_accuracy": ("sklearn.metrics", "balanced_accuracy_score", True),
    "selection_rate": ("fairlearn.metrics", "selection_rate", True),
    "tpr": ("fairlearn.metrics", "true_positive_rate", True),
    "fpr": ("fairlearn.metrics", "false_positive_rate", True),
    "fnr": ("fairlearn.metrics", "false_negative_rate", True),
    "tnr": ("fairlearn.metrics", "true_negative_rate", True),
    "mean_score": ("fairlearn.metrics", "mean_prediction", False),
    "ap": ("sklearn.metrics", "average_precision_score", False),
    "auc": ("sklearn.metrics", "roc_auc_score", False),
    "mse": ("sklearn.metrics", "mean_squared_error", False),
    "mae": ("sklearn.metrics", "mean_absolute_error", False),
}
_FROM_NAME = {fn: name for name, (_, fn, _) in FAIRLEARN_METRICS.items()}


def _fairlearn() -> Any:
    try:
        import fairlearn.metrics as flm
    except ImportError:
        raise ConfigError(
            "fairlearn is not installed: pip install 'fairnn[fairlearn]' (or fairlearn)"
        ) from None
    return flm


def _function(name: str, threshold: float) -> Callable[..., float]:
    module, fn_name, labels = FAIRLEARN_METRICS[name]
    fn = getattr(importlib.import_module(module), fn_name)
    if not labels:
        return fn

    def on_labels(y_true: Any, y_score: Any, **kwargs: Any) -> float:
        return fn(y_true, (np.asarray(y_score, dtype=float) > threshold).astype(int), **kwargs)

    on_labels.__name__ = fn_name
    return on_labels


def metric_frame(inputs: dict[str, Any] | None, metrics: list[str], names: list[str]) -> Any:
    """A fairlearn ``MetricFrame`` of ``metrics`` (plus ``count``) recomputed on a frame's
    ``inputs``; ``names`` are the frame's group-index names."""
    flm = _fairlearn()
    if inputs is None:
        raise InvalidValueError(
            "this GroupMetricFrame was built from tables (e.g. from fairlearn) and has no rows "
            "to recompute; build it from y_true, scores and sensitive_features instead"
        )
    functions: dict[str, Callable[..., float]] = {
        m: _function(m, inputs["threshold"]) for m in metrics
    }
    functions["count"] = flm.count
    sample_params = None
    if inputs["sample_weight"] is not None:
        w = np.asarray(inputs["sample_weight"], dtype=float)
        sample_params = {m: {"sample_weight": w} for m in metrics}
    sf = inputs["sensitive_features"]
    if not isinstance(sf, pd.Series | pd.DataFrame):
        arr = np.asarray(sf, dtype=object)
        sf = pd.Series(arr, name=names[0]) if arr.ndim == 1 else pd.DataFrame(arr, columns=names)
    return flm.MetricFrame(
        metrics=functions,
        y_true=np.asarray(inputs["y_true"]),
        y_pred=np.asarray(inputs["y_pred_or_score"], dtype=float),
        sensitive_features=sf,
        sample_params=sample_params,
    )


def tables(metric_frame: Any) -> tuple[pd.DataFrame, pd.Series]:
    """``(by_group, overall)`` of a fairlearn ``MetricFrame`` in fairnn's metric names."""
    by_group = metric_frame.by_group
    overall = metric_frame.overall
    if isinstance(by_group, pd.Series):  # one metric given as a bare callable
        name = _FROM_NAME.get(str(by_group.name), str(by_group.name))
        by_group = by_group.to_frame(name)
        overall = pd.Series({name: overall})
    if getattr(metric_frame, "control_levels", None):
        raise InvalidValueError(
            "MetricFrame has control_features; fairnn's table has groups only: drop them"
        )
    rename = {c: _FROM_NAME.get(str(c), str(c)) for c in by_group.columns}
    by_group = by_group.rename(columns=rename)
    overall = overall.rename(index=rename)
    if "count" in by_group.columns:
        by_group["count"] = by_group["count"].astype("int64")
    return by_group, overall
