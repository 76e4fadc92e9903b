"""The metric registry and :func:`evaluate`.

``METRICS`` maps each metric name to a :class:`MetricSpec`: the numpy function,
whether it reads hard labels or scores, whether higher is better, the tasks it
applies to and a one-line description. :func:`evaluate` computes a set of
metrics from scores in one call, thresholding ``ŷ = 1[score > threshold]`` (as
RUNNER does) for the label metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from fairnn.errors import InvalidValueError
from fairnn.metrics import functional as F
from fairnn.metrics._kernels import KERNELS, KernelSpec, prepare

Task = Literal["binary", "regression"]
TASKS: tuple[str, ...] = ("binary", "regression")


@dataclass(frozen=True)
class MetricSpec:
    """One registered metric.

    ``input`` is ``"label"`` (reads hard 0/1 predictions; :func:`evaluate`
    thresholds scores for it) or ``"score"`` (reads scores / regression
    predictions). ``tasks`` lists the tasks it applies to (``dp_gap_soft``
    applies to both). ``is_group_metric`` is true for gaps between groups,
    which need ``sensitive_features``.
    """

    name: str
    function: Callable[..., float]
    input: Literal["label", "score"]
    higher_is_better: bool
    tasks: tuple[Task, ...]
    description: str

    @property
    def is_group_metric(self) -> bool:
        return KERNELS[self.name].needs_groups

    @property
    def task(self) -> Task:
        """The first (main) task of :attr:`tasks`."""
        return self.tasks[0]


def _spec(
    fn: Callable[..., float], higher: bool, tasks: tuple[Task, ...], description: str
) -> MetricSpec:
    name = fn.__name__
    return MetricSpec(name, fn, KERNELS[name].input, higher, tasks, description)


_B: tuple[Task, ...] = ("binary",)
_R: tuple[Task, ...] = ("regression",)

METRICS: dict[str, MetricSpec] = {
    s.name: s
    for s in [
        _spec(F.accuracy, True, _B, "fraction of correct hard predictions"),
        _spec(F.balanced_accuracy, True, _B, "(TPR + TNR) / 2"),
        _spec(F.ap, True, _B, "average precision of the scores (sklearn)"),
        _spec(F.auc, True, _B, "ROC AUC of the scores (sklearn)"),
        _spec(F.dp_gap, False, _B, "max - min selection rate P(ŷ=1|s) across groups"),
        _spec(F.dp_ratio, True, _B, "min / max selection rate across groups"),
        _spec(F.eodds_gap_sum, False, _B, "|ΔTPR| + |ΔFPR| (RUNNER paper ΔEO, FFB eodd)"),
        _spec(F.eodds_gap_max, False, _B, "max(|ΔTPR|, |ΔFPR|) (fairlearn equalized_odds)"),
        _spec(F.eopp_gap, False, _B, "|ΔTPR| (equal opportunity)"),
        _spec(F.fnr_gap, False, _B, "|ΔFNR|, FNR = P(ŷ=0|y=1)"),
        _spec(F.fpr_gap, False, _B, "|ΔFPR|, FPR = P(ŷ=1|y=0)"),
        _spec(F.dp_gap_soft, False, ("binary", "regression"), "max - min mean score across groups"),
        _spec(F.eodds_gap_sum_soft, False, _B, "Σ_y max - min mean score within y across groups"),
        _spec(F.eodds_gap_max_soft, False, _B, "max_y max - min mean score within y"),
        _spec(F.eopp_gap_soft, False, _B, "max - min mean score within y=1"),
        _spec(F.mse, False, _R, "mean squared error"),
        _spec(F.mae, False, _R, "mean absolute error"),
        _spec(F.r2, True, _R, "coefficient of determination R²"),
    ]
}

#: What :func:`evaluate` computes when ``metrics`` is None, per task.
DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "binary": (
        "accuracy",
        "balanced_accuracy",
        "ap",
        "auc",
        "dp_gap",
        "eodds_gap_sum",
        "eodds_gap_max",
        "eopp_gap",
        "fnr_gap",
        "fpr_gap",
        "dp_gap_soft",
        "eodds_gap_sum_soft",
    ),
    "regression": ("mse", "mae", "r2", "dp_gap_soft"),
}


def resolve_metrics(metrics: str | Iterable[str] | None, task: str) -> list[str]:
    """Check ``task`` and the metric names; return the list (the defaults when None)."""
    if task not in TASKS:
        raise InvalidValueError(f"task must be one of {list(TASKS)}; got {task!r}.")
    if metrics is None:
        return list(DEFAULT_METRICS[task])
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise InvalidValueError("metrics is empty; pass metric names or None for the defaults.")
    for name in names:
        if name not in METRICS:
            raise InvalidValueError(
                f"unknown metric {name!r} in metrics; available: {sorted(METRICS)}."
            )
        if task not in METRICS[name].tasks:
            raise InvalidValueError(
                f"metric {name!r} applies to task(s) {list(METRICS[name].tasks)}, not "
                f"task={task!r}; drop it or change task."
            )
    return list(dict.fromkeys(names))


def kernel_specs(names: Iterable[str]) -> dict[str, KernelSpec]:
    return {n: KERNELS[n] for n in names}


def evaluate(
    y_true: Any,
    y_score: Any,
    *,
    sensitive_features: Any,
    threshold: float = 0.5,
    metrics: str | Iterable[str] | None = None,
    sample_weight: Any = None,
    task: Task = "binary",
    y_pred: Any = None,
) -> dict[str, float]:
    """Compute several metrics from scores in one pass of validation.

    Label metrics read ``ŷ = 1[y_score > threshold]`` (strictly greater, as
    RUNNER); score metrics read ``y_score`` itself. ``metrics`` is a list of
    registry names (default: ``DEFAULT_METRICS[task]``). ``sensitive_features``
    may be None only if no group metric is requested. Returns
    ``{name: float}`` in the order requested, keys exactly the registry names.
    For ``task="regression"`` ``y_score`` is the regression prediction and
    ``threshold`` is unused. ``y_pred`` (0/1 decisions, e.g. after a reject-option
    rule) replaces the thresholded scores for the label metrics.
    """
    names = resolve_metrics(metrics, task)
    specs = kernel_specs(names)
    p, w = prepare(
        specs,
        y_true,
        y_score,
        y_name="y_score",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
        threshold=threshold if task == "binary" else None,
        y_pred=y_pred if task == "binary" else None,
    )
    W = w[None, :]
    return {n: float(np.asarray(s.kernel(p, W, True))[0]) for n, s in specs.items()}
