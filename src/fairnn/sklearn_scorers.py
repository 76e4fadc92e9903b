"""Fairness-aware scikit-learn scorers: :func:`gap_scorer` and :func:`constrained_scorer`.

They are used as ``scoring=`` in ``GridSearchCV``, ``cross_validate`` or
``cross_val_score``, with any binary classifier (``FairClassifier`` or another), and
read the groups from scikit-learn's metadata routing::

    sklearn.set_config(enable_metadata_routing=True)
    scorer = constrained_scorer("accuracy", max_gap=0.05, gap="dp_gap")
    GridSearchCV(est.set_fit_request(sensitive_features=True), grid, scoring=scorer)
    grid.fit(X, y, sensitive_features=A)

Both scorers request ``sensitive_features`` for ``score`` by default (they cannot work
without them); ``set_score_request`` changes the request (an alias, or
``sample_weight=True`` to weight the metrics). Every number is computed by the metric
functions of :mod:`fairnn.metrics` (the registry ``METRICS``), the same ones the CLI
reports; hard-label metrics read ``estimator.predict``, score metrics (``ap``, ``auc``,
``*_soft`` gaps) read ``predict_proba`` of ``classes_[1]``.

Reusable by any estimator, this module imports scikit-learn but not torch; it is
re-exported by :mod:`fairnn.sklearn`.
"""

from __future__ import annotations

import math
from inspect import signature
from typing import Any

import numpy as np
from sklearn.utils.metadata_routing import MetadataRequest

from fairnn.errors import ConfigError
from fairnn.metrics import METRICS, MetricSpec
from fairnn.validation import check_number

__all__ = ["FairScorer", "constrained_scorer", "gap_scorer"]

#: Default cost of breaking the bound in :func:`constrained_scorer` (see its docstring).
DEFAULT_PENALTY = 1000.0


def _binary(spec: MetricSpec) -> bool:
    return "binary" in spec.tasks


def gap_names() -> list[str]:
    """Registered binary gaps (lower is better) that :func:`gap_scorer` accepts."""
    return [
        s.name
        for s in METRICS.values()
        if _binary(s) and s.is_group_metric and not s.higher_is_better
    ]


def utility_names() -> list[str]:
    """Registered binary utilities (higher is better) that :func:`constrained_scorer` accepts."""
    return [
        s.name
        for s in METRICS.values()
        if _binary(s) and not s.is_group_metric and s.higher_is_better
    ]


def _lookup(name: str, role: str, roles: str, known: list[str]) -> MetricSpec:
    if name not in known:
        raise ConfigError(
            f"unknown {role} {name!r} for a binary scorer. Known {roles}: {', '.join(known)} "
            "(fairnn.metrics.METRICS describes them; docs/metrics.md defines them)."
        )
    return METRICS[name]


class FairScorer:
    """A scorer ``scorer(estimator, X, y, sensitive_features=A)``; see :func:`gap_scorer`
    and :func:`constrained_scorer`, which build it.

    ``utility`` and ``gap`` are registered metric names (either may be None, not both);
    with both, the score is the utility when the gap is at most ``max_gap`` and
    ``utility - penalty - (gap - max_gap)`` otherwise. With the gap alone the score is
    ``-gap`` (scikit-learn maximises scores, as for ``greater_is_better=False``).
    """

    def __init__(
        self,
        utility: str | None = None,
        gap: str | None = None,
        max_gap: float | None = None,
        penalty: float = DEFAULT_PENALTY,
    ) -> None:
        if utility is None and gap is None:
            raise ConfigError("a FairScorer needs a utility, a gap, or both")
        self.utility = (
            None if utility is None else _lookup(utility, "utility", "utilities", utility_names())
        )
        self.gap = None if gap is None else _lookup(gap, "gap", "gaps", gap_names())
        if utility is not None and gap is not None:
            check_number(max_gap, "max_gap", ge=0)
            check_number(penalty, "penalty", gt=1, hint="it must exceed the largest utility, 1")
        self.max_gap = None if max_gap is None else float(max_gap)
        self.penalty = float(penalty)
        self._metadata_request = MetadataRequest(owner=self)
        self._metadata_request.score.add_request(param="sensitive_features", alias=True)

    # -- metadata routing (scikit-learn reads these two) ----------------------
    def set_score_request(self, **requests: Any) -> FairScorer:
        """As ``make_scorer(...).set_score_request``: ``sensitive_features=True`` (the
        default) or an alias; ``sample_weight=True`` weights every metric."""
        for param, alias in requests.items():
            self._metadata_request.score.add_request(param=param, alias=alias)
        return self

    def get_metadata_routing(self) -> MetadataRequest:
        return self._metadata_request

    def __repr__(self) -> str:
        if self.utility is None:
            return f"gap_scorer({self.gap.name!r})"  # type: ignore[union-attr]
        if self.gap is None:
            return f"FairScorer(utility={self.utility.name!r})"
        return (
            f"constrained_scorer({self.utility.name!r}, max_gap={self.max_gap}, "
            f"gap={self.gap.name!r})"
        )

    # -- scoring --------------------------------------------------------------
    def __call__(
        self,
        estimator: Any,
        X: Any,
        y: Any,
        sensitive_features: Any = None,
        sample_weight: Any = None,
    ) -> float:
        if sensitive_features is None and self.gap is not None:
            raise ConfigError(
                f"{self!r} got no sensitive_features. Pass them as metadata with routing "
                "enabled: sklearn.set_config(enable_metadata_routing=True), then "
                "GridSearchCV(...).fit(X, y, sensitive_features=A) or "
                "cross_validate(..., params={'sensitive_features': A}); the scorer requests "
                "them itself (set_score_request(sensitive_features=True))."
            )
        positive = np.asarray(estimator.classes_)[1]
        y01 = (np.asarray(y) == positive).astype(np.int64)
        cache: dict[str, np.ndarray] = {}

        def value(spec: MetricSpec) -> float:
            if spec.input not in cache:
                if spec.input == "score":
                    cache["score"] = np.asarray(estimator.predict_proba(X))[:, 1]
                else:
                    cache["label"] = (
                        _predict(estimator, X, sensitive_features) == positive
                    ).astype(np.int64)
            return float(
                spec.function(
                    y01,
                    cache[spec.input],
                    sensitive_features=sensitive_features,
                    sample_weight=sample_weight,
                )
            )

        if self.utility is None:
            return -value(self.gap)  # type: ignore[arg-type]
        utility = value(self.utility)
        if self.gap is None:
            return utility
        gap = value(self.gap)
        if gap <= self.max_gap:  # type: ignore[operator]
            return utility
        excess = gap - self.max_gap if math.isfinite(gap) else 0.0  # type: ignore[operator]
        return utility - self.penalty - excess


def _predict(estimator: Any, X: Any, sensitive_features: Any) -> np.ndarray:
    """``estimator.predict``, given the groups when it takes them (``FairClassifier``'s
    post-processing rules decide by group)."""
    if "sensitive_features" in signature(estimator.predict).parameters:
        return np.asarray(estimator.predict(X, sensitive_features=sensitive_features))
    return np.asarray(estimator.predict(X))


def gap_scorer(gap: str = "dp_gap") -> FairScorer:
    """A fairness gap as a loss: the scorer returns ``-gap`` (greater is better, as
    ``make_scorer(..., greater_is_better=False)``), so ``GridSearchCV`` picks the
    smallest gap and ``cv_results_`` holds negated gaps.

    ``gap`` is a registered binary gap: ``dp_gap``, ``eodds_gap_sum``, ``eodds_gap_max``,
    ``eopp_gap``, ``fnr_gap``, ``fpr_gap`` (on ``predict``) or ``dp_gap_soft``,
    ``eodds_gap_sum_soft``, ``eodds_gap_max_soft``, ``eopp_gap_soft`` (on
    ``predict_proba``).
    """
    return FairScorer(gap=gap)


def constrained_scorer(
    utility: str = "accuracy",
    *,
    max_gap: float,
    gap: str = "dp_gap",
    penalty: float = DEFAULT_PENALTY,
) -> FairScorer:
    """``utility`` subject to ``gap <= max_gap``, as one number for model selection.

    The score is the utility (``accuracy``, ``balanced_accuracy``, ``ap``, ``auc``: all in
    [0, 1]) when the gap on the same rows is within ``max_gap``, and
    ``utility - penalty - (gap - max_gap)`` when it is not (a NaN gap counts as a
    violation of size 0).

    Why a finite penalty rather than ``-inf``: every score stays finite, so
    ``GridSearchCV`` averages, ranks and refits without non-finite-score warnings or NaN
    standard deviations, and when no candidate meets the bound the best is still
    meaningful (the least violation, then the highest utility) instead of a tie at
    ``-inf``. With ``penalty`` (default 1000) larger than the number of folds, a
    candidate that breaks the bound in any fold has a negative mean score and ranks
    below every candidate that meets it in all folds (whose mean is >= 0); so
    ``best_score_ >= 0`` means the selected model met the bound in every fold.
    """
    return FairScorer(utility=utility, gap=gap, max_gap=max_gap, penalty=penalty)
