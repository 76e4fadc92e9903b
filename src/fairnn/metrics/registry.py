"""The metric registry and :func:`evaluate`.

``METRICS`` is a :class:`~fairnn.registry.Registry` of :class:`MetricSpec`: the public
numpy function (generated from the kernel, :mod:`fairnn.metrics._factory`), whether it
reads hard labels or scores, whether higher is better, the tasks it applies to, a
one-line description, whether it needs the true labels and its differentiable torch
twin. The table below is the one place a metric is described; its computation is its
kernel in :mod:`fairnn.metrics._kernels`. Adding a metric is a kernel plus one
:func:`_add` row (plus a twin in :mod:`fairnn.metrics.differentiable` if it has one), and
:func:`fairnn.metrics.check.check_metric` tests the row.

:func:`evaluate` computes a set of metrics from scores in one call, thresholding
``ŷ = 1[score > threshold]`` (as RUNNER does) for the label metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from fairnn.errors import InvalidValueError
from fairnn.metrics import differentiable as D
from fairnn.metrics._factory import metric_function
from fairnn.metrics._kernels import KERNELS, KernelSpec, prepare
from fairnn.registry import Registry

Task = Literal["binary", "regression", "multiclass"]
TASKS: tuple[str, ...] = ("binary", "regression", "multiclass")


@dataclass(frozen=True)
class MetricSpec:
    """One registered metric.

    ``input`` is ``"label"`` (reads hard predictions: 0/1, or class ids for
    multiclass; :func:`evaluate` derives them from scores) or ``"score"`` (reads
    scores / regression predictions). ``tasks`` lists the tasks it applies to
    (``dp_gap_soft`` applies to binary and regression). ``is_group_metric`` is true
    for gaps between groups, which need ``sensitive_features``. ``needs_label`` is
    false when ``y_true`` is not read (selection-rate gaps: every row counts, labelled
    or not). ``twin`` is the differentiable torch function of
    :mod:`fairnn.metrics.differentiable` that equals the metric on hard 0/1 scores
    (exactly the metric on any score for the ``*_soft`` gaps), or None; see
    :meth:`apply_twin` for how it is called.
    """

    name: str
    function: Callable[..., float]
    input: Literal["label", "score"]
    higher_is_better: bool
    tasks: tuple[Task, ...]
    description: str
    twin: Callable[..., Any] | None = None
    needs_label: bool = True

    @property
    def is_group_metric(self) -> bool:
        return KERNELS[self.name].needs_groups

    @property
    def task(self) -> Task:
        """The first (main) task of :attr:`tasks`."""
        return self.tasks[0]

    def apply_twin(
        self, scores: Any, y: Any, s: Any, *, weight: Any = None, n_groups: int | None = None
    ) -> Any:
        """``twin(scores, [y,] s, weight=, n_groups=)``: ``y`` is passed iff :attr:`needs_label`."""
        if self.twin is None:
            raise InvalidValueError(f"metric {self.name!r} has no differentiable twin.")
        labels = (y,) if self.needs_label else ()
        return self.twin(scores, *labels, s, weight=weight, n_groups=n_groups)


class MetricRegistry(Registry[MetricSpec]):
    """The metric :class:`~fairnn.registry.Registry`, also read as the dict it replaced.

    ``METRICS[name]`` is ``METRICS.get(name)``; :meth:`values` lists the specs.
    """

    def __getitem__(self, name: str) -> MetricSpec:
        return self.get(name)

    def values(self) -> list[MetricSpec]:
        return [spec for _, spec in self.items()]


METRICS = MetricRegistry("metric", error=InvalidValueError)

_B: tuple[Task, ...] = ("binary",)
_R: tuple[Task, ...] = ("regression",)
_M: tuple[Task, ...] = ("multiclass",)


def _add(
    name: str,
    higher: bool,
    tasks: tuple[Task, ...],
    description: str,
    doc: str,
    twin: Callable[..., Any] | None = None,
) -> None:
    """Register ``name``: its kernel, its generated function (documented by ``doc``)."""
    kernel = KERNELS[name]
    function = metric_function(name, doc)
    spec = MetricSpec(
        name, function, kernel.input, higher, tasks, description, twin, kernel.needs_y_true
    )
    METRICS.register(name, spec)


# ----------------------------------------------------------------- performance
_add("accuracy", True, _B, "fraction of correct hard predictions", """
    Accuracy ``sum(w * 1[y_pred == y_true]) / sum(w)``.

    Equals ``sklearn.metrics.accuracy_score``. ``sensitive_features`` is
    accepted for a uniform signature and ignored.
""")  # fmt: skip
_add("balanced_accuracy", True, _B, "(TPR + TNR) / 2", """
    Balanced accuracy ``(TPR + TNR) / 2`` (weighted recalls of both classes).

    Equals ``sklearn.metrics.balanced_accuracy_score`` (``adjusted=False``);
    if ``y_true`` has one class only, that class's recall (sklearn does the
    same, with a warning). ``sensitive_features`` is ignored.
""")  # fmt: skip
_add("ap", True, _B, "average precision of the scores (sklearn)", """
    Average precision ``sum_k (R_k - R_{k-1}) P_k`` over distinct score thresholds.

    Equals ``sklearn.metrics.average_precision_score`` (RUNNER's and FFB's
    "AP", computed on scores). NaN with a warning when ``y_true`` has no
    positives (sklearn returns 0 there). ``sensitive_features`` is ignored.
""")  # fmt: skip
_add("auc", True, _B, "ROC AUC of the scores (sklearn)", """
    Area under the ROC curve (trapezoid rule over distinct thresholds).

    Equals ``sklearn.metrics.roc_auc_score``. NaN with a warning when
    ``y_true`` has only one class (sklearn raises). ``sensitive_features`` is
    ignored.
""")  # fmt: skip

# ------------------------------------------------------ gaps on hard predictions
_add("dp_gap", False, _B, "max - min selection rate P(ŷ=1|s) across groups", """
    Demographic-parity gap ``max_a P(ŷ=1 | s=a) - min_a P(ŷ=1 | s=a)``.

    The largest pairwise gap in selection rate across groups; with two groups
    ``|P(ŷ=1|s=0) - P(ŷ=1|s=1)|``. Equals fairlearn's
    ``demographic_parity_difference`` (RUNNER's ΔDP, FFB's ``dp``). ``y_true``
    is only checked for length.
""", D.dp_gap_soft)  # fmt: skip
_add("dp_ratio", True, _B, "min / max selection rate across groups", """
    Demographic-parity ratio ``min_a P(ŷ=1|s=a) / max_a P(ŷ=1|s=a)`` (1 = parity).

    Equals fairlearn's ``demographic_parity_ratio``; NaN when every group's
    selection rate is 0 (0/0, as fairlearn).
""")  # fmt: skip
_add("eodds_gap_sum", False, _B, "|ΔTPR| + |ΔFPR| (RUNNER paper ΔEO, FFB eodd)", """
    Equalized-odds gap, **sum** form: ``|ΔTPR| + |ΔFPR|``.

    Each Δ is ``max - min`` across groups of ``P(ŷ=1 | y=1, s=a)`` (TPR) and
    ``P(ŷ=1 | y=0, s=a)`` (FPR). This is the RUNNER paper's ΔEO and FFB's
    ``eodd``; it equals fairlearn's ``MetricFrame`` TPR difference + FPR
    difference, and twice ``equalized_odds_difference(agg='mean')``.
""", D.eodds_gap_sum_soft)  # fmt: skip
_add("eodds_gap_max", False, _B, "max(|ΔTPR|, |ΔFPR|) (fairlearn equalized_odds)", """
    Equalized-odds gap, **max** form: ``max(|ΔTPR|, |ΔFPR|)``.

    Equals fairlearn's ``equalized_odds_difference`` with its default
    ``agg='worst_case'`` (what RUNNER's code at 62ec0b3 reports as ΔEO).
""", D.eodds_gap_max_soft)  # fmt: skip
_add("eopp_gap", False, _B, "|ΔTPR| (equal opportunity)", """
    Equal-opportunity gap ``|ΔTPR| = max_a TPR_a - min_a TPR_a``.

    Equals fairlearn's ``equal_opportunity_difference`` (FFB's ``eopp``,
    FairNeuron's "EO").
""", D.eopp_gap_soft)  # fmt: skip
# |ΔFNR| = |ΔTPR| (FNR = 1 - TPR), so the equal-opportunity twin is also fnr_gap's
_add("fnr_gap", False, _B, "|ΔFNR|, FNR = P(ŷ=0|y=1)", """
    False-negative-rate gap ``max_a FNR_a - min_a FNR_a``, ``FNR = P(ŷ=0 | y=1)``.

    Mathematically equal to :func:`eopp_gap` (FNR = 1 - TPR); reported under
    its own name because MinDiff constrains it. Equals fairlearn's
    ``MetricFrame(false_negative_rate).difference()``.
""", D.eopp_gap_soft)  # fmt: skip
_add("fpr_gap", False, _B, "|ΔFPR|, FPR = P(ŷ=1|y=0)", """
    False-positive-rate gap ``max_a FPR_a - min_a FPR_a``, ``FPR = P(ŷ=1 | y=0)``.

    Equals fairlearn's ``MetricFrame(false_positive_rate).difference()``.
""")  # fmt: skip

# ------------------------------------------------------------- gaps on scores
_add("dp_gap_soft", False, ("binary", "regression"), "max - min mean score across groups", """
    Score-based DP gap ``max_a E[f | s=a] - min_a E[f | s=a]`` (mean score per group).

    Works for probabilities and for continuous regression predictions.
    RUNNER's legacy ``evaluate_dp``, FFB's ``dpe``, and the GapReg/DiffDP
    penalty (torch twin: :func:`fairnn.metrics.differentiable.dp_gap_soft`).
    ``y_true`` may be ``None``; it is not used.
""", D.dp_gap_soft)  # fmt: skip
_add("eodds_gap_sum_soft", False, _B, "Σ_y max - min mean score within y across groups", """
    Score-based equalized-odds gap ``sum_{y in {0,1}} (max_a - min_a) E[f | y, s=a]``.

    The mean-score gap within ``y_true == 0`` plus that within ``y_true == 1``:
    RUNNER's legacy ``evaluate_eo`` and its GapReg-EO penalty, FFB's
    ``DiffEOdd``.
""", D.eodds_gap_sum_soft)  # fmt: skip
_add("eodds_gap_max_soft", False, _B, "max_y max - min mean score within y", """
    Score-based equalized-odds gap, max form: ``max_y (max_a - min_a) E[f | y, s=a]``.
""", D.eodds_gap_max_soft)  # fmt: skip
_add("eopp_gap_soft", False, _B, "max - min mean score within y=1", """
    Score-based equal-opportunity gap ``max_a E[f | y=1, s=a] - min_a E[f | y=1, s=a]``.

    FFB's ``DiffEOpp`` penalty.
""", D.eopp_gap_soft)  # fmt: skip

# ------------------------------------------------------------------ regression
_add("mse", False, _R, "mean squared error", """
    Mean squared error ``sum(w (y_true - y_pred)^2) / sum(w)`` (sklearn's).
""")  # fmt: skip
_add("mae", False, _R, "mean absolute error", """
    Mean absolute error ``sum(w |y_true - y_pred|) / sum(w)`` (sklearn's).
""")  # fmt: skip
_add("r2", True, _R, "coefficient of determination R²", """
    Coefficient of determination ``1 - SS_res / SS_tot`` (weighted), sklearn's ``r2_score``.

    As sklearn (``force_finite=True``): constant ``y_true`` gives 1.0 for a
    perfect prediction and 0.0 otherwise; fewer than two rows give NaN.
""")  # fmt: skip

# ------------------------------------------------ gaps on multiclass predictions
_add("dp_gap_ovr", False, _M, "mean over classes c of max - min P(ŷ=c|s) across groups", """
    Multiclass demographic-parity gap, one-vs-rest: the mean over classes ``c`` of
    ``max_a P(ŷ=c | s=a) - min_a P(ŷ=c | s=a)``.

    ``y_true`` and ``y_pred`` hold class ids; the classes are those of either.
    Each class's gap is :func:`dp_gap` of ``1[y_pred == c]`` (so on 0/1 data with
    both classes present it equals :func:`dp_gap`). As in Fairness Reprogramming's
    multi-class experiment (Figure 6), ΔDP averaged over classes.
""")  # fmt: skip
_add("eodds_gap_sum_ovr", False, _M, "mean over classes c of |ΔTPR_c| + |ΔFPR_c|", """
    Multiclass equalized-odds gap, one-vs-rest: the mean over classes ``c`` of
    :func:`eodds_gap_sum` of ``1[y_true == c]`` and ``1[y_pred == c]``.

    ``TPR_c = P(ŷ=c | y=c)``, ``FPR_c = P(ŷ=c | y≠c)``; the classes are those of
    ``y_true`` or ``y_pred``. A group without rows of class ``c`` (or without
    others) has no ``TPR_c`` (``FPR_c``) and is ignored for it, as in the binary
    gap; if a class's gap is NaN, so is the mean. Equals :func:`eodds_gap_sum` on
    0/1 data with both classes in every group. Fairness Reprogramming's
    multi-class ΔEO (Figure 6).
""")  # fmt: skip


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
    "multiclass": ("dp_gap_ovr", "eodds_gap_sum_ovr"),
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
    ``threshold`` is unused. For ``task="multiclass"`` ``y_score`` holds class
    scores ``(n, K)`` (read as their argmax) or class ids ``(n,)``, and
    ``threshold`` is unused. ``y_pred`` (decisions, e.g. after a reject-option
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
        threshold=threshold if task != "regression" else None,
        y_pred=y_pred if task != "regression" else None,
    )
    W = w[None, :]
    return {n: float(np.asarray(s.kernel(p, W, True))[0]) for n, s in specs.items()}
