"""Model files: safetensors + JSON sidecar; every unreadable input gets its own error."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from fairnn.errors import InvalidValueError, ModelFileError
from fairnn.methods import FittedModel, make_method
from fairnn.training import TrainConfig
from tests.synthetic import synthetic_data


@pytest.fixture(scope="module")
def fitted() -> FittedModel:
    train = synthetic_data(300)
    return make_method("vanilla").fit(
        train,
        None,
        config=TrainConfig(epochs=2, select="last", progress=False),
        architecture={"hidden": [8]},
    )


def test_round_trip_gives_identical_predictions(fitted, tmp_path):
    data = synthetic_data(100, seed=5)
    fitted.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["model.json", "model.safetensors"]
    loaded = FittedModel.load(tmp_path / "m")
    assert np.array_equal(loaded.predict_proba(data), fitted.predict_proba(data))
    assert loaded.features == fitted.features and loaded.groups == fitted.groups
    assert loaded.method == "vanilla" and loaded.training["architecture"]["hidden"] == [8]
    side = json.loads((tmp_path / "m" / "model.json").read_text())
    assert side["format"] == "fairnn-model" and side["fairnn_version"]


def test_no_temporary_files_left(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    fitted.save(tmp_path / "m", overwrite=True)  # swapped in atomically
    assert not [p for p in (tmp_path / "m").iterdir() if p.name.startswith(".")]
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary folder beside it


def test_predict_rejects_wrong_shape_and_nan(fitted):
    with pytest.raises(InvalidValueError, match=r"\(n, 5\)"):
        fitted.predict_proba(np.zeros((3, 4)))
    x = np.zeros((3, 5))
    x[1, 2] = np.nan
    with pytest.raises(InvalidValueError, match="NaN"):
        fitted.predict_proba(x)


def _write_valid(fitted, path):
    fitted.save(path)
    return path


@pytest.mark.parametrize(
    "damage, match",
    [
        ("missing_dir", "does not exist"),
        ("pickle_file", "never unpickles"),
        ("no_sidecar", "model.json is missing"),
        ("bad_json", "not valid JSON"),
        ("wrong_format", "not a fairnn model sidecar"),
        ("newer_version", "upgrade fairnn"),
        ("no_weights", "save was incomplete"),
        ("corrupt_weights", "not a readable safetensors"),
        ("wrong_keys", "do not fit the architecture"),
        ("wrong_shapes", "wrong shapes"),
        ("unknown_arch", "architecture 'resnet'"),
    ],
)
def test_unreadable_model_dirs(fitted, tmp_path, damage, match):
    d = tmp_path / "m"
    if damage == "missing_dir":
        target = tmp_path / "nope"
    elif damage == "pickle_file":
        target = tmp_path / "model.pt"
        target.write_bytes(b"\x80\x04not really a pickle")
    else:
        target = _write_valid(fitted, d)
        side = json.loads((d / "model.json").read_text())
        if damage == "no_sidecar":
            (d / "model.json").unlink()
        elif damage == "bad_json":
            (d / "model.json").write_text("{not json")
        elif damage == "wrong_format":
            side["format"] = "something-else"
        elif damage == "newer_version":
            side["format_version"] = 99
        elif damage == "no_weights":
            (d / "model.safetensors").unlink()
        elif damage == "corrupt_weights":
            (d / "model.safetensors").write_bytes(b"garbage" * 10)
        elif damage == "wrong_keys":
            save_file({"foo": torch.zeros(2)}, str(d / "model.safetensors"))
        elif damage == "wrong_shapes":
            side["architecture"]["hidden"] = [9]
        elif damage == "unknown_arch":
            side["architecture"]["type"] = "resnet"
        if damage in ("wrong_format", "newer_version", "wrong_shapes", "unknown_arch"):
            (d / "model.json").write_text(json.dumps(side))
    with pytest.raises(ModelFileError, match=match):
        FittedModel.load(target)
