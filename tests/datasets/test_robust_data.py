"""Hostile user tables and training options (issue 16, item 5).

Each class of bad input is tried through the library (``from_frame``, ``read_table``,
``TrainConfig``, method parameters) and through ``fairnn train``/``fairnn audit``: an error
is one line naming the column or option and the fix (exit 2 on the CLI), and what used to
train silently wrong now either refuses or warns, naming what was done.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairnn.cli import app
from fairnn.datasets import from_frame, load_dataset, read_table
from fairnn.datasets.preprocess import MAX_GROUPS
from fairnn.datasets.splits import MIN_ROWS
from fairnn.datasets.text import load_synthetic_toxicity
from fairnn.errors import ColumnError, ConfigError, DatasetError, FairnnError
from fairnn.methods import get_method
from fairnn.methods.base import Architecture
from fairnn.training.config import TrainConfig
from tests.synthetic import synthetic_data

runner = CliRunner()
N = 80
FAST = ("--epochs", "1", "--hidden", "8", "-q")


def table(n: int = N, seed: int = 0) -> pd.DataFrame:
    """A small mixed table: two features, a two-group sensitive column and a 0/1 label."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "c": rng.choice(["u", "v", "w"], n),
            "s": np.tile(["f", "m"], n // 2),
            "y": np.tile([0, 0, 1, 1], n // 4),
        }
    )


def write(df: pd.DataFrame, path: Path) -> str:
    if path.suffix == ".parquet":
        df.to_parquet(path)
    else:
        df.to_csv(path, index=False)
    return str(path)


def train(data: str, *extra: str):
    return runner.invoke(
        app, ["train", "--data", data, "--label", "y", "--sensitive", "s", *FAST, *extra]
    )


def refused(result: Any, *words: str) -> None:
    """Exit 2, one ``error:`` line (no traceback) naming every one of ``words``."""
    assert result.exit_code == 2, result.output
    err = result.output.strip().splitlines()
    assert err[-1].startswith("error: ") and "Traceback" not in result.output, result.output
    for w in words:
        assert w in err[-1], (w, err[-1])


def refuses(call: Any, *words: str, error: type[Exception] = FairnnError) -> str:
    with pytest.raises(error) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))
    return str(info.value)


# -- constant columns: dropped with a warning, never a crash ---------------------------------
CONSTANT = {
    "float": 3.0,
    "int": 7,
    "text": "t",
    "bool": True,
    "all_missing": np.nan,
}


@pytest.mark.parametrize("value", CONSTANT.values(), ids=CONSTANT.keys())
def test_constant_column_is_dropped_with_a_warning(value, caplog):
    df = table().assign(k=value)
    with caplog.at_level(logging.WARNING):
        splits = from_frame(df, label="y", sensitive="s")
    assert "k" not in splits.info["raw_features"]
    assert "'k'" in caplog.text and "constant" in caplog.text
    # all-missing is not a reason to drop every row
    assert len(from_frame(df, label="y", sensitive="s", dropna=True).train) == len(splits.train)


def test_only_constant_features_is_an_error():
    refuses(
        lambda: from_frame(table()[["s", "y"]].assign(k=1), label="y", sensitive="s"),
        "no feature columns",
        "'k'",
    )


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_cli_trains_on_a_table_with_a_constant_numeric_column(tmp_path, suffix, caplog):
    data = write(table().assign(k=3.0), tmp_path / f"t{suffix}")
    with caplog.at_level(logging.WARNING):
        r = train(data)
    assert r.exit_code == 0, r.output
    assert "'k'" in caplog.text


# -- duplicate column names: refused, naming them ---------------------------------------------
@pytest.mark.parametrize("dup", ["x", "s", "y"])
def test_duplicate_columns_are_refused(tmp_path, dup):
    df = table()
    df.insert(1, dup, df[dup], allow_duplicates=True)
    refuses(lambda: from_frame(df, label="y", sensitive="s"), f"'{dup}'", error=ColumnError)
    path = write(df, tmp_path / "dup.csv")  # pandas would read the repeat as "x.1"
    refuses(lambda: read_table(path), f"'{dup}'", "rename", error=ColumnError)
    refused(train(path), "duplicate column", f"'{dup}'")


def test_a_genuine_dotted_name_is_not_a_duplicate(tmp_path):
    path = write(table().assign(**{"x.1": 1.5}), tmp_path / "dots.csv")
    assert list(read_table(path).columns) == ["x", "c", "s", "y", "x.1"]


# -- numbers mixed with text: a warning naming the column -------------------------------------
MIXED = {
    "object_numbers_and_text": [1, 2.5, "q", 4] * (N // 4),
    "question_mark_for_missing": ["1.5", "2", "?", "3"] * (N // 4),
    "numbers_stored_as_text": [str(i) for i in range(N)],
}


@pytest.mark.parametrize("values", MIXED.values(), ids=MIXED.keys())
def test_numbers_in_a_text_column_warn(values, caplog):
    df = table().assign(m=pd.Series(values, dtype=object))
    with caplog.at_level(logging.WARNING):
        from_frame(df, label="y", sensitive="s")
    assert "'m'" in caplog.text and "pd.to_numeric" in caplog.text


def test_a_plain_text_column_does_not_warn(caplog):
    with caplog.at_level(logging.WARNING):
        from_frame(table(), label="y", sensitive="s")
    assert "'c'" not in caplog.text


def test_cli_warns_about_a_mixed_column(tmp_path, caplog):
    data = write(table().assign(m=["1", "2", "?", "4"] * (N // 4)), tmp_path / "mixed.csv")
    with caplog.at_level(logging.WARNING):
        r = train(data)
    assert r.exit_code == 0, r.output
    assert "'m' mixes numbers and text" in caplog.text


# -- batch size larger than the data: clamped with a warning ----------------------------------
@pytest.mark.parametrize("batch", [49, 1000, 10**6])
def test_batch_size_larger_than_the_data_warns_with_both_numbers(tmp_path, batch, caplog):
    data = write(table(), tmp_path / "t.csv")
    with caplog.at_level(logging.WARNING):
        r = train(data, "--batch-size", str(batch))
    assert r.exit_code == 0, r.output
    rows = 48  # 60% of 80
    assert f"batch_size {batch} is larger than the {rows} training rows" in caplog.text


def test_batch_size_within_the_data_does_not_warn(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        r = train(write(table(), tmp_path / "t.csv"), "--batch-size", "16")
    assert r.exit_code == 0 and "batch_size" not in caplog.text


# -- unknown or unfit architectures: an error listing the known ones --------------------------
@pytest.mark.parametrize(
    ("arch", "words"),
    [
        ("bogus", ["'bogus'", "known: mlp"]),
        ("cnnn", ["'cnnn'", "did you mean 'cnn'"]),
        ("transformr", ["did you mean 'transformer'"]),
        ("MLP", ["'MLP'", "did you mean 'mlp'"]),
    ],
)
def test_unknown_arch_is_refused(tmp_path, arch, words):
    refuses(lambda: Architecture(type=arch), *words, error=ConfigError)
    refused(train(write(table(), tmp_path / "t.csv"), "--arch", arch), *words)


@pytest.mark.parametrize("arch", ["cnn", "preact_resnet", "text", "transformer"])
def test_image_or_text_arch_on_a_table_is_refused(tmp_path, arch):
    data = synthetic_data(n=60)
    method = get_method("vanilla")()
    refuses(
        lambda: method.fit(data, data, architecture={"type": arch}),
        f"'{arch}'",
        "tabular",
        error=ConfigError,
    )
    refused(train(write(table(), tmp_path / "t.csv"), "--arch", arch), f"'{arch}'", "tabular")


@pytest.mark.parametrize("arch", ["mlp", "random_features"])
def test_tabular_archs_train(tmp_path, arch):
    r = train(write(table(), tmp_path / "t.csv"), "--arch", arch)
    assert r.exit_code == 0, r.output


# -- own-table options on a registered dataset: refused, naming the option --------------------
@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--positive-label", "1"], "--positive-label"),
        (["--positive_label", "good"], "--positive-label"),
        (["--label", "credit_risk"], "--label"),
        (["--categorical", "age"], "--categorical"),
        (["--continuous", "age"], "--continuous"),
    ],
)
def test_own_table_options_on_a_registered_dataset_are_refused(args, option):
    r = runner.invoke(app, ["train", "--data", "german", *FAST, *args])
    refused(r, option, "own table", "'german'")


def test_positive_label_underscore_works_on_own_table(tmp_path):
    df = table().assign(y=np.tile(["bad", "bad", "good", "good"], N // 4))
    r = train(write(df, tmp_path / "t.csv"), "--positive_label", "good", "--json")
    assert r.exit_code == 0, r.output


# -- audit on the model's own training file: the split it reports, truthfully ----------------
def test_audit_on_the_training_file_names_the_split(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(table(), tmp_path / "own.csv")
    assert train("own.csv", "--out", "model").exit_code == 0
    n_test = 16  # 20% of 80
    for data in ("own.csv", str(tmp_path / "own.csv"), "./own.csv"):
        r = runner.invoke(app, ["audit", "model", "--data", data])
        assert r.exit_code == 0, r.output
        assert f"[test], n = {n_test}" in r.output.splitlines()[0], (data, r.output)
    r = runner.invoke(app, ["audit", "model", "--data", "own.csv", "--split", "train"])
    assert "[train], n = 48" in r.output.splitlines()[0]
    write(table(), tmp_path / "copy.csv")  # the same rows in another file: every row
    r = runner.invoke(app, ["audit", "model", "--data", "copy.csv"])
    assert f"[all], n = {N}" in r.output.splitlines()[0]


# -- too few rows, a directory, an empty file, a wrong format --------------------------------
@pytest.mark.parametrize("n", [0, 1, MIN_ROWS - 1])
def test_too_few_rows_are_refused_with_the_count(tmp_path, n):
    df = table().head(n)
    words = (f"has {n} data row(s)", f"at least {MIN_ROWS}")
    refuses(lambda: from_frame(df, label="y", sensitive="s"), *words)
    refused(train(write(df, tmp_path / "few.csv")), *words)


def test_dropna_leaving_too_few_rows_says_so():
    df = table(20)
    df.loc[3:, "x"] = np.nan
    refuses(
        lambda: from_frame(df, label="y", sensitive="s", dropna=True),
        "has 3 data row(s) after dropping 17",
    )


def test_too_many_cells_for_the_split_are_refused():
    df = table(12).assign(s=["a", "b", "c", "d", "e", "f"] * 2)  # 12 cells of one row
    refuses(lambda: from_frame(df, label="y", sensitive="s"), "split", "gets no rows", "cells")


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("folder", None, ["is a directory", "CSV or parquet file"]),
        ("folder.csv", None, ["is a directory"]),
        ("empty.csv", b"", ["is empty", "0 bytes"]),
        ("noext", b"", ["is empty"]),
        ("data.json", b"{}", ["not a supported table format"]),
        ("data.xlsx", b"a,b\n1,2\n", ["'.xlsx' is not a supported"]),
    ],
)
def test_unreadable_data_paths(tmp_path, name, content, words):
    path = tmp_path / name
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    refuses(lambda: read_table(path), *words, error=DatasetError)
    refused(train(str(path)), *words)


# -- sensitive columns that cannot be groups ------------------------------------------------
SENSITIVE = {
    "continuous": (lambda n: np.random.default_rng(0).normal(size=n), "pd.cut"),
    "many_integers": (lambda n: np.arange(n) % (MAX_GROUPS + 10), "pd.cut"),
    "unique_text": (lambda n: [f"id{i}" for i in range(n)], "other"),
}


@pytest.mark.parametrize(("make", "fix"), SENSITIVE.values(), ids=SENSITIVE.keys())
def test_sensitive_with_too_many_values_is_refused(tmp_path, make, fix):
    df = table(120).assign(s=make(120))
    refuses(lambda: from_frame(df, label="y", sensitive="s"), "sensitive column 's'", fix)
    refused(train(write(df, tmp_path / "t.csv")), "'s'", "distinct values", fix)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"s": "m"}, ["sensitive column 's'", "single group"]),
        ({"y": 1}, ["label column 'y'", "single value"]),
        ({"y": np.tile([0, 1, 2, 2], N // 4)}, ["label column 'y'", "positive_label"]),
        ({"y": np.tile([0, 1, np.nan, 1], N // 4)}, ["label column 'y'", "missing", "dropna"]),
        ({"s": np.tile(["a", None], N // 2)}, ["sensitive column 's'", "missing"]),
        ({"x": np.tile([1.0, np.inf], N // 2)}, ["column 'x'", "infinite"]),
    ],
    ids=["one_group", "one_label", "three_labels", "nan_label", "nan_group", "inf_feature"],
)
def test_other_bad_columns_name_the_column_and_the_fix(tmp_path, change, words):
    df = table().assign(**change)
    refuses(lambda: from_frame(df, label="y", sensitive="s"), *words)
    refused(train(write(df, tmp_path / "t.parquet")), *words)


# -- non-finite and out-of-range numbers: refused up front ----------------------------------
BAD_TRAIN = [
    ("lr", math.inf),
    ("lr", -math.inf),
    ("lr", math.nan),
    ("lr", -0.1),
    ("weight_decay", math.inf),
    ("flood_level", math.nan),
    ("lr_decay", math.nan),
    ("momentum", math.inf),
    ("epochs", -1),
    ("batch_size", 0),
]


@pytest.mark.parametrize(("field", "value"), BAD_TRAIN)
def test_train_config_refuses_non_finite_and_negative(field, value):
    refuses(lambda: TrainConfig(**{field: value}), f"'{field}'", error=ConfigError)
    cfg = TrainConfig()
    refuses(lambda: setattr(cfg, field, value), f"'{field}'", error=ConfigError)


@pytest.mark.parametrize(
    ("method", "param"),
    [("gapreg", "lam"), ("mindiff", "mindiff_weight"), ("fairbinn", "eta"), ("roc", "theta")],
)
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_method_parameters_refuse_non_finite(method, param, value):
    refuses(lambda: get_method(method)(**{param: value}), f"'{param}'", "finite", error=ConfigError)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["--lr", "inf"], "'lr'"),
        (["--lr", "nan"], "'lr'"),
        (["--lr", "-1"], "'lr'"),
        (["--weight-decay", "inf"], "'weight_decay'"),
        (["--epochs", "-3"], "'epochs'"),
        (["--batch-size", "-5"], "'batch_size'"),
        (["--method", "gapreg", "--lam", "inf"], "'lam'"),
        (["--method", "gapreg", "--lam", "nan"], "'lam'"),
    ],
)
def test_cli_refuses_non_finite_options_before_training(tmp_path, args, name):
    refused(train(write(table(), tmp_path / "t.csv"), *args), name)


# -- seeds: an integer >= 0, checked before it is used ---------------------------------------
@pytest.mark.parametrize("seed", [1.5, -1, "1", True])
@pytest.mark.parametrize("dataset", ["german", "synthetic-toxicity"])
def test_load_dataset_refuses_a_seed_that_is_not_an_integer_from_zero(dataset, seed):
    """1.5 used to load under seed 1; a negative seed reached numpy's own ValueError."""
    refuses(
        lambda: load_dataset(dataset, seed=seed),
        "seed must be an integer >= 0",
        f"got {seed!r}",
        error=ConfigError,
    )


def test_the_synthetic_toxicity_loader_checks_its_seed():
    refuses(
        lambda: load_synthetic_toxicity(seed=-1), "seed must be an integer >= 0", error=ConfigError
    )


def test_a_numpy_integer_seed_is_a_seed():
    assert load_dataset("german", seed=np.int64(3)).info["seed"] == 3
