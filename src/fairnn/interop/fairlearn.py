"""fairnn's by-group table to and from fairlearn's ``MetricFrame``.

:func:`to_fairlearn` recomputes the table with fairlearn's own metric functions on
the frame's inputs (the same rows, groups, weights and threshold), so it is a real
``MetricFrame`` (``by_group``, ``difference()``, ``ratio()``, fairlearn's plots)
and a cross-check of fairnn's numbers. Label metrics read ``1[score > threshold]``
as fairnn does. One known difference: fairlearn reports TPR (and the other rates)
as 0 in a group without the rows that define them, where fairnn reports NaN.

:func:`from_fairlearn` reads a ``MetricFrame``'s ``overall`` and ``by_group``
values into a :class:`~fairnn.metrics.GroupMetricFrame`, renaming fairlearn's and
scikit-learn's metric functions to fairnn's names (``true_positive_rate`` → ``tpr``,
``accuracy_score`` → ``accuracy``...); other names are kept.

The conversion itself is :mod:`fairnn.metrics._fairlearn`, below the frame, so that the
frame's ``to_fairlearn``/``from_fairlearn`` methods need no import of this package.
"""

from __future__ import annotations

from typing import Any

from fairnn.metrics._fairlearn import FAIRLEARN_METRICS
from fairnn.metrics.frame import GroupMetricFrame

__all__ = ["FAIRLEARN_METRICS", "from_fairlearn", "to_fairlearn"]


def to_fairlearn(frame: GroupMetricFrame) -> Any:
    """``frame`` recomputed as a fairlearn ``MetricFrame`` (same metric names, plus ``count``)."""
    return frame.to_fairlearn()


def from_fairlearn(metric_frame: Any) -> GroupMetricFrame:
    """A fairlearn ``MetricFrame`` (with one or several metrics) as a GroupMetricFrame."""
    return GroupMetricFrame.from_fairlearn(metric_frame)
