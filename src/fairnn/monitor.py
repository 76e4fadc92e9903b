"""Fairness monitoring of a deployed model from its prediction log.

A log has one row per prediction: a timestamp, the model's score, the group and,
when it is known, the true label (empty otherwise). :func:`monitor` cuts it into
windows (``"7d"``: calendar spans of that length from midnight of the first row's
day; ``"5000"`` or an int: that many rows each, in log order), reports every metric
per window with a bootstrap interval, and flags windows where a gap

* **crosses a threshold**: the window's estimate is above ``gap_threshold``; or
* **moves significantly from a reference window** (the first, by default): the
  ``shift_confidence`` interval of the difference (window minus reference, from
  independent bootstrap resamples of the two) excludes 0.

Label metrics (accuracy, TPR/FPR gaps, AUC, ...) read the labelled rows only;
selection-rate metrics (``dp_gap``, ``dp_ratio``, ``dp_gap_soft``) read every row.

Large logs stream: CSV through ``pandas.read_csv(chunksize=...)``, parquet through
``pyarrow`` record batches; a DataFrame is cut into chunks the same way. What a
window keeps is a count per (group, label, decision, score bin): decisions are taken
on the exact score, so label metrics and gaps are exact and their bootstrap equals
the row bootstrap (:func:`fairnn.metrics.bootstrap.bootstrap_counts`); each bin keeps
its mean score, so mean-score metrics are exact too; AUC and AP see scores rounded
to ``1 / score_bins``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fairnn.errors import ColumnError, ConfigError, DataNotFoundError, InvalidValueError
from fairnn.metrics.bootstrap import bootstrap_counts
from fairnn.metrics.registry import METRICS

#: metrics that read only predictions (every row counts)
UNLABELLED_METRICS = ("dp_gap", "dp_ratio", "dp_gap_soft")
#: metrics that need the true label (labelled rows only)
LABELLED_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "auc",
    "ap",
    "eodds_gap_sum",
    "eodds_gap_max",
    "eopp_gap",
    "fnr_gap",
    "fpr_gap",
    "eodds_gap_sum_soft",
)
GAPS = tuple(
    m
    for m in (*UNLABELLED_METRICS, *LABELLED_METRICS)
    if METRICS[m].is_group_metric and not METRICS[m].higher_is_better
)
UNKNOWN = 2  # label code of a row without a label


@dataclass
class MonitorReport:
    """``windows``: one row per window (``window``, ``start``, ``end``, ``rows``,
    ``labelled``, then per metric ``m``, ``m_low``, ``m_high``); ``flags``: one row per
    flag (``window``, ``metric``, ``kind`` = threshold | shift, ``value``, ``reference``,
    ``low``, ``high``)."""

    windows: pd.DataFrame
    flags: pd.DataFrame
    metrics: list[str]
    gap_threshold: dict[str, float]
    reference: int
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged_windows(self) -> list[int]:
        return sorted(set(self.flags["window"].tolist()))

    def to_markdown(self, metrics: Sequence[str] | None = None, digits: int = 3) -> str:
        cols = [m for m in (metrics or self.metrics[:4]) if m in self.windows]
        head = ["window", "start", "rows", "labelled", *cols, "flags"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for _, r in self.windows.iterrows():
            w = int(r["window"])
            cells = [str(w), str(r["start"]), str(int(r["rows"])), str(int(r["labelled"]))]
            for m in cols:
                v, lo, hi = r[m], r[f"{m}_low"], r[f"{m}_high"]
                cells.append(
                    "NaN" if pd.isna(v) else f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
                )
            f = self.flags[self.flags["window"] == w]
            cells.append(", ".join(f"{k}:{m}" for m, k in zip(f["metric"], f["kind"], strict=True)))
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def plot(self, path: str | os.PathLike[str], metrics: Sequence[str] | None = None) -> Path:
        """Each gap over time with its interval band, the threshold and flagged windows."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        gaps = [m for m in (metrics or self.metrics) if m in GAPS and m in self.windows]
        fig, axes = plt.subplots(len(gaps), 1, figsize=(8, 2.4 * len(gaps)), squeeze=False)
        x = self.windows["start"] if self.options.get("time") else self.windows["window"]
        for ax, m in zip(axes[:, 0], gaps, strict=True):
            ax.plot(x, self.windows[m], marker="o", color="C0", label=m)
            ax.fill_between(
                x, self.windows[f"{m}_low"], self.windows[f"{m}_high"], color="C0", alpha=0.2
            )
            if m in self.gap_threshold:
                ax.axhline(self.gap_threshold[m], color="C3", ls="--", lw=1, label="threshold")
            hit = self.windows["window"].isin(self.flags.loc[self.flags["metric"] == m, "window"])
            ax.scatter(x[hit], self.windows.loc[hit, m], color="C3", zorder=3, s=60, label="flag")
            ax.set_ylabel(m)
            ax.legend(loc="upper left", fontsize=7)
        axes[-1, 0].set_xlabel("window start" if self.options.get("time") else "window")
        fig.autofmt_xdate()
        fig.tight_layout()
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=110)
        plt.close(fig)
        return out


def parse_window(window: str | int) -> pd.Timedelta | int:
    """``"7d"``, ``"12h"``, ``"2w"`` → a time span; ``"5000"`` or 5000 → rows per window."""
    if isinstance(window, int) or (isinstance(window, str) and window.strip().isdigit()):
        n = int(window)
        if n < 1:
            raise ConfigError(f"--window must be at least 1 row, got {n}")
        return n
    text = str(window).strip()
    if text[-1:] in ("d", "w"):  # pandas deprecates the lower-case day/week units
        text = text[:-1] + text[-1].upper()
    try:
        span = pd.Timedelta(text)
    except ValueError:
        raise ConfigError(
            f"--window {window!r} is neither a time span (7d, 12h, 2w) nor a row count (5000)"
        ) from None
    if span <= pd.Timedelta(0):
        raise ConfigError(f"--window must be a positive span, got {window!r}")
    return span


def _chunks(
    log: str | os.PathLike[str] | pd.DataFrame, columns: list[str], size: int
) -> Iterator[pd.DataFrame]:
    if isinstance(log, pd.DataFrame):
        _check_columns(log.columns, columns, "the DataFrame")
        for start in range(0, len(log), size):
            yield log.iloc[start : start + size]
        return
    p = Path(log)
    if not p.is_file():
        raise DataNotFoundError(f"no prediction log at {p}")
    if p.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(p)
        _check_columns(pf.schema_arrow.names, columns, str(p))
        for batch in pf.iter_batches(batch_size=size, columns=columns):
            yield batch.to_pandas()
        return
    head = pd.read_csv(p, nrows=0)
    _check_columns(head.columns, columns, str(p))
    yield from pd.read_csv(p, usecols=columns, chunksize=size)


def _check_columns(have: Any, need: list[str], where: str) -> None:
    missing = [c for c in need if c not in set(have)]
    if missing:
        raise ColumnError(
            f"{where} has no column(s) {missing}; its columns are {list(have)[:20]}. Name them "
            "with --timestamp-col/--score-col/--group-col/--label-col (timestamp=, score=, ...)"
        )


def _labels(raw: pd.Series, name: str) -> np.ndarray:
    known = raw.notna().to_numpy()
    out = np.full(len(raw), UNKNOWN, dtype=np.int64)
    vals = pd.to_numeric(raw[known].astype(object).replace({True: 1, False: 0}), errors="coerce")
    ok = vals.isin([0, 1]).to_numpy()
    if not ok.all():
        bad = raw[known][~ok].unique().tolist()[:5]
        raise InvalidValueError(
            f"label column {name!r} must be 0/1 (or empty while unknown); found {bad}"
        )
    out[known] = vals.to_numpy().astype(np.int64)
    return out


def monitor(
    log: str | os.PathLike[str] | pd.DataFrame,
    window: str | int = "7d",
    *,
    timestamp: str = "timestamp",
    score: str = "score",
    group: str = "group",
    label: str | None = "label",
    threshold: float = 0.5,
    metrics: Sequence[str] | None = None,
    gap_threshold: float | dict[str, float] = 0.1,
    reference: int = 0,
    n_resamples: int = 200,
    confidence: float = 0.95,
    shift_confidence: float = 0.99,
    score_bins: int = 1000,
    chunksize: int = 100_000,
    seed: int = 0,
    progress: bool = True,
) -> MonitorReport:
    """Per-window metrics, intervals and flags for a prediction log (module docstring).

    ``label=None`` (or a log without the column... name it anyway when present)
    reports the selection-rate metrics only. ``reference`` is the index of the
    reference window among those in the log (0: the first).
    """
    span = parse_window(window)
    names = list(metrics) if metrics is not None else [*UNLABELLED_METRICS, *LABELLED_METRICS]
    unknown = [m for m in names if m not in (*UNLABELLED_METRICS, *LABELLED_METRICS)]
    if unknown:
        raise ConfigError(
            f"metric(s) {unknown} cannot be monitored; choose from "
            f"{[*UNLABELLED_METRICS, *LABELLED_METRICS]}"
        )
    if label is None:
        names = [m for m in names if m in UNLABELLED_METRICS]
    thresholds = (
        dict(gap_threshold)
        if isinstance(gap_threshold, dict)
        else {m: float(gap_threshold) for m in names if m in GAPS}
    )
    cols = [timestamp, score, group] + ([label] if label is not None else [])
    time_windows = not isinstance(span, int)
    origin: pd.Timestamp | None = None
    offset = 0
    parts: list[pd.DataFrame] = []
    bar = tqdm(desc="monitor", unit="rows", disable=not (progress and sys.stderr.isatty()))
    for chunk in _chunks(log, cols, int(chunksize)):
        n = len(chunk)
        try:
            ts = pd.to_datetime(chunk[timestamp])
        except (ValueError, TypeError) as e:
            raise InvalidValueError(
                f"timestamp column {timestamp!r} is not dates/times: {e}"
            ) from None
        sc = pd.to_numeric(chunk[score], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(sc).all() or (sc < 0).any() or (sc > 1).any():
            raise InvalidValueError(
                f"score column {score!r} must hold probabilities in [0, 1] with no gaps"
            )
        if chunk[group].isna().any() or ts.isna().any():
            raise InvalidValueError(f"columns {group!r} and {timestamp!r} may not be empty")
        if time_windows:
            if origin is None:
                origin = ts.iloc[0].normalize()
            wid = np.floor((ts - origin) / span).astype(np.int64).to_numpy()
        else:
            wid = (offset + np.arange(n)) // int(span)  # type: ignore[operator]
        lab = _labels(chunk[label], label) if label is not None else np.full(n, UNKNOWN)
        cells = pd.DataFrame(
            {
                "window": wid,
                "group": chunk[group].astype(str).to_numpy(),
                "label": lab,
                "pred": (sc > threshold).astype(np.int64),
                "bin": np.minimum((sc * score_bins).astype(np.int64), score_bins - 1),
                "count": 1,
                "score_sum": sc,
                "t_min": ts.to_numpy(),
                "t_max": ts.to_numpy(),
            }
        )
        parts.append(_aggregate(cells))
        if len(parts) > 8:
            parts = [_aggregate(pd.concat(parts))]
        offset += n
        bar.update(n)
    bar.close()
    if not parts:
        raise InvalidValueError("the prediction log has no rows")
    table = _aggregate(pd.concat(parts))
    if table["group"].nunique() < 2:
        raise InvalidValueError(
            f"the log has one group only ({table['group'].iloc[0]!r}) in column {group!r}; "
            "fairness needs at least two"
        )
    return _report(
        table,
        names,
        thresholds,
        reference,
        n_resamples,
        confidence,
        shift_confidence,
        threshold,
        seed,
        {
            "time": time_windows,
            "window": str(window),
            "origin": None if origin is None else str(origin),
        },
    )


def _aggregate(cells: pd.DataFrame) -> pd.DataFrame:
    return cells.groupby(["window", "group", "label", "pred", "bin"], as_index=False).agg(
        count=("count", "sum"),
        score_sum=("score_sum", "sum"),
        t_min=("t_min", "min"),
        t_max=("t_max", "max"),
    )


def _window_metrics(
    cells: pd.DataFrame, names: list[str], labelled: bool, n_resamples: int, confidence: float,
    threshold: float, seed: int,
) -> dict[str, tuple[Any, np.ndarray]]:  # fmt: skip
    wanted = [m for m in names if (m in LABELLED_METRICS) == labelled]
    rows = cells[cells["label"] != UNKNOWN] if labelled else cells
    if not wanted or rows.empty or rows["group"].nunique() < 2:
        return {}
    usable = list(wanted)
    if labelled and rows["label"].nunique() < 2:  # AUC/AP and rates need both labels
        return {}
    y = rows["label"].to_numpy(dtype=float) if labelled else np.zeros(len(rows))
    mean_score = rows["score_sum"].to_numpy() / rows["count"].to_numpy()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bootstrap_counts(
            usable, y, mean_score, sensitive_features=rows["group"].to_numpy(),
            counts=rows["count"].to_numpy(), y_pred=rows["pred"].to_numpy(dtype=float),
            threshold=threshold, n_resamples=n_resamples, confidence=confidence, seed=seed,
        )  # fmt: skip


def _report(
    table: pd.DataFrame, names: list[str], thresholds: dict[str, float], reference: int,
    n_resamples: int, confidence: float, shift_confidence: float, threshold: float, seed: int,
    options: dict[str, Any],
) -> MonitorReport:  # fmt: skip
    windows = sorted(table["window"].unique().tolist())
    if not 0 <= reference < len(windows):
        raise ConfigError(f"reference window {reference} is not one of 0..{len(windows) - 1}")
    rows, draws = [], {}
    for i, w in enumerate(windows):
        cells = table[table["window"] == w]
        row: dict[str, Any] = {
            "window": i,
            "start": pd.Timestamp(cells["t_min"].min()),
            "end": pd.Timestamp(cells["t_max"].max()),
            "rows": int(cells["count"].sum()),
            "labelled": int(cells.loc[cells["label"] != UNKNOWN, "count"].sum()),
        }
        res: dict[str, tuple[Any, np.ndarray]] = {}
        for labelled in (False, True):
            res.update(
                _window_metrics(
                    cells, names, labelled, n_resamples, confidence, threshold, seed + i
                )
            )
        for m in names:
            ci = res[m][0] if m in res else None
            row[m] = np.nan if ci is None else ci.estimate
            row[f"{m}_low"] = np.nan if ci is None else ci.low
            row[f"{m}_high"] = np.nan if ci is None else ci.high
            draws[(i, m)] = res[m][1] if m in res else None
        rows.append(row)
    frame = pd.DataFrame(rows)
    flags = []
    alpha = (1 - shift_confidence) / 2
    for r in rows:
        i = r["window"]
        for m in names:
            if m not in GAPS or np.isnan(r[m]):
                continue
            if m in thresholds and r[m] > thresholds[m]:
                flags.append(
                    (i, m, "threshold", r[m], thresholds[m], r[f"{m}_low"], r[f"{m}_high"])
                )
            ref = draws.get((reference, m))
            mine = draws.get((i, m))
            if i == reference or ref is None or mine is None:
                continue
            diff = mine - ref
            diff = diff[~np.isnan(diff)]
            if diff.size < 2:
                continue
            lo, hi = np.quantile(diff, [alpha, 1 - alpha])
            if lo > 0 or hi < 0:
                flags.append((i, m, "shift", r[m], rows[reference][m], float(lo), float(hi)))
    flag_frame = pd.DataFrame(
        flags, columns=["window", "metric", "kind", "value", "reference", "low", "high"]
    )
    return MonitorReport(frame, flag_frame, names, thresholds, reference, options)
