"""A metric × group table, in the spirit of fairlearn's ``MetricFrame``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairnn.errors import InvalidValueError
from fairnn.metrics import _fairlearn
from fairnn.metrics._kernels import KERNELS, RATE_KERNELS, KernelSpec, prepare

#: Metrics a GroupMetricFrame can compute per group ("count" is always added).
GROUP_METRICS: dict[str, KernelSpec] = {
    "accuracy": KERNELS["accuracy"],
    "balanced_accuracy": KERNELS["balanced_accuracy"],
    "selection_rate": RATE_KERNELS["selection_rate"],
    "tpr": RATE_KERNELS["tpr"],
    "fpr": RATE_KERNELS["fpr"],
    "fnr": RATE_KERNELS["fnr"],
    "tnr": RATE_KERNELS["tnr"],
    "mean_score": RATE_KERNELS["mean_score"],
    "ap": KERNELS["ap"],
    "auc": KERNELS["auc"],
    "mse": KERNELS["mse"],
    "mae": KERNELS["mae"],
}


def _count(v: Any) -> int | None:
    return None if pd.isna(v) else int(v)


def _none_if_nan(v: float) -> float | None:
    return None if isinstance(v, float) and math.isnan(v) else v


class GroupMetricFrame:
    """Metrics overall and per group, with group differences and ratios.

    ``metrics`` is one name or a list of names from :data:`GROUP_METRICS`
    (accuracy, balanced_accuracy, selection_rate, tpr, fpr, fnr, tnr,
    mean_score, ap, auc, mse, mae; ``count`` is always present).
    ``y_pred_or_score`` may be hard 0/1 predictions or scores: label metrics
    read ``1[y > threshold]`` (hard predictions are unchanged by this), while
    ``mean_score``, ``ap``, ``auc``, ``mse`` and ``mae`` read the values as given.

    Each group is one value of ``sensitive_features`` (one observed combination
    for 2-D input). A metric undefined in a group (e.g. TPR without positives)
    is NaN there and skipped by :meth:`difference`, :meth:`ratio`,
    :meth:`group_min` and :meth:`group_max` (fairlearn skips NaN the same way,
    but reports TPR = 0 for a group without positives).

    Attributes: :attr:`overall` (Series), :attr:`by_group` (DataFrame, rows =
    groups, columns = metrics + ``count``, the unweighted number of rows).
    """

    def __init__(
        self,
        metrics: str | Sequence[str],
        y_true: Any,
        y_pred_or_score: Any,
        *,
        sensitive_features: Any,
        sample_weight: Any = None,
        threshold: float = 0.5,
    ) -> None:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        #: the inputs, kept (not copied) so the table converts to fairlearn's MetricFrame
        self._inputs: dict[str, Any] | None = {
            "y_true": y_true,
            "y_pred_or_score": y_pred_or_score,
            "sensitive_features": sensitive_features,
            "sample_weight": sample_weight,
            "threshold": threshold,
        }
        if not names:
            raise InvalidValueError("metrics is empty; pass one or more metric names.")
        unknown = [m for m in names if m not in GROUP_METRICS and m != "count"]
        if unknown:
            raise InvalidValueError(
                f"unknown metric(s) {unknown} in metrics; available: "
                f"{sorted([*GROUP_METRICS, 'count'])}."
            )
        self._metrics = [m for m in dict.fromkeys(names) if m != "count"]
        specs = {m: GROUP_METRICS[m] for m in self._metrics}
        p, w = prepare(
            specs,
            y_true,
            y_pred_or_score,
            y_name="y_pred_or_score",
            sensitive_features=sensitive_features,
            sample_weight=sample_weight,
            threshold=threshold,
            force_groups=True,
            min_groups=1,
        )
        groups = p.groups
        G = groups.n_groups
        # one weighting per group (weights masked to the group) + the overall one
        W = np.vstack([groups.onehot.T * w[None, :], w[None, :]])
        values = {m: spec.kernel(p, W, False) for m, spec in specs.items()}
        counts = np.bincount(groups.codes, minlength=G)

        if len(groups.names) == 1:
            index: pd.Index = pd.Index(groups.labels, name=groups.names[0])
        else:
            index = pd.MultiIndex.from_tuples(groups.labels, names=groups.names)
        table = pd.DataFrame({m: v[:G] for m, v in values.items()}, index=index)
        table["count"] = counts.astype(np.int64)
        self._by_group = table
        overall = {m: float(v[G]) for m, v in values.items()}
        self._overall = pd.Series({**overall, "count": float(p.y_score.shape[0])}, dtype=float)
        self._group_labels = [groups.label_str(g) for g in range(G)]

    @classmethod
    def from_tables(cls, by_group: pd.DataFrame, overall: pd.Series) -> GroupMetricFrame:
        """A frame from precomputed tables (rows = groups; a ``count`` column is optional).

        Used to bring in fairlearn's ``MetricFrame`` (:func:`fairnn.interop.from_fairlearn`);
        such a frame has no raw inputs, so it cannot be converted back by recomputation.
        """
        self = cls.__new__(cls)
        table = by_group.copy()
        if "count" not in table.columns:
            table["count"] = pd.array([pd.NA] * len(table), dtype="Int64")
        self._metrics = [str(c) for c in table.columns if c != "count"]
        self._by_group = table
        ov = overall.astype(float).copy()
        if "count" not in ov.index:
            ov["count"] = float(table["count"].sum()) if table["count"].notna().all() else np.nan
        self._overall = ov
        if isinstance(table.index, pd.MultiIndex):
            self._group_labels = [
                ", ".join(f"{n}={v}" for n, v in zip(table.index.names, key, strict=True))
                for key in table.index
            ]
        else:
            self._group_labels = [str(k) for k in table.index]
        self._inputs = None
        return self

    def to_fairlearn(self) -> Any:
        """This table as fairlearn's ``MetricFrame`` (see :func:`fairnn.interop.to_fairlearn`)."""
        return _fairlearn.metric_frame(self._inputs, self.metrics, list(self.by_group.index.names))

    @classmethod
    def from_fairlearn(cls, metric_frame: Any) -> GroupMetricFrame:
        """fairlearn's ``MetricFrame`` as a GroupMetricFrame (see :mod:`fairnn.interop`)."""
        return cls.from_tables(*_fairlearn.tables(metric_frame))

    # ------------------------------------------------------------------ views

    @property
    def metrics(self) -> list[str]:
        """The metric names, in order (without ``count``)."""
        return list(self._metrics)

    @property
    def overall(self) -> pd.Series:
        """Each metric on all rows (plus ``count``, the number of rows)."""
        return self._overall.copy()

    @property
    def by_group(self) -> pd.DataFrame:
        """Rows = groups, columns = metrics + ``count``."""
        return self._by_group.copy()

    def _values(self) -> pd.DataFrame:
        return self._by_group[self._metrics].astype(float)

    def _two_defined(self) -> pd.Series:
        return self._values().notna().sum() >= 2

    def group_min(self) -> pd.Series:
        """Smallest per-group value of each metric (NaN groups skipped)."""
        return self._values().min()

    def group_max(self) -> pd.Series:
        """Largest per-group value of each metric (NaN groups skipped)."""
        return self._values().max()

    def difference(
        self, method: Literal["between_groups", "to_overall"] = "between_groups"
    ) -> pd.Series:
        """``group_max - group_min`` per metric, or ``max |group - overall|`` (as fairlearn).

        ``between_groups`` is NaN for a metric defined in fewer than two groups
        (as the gap functions; fairlearn returns 0 there).
        """
        if method == "between_groups":
            return (self.group_max() - self.group_min()).where(self._two_defined())
        if method == "to_overall":
            overall = self._overall[self._metrics].astype(float)
            return (self._values() - overall).abs().max()
        raise InvalidValueError(f"method must be 'between_groups' or 'to_overall'; got {method!r}.")

    def ratio(
        self, method: Literal["between_groups", "to_overall"] = "between_groups"
    ) -> pd.Series:
        """``group_min / group_max`` per metric, or ``min(group/overall, overall/group)``.

        ``between_groups`` is NaN when the max is 0 (0/0, as fairlearn) or the
        metric is defined in fewer than two groups.
        """
        if method == "between_groups":
            hi = self.group_max()
            return (self.group_min() / hi.where(hi != 0, np.nan)).where(self._two_defined())
        if method == "to_overall":
            overall = self._overall[self._metrics].astype(float)
            r = self._values() / overall
            r = r.where(r <= 1, 1 / r)
            return r.min()
        raise InvalidValueError(f"method must be 'between_groups' or 'to_overall'; got {method!r}.")

    # ----------------------------------------------------------------- export

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: overall, by_group (keyed by readable group label), difference, ratio.

        NaN becomes ``None``. Intersectional groups are keyed ``"a=x, b=y"``.
        """
        by_group = {}
        for label, (_, row) in zip(self._group_labels, self._by_group.iterrows(), strict=True):
            d: dict[str, Any] = {m: _none_if_nan(float(row[m])) for m in self._metrics}
            d["count"] = None if pd.isna(row["count"]) else int(row["count"])
            by_group[label] = d
        return {
            "metrics": self.metrics,
            "sensitive_features": list(self._by_group.index.names),
            "overall": {
                k: (int(v) if k == "count" and not math.isnan(v) else _none_if_nan(float(v)))
                for k, v in self._overall.items()
            },
            "by_group": by_group,
            "difference": {k: _none_if_nan(float(v)) for k, v in self.difference().items()},
            "ratio": {k: _none_if_nan(float(v)) for k, v in self.ratio().items()},
        }

    def to_markdown(self, digits: int = 4) -> str:
        """A GitHub-flavoured Markdown table: one row per group, then overall and difference."""

        def fmt(v: Any) -> str:
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                return "NaN"
            if isinstance(v, int | np.integer):
                return str(int(v))
            return f"{float(v):.{digits}f}"

        def esc(s: str) -> str:
            return s.replace("|", "\\|")

        head = ["group", *self._metrics, "count"]
        lines = [
            "| " + " | ".join(esc(h) for h in head) + " |",
            "|" + "---|" + "---:|" * (len(head) - 1),
        ]
        for label, (_, row) in zip(self._group_labels, self._by_group.iterrows(), strict=True):
            cells = [esc(label), *(fmt(float(row[m])) for m in self._metrics)]
            cells.append(fmt(_count(row["count"])))
            lines.append("| " + " | ".join(cells) + " |")
        overall = [fmt(float(self._overall[m])) for m in self._metrics]
        lines.append(
            "| **overall** | " + " | ".join([*overall, fmt(_count(self._overall["count"]))]) + " |"
        )
        diff = self.difference()
        lines.append(
            "| **difference** | "
            + " | ".join([*(fmt(float(diff[m])) for m in self._metrics), ""])
            + " |"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"GroupMetricFrame(metrics={self._metrics}, groups={len(self._group_labels)})"
