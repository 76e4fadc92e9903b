"""fairnn monitor on hostile input: every bad option or log gets one clear FairnnError (the
same line, exit 2, from the CLI), --threshold is held to its domain, and the order of the
rows in a log never changes the report."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairnn.cli import app
from fairnn.errors import ColumnError, ConfigError, DatasetError, FairnnError, InvalidValueError
from fairnn.monitor import monitor

FAST = {"n_resamples": 30, "metrics": ["dp_gap", "eodds_gap_sum", "auc", "dp_gap_soft"]}


def small_log(days: int = 8, per_day: int = 40, seed: int = 0) -> pd.DataFrame:
    """A log sorted by time; group B's scores drop from day 4 on, the last day is unlabelled."""
    rng = np.random.default_rng(seed)
    day = np.repeat(np.arange(days), per_day)
    ts = pd.Timestamp("2024-03-04") + pd.to_timedelta(
        day * 86400 + rng.integers(0, 86400, day.size), "s"
    )
    group = rng.choice(["A", "B"], day.size)
    score = rng.beta(2, 2, day.size) - 0.3 * ((day >= 4) & (group == "B"))
    score = np.clip(score, 0, 1)
    label = (rng.random(day.size) < score).astype(float)
    label[day == days - 1] = np.nan
    log = pd.DataFrame({"timestamp": ts, "score": score, "group": group, "label": label})
    return log.sort_values("timestamp", kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return small_log()


def cli(*args: Any) -> Any:
    return CliRunner().invoke(app, ["monitor", *map(str, args), "-q"])


def assert_clean_exit(res: Any, *words: str) -> None:
    """Exit 2, no traceback, and the words (the option's name) in the message."""
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    for w in words:
        assert w in res.output, res.output


# -- options out of their domain: a ConfigError naming the option, before the log is read ------
BAD_OPTIONS = [
    *[({"threshold": v}, "--threshold") for v in ("high", "0.3", 2, 1, 0, -0.5, np.nan, np.inf, True, None)],
    *[({"gap_threshold": v}, "--gap-threshold") for v in (-1, np.nan, np.inf, -np.inf, 1.0, "x", None)],
    ({"gap_threshold": {"eodds_gap_sum": 2.5}}, "--gap-threshold for eodds_gap_sum"),
    ({"gap_threshold": {"accuracy": 0.1}}, "--gap-threshold names ['accuracy']"),
    *[({"n_resamples": v}, "--bootstrap") for v in (0, 1, -5, 2.5, "10", True)],
    *[({"chunksize": v}, "--chunksize") for v in (0, -1, 1.5, "10", np.nan)],
    *[({"seed": v}, "--seed") for v in (-1, 1.5, "0")],
    *[({"reference": v}, "--reference") for v in (-1, "1", 0.5)],
    *[({"score_bins": v}, "score_bins") for v in (0, -3, 10**12, 2.0)],
    *[({"confidence": v}, "confidence") for v in (0, 1, 1.5, np.nan, "0.9")],
    *[({"shift_confidence": v}, "shift_confidence") for v in (0, 1, -1)],
    *[({"window": v}, "--window") for v in (0, -5, "0d", "-7d", "", " ", "nan", "inf", "weekly", True, 7.5)],
    *[({"metrics": v}, "cannot be monitored") for v in ([], ["bogus"], "bogus")],
    ({"label": None, "metrics": ["accuracy"]}, "need labels"),
]  # fmt: skip


@pytest.mark.parametrize(("kwargs", "name"), BAD_OPTIONS, ids=lambda v: repr(v)[:40])
def test_bad_option_values_raise_a_config_error_naming_the_option(log, kwargs, name):
    with pytest.raises(ConfigError) as err:
        monitor(log, **{"window": "7d", **kwargs}, progress=False)
    msg = str(err.value)
    assert name in msg and "\n" not in msg


def test_a_reference_past_the_last_window_names_the_option(log):
    with pytest.raises(ConfigError, match=r"--reference 99 .* 0\.\.1"):
        monitor(log, "7d", reference=99, progress=False, **FAST)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["--threshold", "high"], "--threshold"),  # typer's own parse error: exit 2, no trace
        (["--threshold", "2"], "--threshold"),
        (["--threshold", "nan"], "--threshold"),
        (["--threshold", "0"], "--threshold"),
        (["--gap-threshold", "-1"], "--gap-threshold"),
        (["--gap-threshold", "inf"], "--gap-threshold"),
        (["--chunksize", "0"], "--chunksize"),
        (["--chunksize", "-3"], "--chunksize"),
        (["--bootstrap", "1"], "--bootstrap"),
        (["--seed", "-1"], "--seed"),
        (["--reference", "-1"], "--reference"),
        (["--reference", "99"], "--reference"),
        (["--window", "nan"], "--window"),
        (["--window", "0"], "--window"),
        (["--window", "-7d"], "--window"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_cli_bad_options_exit_2_naming_the_option(log, tmp_path, args, name):
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    assert_clean_exit(cli(path, *args), name)  # all refused before any bootstrap


# -- threshold: a decision threshold on scores, not an alarm level ----------------------------
@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.7])
def test_threshold_is_the_decision_threshold_on_the_score(log, threshold):
    rep = monitor(log, "2d", threshold=threshold, progress=False, **FAST)
    for _, w in rep.windows.iterrows():
        rows = log[(log.timestamp >= w["start"]) & (log.timestamp <= w["end"])]
        rate = (rows.score > threshold).groupby(rows.group).mean()
        assert w["dp_gap"] == pytest.approx(rate.max() - rate.min(), abs=1e-12)


def test_threshold_two_is_refused_pointing_at_the_gap_threshold(log, tmp_path):
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    res = cli(path, "--threshold", 2)
    assert_clean_exit(res, "--threshold", "> 0 and < 1", "got 2.0", "--gap-threshold")
    with pytest.raises(ConfigError) as err:
        monitor(path, threshold=2.0)
    assert f"error: {err.value}" in res.output  # the CLI prints the library's line


def test_gap_threshold_is_the_alarm_level(log):
    low = monitor(log, "2d", gap_threshold={"dp_gap": 0.0}, progress=False, **FAST)
    hits = low.flags[low.flags.kind == "threshold"]
    assert set(hits.metric) == {"dp_gap"}
    assert set(hits.window) == set(low.windows.window[low.windows.dp_gap > 0])


# -- logs that are not logs: the same one-line error from the API and the CLI -----------------
def _write(text: str | bytes, name: str = "log.csv") -> Callable[[Path, pd.DataFrame], Path]:
    def make(tmp: Path, log: pd.DataFrame) -> Path:
        p = tmp / name
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        return p

    return make


def _frame(edit: Callable[[pd.DataFrame], pd.DataFrame], name: str = "log.csv") -> Callable:
    def make(tmp: Path, log: pd.DataFrame) -> Path:
        p = tmp / name
        df = edit(log.copy())
        df.to_parquet(p) if name.endswith(".parquet") else df.to_csv(p, index=False)
        return p

    return make


def _pickle(name: str) -> Callable[[Path, pd.DataFrame], Path]:
    def make(tmp: Path, log: pd.DataFrame) -> Path:
        (tmp / name).write_bytes(pickle.dumps(log))
        return tmp / name

    return make


def _folder(tmp: Path, log: pd.DataFrame) -> Path:
    (tmp / "logs.csv").mkdir()
    return tmp / "logs.csv"


def _set(col: str, row: int, value: Any) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df[col] = df[col].astype(object)
        df.loc[row, col] = value
        return df

    return edit


BAD_LOGS = {
    "empty file": (_write(""), DatasetError, "is empty"),
    "blank lines": (_write("\n\n"), DatasetError, "not a CSV file"),
    "header only": (_write("timestamp,score,group,label\n"), InvalidValueError, "has no rows"),
    "pickle": (_pickle("log.pkl"), DatasetError, "not a CSV file"),
    "pickle named .csv": (_pickle("log.csv"), DatasetError, "not a CSV file"),
    "binary junk": (_write(bytes(range(256)) * 8), DatasetError, "not a CSV file"),
    "open quote": (_write('timestamp,score,group,label\n2024-01-01,0.5,A,1\n2024-01-01,0.2,"B,0\n'), DatasetError, "EOF inside string"),
    "text named .parquet": (_write("timestamp,score\n", "log.parquet"), DatasetError, "not a readable parquet"),
    "truncated parquet": (_write(b"PAR1" + bytes(100), "log.parquet"), DatasetError, "not a readable parquet"),
    "a folder": (_folder, DatasetError, "is a folder"),
    "missing file": (lambda tmp, log: tmp / "nope.csv", DatasetError, "no prediction log"),
    "missing column": (_frame(lambda d: d.drop(columns="group")), ColumnError, "['group']"),
    "missing column parquet": (_frame(lambda d: d.drop(columns="score"), "l.parquet"), ColumnError, "['score']"),
    "label 3": (_frame(_set("label", 5, 3)), InvalidValueError, "label column 'label' must be 0/1"),
    "label yes": (_frame(_set("label", 5, "yes")), InvalidValueError, "label column 'label' must be 0/1"),
    "NaN score": (_frame(_set("score", 7, np.nan)), InvalidValueError, "score column 'score'"),
    "score 1.5": (_frame(_set("score", 7, 1.5)), InvalidValueError, "row 7 has 1.5"),
    "text score": (_frame(_set("score", 7, "high")), InvalidValueError, "row 7 has 'high'"),
    "no-date timestamp": (_frame(_set("timestamp", 9, "soon")), InvalidValueError, "has 'soon' at row 9"),
    "empty timestamp": (_frame(_set("timestamp", 9, None)), InvalidValueError, "timestamp column 'timestamp' is empty at row 9"),
    "epoch timestamps": (_frame(lambda d: d.assign(timestamp=np.arange(len(d)))), InvalidValueError, "holds numbers"),
    "offset and none": (_frame(lambda d: d.assign(timestamp=d.timestamp.astype(str) + np.where(d.index % 2, "+01:00", ""))), InvalidValueError, "mixes times with a UTC offset"),
    "zone and none": (_frame(lambda d: d.assign(timestamp=d.timestamp.astype(str) + np.where(d.index < 100, "", "Z"))), InvalidValueError, "mixes time zones"),
    "empty group": (_frame(_set("group", 3, None)), InvalidValueError, "group column 'group' is empty at row 3"),
    "one group": (_frame(lambda d: d.assign(group="A")), InvalidValueError, "one group only"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_LOGS, ids=str)
def test_bad_logs_give_one_line_from_the_api_and_the_cli(log, tmp_path, case):
    make, kind, words = BAD_LOGS[case]
    path = make(tmp_path, log)
    with pytest.raises(kind) as err:
        monitor(path, "7d", chunksize=50, progress=False, **FAST)
    msg = str(err.value)
    assert words in msg and "\n" not in msg
    res = cli(path, "--chunksize", 50, "--bootstrap", 20)
    assert_clean_exit(res, f"error: {msg}")


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (pd.DataFrame(columns=["timestamp", "score", "group", "label"]), "has no rows"),
        (
            pd.concat([small_log(2, 5), small_log(2, 5)[["score"]]], axis=1),
            "more than once",
        ),
    ],
    ids=["no rows", "duplicate column"],
)
def test_bad_dataframes(frame, words):
    with pytest.raises(FairnnError, match=words):
        monitor(frame, "7d", progress=False, **FAST)


# -- row order never matters: shuffled == sorted, exactly ---------------------------------------
@pytest.fixture(scope="module")
def reference_reports(log) -> dict[Any, Any]:
    return {w: monitor(log, w, chunksize=10**6, progress=False, **FAST) for w in WINDOWS}


WINDOWS = ["7d", "2d", "12h", 90]


def _assert_same_report(got: Any, want: Any) -> None:
    pd.testing.assert_frame_equal(got.windows, want.windows, check_exact=True)
    pd.testing.assert_frame_equal(got.flags, want.flags, check_exact=True)
    assert got.options == want.options


@pytest.mark.parametrize("source", ["frame", "csv", "parquet"])
@pytest.mark.parametrize("window", WINDOWS, ids=str)
def test_a_shuffled_log_gives_exactly_the_sorted_report(
    log, reference_reports, tmp_path, source, window
):
    shuffled = log.sample(frac=1, random_state=7)
    assert shuffled.timestamp.iloc[0].normalize() != log.timestamp.min().normalize()
    if source == "frame":
        given: Any = shuffled
    else:
        given = tmp_path / f"log.{source}"
        shuffled.to_csv(given, index=False) if source == "csv" else shuffled.to_parquet(given)
    want = reference_reports[window]
    assert want.flagged_windows  # the comparison covers flags, not only empty tables
    _assert_same_report(monitor(given, window, chunksize=37, progress=False, **FAST), want)


def test_time_windows_start_at_midnight_of_the_earliest_day(log, reference_reports):
    rep = monitor(log.iloc[::-1], "7d", chunksize=50, progress=False, **FAST)
    assert rep.options["origin"] == str(log.timestamp.min().normalize())
    assert rep.windows["rows"].tolist() == [7 * 40, 40]


def test_zone_aware_times_and_tied_rows_in_any_order():
    log = small_log(6, 30).assign(timestamp=lambda d: d.timestamp.dt.floor("6h"))  # many ties
    log["timestamp"] = log.timestamp.dt.tz_localize("Europe/Paris")
    for window in ("2d", 50):
        want = monitor(log, window, chunksize=10**6, progress=False, **FAST)
        got = monitor(
            log.sample(frac=1, random_state=1), window, chunksize=23, progress=False, **FAST
        )
        _assert_same_report(got, want)
    # row windows keep rows with the same time together: no time spans two windows, so a
    # window may hold up to one tie's worth of rows more or fewer than asked
    windows, tie = want.windows, log.timestamp.value_counts().max()
    assert (windows["start"].iloc[1:].to_numpy() > windows["end"].iloc[:-1].to_numpy()).all()
    assert (abs(windows["rows"].iloc[:-1] - 50) <= tie).all()
    assert windows["rows"].sum() == len(log) and len(windows) == len(log) // 50 + 1


def test_times_whose_utc_offset_changes_are_read_as_instants(tmp_path):
    """A log written in local time across a DST change (+01:00, then +02:00), in any order."""
    log = small_log(4, 30)
    local = log.timestamp.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
    log["timestamp"] = [t.isoformat() for t in local + pd.Timedelta(days=25)]  # 29 March on
    assert log.timestamp.str.endswith("+01:00").any() and log.timestamp.str.endswith("+02:00").any()
    path = tmp_path / "dst.csv"
    log.sample(frac=1, random_state=2).to_csv(path, index=False)
    want = monitor(log, "1d", progress=False, **FAST)
    assert str(want.windows["start"].dt.tz) == "UTC" and want.windows["rows"].sum() == len(log)
    _assert_same_report(monitor(path, "1d", chunksize=29, progress=False, **FAST), want)
