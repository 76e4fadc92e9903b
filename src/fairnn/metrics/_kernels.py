"""The single definition of every metric, computed for many weightings at once.

Each kernel takes validated data (:class:`Prepared`) and a weight matrix ``W``
of shape ``(B, n)`` and returns ``B`` values: the metric under each row of
weights. A plain call uses ``B = 1`` (the sample weights, or ones); a
bootstrap uses one row of resampling counts × sample weights per resample
(resampling a row k times is the same as giving it weight k); a by-group table
uses one row per group (the weights masked to that group). So the public
functions, :func:`~fairnn.metrics.evaluate`, the bootstrap and
:class:`~fairnn.metrics.GroupMetricFrame` all run the same code.

Conventions (see ``docs/metrics.md``):

* hard predictions ``y_pred`` and labels ``y_true`` are 0/1 floats;
* a group rate is a weighted mean over the group's rows in a conditioning cell
  (all rows; ``y_true == 1``; ``y_true == 0``); a group with zero weight in the
  cell has no rate: it is ignored for that rate (warning), and a gap with fewer
  than two defined rates is NaN;
* a gap is ``max - min`` over groups of a rate, i.e. the largest pairwise gap;
* multiclass gaps (``*_ovr``) read class ids and are one-vs-rest: for each class ``c``
  of ``y_true`` ∪ ``y_pred``, the binary gap of ``1[y_true == c]`` and ``1[y_pred == c]``
  under the same conventions, then the mean over classes (NaN if one class's gap is).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from fairnn.errors import InvalidValueError
from fairnn.metrics._validate import (
    Groups,
    _warn,
    check_binary,
    check_class_ids,
    check_finite,
    check_same_length,
    encode_groups,
    to_1d_float,
    to_class_ids,
    validate_weights,
)

InputKind = Literal["label", "score"]
Kernel = Callable[["Prepared", np.ndarray, bool], np.ndarray]


@dataclass
class Prepared:
    """Validated inputs of a metric computation (all 1-D float64, same length).

    ``y_pred`` holds hard 0/1 predictions (for label metrics), ``y_score`` the
    continuous scores or regression predictions (for score metrics).
    """

    y_true: np.ndarray | None
    y_pred: np.ndarray | None = None
    y_score: np.ndarray | None = None
    groups: Groups | None = None
    _sort: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _cache_w: np.ndarray | None = field(default=None, repr=False)
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _ovr: list[tuple[float, Prepared]] | None = field(default=None, repr=False)

    def cached(self, W: np.ndarray, key: str, compute: Callable[[], Any]) -> Any:
        """Memoise ``compute()`` for this exact weight matrix (shared by several kernels)."""
        if self._cache_w is not W:
            self._cache_w, self._cache = W, {}
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def sort_info(self) -> tuple[np.ndarray, np.ndarray]:
        """Row order by decreasing score and the last index of each tied-score block."""
        if self._sort is None:
            assert self.y_score is not None
            order = np.argsort(-self.y_score, kind="stable")
            s = self.y_score[order]
            ends = np.r_[np.flatnonzero(np.diff(s)), s.shape[0] - 1]
            self._sort = (order, ends)
        return self._sort

    def one_vs_rest(self) -> list[tuple[float, Prepared]]:
        """Per class ``c`` of ``y_true`` ∪ ``y_pred`` (sorted): the binary view ``1[· == c]``."""
        if self._ovr is None:
            assert self.y_true is not None and self.y_pred is not None
            yt, yp = self.y_true, self.y_pred
            self._ovr = [
                (
                    float(c),
                    Prepared(y_true=(yt == c) * 1.0, y_pred=(yp == c) * 1.0, groups=self.groups),
                )
                for c in np.unique(np.concatenate([yt, yp]))
            ]
        return self._ovr


@dataclass(frozen=True)
class KernelSpec:
    """How to call a kernel: which prediction it reads and what it requires."""

    kernel: Kernel
    input: InputKind
    needs_groups: bool
    needs_binary_y: bool
    needs_y_true: bool = True
    multiclass: bool = False


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with NaN where ``den <= 0``."""
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


# --------------------------------------------------------------------------- rates

#: rate name -> (which values are averaged, conditioning cell, readable name, empty-cell reason)
_RATES: dict[str, tuple[str, str | None, str, str]] = {
    "selection_rate": ("pred", None, "selection rate P(y_pred=1)", "zero total weight"),
    "tpr": (
        "pred",
        "pos",
        "TPR P(y_pred=1 | y_true=1)",
        "no rows with y_true == 1, or zero weight on them",
    ),
    "fpr": (
        "pred",
        "neg",
        "FPR P(y_pred=1 | y_true=0)",
        "no rows with y_true == 0, or zero weight on them",
    ),
    "fnr": (
        "1-pred",
        "pos",
        "FNR P(y_pred=0 | y_true=1)",
        "no rows with y_true == 1, or zero weight on them",
    ),
    "tnr": (
        "1-pred",
        "neg",
        "TNR P(y_pred=0 | y_true=0)",
        "no rows with y_true == 0, or zero weight on them",
    ),
    "mean_score": ("score", None, "mean score E[score]", "zero total weight"),
    "mean_score_pos": (
        "score",
        "pos",
        "mean score E[score | y_true=1]",
        "no rows with y_true == 1, or zero weight on them",
    ),
    "mean_score_neg": (
        "score",
        "neg",
        "mean score E[score | y_true=0]",
        "no rows with y_true == 0, or zero weight on them",
    ),
}


def _rate_terms(p: Prepared, rate: str) -> tuple[np.ndarray, np.ndarray | None]:
    what, cell, _, _ = _RATES[rate]
    if what == "pred":
        values = p.y_pred
    elif what == "1-pred":
        values = 1.0 - p.y_pred
    else:
        values = p.y_score
    mask = None if cell is None else (p.y_true if cell == "pos" else 1.0 - p.y_true)
    return values, mask


def rate(p: Prepared, W: np.ndarray, rate_name: str) -> np.ndarray:
    """Overall weighted rate under each weighting: ``(B,)``, NaN where the cell is empty."""
    values, mask = _rate_terms(p, rate_name)
    den_col = np.ones_like(values) if mask is None else mask
    num = W @ (values * den_col)
    den = W @ den_col
    return _div(num, den)


def group_rates(p: Prepared, W: np.ndarray, rate_name: str) -> np.ndarray:
    """Per-group weighted rate: ``(B, G)``, NaN where a group's cell has zero weight."""

    def compute() -> np.ndarray:
        values, mask = _rate_terms(p, rate_name)
        M = p.groups.onehot if mask is None else p.groups.onehot * mask[:, None]
        G = M.shape[1]
        R = W @ np.concatenate([M * values[:, None], M], axis=1)
        return _div(R[:, :G], R[:, G:])

    return p.cached(W, f"rates:{rate_name}", compute)


def max_minus_min(rates: np.ndarray) -> np.ndarray:
    """``max - min`` over the defined (non-NaN) entries of each row; NaN if fewer than 2."""
    defined = ~np.isnan(rates)
    hi = np.where(defined, rates, -np.inf).max(axis=1)
    lo = np.where(defined, rates, np.inf).min(axis=1)
    return np.where(defined.sum(axis=1) >= 2, hi - lo, np.nan)


def _warn_undefined(p: Prepared, rates: np.ndarray, metric: str, rate_name: str) -> None:
    defined = ~np.isnan(rates[0])
    if defined.all():
        return
    _, _, readable, reason = _RATES[rate_name]
    missing = np.flatnonzero(~defined)
    tail = (
        "those groups are ignored for this rate."
        if defined.sum() >= 2
        else "fewer than two groups have this rate, so the gap is NaN."
    )
    _warn(
        f"{metric}: the {readable} is undefined for group(s) {p.groups.describe(missing)} "
        f"({reason} there); {tail}"
    )


def gap(p: Prepared, W: np.ndarray, warn: bool, rate_name: str, metric: str) -> np.ndarray:
    """Largest pairwise gap of a rate across groups, ``(B,)``."""
    rates = group_rates(p, W, rate_name)
    if warn:
        _warn_undefined(p, rates, metric, rate_name)
    return max_minus_min(rates)


def _gap_kernel(rate_name: str, metric: str) -> Kernel:
    def kernel(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
        return gap(p, W, warn, rate_name, metric)

    kernel.__name__ = f"_{metric}"
    return kernel


def _sum_kernel(a: str, b: str, metric: str) -> Kernel:
    def kernel(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
        return gap(p, W, warn, a, metric) + gap(p, W, warn, b, metric)

    kernel.__name__ = f"_{metric}"
    return kernel


def _max_kernel(a: str, b: str, metric: str) -> Kernel:
    def kernel(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
        return np.maximum(gap(p, W, warn, a, metric), gap(p, W, warn, b, metric))

    kernel.__name__ = f"_{metric}"
    return kernel


def _ovr_kernel(rates: tuple[str, ...], metric: str) -> Kernel:
    """Mean over classes of the one-vs-rest sum of the gaps of ``rates`` (multiclass)."""

    def kernel(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
        per_class = []
        for c, view in p.one_vs_rest():
            name = f"{metric} (class {c:g})"
            g = gap(view, W, warn, rates[0], name)
            for r in rates[1:]:
                g = g + gap(view, W, warn, r, name)
            per_class.append(g)
        return np.mean(np.stack(per_class, axis=1), axis=1)

    kernel.__name__ = f"_{metric}"
    return kernel


def _dp_ratio(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
    rates = group_rates(p, W, "selection_rate")
    if warn:
        _warn_undefined(p, rates, "dp_ratio", "selection_rate")
    defined = ~np.isnan(rates)
    hi = np.where(defined, rates, -np.inf).max(axis=1)
    lo = np.where(defined, rates, np.inf).min(axis=1)
    out = np.where(defined.sum(axis=1) >= 2, _div(lo, hi), np.nan)
    if warn and hi[0] == 0:
        _warn("dp_ratio: every group has selection rate 0, so min/max is 0/0 = NaN.")
    return out


# --------------------------------------------------------------------- performance


def _accuracy(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
    correct = (p.y_pred == p.y_true).astype(np.float64)
    return _div(W @ correct, W.sum(axis=1))


def _balanced_accuracy(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
    y, yp = p.y_true, p.y_pred
    rec = np.stack([_div(W @ (y * yp), W @ y), _div(W @ ((1 - y) * (1 - yp)), W @ (1 - y))], axis=1)
    defined = ~np.isnan(rec)
    if warn and not defined[0].all():
        _warn(
            "balanced_accuracy: y_true has only one class (with positive weight); "
            "the score is that class's recall (as sklearn does)."
        )
    return _div(np.where(defined, rec, 0.0).sum(axis=1), defined.sum(axis=1).astype(np.float64))


def _curve_counts(p: Prepared, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted true/false positive counts at each distinct score threshold (decreasing)."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        order, ends = p.sort_info()
        Ws = W[:, order]
        ys = p.y_true[order]
        tps = np.cumsum(Ws * ys, axis=1)[:, ends]
        fps = np.cumsum(Ws * (1.0 - ys), axis=1)[:, ends]
        return tps, fps

    return p.cached(W, "curve", compute)


def _ap(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
    tps, fps = _curve_counts(p, W)
    pos = tps[:, -1:]
    precision = np.divide(tps, tps + fps, out=np.zeros_like(tps), where=(tps + fps) > 0)
    recall = _div(tps, pos)
    d_recall = np.diff(recall, axis=1, prepend=0.0)
    ap = np.maximum(0.0, np.sum(d_recall * precision, axis=1))
    if warn and not pos[0, 0] > 0:
        _warn("ap: y_true has no positives (with positive weight); average precision is NaN.")
    return np.where(pos[:, 0] > 0, ap, np.nan)


def _auc(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
    tps, fps = _curve_counts(p, W)
    tpr = _div(tps, tps[:, -1:])
    fpr = _div(fps, fps[:, -1:])
    zero = np.zeros((W.shape[0], 1))
    tpr = np.concatenate([zero, tpr], axis=1)
    fpr = np.concatenate([zero, fpr], axis=1)
    area = np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2.0, axis=1)
    ok = (tps[:, -1] > 0) & (fps[:, -1] > 0)
    if warn and not ok[0]:
        _warn("auc: ROC AUC needs both classes in y_true (with positive weight); it is NaN.")
    return np.where(ok, area, np.nan)


def _mse(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
    return _div(W @ (p.y_true - p.y_score) ** 2, W.sum(axis=1))


def _mae(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
    return _div(W @ np.abs(p.y_true - p.y_score), W.sum(axis=1))


def _r2(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
    y = p.y_true
    wsum = W.sum(axis=1)
    num = W @ (y - p.y_score) ** 2
    ybar = (W @ y) / wsum
    den = np.sum(W * (y[None, :] - ybar[:, None]) ** 2, axis=1)
    # sklearn (force_finite=True): constant y_true -> 1.0 if perfect else 0.0
    out = np.where(den > 0, 1.0 - num / np.where(den > 0, den, 1.0), np.where(num == 0, 1.0, 0.0))
    if y.shape[0] < 2:
        if warn:
            _warn("r2: R² is not defined for fewer than two samples; it is NaN.")
        out = np.full_like(out, np.nan)
    return out


def _soft_sum(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
    m = "eodds_gap_sum_soft"
    return gap(p, W, warn, "mean_score_pos", m) + gap(p, W, warn, "mean_score_neg", m)


KERNELS: dict[str, KernelSpec] = {
    # performance, binary
    "accuracy": KernelSpec(_accuracy, "label", False, True),
    "balanced_accuracy": KernelSpec(_balanced_accuracy, "label", False, True),
    "ap": KernelSpec(_ap, "score", False, True),
    "auc": KernelSpec(_auc, "score", False, True),
    # performance, regression
    "mse": KernelSpec(_mse, "score", False, False),
    "mae": KernelSpec(_mae, "score", False, False),
    "r2": KernelSpec(_r2, "score", False, False),
    # group gaps on hard predictions
    "dp_gap": KernelSpec(_gap_kernel("selection_rate", "dp_gap"), "label", True, False, False),
    "dp_ratio": KernelSpec(_dp_ratio, "label", True, False, False),
    "eodds_gap_sum": KernelSpec(_sum_kernel("tpr", "fpr", "eodds_gap_sum"), "label", True, True),
    "eodds_gap_max": KernelSpec(_max_kernel("tpr", "fpr", "eodds_gap_max"), "label", True, True),
    "eopp_gap": KernelSpec(_gap_kernel("tpr", "eopp_gap"), "label", True, True),
    "fnr_gap": KernelSpec(_gap_kernel("fnr", "fnr_gap"), "label", True, True),
    "fpr_gap": KernelSpec(_gap_kernel("fpr", "fpr_gap"), "label", True, True),
    # group gaps on scores
    "dp_gap_soft": KernelSpec(
        _gap_kernel("mean_score", "dp_gap_soft"), "score", True, False, False
    ),
    "eodds_gap_sum_soft": KernelSpec(_soft_sum, "score", True, True),
    "eodds_gap_max_soft": KernelSpec(
        _max_kernel("mean_score_pos", "mean_score_neg", "eodds_gap_max_soft"), "score", True, True
    ),
    "eopp_gap_soft": KernelSpec(
        _gap_kernel("mean_score_pos", "eopp_gap_soft"), "score", True, True
    ),
    # group gaps on multiclass predictions (class ids), one-vs-rest
    "dp_gap_ovr": KernelSpec(
        _ovr_kernel(("selection_rate",), "dp_gap_ovr"), "label", True, False, multiclass=True
    ),
    "eodds_gap_sum_ovr": KernelSpec(
        _ovr_kernel(("tpr", "fpr"), "eodds_gap_sum_ovr"), "label", True, False, multiclass=True
    ),
}


def _rate_metric(rate_name: str, input_kind: InputKind, binary: bool) -> KernelSpec:
    def kernel(p: Prepared, W: np.ndarray, warn: bool) -> np.ndarray:
        return rate(p, W, rate_name)

    kernel.__name__ = f"_{rate_name}"
    return KernelSpec(kernel, input_kind, False, binary, binary)


#: Plain (non-gap) rates, used per group by GroupMetricFrame.
RATE_KERNELS: dict[str, KernelSpec] = {
    "selection_rate": _rate_metric("selection_rate", "label", False),
    "tpr": _rate_metric("tpr", "label", True),
    "fpr": _rate_metric("fpr", "label", True),
    "fnr": _rate_metric("fnr", "label", True),
    "tnr": _rate_metric("tnr", "label", True),
    "mean_score": _rate_metric("mean_score", "score", False),
}


_LABEL_HINT = (
    "pass hard 0/1 predictions, e.g. (score > 0.5).astype(int), or use the *_soft "
    "metric or evaluate(), which thresholds scores"
)


def prepare(
    specs: Mapping[str, KernelSpec],
    y_true: Any,
    y: Any,
    *,
    y_name: str,
    sensitive_features: Any,
    sample_weight: Any,
    threshold: float | None = None,
    force_groups: bool = False,
    min_groups: int = 2,
    y_pred: Any = None,
) -> tuple[Prepared, np.ndarray]:
    """Validate inputs once for the metrics ``specs``; return them and the weights.

    ``y`` is named ``y_name`` in messages. With ``threshold`` it is a score and
    ``y_pred = 1[y > threshold]`` is derived for label metrics; without, it is
    used as labels if any metric reads labels (and must be 0/1), else as scores.
    ``force_groups`` encodes ``sensitive_features`` even if no metric needs them.
    An explicit ``y_pred`` (0/1 decisions, e.g. from a post-processing rule)
    replaces the thresholded scores for label metrics; score metrics still read ``y``.
    Multiclass metrics (all or none of ``specs``) read ``y`` (or ``y_pred``) and
    ``y_true`` as class ids; with ``threshold`` (any value) ``y`` may be class scores
    ``(n, K)``, read as their argmax.
    """
    names = ", ".join(specs)
    multiclass = {s.multiclass for s in specs.values()}
    if len(multiclass) > 1:
        raise InvalidValueError(
            f"{names} mixes multiclass metrics with binary or regression ones; compute them "
            f"in separate calls."
        )
    needs_y_true = any(s.needs_y_true for s in specs.values())
    yt = None
    if y_true is not None:
        yt = to_1d_float(y_true, "y_true")
    elif needs_y_true:
        raise InvalidValueError(f"y_true is None but {names} needs the true labels.")
    if True in multiclass and threshold is not None:
        y = to_class_ids(y, y_name)
    yy = to_1d_float(y, y_name)
    n = check_same_length(**({"y_true": yt} if yt is not None else {}), **{y_name: yy})
    if yt is not None:
        check_finite(yt, "y_true")
    check_finite(yy, y_name)
    if yt is not None and any(s.needs_binary_y for s in specs.values()):
        check_binary(yt, "y_true", context=names)
    kinds = {s.input for s in specs.values()}
    if True in multiclass:
        pred_name = y_name
        if y_pred is not None:
            yy, pred_name = to_1d_float(y_pred, "y_pred"), "y_pred"
            check_same_length(y_true=yt, y_pred=yy)
            check_finite(yy, "y_pred")
        check_class_ids(yt, "y_true", context=names)
        check_class_ids(yy, pred_name, context=names)
        y_score, y_pred = None, yy
    elif threshold is not None:
        threshold = float(threshold)
        if not np.isfinite(threshold):
            raise InvalidValueError(f"threshold must be a finite number; got {threshold}.")
        if y_pred is None:
            y_pred = (yy > threshold).astype(np.float64)
        else:
            y_pred = to_1d_float(y_pred, "y_pred")
            check_same_length(**{y_name: yy, "y_pred": y_pred})
            check_binary(y_pred, "y_pred", context=names, hint=_LABEL_HINT)
        y_score = yy
    elif "label" in kinds:
        check_binary(yy, y_name, context=names, hint=_LABEL_HINT)
        y_score, y_pred = yy, yy
    else:
        y_score, y_pred = yy, None
    groups = None
    if force_groups or any(s.needs_groups for s in specs.values()):
        groups = encode_groups(sensitive_features, n, min_groups=min_groups)
    w = validate_weights(sample_weight, n)
    return Prepared(y_true=yt, y_pred=y_pred, y_score=y_score, groups=groups), w


def compute_one(
    name: str,
    y_true: Any,
    y: Any,
    *,
    y_name: str,
    sensitive_features: Any,
    sample_weight: Any,
) -> float:
    """Validate and compute one metric of :data:`KERNELS` (warnings on)."""
    spec = KERNELS[name]
    p, w = prepare(
        {name: spec},
        y_true,
        y,
        y_name=y_name,
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )
    return float(spec.kernel(p, w[None, :], True)[0])
