"""One data resolution (fairnn.datasets.sources): every kind of data becomes Splits through
resolve(); a DataSpec survives a model file; a ModelSource serves audit, repair, certify."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from fairnn.datasets import DataSpec, get_spec, list_recipes, load_dataset, resolve
from fairnn.datasets.api import COMPRESSION_SUFFIXES, CSV_SUFFIXES, PARQUET_SUFFIXES
from fairnn.datasets.recipes import RecipeOptions, get_recipe
from fairnn.datasets.sources import NUMERIC, TABLE_SUFFIXES, is_table, looks_like_path
from fairnn.errors import ColumnError, ConfigError, DataNotFoundError, DatasetError, ModelFileError
from fairnn.experiments.audit import audit_model, audit_source
from fairnn.experiments.byo import repair_user_model
from fairnn.experiments.model_source import ModelSource
from fairnn.experiments.run import run_spec
from fairnn.experiments.spec import RunSpec
from fairnn.methods import FittedModel
from tests.synthetic import biased_arrays, synthetic_data

COLS = ["f0", "f1", "f2", "f3"]
TABLE = {"label": "approved", "sensitive": "sex", "positive_label": "yes"}


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    X, y, a = biased_arrays(n, 4, seed)
    frame = pd.DataFrame(X, columns=COLS)
    frame["approved"] = np.where(y == 1, "yes", "no")
    frame["sex"] = np.where(a == 1, "M", "F")
    frame["city"] = np.where(np.arange(n) % 3 == 0, "north", "south")  # a categorical column
    return frame


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "loans.csv"
    _frame().to_csv(path, index=False)
    return path


def _same(a, b) -> None:
    for (name, x), (_, y) in zip(a, b, strict=True):
        assert torch.equal(x.X, y.X) and torch.equal(x.y, y.y) and torch.equal(x.s, y.s), name


# -- every kind of input ---------------------------------------------------------------------
def test_a_registered_name_a_spec_and_load_dataset_agree():
    by_name = resolve("german", seed=3)
    by_spec = resolve(DataSpec(dataset="german", seed=3))
    _same(by_name, by_spec)
    _same(by_name, load_dataset("german", seed=3))
    assert by_name.info["source"] == "german" and by_name.info["seed"] == 3
    other = resolve("german", seed=4)
    assert not torch.equal(other.train.y, by_name.train.y)  # the seed draws the split


def test_a_table_path_is_preprocessed_and_a_frame_gives_the_same_splits(csv):
    from_path = resolve(csv, seed=1, label="approved", sensitive=["sex"], positive_label="yes")
    from_frame = resolve(pd.read_csv(csv), seed=1, **TABLE)
    _same(from_path, from_frame)
    assert from_path.info["source"] == str(csv) and from_frame.info["source"] is None
    assert from_path.preprocessor is not None  # one-hot and standardisation
    assert any(n.startswith("city") for n in from_path.features.names)
    assert from_path.train.X[:, 0].mean().abs() < 0.2  # standardised on train
    assert from_path.groups.labels == ("F", "M")


def test_a_numeric_table_is_used_as_it_is(csv):
    splits = resolve(csv, recipe=NUMERIC, features=COLS, **TABLE)
    assert splits.preprocessor is None and splits.features.names == COLS
    frame = pd.read_csv(csv)
    rows = np.concatenate([part.X.numpy() for _, part in splits])
    assert len(rows) == len(frame)
    assert np.allclose(np.sort(rows[:, 0]), np.sort(frame["f0"].to_numpy()), atol=1e-6)
    assert (
        splits.info == DataSpec(dataset=str(csv), recipe=NUMERIC, features=COLS, **TABLE).record()
    )
    # every column but the label and the groups, without features=: the text column is refused
    with pytest.raises(ColumnError, match="city"):
        resolve(csv, recipe=NUMERIC, **TABLE)


def test_splits_tabular_data_and_arrays():
    data = synthetic_data(300)
    splits = resolve(data, seed=2)
    assert sum(len(part) for _, part in splits) == 300
    assert resolve(splits) is splits
    X, y, a = biased_arrays(200, 3, 0)
    labels = np.where(y == 1, "good", "bad")
    arrays = resolve((X, labels, a), features=["a", "b", "c"], positive_label="good", seed=1)
    assert arrays.features.names == ["a", "b", "c"]
    both = np.concatenate([part.y.numpy() for _, part in arrays])
    assert both.sum() == y.sum() and len(both) == 200


def test_what_is_a_table():
    assert set(TABLE_SUFFIXES) == {*CSV_SUFFIXES, *PARQUET_SUFFIXES, *COMPRESSION_SUFFIXES}
    for text in ("x.csv", "x.CSV", "x.csv.bz2", "x.parquet", "data/x", "x.tsv.zst"):
        assert looks_like_path(text), text
    for text in ("adult", "german", "runner-fixed"):
        assert not looks_like_path(text), text
    assert is_table(pd.DataFrame()) and not is_table(synthetic_data(10)) and not is_table("adult")


# -- bad input: errors name the field and the fix --------------------------------------------
@pytest.mark.parametrize(
    ("source", "options", "error", "words"),
    [
        ("german", {"labl": "y"}, ConfigError, ["'labl'"]),
        ("german", {"seed": -1}, ConfigError, ["'seed'", "greater than or equal to 0"]),
        ("german", {"label": "y"}, ConfigError, ["--label", "own table", "'german'"]),
        ("german", {"features": ["a"]}, ConfigError, ["--features", "own table"]),
        ("germna", {}, DatasetError, ["Did you mean 'german'?"]),
        ("german", {"recipe": "clen"}, ConfigError, ["'clean'"]),
        ("missing.csv", dict(TABLE), DataNotFoundError, ["missing.csv"]),
        ("own.csv", {"label": "y"}, ColumnError, ["--sensitive", "sensitive=..."]),
        (pd.DataFrame({"y": [0, 1]}), {"sensitive": "s"}, ColumnError, ["DataFrame", "--label"]),
        (synthetic_data(50), {"label": "y"}, ConfigError, ["'label'", "TabularData", "seed"]),
        ((1, 2), {}, ConfigError, ["(X, y, sensitive_features)"]),
        (42, {}, ConfigError, ["int", "DataSpec"]),
    ],
)
def test_bad_data_is_refused_naming_the_field(source, options, error, words):
    with pytest.raises(error) as e:
        resolve(source, **options)
    for word in words:
        assert word in str(e.value), (word, str(e.value))


def test_a_spec_or_splits_take_no_options():
    with pytest.raises(ConfigError, match="'seed' does not apply to a DataSpec"):
        resolve(DataSpec(dataset="german"), seed=2)
    splits = resolve(synthetic_data(100))
    with pytest.raises(ConfigError, match="'recipe' does not apply to Splits"):
        resolve(splits, recipe="runner")


def test_data_spec_checks_without_loading(tmp_path):
    DataSpec(dataset="german", recipe="runner").check_recipe()
    with pytest.raises(ConfigError, match="no recipe 'runner'"):
        DataSpec(dataset="cmnist", recipe="runner").check_recipe()
    folder = DataSpec(dataset=str(tmp_path), **TABLE)
    folder.check()  # a path with its columns named: reading it is what fails
    with pytest.raises(DataNotFoundError, match="is a folder"):
        folder.check(exists=True)


# -- the numeric recipe is registered -----------------------------------------------------------
def test_the_numeric_recipe_is_a_registered_recipe():
    assert NUMERIC in list_recipes()
    frame = _frame()
    spec = dataclasses.replace(
        get_spec("german"),
        label="approved",
        positive_label="yes",
        sensitive=("sex",),
        features=(*COLS, "sex"),
    )
    splits = get_recipe(NUMERIC)(frame, spec, RecipeOptions(seed=0))
    assert splits.features.names == COLS  # the grouping attribute stays out of X
    assert splits.info["recipe"] == NUMERIC
    with pytest.raises(ColumnError, match="checking_status"):  # German's text columns
        load_dataset("german", recipe=NUMERIC)


# -- DataSpec <-> a model file ---------------------------------------------------------------
@pytest.mark.parametrize("recipe", ["clean", NUMERIC])
def test_data_spec_round_trips_through_its_record(csv, recipe):
    extra = {"features": COLS} if recipe == NUMERIC else {"categorical": ["city"]}
    spec = DataSpec(dataset=str(csv), recipe=recipe, seed=5, **TABLE, **extra)
    record = spec.record()
    assert record["source"] == str(csv) and "dataset" not in record
    assert ("features" in record) == (recipe == NUMERIC)
    assert ("categorical" in record) == (recipe != NUMERIC)
    assert DataSpec.from_record(record) == spec
    assert DataSpec.model_validate_json(spec.model_dump_json()) == spec


def test_a_trained_model_records_its_run_s_data_and_rebuilds_its_splits(csv, tmp_path):
    spec = RunSpec.make(
        dataset=str(csv), label="approved", sensitive=["sex"], positive_label="yes", seed=2,
        train={"epochs": 1},
    )  # fmt: skip
    result = run_spec(spec, out=tmp_path / "m")
    fitted = FittedModel.load(tmp_path / "m")
    assert fitted.data_spec() == spec.data
    assert {k: fitted.dataset[k] for k in spec.data.record()} == spec.data.record()
    _same(resolve(fitted.data_spec()), result.splits)
    fitted.dataset = {}
    with pytest.raises(ModelFileError, match="pass --data"):
        fitted.data_spec()


# -- one ModelSource for audit, repair and certify -------------------------------------------
def _module(d: int) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, 1)).eval()


def test_a_user_model_on_a_registered_dataset_can_be_audited_again_after_repair(tmp_path):
    """Its model file records the DataSpec, so `fairnn audit OUT` rebuilds its data (the
    file used to record the dataset's own label, which a registered dataset refuses)."""
    n = resolve("german").train.n_features
    report, _ = repair_user_model(_module(n), "german", "roc", {"theta": 0.8}, out=tmp_path / "r")
    again = audit_model(tmp_path / "r", split="val")
    assert again["rows"] == len(resolve("german").val)
    assert again["metrics"]["accuracy"] == pytest.approx(report["after"]["val"]["accuracy"])


def test_model_source_kinds(csv, tmp_path):
    user = ModelSource.user(_module(4), csv, recipe=NUMERIC, features=COLS, **TABLE)
    fitted, splits = user.load(mlp=True)
    assert fitted.dataset["source"] == str(csv) and fitted.dataset["recipe"] == NUMERIC
    assert user.name == "Sequential" and user.is_user
    report = audit_source(user, split="val")
    assert report["rows"] == len(splits.val) and report["model"] == "user model (Sequential)"
    fitted.save(tmp_path / "saved")
    saved = ModelSource.saved(tmp_path / "saved")
    again, again_splits = saved.load()
    _same(again_splits, splits)
    assert not saved.is_user and saved.name == str(tmp_path / "saved")
    fitted.dataset = {}
    fitted.save(tmp_path / "bare")
    bare = ModelSource.saved(tmp_path / "bare")
    assert bare.load_optional()[1] is None  # certify: the whole input domain
    with pytest.raises(ModelFileError, match="pass --data"):
        bare.load()
    with pytest.raises(ConfigError, match="needs its data"):
        ModelSource(_module(4))
    with pytest.raises(ConfigError, match="needs its data"):
        ModelSource.user(tmp_path / "m.safetensors", None)
