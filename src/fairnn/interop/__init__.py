"""Bridges to other fairness libraries.

* :func:`to_fairlearn` / :func:`from_fairlearn`: fairnn's
  :class:`~fairnn.metrics.GroupMetricFrame` to and from fairlearn's ``MetricFrame``
  (fairlearn is optional: ``pip install fairnn[fairlearn]``).

fairnn's estimator for scikit-learn (and so for fairlearn's ``ThresholdOptimizer``
and reductions) is :class:`fairnn.sklearn.FairClassifier`.
"""

from __future__ import annotations

from fairnn.interop.fairlearn import FAIRLEARN_METRICS, from_fairlearn, to_fairlearn

__all__ = ["FAIRLEARN_METRICS", "from_fairlearn", "to_fairlearn"]
