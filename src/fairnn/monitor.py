"""Fairness monitoring of a deployed model from its prediction log.

A log has one row per prediction: a timestamp, the model's score, the group and,
when it is known, the true label (empty otherwise). :func:`monitor` cuts it into
windows (``"7d"``: calendar spans of that length from midnight of the earliest row's
day; ``"5000"`` or an int: that many rows each, in time order, ties together; the order
of the rows in the log does not matter), reports every metric per window with a
bootstrap interval, and flags windows where a gap

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
to ``1 / score_bins``. Scores are summed in fixed point (two int64 words, 2**-64 apart),
so a shuffled copy of a log gives exactly the same report as the sorted one.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fairnn.errors import (
    ColumnError,
    ConfigError,
    DataNotFoundError,
    DatasetError,
    InvalidValueError,
)
from fairnn.metrics.bootstrap import bootstrap_counts
from fairnn.metrics.registry import METRICS
from fairnn.validation import check_number

#: the metrics a log is monitored for, in report order
MONITORED = (
    "dp_gap",
    "dp_ratio",
    "dp_gap_soft",
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
#: metrics that read only predictions (every row counts)
UNLABELLED_METRICS = tuple(m for m in MONITORED if not METRICS[m].needs_label)
#: metrics that need the true label (labelled rows only)
LABELLED_METRICS = tuple(m for m in MONITORED if METRICS[m].needs_label)
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
    if isinstance(window, bool):
        raise ConfigError(f"--window must be a time span (7d) or a row count (5000), got {window}")
    if isinstance(window, int | np.integer) or (
        isinstance(window, str) and window.strip().isdigit()
    ):
        n = int(window)
        if n < 1:
            raise ConfigError(f"--window must be at least 1 row, got {n}")
        return n
    text = str(window).strip()
    if text[-1:] in ("d", "w"):  # pandas deprecates the lower-case day/week units
        text = text[:-1] + text[-1].upper()
    try:
        span = pd.Timedelta(text)
    except (ValueError, OverflowError):
        span = pd.NaT
    if pd.isna(span):  # "", "nan" parse to NaT
        raise ConfigError(
            f"--window {window!r} is neither a time span (7d, 12h, 2w) nor a row count (5000)"
        )
    if span <= pd.Timedelta(0):
        raise ConfigError(f"--window must be a positive span, got {window!r}")
    return span


def _chunks(
    log: str | os.PathLike[str] | pd.DataFrame, columns: list[str], size: int, group: str
) -> Iterator[pd.DataFrame]:
    """The log's ``columns`` in chunks of ``size`` rows; unreadable files raise DatasetError."""
    if isinstance(log, pd.DataFrame):
        _check_columns(log.columns, columns, "the DataFrame")
        for start in range(0, len(log), size):
            yield log.iloc[start : start + size]
        return
    p = Path(log)
    if p.is_dir():
        raise DataNotFoundError(f"the prediction log {p} is a folder; pass a CSV or parquet file")
    if not p.is_file():
        raise DataNotFoundError(f"no prediction log at {p}")
    with p.open("rb") as f:
        start = f.read(4096)
    magic = start[:4]
    if not magic:
        raise DatasetError(
            f"the prediction log {p} is empty; it needs a header row ({', '.join(columns)}) "
            "and one row per prediction"
        )
    if p.suffix.lower() in (".parquet", ".pq") or magic == b"PAR1":
        yield from _parquet_chunks(p, columns, size)
        return
    if b"\x00" in start:  # no text file holds a NUL byte
        raise _not_csv(p, "it holds binary data")
    try:
        head = pd.read_csv(p, nrows=0)
        _check_columns(head.columns, columns, str(p))
        yield from pd.read_csv(p, usecols=columns, chunksize=size, dtype={group: str})
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise _not_csv(p, (str(e).strip().splitlines() or [type(e).__name__])[0]) from None


def _not_csv(p: Path, reason: str) -> DatasetError:
    return DatasetError(
        f"the prediction log {p} is not a CSV file (UTF-8 text, a header row, one row per "
        f"prediction) nor parquet: {reason}. Write it with DataFrame.to_csv or to_parquet"
    )


def _parquet_chunks(p: Path, columns: list[str], size: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(p)
        _check_columns(pf.schema_arrow.names, columns, str(p))
        for batch in pf.iter_batches(batch_size=size, columns=columns):
            yield batch.to_pandas()
    except (pa.ArrowException, OSError) as e:
        raise DatasetError(
            f"the prediction log {p} is not a readable parquet file: {str(e).rstrip('.')}. "
            "Write it with DataFrame.to_parquet, or give a CSV file"
        ) from None


def _check_columns(have: Any, need: list[str], where: str) -> None:
    have = list(have)
    missing = [c for c in need if c not in set(have)]
    if missing:
        raise ColumnError(
            f"{where} has no column(s) {missing}; its columns are {have[:20]}. Name them "
            "with --timestamp-col/--score-col/--group-col/--label-col (timestamp=, score=, ...)"
        )
    twice = sorted({c for c in need if have.count(c) > 1})
    if twice:
        raise ColumnError(f"{where} has column(s) {twice} more than once; rename the copies")


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

    ``threshold`` is the decision threshold on the score (a score above it is a positive
    decision), in (0, 1); ``gap_threshold`` is the alarm level of the gaps, one number or
    one per gap. ``label=None`` reports the selection-rate metrics only. ``reference`` is
    the index of the reference window among those in the log (0: the first).
    """
    span = parse_window(window)
    check_number(
        threshold,
        "--threshold",
        gt=0,
        lt=1,
        hint="the decision threshold on the score; the gap alarm level is --gap-threshold",
    )
    check_number(n_resamples, "--bootstrap (n_resamples)", integer=True, ge=2)
    check_number(chunksize, "--chunksize", integer=True, ge=1)
    check_number(seed, "--seed", integer=True, ge=0)
    check_number(reference, "--reference", integer=True, ge=0)
    check_number(score_bins, "score_bins", integer=True, ge=1, le=10**9)
    check_number(confidence, "confidence", gt=0, lt=1, hint="e.g. 0.95")
    check_number(shift_confidence, "shift_confidence", gt=0, lt=1, hint="e.g. 0.99")
    names = _metric_names(metrics, label)
    thresholds = _gap_thresholds(gap_threshold, names)
    roles = (timestamp, score, group, label)
    table, origin = _scan(log, roles, span, threshold, score_bins, chunksize, None, progress)
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
            "time": origin is not None,
            "window": str(window),
            "origin": None if origin is None else str(origin),
        },
    )


def _metric_names(metrics: Sequence[str] | str | None, label: str | None) -> list[str]:
    allowed = [*UNLABELLED_METRICS, *LABELLED_METRICS]
    names = allowed if metrics is None else [metrics] if isinstance(metrics, str) else [*metrics]
    unknown = [m for m in names if m not in allowed]
    if unknown or not names:
        raise ConfigError(
            f"metric(s) {unknown or names} cannot be monitored; choose from {allowed}"
        )
    if label is None:
        names = [m for m in names if m in UNLABELLED_METRICS]
        if not names:
            raise ConfigError(
                f"metric(s) {list(metrics or [])} need labels, but label=None (--label-col "
                f"none); name the label column or choose from {list(UNLABELLED_METRICS)}"
            )
    return names


def _gap_thresholds(gap_threshold: float | dict[str, float], names: list[str]) -> dict[str, float]:
    """One alarm level per gap, each a number a gap can exceed: [0, 2) for gap sums, else [0, 1)."""
    if isinstance(gap_threshold, dict):
        levels = dict(gap_threshold)
        unknown = [m for m in levels if m not in GAPS]
        if unknown:
            raise ConfigError(
                f"--gap-threshold names {unknown}, which are not gaps; choose from {list(GAPS)}"
            )
    else:
        levels = {m: gap_threshold for m in names if m in GAPS}
    for m, level in levels.items():
        top = 2.0 if m.startswith("eodds_gap_sum") else 1.0
        hint = f"{m} is at most {top:g}, so a higher level never flags"
        check_number(level, f"--gap-threshold for {m}", ge=0, lt=top, hint=hint)
    return {m: float(v) for m, v in levels.items()}


def _scan(
    log: str | os.PathLike[str] | pd.DataFrame, roles: tuple[str, str, str, str | None],
    span: pd.Timedelta | int, threshold: float, score_bins: int, chunksize: int,
    origin: pd.Timestamp | None, progress: bool, order: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.Timestamp | None]:  # fmt: skip
    """Stream the log into counts per (window, group, label, decision, score bin).

    Time windows start at midnight of the earliest row's day: ``origin=None`` takes the
    first row's day and scans again if an earlier row turns up. Row windows hold rows by
    time rank (the rank of the first row with the same time, so ties stay together):
    counted as the rows stream while the log is sorted, else from ``order``, every row's
    time sorted, read in a first pass. Returns the table and the origin (None for rows).
    """
    timestamp, score, group, label = roles
    cols = [c for c in roles if c is not None]
    time_windows = not isinstance(span, int)
    offset, zone = 0, None
    earliest: pd.Timestamp | None = None
    last: tuple[int, int] | None = None  # (time, rank of its first row) of the last row
    parts: list[pd.DataFrame] = []
    bar = tqdm(desc="monitor", unit="rows", disable=not (progress and sys.stderr.isatty()))
    for chunk in _chunks(log, cols, chunksize, group):
        n = len(chunk)
        if n == 0:
            continue
        ts = _timestamps(chunk[timestamp], timestamp, offset)
        if zone is None:
            zone = str(ts.dt.tz)
        elif str(ts.dt.tz) != zone:
            raise InvalidValueError(
                f"timestamp column {timestamp!r} mixes time zones ({zone} and {ts.dt.tz}, "
                "None: no zone); write every time in one zone, e.g. UTC"
            )
        sc = _scores(chunk[score], score, offset)
        empty = chunk[group].isna().to_numpy()
        if empty.any():
            raise InvalidValueError(
                f"group column {group!r} is empty at row {offset + int(np.argmax(empty))}; "
                "every prediction needs its group"
            )
        earliest = ts.min() if earliest is None else min(earliest, ts.min())
        if time_windows:
            origin = ts.iloc[0].normalize() if origin is None else origin
            wid = ((ts - origin) // span).to_numpy(dtype=np.int64)
        else:
            key = ts.dt.as_unit("ns").array.asi8
            if order is None:
                rank = _stream_ranks(key, offset, last)
                if rank is None:  # out of order: rank every row by time first
                    bar.close()
                    order = _sorted_times(log, roles, chunksize)
                    return _scan(
                        log, roles, span, threshold, score_bins, chunksize, None, progress, order
                    )
                last = (int(key[-1]), int(rank[-1]))
            else:
                rank = np.searchsorted(order, key, side="left")
            wid = rank // int(span)  # type: ignore[arg-type]
        lab = _labels(chunk[label], label) if label is not None else np.full(n, UNKNOWN)
        hi, lo = _fixed_point(sc)
        cells = pd.DataFrame(
            {
                "window": wid,
                "group": chunk[group].astype(str).to_numpy(),
                "label": lab,
                "pred": (sc > threshold).astype(np.int64),
                "bin": np.minimum((sc * score_bins).astype(np.int64), score_bins - 1),
                "count": 1,
                "score_hi": hi,
                "score_lo": lo,
                "t_min": ts.array,
                "t_max": ts.array,
            }
        )
        parts.append(_aggregate(cells))
        if len(parts) > 8:
            parts = [_aggregate(pd.concat(parts))]
        offset += n
        bar.update(n)
    bar.close()
    if not parts:
        where = "the DataFrame" if isinstance(log, pd.DataFrame) else f"the prediction log {log}"
        raise InvalidValueError(f"{where} has no rows; monitoring needs one row per prediction")
    if time_windows and earliest is not None and earliest.normalize() != origin:  # earlier day
        origin = earliest.normalize()
        return _scan(log, roles, span, threshold, score_bins, chunksize, origin, progress)
    table = _aggregate(pd.concat(parts))
    if table["group"].nunique() < 2:
        raise InvalidValueError(
            f"the log has one group only ({table['group'].iloc[0]!r}) in column {group!r}; "
            "fairness needs at least two"
        )
    return table, origin


def _timestamps(raw: pd.Series, name: str, offset: int) -> pd.Series:
    """The column as datetimes; empty cells, numbers and text that is no date are refused."""
    empty = raw.isna().to_numpy()
    if empty.any():
        raise InvalidValueError(
            f"timestamp column {name!r} is empty at row {offset + int(np.argmax(empty))}; "
            "every prediction needs its time"
        )
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        raise InvalidValueError(
            f"timestamp column {name!r} holds numbers ({_shown(raw.iloc[0])}, ...), not "
            "dates/times; write times as ISO 8601 (2024-03-04 12:00:00) or convert epoch "
            "seconds with pd.to_datetime(column, unit='s')"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "could not infer format": parsed one by one
            ts = _parse_times(raw, name)
    except InvalidValueError:
        raise
    except (ValueError, TypeError, OverflowError) as e:
        raise InvalidValueError(
            f"timestamp column {name!r} cannot be read as dates/times: "
            f"{str(e).splitlines()[0]}; write every time as ISO 8601 in one zone"
        ) from None
    bad = ts.isna().to_numpy()
    if bad.any() or not pd.api.types.is_datetime64_any_dtype(ts):
        i = int(np.argmax(bad))
        raise InvalidValueError(
            f"timestamp column {name!r} has {_shown(raw.iloc[i])} at row {offset + i}, which is "
            "not a date/time; write every time as ISO 8601 (2024-03-04 12:00:00)"
        )
    # times written with UTC offsets (which change with daylight saving) are instants: UTC
    return ts if ts.dt.tz is None else ts.dt.tz_convert("UTC")


def _parse_times(raw: pd.Series, name: str) -> pd.Series:
    """ISO 8601 first (no format guessing, so no dependence on the first row), then pandas'."""
    try:
        ts = pd.to_datetime(raw, errors="coerce", format="ISO8601")
    except ValueError:  # offsets that differ, e.g. +01:00 and +02:00 across a DST change
        offset = raw.astype(str).str.contains(r"(?:Z|[+-]\d\d:?\d\d)\s*$").to_numpy()
        if not offset.all():
            raise InvalidValueError(
                f"timestamp column {name!r} mixes times with a UTC offset "
                f"({_shown(raw.iloc[int(np.argmax(offset))])}) and without one "
                f"({_shown(raw.iloc[int(np.argmin(offset))])}); give every time an offset, "
                "or none"
            ) from None
        ts = pd.to_datetime(raw, errors="coerce", format="ISO8601", utc=True)
    if ts.isna().any():  # not ISO 8601: the format pandas infers from the first value
        ts = pd.to_datetime(raw, errors="coerce")
    return ts


def _scores(raw: pd.Series, name: str, offset: int) -> np.ndarray:
    sc = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~((sc >= 0) & (sc <= 1))  # NaN compares False
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidValueError(
            f"score column {name!r} must hold probabilities in [0, 1] with no gaps; row "
            f"{offset + i} has {_shown(raw.iloc[i])}"
        )
    return sc


def _stream_ranks(key: np.ndarray, offset: int, last: tuple[int, int] | None) -> np.ndarray | None:
    """Time ranks of a chunk of a sorted log (rows ``offset...``), or None if out of order."""
    if (np.diff(key) < 0).any() or (last is not None and key[0] < last[0]):
        return None
    rank = offset + np.searchsorted(key, key, side="left")
    if last is not None:
        rank[key == last[0]] = last[1]
    return rank


def _sorted_times(
    log: str | os.PathLike[str] | pd.DataFrame, roles: tuple[str, str, str, str | None],
    chunksize: int,
) -> np.ndarray:  # fmt: skip
    """Every row's time (int64 ns, sorted): 8 bytes a row, for row windows of unsorted logs."""
    timestamp, group = roles[0], roles[2]
    keys, offset = [], 0
    for chunk in _chunks(log, [timestamp], chunksize, group):
        keys.append(_timestamps(chunk[timestamp], timestamp, offset).dt.as_unit("ns").array.asi8)
        offset += len(chunk)
    return np.sort(np.concatenate(keys))


def _shown(value: Any) -> str:
    """A cell for a message: ``0.3``, ``'high'``, or "an empty cell"."""
    if pd.isna(value):
        return "an empty cell"
    return repr(value.item() if isinstance(value, np.generic) else value)


_FIX = 2.0**32


def _fixed_point(sc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores as two int64 words, score = (hi + lo / 2**32) / 2**32, so sums are exact and
    do not depend on the order of the rows."""
    scaled = sc * _FIX
    hi = np.floor(scaled)
    lo = np.rint((scaled - hi) * _FIX)
    return hi.astype(np.int64), lo.astype(np.int64)


def _mean_score(cells: pd.DataFrame) -> np.ndarray:
    hi = cells["score_hi"].to_numpy(dtype=np.float64)
    lo = cells["score_lo"].to_numpy(dtype=np.float64)
    return (hi + lo / _FIX) / _FIX / cells["count"].to_numpy()


def _aggregate(cells: pd.DataFrame) -> pd.DataFrame:
    return cells.groupby(["window", "group", "label", "pred", "bin"], as_index=False).agg(
        count=("count", "sum"),
        score_hi=("score_hi", "sum"),
        score_lo=("score_lo", "sum"),
        t_min=("t_min", "min"),
        t_max=("t_max", "max"),
    )


def _window_metrics(
    cells: pd.DataFrame, names: list[str], labelled: bool, n_resamples: int, confidence: float,
    threshold: float, seed: int,
) -> dict[str, tuple[Any, np.ndarray]]:  # fmt: skip
    wanted = [m for m in names if METRICS[m].needs_label == labelled]
    rows = cells[cells["label"] != UNKNOWN] if labelled else cells
    if not wanted or rows.empty or rows["group"].nunique() < 2:
        return {}
    usable = list(wanted)
    if labelled and rows["label"].nunique() < 2:  # AUC/AP and rates need both labels
        return {}
    y = rows["label"].to_numpy(dtype=float) if labelled else np.zeros(len(rows))
    mean_score = _mean_score(rows)
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
        raise ConfigError(
            f"--reference {reference} is not a window of this log; choose one of "
            f"0..{len(windows) - 1}"
        )
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
