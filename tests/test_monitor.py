"""fairnn monitor: per-window metrics with intervals; a gap injected into a generated log is
flagged at the right window, from a streamed CSV, a parquet file and a DataFrame."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from typer.testing import CliRunner

from fairnn.cli import app
from fairnn.errors import ColumnError, ConfigError, InvalidValueError
from fairnn.metrics import evaluate_with_ci
from fairnn.metrics.bootstrap import bootstrap_counts
from fairnn.monitor import monitor

BAD_WEEK = 5


def generated_log(weeks=8, per_day=150, seed=0):
    """A fair model for eight weeks, except week 5, where group B's scores drop by 0.25;
    labels arrive late: the last week has none."""
    rng = np.random.default_rng(seed)
    days = weeks * 7
    ts = pd.Timestamp("2024-03-04") + pd.to_timedelta(
        np.repeat(np.arange(days), per_day) * 86400 + rng.integers(0, 86400, days * per_day), "s"
    )
    n = len(ts)
    group = rng.choice(["A", "B"], n)
    score = np.clip(rng.beta(2, 2, n), 0, 1)
    week = np.repeat(np.arange(days), per_day) // 7
    drop = (week == BAD_WEEK) & (group == "B")
    score[drop] = np.clip(score[drop] - 0.25, 0, 1)
    label = (rng.random(n) < np.clip(rng.beta(2, 2, n) * 0 + score + 0.1 * drop, 0, 1)).astype(
        float
    )
    label[week == weeks - 1] = np.nan
    return pd.DataFrame({"timestamp": ts, "score": score, "group": group, "label": label})


@pytest.fixture(scope="module")
def log():
    return generated_log()


def test_cli_flags_the_injected_gap_at_the_right_window(log, tmp_path):
    path = tmp_path / "predictions.csv"
    log.to_csv(path, index=False)
    res = CliRunner().invoke(
        app,
        ["monitor", str(path), "--window", "7d", "--chunksize", "1000", "--out",
         str(tmp_path / "mon"), "--json"],
        catch_exceptions=False,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    assert len(out["windows"]) == 8
    dp = [f for f in out["flags"] if f["metric"] == "dp_gap"]
    assert {f["window"] for f in dp if f["kind"] == "threshold"} == {BAD_WEEK}
    assert {f["window"] for f in dp if f["kind"] == "shift"} == {BAD_WEEK}
    assert BAD_WEEK in out["flagged_windows"]
    for name in ("windows.csv", "flags.csv", "monitor.png"):
        assert (tmp_path / "mon" / name).stat().st_size > 0
    # week 7 has no labels: label metrics are undefined there, dp_gap is not
    last = out["windows"][-1]
    assert last["labelled"] == 0 and last["accuracy"] is None and last["dp_gap"] is not None


def test_window_metrics_match_the_raw_rows(log):
    rep = monitor(log, "7d", chunksize=5000, n_resamples=300, progress=False)
    bad = log[(log["timestamp"] >= rep.windows.loc[BAD_WEEK, "start"])
              & (log["timestamp"] <= rep.windows.loc[BAD_WEEK, "end"])]  # fmt: skip
    assert len(bad) == rep.windows.loc[BAD_WEEK, "rows"] == 7 * 150
    pred = (bad["score"] > 0.5).astype(int)
    assert rep.windows.loc[BAD_WEEK, "dp_gap"] == pytest.approx(
        demographic_parity_difference(bad["label"], pred, sensitive_features=bad["group"]),
        abs=1e-12,
    )
    assert rep.windows.loc[BAD_WEEK, "eodds_gap_max"] == pytest.approx(
        equalized_odds_difference(bad["label"], pred, sensitive_features=bad["group"]), abs=1e-12
    )
    row = rep.windows.loc[BAD_WEEK]
    assert row["dp_gap_low"] <= row["dp_gap"] <= row["dp_gap_high"]
    # row counts, from a DataFrame, give the same windows when weeks have equal rows
    by_rows = monitor(log, 7 * 150, chunksize=777, n_resamples=300, progress=False)
    pd.testing.assert_series_equal(by_rows.windows["dp_gap"], rep.windows["dp_gap"])
    # parquet streams through record batches to the same numbers
    assert by_rows.flagged_windows == rep.flagged_windows


def test_parquet_log(log, tmp_path):
    path = tmp_path / "p.parquet"
    log.to_parquet(path)
    rep = monitor(path, "7d", chunksize=2000, n_resamples=100, progress=False)
    assert rep.windows.loc[BAD_WEEK, "dp_gap"] == pytest.approx(
        monitor(log, "7d", n_resamples=100, progress=False).windows.loc[BAD_WEEK, "dp_gap"]
    )


def test_counts_bootstrap_equals_the_row_bootstrap():
    rng = np.random.default_rng(0)
    n = 3000
    g = rng.choice(["a", "b"], n)
    y = rng.integers(0, 2, n)
    sc = np.round(rng.random(n) * 0.5 + 0.3 * y + 0.1 * (g == "a"), 2)
    cells = pd.DataFrame({"g": g, "y": y, "sc": sc}).groupby(["g", "y", "sc"]).size()
    cells = cells.reset_index(name="c")
    names = ["dp_gap", "eodds_gap_sum", "accuracy", "auc", "dp_gap_soft"]
    rows = evaluate_with_ci(y, sc, sensitive_features=g, metrics=names, n_resamples=2000)
    agg = bootstrap_counts(names, cells.y, cells.sc, sensitive_features=cells.g,
                           counts=cells.c, n_resamples=2000)  # fmt: skip
    for m in names:
        assert agg[m][0].estimate == pytest.approx(rows[m].estimate, abs=1e-12)
        assert agg[m][0].std == pytest.approx(rows[m].std, rel=0.12)


def test_bad_logs_get_errors(log, tmp_path):
    with pytest.raises(ColumnError, match="'prob'"):
        monitor(log, "7d", score="prob", progress=False)
    with pytest.raises(ConfigError, match="neither a time span"):
        monitor(log, "weekly", progress=False)
    one = log.assign(group="A")
    with pytest.raises(InvalidValueError, match="one group"):
        monitor(one, "7d", progress=False)
    bad = log.assign(label=log["label"].replace(1.0, 3.0))
    with pytest.raises(InvalidValueError, match="0/1"):
        monitor(bad, "7d", progress=False)
    res = CliRunner().invoke(app, ["monitor", str(tmp_path / "none.csv")])
    assert res.exit_code == 2 and "no prediction log" in res.output
