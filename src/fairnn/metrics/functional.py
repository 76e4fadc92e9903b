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

Multiclass gaps (``dp_gap_ovr``, ``eodds_gap_sum_ovr``) read class ids and are
one-vs-rest: per class ``c``, the binary gap of ``1[y_true == c]`` and
``1[y_pred == c]`` under the conventions above (a group without rows in a cell is
ignored for that rate, never counted as rate 0), then the mean over the classes of
``y_true`` ∪ ``y_pred``; NaN if one class's gap is NaN.

The computation itself lives in :mod:`fairnn.metrics._kernels` (one
definition per metric, shared with :func:`evaluate`, the bootstrap and
:class:`GroupMetricFrame`). The functions here are generated from it
(:mod:`fairnn.metrics._factory`), one per row of the registry
(:mod:`fairnn.metrics.registry`), which holds their docstrings.
"""

from __future__ import annotations

from fairnn.metrics.registry import METRICS

__all__ = METRICS.names()

globals().update({name: spec.function for name, spec in METRICS.items()})
