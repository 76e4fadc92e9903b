"""Columns as a feature: a user's own table's columns, dropped, forced, previewed."""

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
from fairnn.experiments import RunSpec


@pytest.fixture
def table(tmp_path):
    """300 rows shaped like a census extract: numeric codes, a constant column, a
    9%-positive label, two sensitive columns."""
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(
        {
            "AGEP": rng.normal(40, 12, n).round(1),
            "OCCP": rng.integers(0, 120, n) * 10,  # ~110 integer codes
            "REGION": rng.integers(1, 5, n),  # 4 codes: categorical
            "K": 7,
            "SEX": rng.integers(1, 3, n),
            "RAC1P": rng.integers(1, 4, n),
            "y": (rng.random(n) < 0.09).astype(int),
        }
    )
    path = tmp_path / "census.parquet"
    frame.to_parquet(path)
    return path


def _names(splits):
    return splits.train.features.names


def test_default_treatment_warns_and_drops(table, caplog):
    with caplog.at_level(logging.WARNING):
        splits = resolve(str(table), label="y", sensitive=["SEX", "RAC1P"])
    names = _names(splits)
    assert "K" not in names and "SEX" not in names and "RAC1P" not in names
    assert "OCCP" in names  # continuous, with a warning naming the fix
    assert "OCCP has" in caplog.text and "--categorical OCCP" in caplog.text
    assert "constant" in caplog.text and "'K'" in caplog.text
    assert [n for n in names if n.startswith("REGION=")]  # one-hot


def test_drop_categorical_and_sensitive_as_input(table, caplog):
    with caplog.at_level(logging.WARNING):
        splits = resolve(
            str(table),
            label="y",
            sensitive=["SEX", "RAC1P"],
            drop="AGEP",
            categorical=["OCCP,REGION"],
            sensitive_as_input=True,
        )
    names = _names(splits)
    assert "AGEP" not in names
    assert sum(n.startswith("OCCP=") for n in names) > 50
    assert "SEX" in names or any(n.startswith("SEX=") for n in names)
    assert any(n.startswith("RAC1P=") for n in names)
    assert "integer codes" not in caplog.text


def test_unknown_drop_column_is_named(table):
    with pytest.raises(Exception, match="NOPE"):
        resolve(str(table), label="y", sensitive="SEX", drop=["NOPE"])
    with pytest.raises(Exception, match="names the label, a sensitive"):
        resolve(str(table), label="y", sensitive="SEX", drop="SEX")


def test_unset_choices_keep_identities_and_records():
    spec = RunSpec.make(dataset="adult")
    assert "drop" not in spec.model_dump() and "sensitive_as_input" not in spec.model_dump()
    assert set(DataSpec(dataset="t.csv", label="y", sensitive="s").record()) == {
        "source",
        "recipe",
        "seed",
        "label",
        "sensitive",
        "categorical",
        "continuous",
        "positive_label",
    }
    chosen = DataSpec(dataset="t.csv", label="y", sensitive="s", drop="a,b")
    record = chosen.record()
    assert record["drop"] == ["a", "b"]
    assert DataSpec.from_record(record) == chosen
    assert RunSpec.make(dataset="t.csv", drop=["a"]).key() != RunSpec.make(dataset="t.csv").key()


def test_datasets_info_previews_a_table(table):
    result = CliRunner().invoke(
        app,
        ["datasets", "info", str(table), "--label", "y", "--sensitive", "SEX", "--json"],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    cols = {c["column"]: c for c in out["columns"]}
    assert cols["K"]["role"] == "constant" and cols["K"]["width"] == 0
    assert cols["RAC1P"]["role"] == "input" and cols["RAC1P"]["width"] == 3
    assert cols["SEX"]["role"] == "sensitive" and cols["y"]["role"] == "label"
    assert cols["OCCP"]["kind"] == "integer" and cols["OCCP"]["distinct"] > 50
    assert out["inputs"] == sum(c["width"] for c in out["columns"])
    assert any("OCCP" in w for w in out["warnings"])
    text = api.table_info(table, label="y", sensitive="SEX", categorical=["OCCP"]).to_text()
    assert "OCCP" in text and "integer codes" not in text
    chosen = api.table_info(
        table, label="y", sensitive="SEX", drop="AGEP", sensitive_as_input=True
    ).to_json()
    roles = {c["column"]: c["role"] for c in chosen["columns"]}
    assert roles["AGEP"] == "dropped" and roles["SEX"] == "sensitive, input"


def test_train_records_the_choices(table, tmp_path):
    out = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(table),
            "--label",
            "y",
            "--sensitive",
            "SEX",
            "--drop",
            "AGEP,REGION",
            "--sensitive-as-input",
            "--group-names",
            "SEX=1:male,2:female",
            "--epochs",
            "1",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    sidecar = json.loads(next(out.glob("*.json")).read_text())
    text = json.dumps(sidecar)
    assert '"drop": ["AGEP", "REGION"]' in text and '"sensitive_as_input": true' in text
    assert '"group_names": {"SEX": {"1": "male", "2": "female"}}' in text
    assert sidecar["groups"]["labels"] == ["male", "female"]
    audit = CliRunner().invoke(app, ["audit", str(out), "--json"])
    assert audit.exit_code == 0, audit.output
    assert "female" in audit.output


def test_group_names_show_in_place_of_codes(table, tmp_path):
    splits = resolve(
        str(table),
        label="y",
        sensitive=["SEX", "RAC1P"],
        group_names=["SEX=1:male,2:female", "RAC1P=1:white"],
    )
    labels = splits.train.groups.labels
    assert "male & white" in labels and "female & 2" in labels
    same = resolve(
        str(table),
        label="y",
        sensitive=["SEX", "RAC1P"],
        group_names={"SEX": {1: "male", 2.0: "female"}, "RAC1P": {1: "white"}},
    )
    assert same.train.groups.labels == labels
    with pytest.raises(Exception, match="SEX=1:male"):
        DataSpec(dataset="t.csv", group_names="SEX")
    with pytest.raises(Exception, match="not sensitive columns"):
        resolve(str(table), label="y", sensitive="SEX", group_names="RAC1P=1:white")


def test_sweep_file_takes_the_column_choices(table):
    from fairnn.experiments.sweep import DatasetEntry

    entry = DatasetEntry(
        name=str(table),
        label="y",
        sensitive=["SEX"],
        drop=["AGEP"],
        group_names={"SEX": {1: "male", 2: "female"}},
    )
    spec = RunSpec.make(**entry.data())
    assert spec.group_names == {"SEX": {"1": "male", "2": "female"}}
    assert spec.data.drop == ["AGEP"]
    plain = DatasetEntry(name=str(table), label="y", sensitive=["SEX"]).data()
    assert "group_names" not in plain and "drop" not in plain
