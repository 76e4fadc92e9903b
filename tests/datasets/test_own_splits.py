"""The user's own train/val/test split (fairnn.datasets.own_split), kept exactly everywhere
data is named: resolve(), the Python API, `fairnn train/audit/repair`, sweep files, and a
model file that records its split (files and checksums, or the split column)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairnn import api
from fairnn.cli import app
from fairnn.datasets import DataSpec, resolve
from fairnn.datasets.sources import NUMERIC
from fairnn.errors import ChecksumError, ColumnError, ConfigError, InvalidValueError
from fairnn.experiments.model_source import ModelSource
from fairnn.experiments.spec import RunSpec
from fairnn.experiments.sweep import parse_sweep
from tests.synthetic import write_linear_model_file

COLS = ["f0", "f1", "code"]
TABLE = {"label": "y", "sensitive": "sex"}
N = (150, 50, 60)  # train, val, test rows: not 60/20/20, so a re-split would show


def _frame(n: int = sum(N), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 2)), columns=COLS[:2])
    frame["code"] = rng.integers(1, 4, n)
    frame["sex"] = np.where(np.arange(n) % 2 == 0, "F", "M")
    frame["y"] = (frame["f0"] + rng.normal(size=n) > 0).astype(int)
    return frame


def _parts(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    a, b = N[0], N[0] + N[1]
    return {"train": frame.iloc[:a], "val": frame.iloc[a:b], "test": frame.iloc[b:]}


@pytest.fixture
def files(tmp_path):
    """Three tables in two formats, and the same rows in one table with a split column."""
    frame = _frame()
    parts = _parts(frame)
    paths = {
        "train": tmp_path / "tr.csv",
        "val": tmp_path / "va.parquet",
        "test": tmp_path / "te.csv",
    }
    for split, path in paths.items():
        part = parts[split]
        part.to_parquet(path) if path.suffix == ".parquet" else part.to_csv(path, index=False)
    names = np.repeat(["train", "Validation", "test"], N)  # any case; validation means val
    frame.assign(part=names).to_csv(tmp_path / "all.csv", index=False)
    return {k: str(v) for k, v in paths.items()}, frame


def _rows(data) -> np.ndarray:
    return data.X.numpy()


def test_three_files_and_a_split_column_give_the_same_exact_splits(files, tmp_path):
    paths, frame = files
    by_files = resolve(paths, **TABLE)
    by_column = resolve(str(tmp_path / "all.csv"), split_column="part", **TABLE)
    by_frames = resolve(_parts(frame), **TABLE)
    for split, n in zip(("train", "val", "test"), N, strict=True):
        assert len(getattr(by_files, split)) == n  # the user's rows, not 60/20/20
        for other in (by_column, by_frames):
            assert np.array_equal(_rows(getattr(other, split)), _rows(getattr(by_files, split)))
    # no re-split per seed
    assert np.array_equal(_rows(resolve(paths, seed=5, **TABLE).test), _rows(by_files.test))
    assert "part" not in by_column.info["raw_features"]  # the split column is no feature
    assert by_files.info["split"] == "own files" and set(by_files.info["checksums"]) == {
        "train",
        "val",
        "test",
    }
    # a table of the model's inputs (NUMERIC) keeps the split too
    numeric = resolve(str(tmp_path / "all.csv"), split_column="part", recipe=NUMERIC, **TABLE)
    assert numeric.features.names == COLS and len(numeric.test) == N[2]
    assert np.allclose(numeric.test.X.numpy(), frame.iloc[N[0] + N[1] :][COLS].to_numpy())


def test_own_split_errors_name_the_field_and_the_fix(files, tmp_path, caplog):
    paths, frame = files
    with pytest.raises(ColumnError, match=r"--split-column 'nope'.*columns are"):
        resolve(str(tmp_path / "all.csv"), split_column="nope", **TABLE)
    bad = frame.assign(part=np.repeat(["train", "dev", "test"], N))
    with pytest.raises(ConfigError, match=r"'part' must hold train.*found \['dev'\]"):
        resolve(bad, split_column="part", **TABLE)
    no_val = frame.assign(part=np.repeat(["train", "train", "test"], N))
    with pytest.raises(InvalidValueError, match="the val split .* has no rows"):
        resolve(no_val, split_column="part", **TABLE)
    parts = _parts(frame)
    with pytest.raises(
        ColumnError, match=r"test table \(a DataFrame\) does not .* missing \['code'\]"
    ):
        resolve({**parts, "test": parts["test"].drop(columns="code")}, **TABLE)
    only_f = {**parts, "train": parts["train"][parts["train"]["sex"] == "F"]}
    with pytest.raises(InvalidValueError, match=r"train split .* no rows of group\(s\) \['M'\]"):
        resolve(only_f, **TABLE)
    with caplog.at_level(logging.WARNING):  # a group absent from test: its gaps compare fewer
        resolve({**parts, "test": parts["test"][parts["test"]["sex"] == "F"]}, **TABLE)
    assert "test split (a DataFrame) has no rows of group(s) ['M']" in caplog.text
    with pytest.raises(ConfigError, match="lacks test"):
        resolve({"train": paths["train"], "val": paths["val"]}, **TABLE)
    with pytest.raises(ConfigError, match="not both"):
        DataSpec(dataset="all.csv", split_column="part", val_file="v.csv", test_file="t.csv",
                 **TABLE).check()  # fmt: skip
    with pytest.raises(ConfigError, match="registered dataset 'german' is split by --seed"):
        DataSpec(dataset="german", split_column="part").check()
    with pytest.raises(ConfigError, match="label or a sensitive column"):
        DataSpec(dataset="all.csv", split_column="sex", **TABLE).check()


def test_run_keys_of_seeded_specs_are_unchanged_and_own_splits_differ():
    spec = RunSpec.make(dataset="german", seed=1)
    blob = spec.model_dump(mode="json")
    assert not {"val_file", "test_file", "split_column"} & set(blob)  # stored specs as before
    assert blob.pop("constraint") is None
    import hashlib

    old = hashlib.sha256(json.dumps(blob, sort_keys=True, separators=(",", ":")).encode())
    assert spec.key() == old.hexdigest()[:16]  # the key runs were stored under
    own = spec.model_copy(update={"split_column": "part"})
    assert own.key() != spec.key()
    assert RunSpec.model_validate_json(own.model_dump_json()) == own


runner = CliRunner()


def _json(*args: str) -> dict:
    result = runner.invoke(app, [*map(str, args), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_cli_train_keeps_the_split_and_audit_reports_on_the_same_test_rows(files, tmp_path):
    paths, _ = files
    model = tmp_path / "m"
    labels = ["--label", "y", "--sensitive", "sex", "--epochs", "1"]
    run = _json("train", "--train", paths["train"], "--val", paths["val"], "--test",
                paths["test"], *labels, "--out", model)  # fmt: skip
    sidecar = json.loads(next(model.glob("*.json")).read_text())["dataset"]
    assert sidecar["source"] == paths["train"] and sidecar["test_file"] == paths["test"]
    assert sidecar["rows"] == {"total": sum(N), "train": N[0], "val": N[1], "test": N[2]}
    audit = _json("audit", model)
    assert audit["rows"] == N[2]
    assert audit["metrics"]["accuracy"] == pytest.approx(run["metrics"]["test"]["accuracy"])
    # a saved model audits any new file: the test file itself gives the same numbers
    other = _json("audit", model, "--data", paths["test"])
    assert other["split"] == "all" and other["metrics"] == audit["metrics"]
    # one table with a split column: the same split, the same test metrics
    col = _json("train", "--data", tmp_path / "all.csv", "--split-column", "part", *labels)
    assert col["metrics"]["test"]["accuracy"] == pytest.approx(run["metrics"]["test"]["accuracy"])
    # a changed file is named rather than silently re-split
    pd.read_csv(paths["test"]).iloc[:-1].to_csv(paths["test"], index=False)
    with pytest.raises(ChecksumError, match=r"te\.csv has changed since the model was trained"):
        api.audit(str(model))
    result = runner.invoke(
        app, ["train", "--train", paths["train"], "--val", paths["val"], *labels]
    )
    assert result.exit_code == 2 and "add --test" in result.output


def test_api_and_a_user_model_file_take_an_own_split(files, tmp_path):
    paths, frame = files
    run = api.train(str(tmp_path / "all.csv"), split_column="part", epochs=1, progress=False,
                    label="y", sensitive=["sex"])  # fmt: skip
    assert run.to_json()["dataset"] == str(tmp_path / "all.csv")
    net = write_linear_model_file(tmp_path, 3)
    args = ["--model-file", tmp_path / "net.safetensors", "--train", paths["train"], "--val",
            paths["val"], "--test", paths["test"], "--label", "y", "--sensitive", "sex"]  # fmt: skip
    audit = _json("audit", *args)
    assert audit["rows"] == N[2]
    with_column = ModelSource.user(net, str(tmp_path / "all.csv"), split_column="part", **TABLE)
    fitted, splits = with_column.load()
    assert len(splits.test) == N[2] and fitted.dataset["split_column"] == "part"
    fitted.save(tmp_path / "saved")
    _, again = ModelSource.saved(tmp_path / "saved").load()
    assert np.array_equal(_rows(again.test), _rows(splits.test))
    with pytest.raises(ConfigError, match="model directory keeps the split"):
        api.model_source(tmp_path / "saved", split_column="part")


def test_sweep_files_name_an_own_split(files, tmp_path):
    paths, _ = files
    text = f"""
datasets:
  - {{train: {paths["train"]}, val: {paths["val"]}, test: {paths["test"]}, label: y, sensitive: [sex]}}
  - {{name: {tmp_path / "all.csv"}, split_column: part, label: y, sensitive: [sex]}}
methods: [vanilla]
seeds: [0, 1]
"""
    sweep = parse_sweep(text)
    sweep.check()
    assert len(sweep) == 4
    first = sweep.specs[0]
    assert first.dataset == paths["train"] and first.test_file == paths["test"]
    assert sweep.specs[-1].split_column == "part"
    assert len(resolve(first.data).test) == N[2]
    with pytest.raises(ConfigError, match="needs all three"):
        parse_sweep(f"datasets: [{{train: {paths['train']}, label: y}}]\nmethods: [vanilla]")
