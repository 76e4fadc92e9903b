"""fairnn.metrics: group fairness and performance metrics.

* numpy metric functions for reporting (:mod:`fairnn.metrics.functional`):
  ``accuracy``, ``balanced_accuracy``, ``ap``, ``auc``, ``mse``, ``mae``,
  ``r2``; gaps on hard predictions ``dp_gap``, ``dp_ratio``,
  ``eodds_gap_sum`` (RUNNER paper / FFB ΔEO = |ΔTPR| + |ΔFPR|),
  ``eodds_gap_max`` (fairlearn's equalized_odds_difference), ``eopp_gap``,
  ``fnr_gap``, ``fpr_gap``; gaps on scores ``dp_gap_soft``,
  ``eodds_gap_sum_soft``, ``eodds_gap_max_soft``, ``eopp_gap_soft``; multiclass
  one-vs-rest gaps ``dp_gap_ovr``, ``eodds_gap_sum_ovr`` (one function per registered
  metric, generated from its kernel);
* the registry ``METRICS`` (a :class:`~fairnn.registry.Registry` of :class:`MetricSpec`,
  each with its torch twin) and :func:`evaluate` (scores in, ``{name: float}`` out);
* :func:`fairnn.metrics.check.check_metric`, the contract every registered metric passes;
* differentiable torch twins in :mod:`fairnn.metrics.differentiable`;
* :class:`GroupMetricFrame`, a metric × group table;
* :func:`bootstrap_ci` and :func:`evaluate_with_ci`.

Definitions and edge-case decisions: ``docs/metrics.md``.
"""

from __future__ import annotations

from fairnn.metrics import differentiable, functional
from fairnn.metrics._validate import UndefinedMetricWarning
from fairnn.metrics.bootstrap import CI, bootstrap_ci, evaluate_with_ci
from fairnn.metrics.frame import GROUP_METRICS, GroupMetricFrame
from fairnn.metrics.functional import *  # noqa: F403 (one function per registered metric)
from fairnn.metrics.registry import DEFAULT_METRICS, METRICS, MetricSpec, evaluate

__all__ = [
    "CI",
    "DEFAULT_METRICS",
    "GROUP_METRICS",
    "METRICS",
    "GroupMetricFrame",
    "MetricSpec",
    "UndefinedMetricWarning",
    "bootstrap_ci",
    "differentiable",
    "evaluate",
    "evaluate_with_ci",
    *functional.__all__,
]
