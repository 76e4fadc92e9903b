"""Bootstrap confidence intervals for any registered metric (or a callable).

A bootstrap resample draws ``n`` rows with replacement; drawing row ``i``
``k_i`` times is the same as giving it weight ``k_i`` (times its sample
weight). So registered metrics are computed for a whole chunk of resamples at
once, as one weight matrix ``(B, n)`` through the same kernels as the plain
metrics: no Python loop over resamples. With ``stratify_by_group=True`` each
group is resampled within itself, keeping the group sizes fixed (so every
resample has every group, and group gaps stay defined).

The interval is the percentile interval of the bootstrap distribution
(``numpy.nanquantile``, linear interpolation); ``std`` is its standard
deviation (ddof=1). The ``estimate`` is the metric on the original data, not
the bootstrap mean. Resamples where the metric is undefined (e.g. a group with
no positives for a TPR gap) are dropped with a warning.

Gap metrics are ``max - min`` of noisy rates, so their bootstrap distribution
is biased upwards when the true gap is near 0: the percentile interval can
then lie above the estimate. Read small gaps with that in mind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from fairnn.errors import InvalidValueError
from fairnn.metrics._kernels import KERNELS, KernelSpec, Prepared, prepare
from fairnn.metrics._validate import (
    _warn,
    check_finite,
    check_same_length,
    encode_groups,
    to_1d_float,
    validate_weights,
)
from fairnn.metrics.registry import METRICS, Task, resolve_metrics

__all__ = ["CI", "bootstrap_ci", "bootstrap_counts", "evaluate_with_ci"]

#: about this many (resample, row) cells are materialised at once
_CELLS_PER_CHUNK = 2_000_000


class CI(NamedTuple):
    """A point estimate with a bootstrap confidence interval."""

    estimate: float
    low: float
    high: float
    std: float


def _check_params(n_resamples: int, confidence: float) -> None:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer):
        raise InvalidValueError(f"n_resamples must be an integer; got {n_resamples!r}.")
    if n_resamples < 2:
        raise InvalidValueError(f"n_resamples must be at least 2; got {n_resamples}.")
    if not 0 < confidence < 1:
        raise InvalidValueError(
            f"confidence must be strictly between 0 and 1 (e.g. 0.95); got {confidence!r}."
        )


def _strata(codes: np.ndarray | None, n: int, stratify: bool) -> list[np.ndarray]:
    if not stratify or codes is None:
        return [np.arange(n)]
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes))[:-1]
    return [s for s in np.split(order, bounds) if s.size]


def _resample_rows(
    strata: list[np.ndarray], n: int, n_resamples: int, seed: int | None
) -> Iterator[np.ndarray]:
    """Yield ``(b, n)`` arrays of row indices, one row per resample, in chunks."""
    rng = np.random.default_rng(seed)
    chunk = max(1, _CELLS_PER_CHUNK // n)
    for start in range(0, n_resamples, chunk):
        b = min(chunk, n_resamples - start)
        rows = np.empty((b, n), dtype=np.int64)
        col = 0
        for idx in strata:
            m = idx.shape[0]
            rows[:, col : col + m] = idx[rng.integers(0, m, size=(b, m))]
            col += m
        yield rows


def _counts(rows: np.ndarray, n: int) -> np.ndarray:
    b = rows.shape[0]
    flat = (rows + (np.arange(b, dtype=np.int64) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.float64)


def _summarise(name: str, estimate: float, values: np.ndarray, confidence: float) -> CI:
    ok = ~np.isnan(values)
    n_bad = int((~ok).sum())
    if n_bad:
        _warn(
            f"{name}: {n_bad} of {values.shape[0]} bootstrap resamples gave an undefined "
            f"value (e.g. a group without rows in a y_true cell) and were dropped."
        )
    if ok.sum() < 2:
        return CI(float(estimate), float("nan"), float("nan"), float("nan"))
    v = values[ok]
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(v, [alpha, 1.0 - alpha])
    return CI(float(estimate), float(low), float(high), float(np.std(v, ddof=1)))


def _bootstrap_kernels(
    specs: dict[str, KernelSpec],
    p: Prepared,
    w: np.ndarray,
    *,
    n_resamples: int,
    confidence: float,
    seed: int | None,
    stratify_by_group: bool,
) -> dict[str, CI]:
    n = w.shape[0]
    codes = None if p.groups is None else p.groups.codes
    strata = _strata(codes, n, stratify_by_group)
    estimates = {k: float(s.kernel(p, w[None, :], True)[0]) for k, s in specs.items()}
    out = {k: np.empty(n_resamples) for k in specs}
    start = 0
    for rows in _resample_rows(strata, n, n_resamples, seed):
        W = _counts(rows, n) * w[None, :]
        b = rows.shape[0]
        for k, s in specs.items():
            out[k][start : start + b] = s.kernel(p, W, False)
        start += b
    return {k: _summarise(k, estimates[k], out[k], confidence) for k in specs}


def _sf_table(sensitive_features: Any, n: int) -> tuple[Any, np.ndarray]:
    """Sensitive features as a resample-able object (1-D array or DataFrame) and group ids."""
    g = encode_groups(sensitive_features, n, min_groups=1)
    if len(g.names) == 1:
        labels = np.empty(g.n_groups, dtype=object)
        labels[:] = g.labels
        return labels[g.codes], g.codes
    cols = {}
    for j, name in enumerate(g.names):
        col = np.empty(g.n_groups, dtype=object)
        col[:] = [lab[j] for lab in g.labels]
        cols[name] = col[g.codes]
    return pd.DataFrame(cols), g.codes


def _bootstrap_callable(
    fn: Callable[..., float],
    y_true: Any,
    y_score: Any,
    *,
    sensitive_features: Any,
    sample_weight: Any,
    n_resamples: int,
    confidence: float,
    seed: int | None,
    stratify_by_group: bool,
) -> CI:
    ys = to_1d_float(y_score, "y_score")
    check_finite(ys, "y_score")
    yt = None
    if y_true is not None:
        yt = to_1d_float(y_true, "y_true")
        check_same_length(y_true=yt, y_score=ys)
        check_finite(yt, "y_true")
    n = ys.shape[0]
    sf, codes = (None, None)
    if sensitive_features is not None:
        sf, codes = _sf_table(sensitive_features, n)
    w = None if sample_weight is None else validate_weights(sample_weight, n)

    def call(rows: np.ndarray | None) -> float:
        def take(a: Any) -> Any:
            if a is None or rows is None:
                return a
            return a.iloc[rows].reset_index(drop=True) if isinstance(a, pd.DataFrame) else a[rows]

        return float(fn(take(yt), take(ys), sensitive_features=take(sf), sample_weight=take(w)))

    estimate = call(None)
    values = np.empty(n_resamples)
    i = 0
    for rows in _resample_rows(_strata(codes, n, stratify_by_group), n, n_resamples, seed):
        for r in rows:
            values[i] = call(r)
            i += 1
    name = getattr(fn, "__name__", "metric")
    return _summarise(name, estimate, values, confidence)


def bootstrap_ci(
    metric_name_or_fn: str | Callable[..., float],
    y_true: Any,
    y_score: Any,
    *,
    sensitive_features: Any,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
    stratify_by_group: bool = True,
    sample_weight: Any = None,
    threshold: float = 0.5,
) -> CI:
    """Percentile bootstrap confidence interval of one metric.

    ``metric_name_or_fn`` is a registry name (label metrics threshold
    ``y_score`` at ``1[y_score > threshold]``, as :func:`evaluate`; hard 0/1
    predictions pass through unchanged) or a callable
    ``fn(y_true, y_score, *, sensitive_features, sample_weight) -> float``,
    which is called once per resample (slow path; it receives numpy arrays,
    and the sensitive features as a 1-D object array or a DataFrame).

    ``sensitive_features`` may be None for metrics that do not need groups
    (then no stratification). Deterministic for a given ``seed``.
    Returns ``CI(estimate, low, high, std)``.
    """
    _check_params(n_resamples, confidence)
    if callable(metric_name_or_fn) and not isinstance(metric_name_or_fn, str):
        return _bootstrap_callable(
            metric_name_or_fn,
            y_true,
            y_score,
            sensitive_features=sensitive_features,
            sample_weight=sample_weight,
            n_resamples=n_resamples,
            confidence=confidence,
            seed=seed,
            stratify_by_group=stratify_by_group,
        )
    name = metric_name_or_fn
    if name not in METRICS:
        raise InvalidValueError(
            f"unknown metric {name!r} in metric_name_or_fn; available: {sorted(METRICS)}, "
            f"or pass a callable."
        )
    specs = {name: KERNELS[name]}
    p, w = prepare(
        specs,
        y_true,
        y_score,
        y_name="y_score",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
        threshold=threshold,
        force_groups=sensitive_features is not None,
        min_groups=2 if KERNELS[name].needs_groups else 1,
    )
    return _bootstrap_kernels(
        specs,
        p,
        w,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
        stratify_by_group=stratify_by_group,
    )[name]


def evaluate_with_ci(
    y_true: Any,
    y_score: Any,
    *,
    sensitive_features: Any,
    threshold: float = 0.5,
    metrics: str | Iterable[str] | None = None,
    sample_weight: Any = None,
    task: Task = "binary",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
    stratify_by_group: bool = True,
    y_pred: Any = None,
) -> dict[str, CI]:
    """:func:`evaluate` with a bootstrap CI per metric, all from the same resamples.

    Same arguments and defaults as :func:`evaluate` plus the bootstrap ones of
    :func:`bootstrap_ci`. Returns ``{name: CI}``; ``CI.estimate`` equals
    ``evaluate(...)[name]``. ``y_pred``, the final 0/1 decisions (e.g. of a reject-option
    rule or per-group thresholds), replaces the thresholded scores for the label metrics,
    as in :func:`evaluate`: each resample then keeps every row's own decision, so the
    intervals are those of the decisions, not of the scores before the rule.
    """
    _check_params(n_resamples, confidence)
    names = resolve_metrics(metrics, task)
    specs = {n: KERNELS[n] for n in names}
    needs_groups = any(s.needs_groups for s in specs.values())
    p, w = prepare(
        specs,
        y_true,
        y_score,
        y_name="y_score",
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
        threshold=threshold if task != "regression" else None,
        force_groups=sensitive_features is not None,
        min_groups=2 if needs_groups else 1,
        y_pred=y_pred if task != "regression" else None,
    )
    return _bootstrap_kernels(
        specs,
        p,
        w,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
        stratify_by_group=stratify_by_group,
    )


def bootstrap_counts(
    metrics: Iterable[str],
    y_true: Any,
    y_score: Any,
    *,
    sensitive_features: Any,
    counts: Any,
    y_pred: Any = None,
    threshold: float = 0.5,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> dict[str, tuple[CI, np.ndarray]]:
    """Bootstrap intervals from aggregated rows: row ``i`` stands for ``counts[i]`` identical rows.

    Resampling the original rows with replacement, within each group, is drawing the
    number of copies of each distinct row from a multinomial over that group's rows;
    so this gives the same distribution as :func:`evaluate_with_ci` on the expanded
    rows, without expanding them (what a streamed log keeps per window). Returns
    ``{name: (CI, draws)}``; ``draws`` (length ``n_resamples``, NaN where undefined)
    lets callers compare two independent samples.
    """
    _check_params(n_resamples, confidence)
    names = list(dict.fromkeys([metrics] if isinstance(metrics, str) else metrics))
    unknown = [m for m in names if m not in METRICS]
    if unknown:
        raise InvalidValueError(f"unknown metric(s) {unknown}; available: {sorted(METRICS)}")
    c = np.asarray(counts, dtype=np.float64)
    specs = {n: KERNELS[n] for n in names}
    p, _ = prepare(
        specs,
        y_true,
        y_score,
        y_name="y_score",
        sensitive_features=sensitive_features,
        sample_weight=c,
        threshold=threshold,
        y_pred=y_pred,
        force_groups=True,
        min_groups=1,
    )
    codes = p.groups.codes  # type: ignore[union-attr]
    rng = np.random.default_rng(seed)
    W = np.zeros((n_resamples, c.shape[0]))
    for g in np.unique(codes):
        idx = np.flatnonzero(codes == g)
        total = int(round(c[idx].sum()))
        if total > 0:
            W[:, idx] = rng.multinomial(total, c[idx] / c[idx].sum(), size=n_resamples)
    out: dict[str, tuple[CI, np.ndarray]] = {}
    for name, spec in specs.items():
        estimate = float(spec.kernel(p, c[None, :], True)[0])
        draws = np.asarray(spec.kernel(p, W, False), dtype=np.float64)
        out[name] = (_summarise(name, estimate, draws, confidence), draws)
    return out
