"""Metric functions (numpy, for reporting), one per metric name.

Signatures follow fairlearn: label metrics are
``f(y_true, y_pred, *, sensitive_features, sample_weight=None)`` and read hard
0/1 predictions; score metrics are
``f(y_true, y_score, *, sensitive_features=..., sample_weight=None)`` and read
scores (probabilities, logits for ``ap``/``auc``, or regression predictions).
Inputs may be lists, numpy arrays, pandas objects or torch tensors; every
function returns a Python ``float``.

Group gaps are ``max - min`` of a per-group rate over all groups, i.e. the
largest gap between any pair of groups. ``sensitive_features`` may be 1-D (any
hashable labels) or 2-D (DataFrame, ``(n, k)`` array, list of 1-D arrays,
dict of columns); 2-D means intersections of the attributes (as fairlearn).

Sample weights: every rate is a weighted mean, exactly as fairlearn and
scikit-learn weight them (``sum(w * x) / sum(w)`` over the relevant rows).

Undefined rates: a group with zero rows (or zero total weight) in a
conditioning cell (e.g. no positives, for TPR) has no rate; it is **ignored**
for that rate and an :class:`UndefinedMetricWarning` names it. If fewer than
two groups remain the gap is NaN. fairlearn instead reports TPR = 0 for a group
without positives (an artefact of scikit-learn's ``confusion_matrix``
normalisation), which inflates the gap; zero-weight groups are NaN and skipped
there as here. See ``docs/metrics.md``.

The computation itself lives in :mod:`fairnn.metrics._kernels` (one
definition per metric, shared with :func:`evaluate`, the bootstrap and
:class:`GroupMetricFrame`).
"""

from __future__ import annotations

from typing import Any

from fairnn.metrics._kernels import compute_one

__all__ = [
    "accuracy",
    "ap",
    "auc",
    "balanced_accuracy",
    "dp_gap",
    "dp_gap_soft",
    "dp_ratio",
    "eodds_gap_max",
    "eodds_gap_max_soft",
    "eodds_gap_sum",
    "eodds_gap_sum_soft",
    "eopp_gap",
    "eopp_gap_soft",
    "fnr_gap",
    "fpr_gap",
    "mae",
    "mse",
    "r2",
]

ArrayLike = Any


# ----------------------------------------------------------------- performance


def accuracy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike = None,
    sample_weight: ArrayLike = None,
) -> float:
    """Accuracy ``sum(w * 1[y_pred == y_true]) / sum(w)``.

    Equals ``sklearn.metrics.accuracy_score``. ``sensitive_features`` is
    accepted for a uniform signature and ignored.
    """
    return compute_one(
        "accuracy",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=None,
        sample_weight=sample_weight,
    )


def balanced_accuracy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike = None,
    sample_weight: ArrayLike = None,
) -> float:
    """Balanced accuracy ``(TPR + TNR) / 2`` (weighted recalls of both classes).

    Equals ``sklearn.metrics.balanced_accuracy_score`` (``adjusted=False``);
    if ``y_true`` has one class only, that class's recall (sklearn does the
    same, with a warning). ``sensitive_features`` is ignored.
    """
    return compute_one(
        "balanced_accuracy",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=None,
        sample_weight=sample_weight,
    )


def ap(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sensitive_features: ArrayLike = None,
    sample_weight: ArrayLike = None,
) -> float:
    """Average precision ``sum_k (R_k - R_{k-1}) P_k`` over distinct score thresholds.

    Equals ``sklearn.metrics.average_precision_score`` (RUNNER's and FFB's
    "AP", computed on scores). NaN with a warning when ``y_true`` has no
    positives (sklearn returns 0 there). ``sensitive_features`` is ignored.
    """
    return compute_one(
        "ap",
        y_true,
        y_score,
        y_name="y_score",
        sensitive_features=None,
        sample_weight=sample_weight,
    )


def auc(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sensitive_features: ArrayLike = None,
    sample_weight: ArrayLike = None,
) -> float:
    """Area under the ROC curve (trapezoid rule over distinct thresholds).

    Equals ``sklearn.metrics.roc_auc_score``. NaN with a warning when
    ``y_true`` has only one class (sklearn raises). ``sensitive_features`` is
    ignored.
    """
    return compute_one(
        "auc",
        y_true,
        y_score,
        y_name="y_score",
        sensitive_features=None,
        sample_weight=sample_weight,
    )


def mse(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike = None,
    sample_weight: ArrayLike = None,
) -> float:
    """Mean squared error ``sum(w (y_true - y_pred)^2) / sum(w)`` (sklearn's)."""
    return compute_one(
        "mse",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=None,
        sample_weight=sample_weight,
    )


def mae(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike = None,
    sample_weight: ArrayLike = None,
) -> float:
    """Mean absolute error ``sum(w |y_true - y_pred|) / sum(w)`` (sklearn's)."""
    return compute_one(
        "mae",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=None,
        sample_weight=sample_weight,
    )


def r2(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike = None,
    sample_weight: ArrayLike = None,
) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (weighted), sklearn's ``r2_score``.

    As sklearn (``force_finite=True``): constant ``y_true`` gives 1.0 for a
    perfect prediction and 0.0 otherwise; fewer than two rows give NaN.
    """
    return compute_one(
        "r2",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=None,
        sample_weight=sample_weight,
    )


# ------------------------------------------------------ gaps on hard predictions


def dp_gap(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike = None,
) -> float:
    """Demographic-parity gap ``max_a P(ŷ=1 | s=a) - min_a P(ŷ=1 | s=a)``.

    The largest pairwise gap in selection rate across groups; with two groups
    ``|P(ŷ=1|s=0) - P(ŷ=1|s=1)|``. Equals fairlearn's
    ``demographic_parity_difference`` (RUNNER's ΔDP, FFB's ``dp``). ``y_true``
    is only checked for length.
    """
    return compute_one(
        "dp_gap",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )


def dp_ratio(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike = None,
) -> float:
    """Demographic-parity ratio ``min_a P(ŷ=1|s=a) / max_a P(ŷ=1|s=a)`` (1 = parity).

    Equals fairlearn's ``demographic_parity_ratio``; NaN when every group's
    selection rate is 0 (0/0, as fairlearn).
    """
    return compute_one(
        "dp_ratio",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )


def eodds_gap_sum(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike = None,
) -> float:
    """Equalized-odds gap, **sum** form: ``|ΔTPR| + |ΔFPR|``.

    Each Δ is ``max - min`` across groups of ``P(ŷ=1 | y=1, s=a)`` (TPR) and
    ``P(ŷ=1 | y=0, s=a)`` (FPR). This is the RUNNER paper's ΔEO and FFB's
    ``eodd``; it equals fairlearn's ``MetricFrame`` TPR difference + FPR
    difference, and twice ``equalized_odds_difference(agg='mean')``.
    """
    return compute_one(
        "eodds_gap_sum",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )


def eodds_gap_max(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike = None,
) -> float:
    """Equalized-odds gap, **max** form: ``max(|ΔTPR|, |ΔFPR|)``.

    Equals fairlearn's ``equalized_odds_difference`` with its default
    ``agg='worst_case'`` (what RUNNER's code at 62ec0b3 reports as ΔEO).
    """
    return compute_one(
        "eodds_gap_max",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )


def eopp_gap(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike = None,
) -> float:
    """Equal-opportunity gap ``|ΔTPR| = max_a TPR_a - min_a TPR_a``.

    Equals fairlearn's ``equal_opportunity_difference`` (FFB's ``eopp``,
    FairNeuron's "EO").
    """
    return compute_one(
        "eopp_gap",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )


def fnr_gap(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike = None,
) -> float:
    """False-negative-rate gap ``max_a FNR_a - min_a FNR_a``, ``FNR = P(ŷ=0 | y=1)``.

    Mathematically equal to :func:`eopp_gap` (FNR = 1 - TPR); reported under
    its own name because MinDiff constrains it. Equals fairlearn's
    ``MetricFrame(false_negative_rate).difference()``.
    """
    return compute_one(
        "fnr_gap",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )


def fpr_gap(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike = None,
) -> float:
    """False-positive-rate gap ``max_a FPR_a - min_a FPR_a``, ``FPR = P(ŷ=1 | y=0)``.

    Equals fairlearn's ``MetricFrame(false_positive_rate).difference()``.
    """
    return compute_one(
        "fpr_gap",
        y_true,
        y_pred,
        y_name="y_pred",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )


# ------------------------------------------------------------- gaps on scores


def dp_gap_soft(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike = None,
) -> float:
    """Score-based DP gap ``max_a E[f | s=a] - min_a E[f | s=a]`` (mean score per group).

    Works for probabilities and for continuous regression predictions.
    RUNNER's legacy ``evaluate_dp``, FFB's ``dpe``, and the GapReg/DiffDP
    penalty (torch twin: :func:`fairnn.metrics.differentiable.dp_gap_soft`).
    ``y_true`` may be ``None``; it is not used.
    """
    return compute_one(
        "dp_gap_soft",
        y_true,
        y_score,
        y_name="y_score",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )


def eodds_gap_sum_soft(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike = None,
) -> float:
    """Score-based equalized-odds gap ``sum_{y in {0,1}} (max_a - min_a) E[f | y, s=a]``.

    The mean-score gap within ``y_true == 0`` plus that within ``y_true == 1``:
    RUNNER's legacy ``evaluate_eo`` and its GapReg-EO penalty, FFB's
    ``DiffEOdd``.
    """
    return compute_one(
        "eodds_gap_sum_soft",
        y_true,
        y_score,
        y_name="y_score",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )


def eodds_gap_max_soft(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike = None,
) -> float:
    """Score-based equalized-odds gap, max form: ``max_y (max_a - min_a) E[f | y, s=a]``."""
    return compute_one(
        "eodds_gap_max_soft",
        y_true,
        y_score,
        y_name="y_score",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )


def eopp_gap_soft(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike = None,
) -> float:
    """Score-based equal-opportunity gap ``max_a E[f | y=1, s=a] - min_a E[f | y=1, s=a]``.

    FFB's ``DiffEOpp`` penalty.
    """
    return compute_one(
        "eopp_gap_soft",
        y_true,
        y_score,
        y_name="y_score",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )
