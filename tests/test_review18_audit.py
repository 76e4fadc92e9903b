"""Issue 18 review, items 2-4: ``--group-names`` on ``audit`` and ``repair`` (also of your own
model file; a model keeps the names it was trained or repaired with), ``audit MODEL --data
F --split-column C`` audits the split named by ``--split`` of F, and the decision block's
``selection_rate`` is the ``selection_rate`` metric."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairnn import api
from fairnn.cli import app
from fairnn.errors import ConfigError
from tests.synthetic import write_linear_model_file

runner = CliRunner()
N = {"train": 150, "val": 50, "test": 60}
NAMES = "SEX=1:male,2:female"


def _table(seed: int) -> pd.DataFrame:
    """SEX coded 1/2, a label that leans on it, and a split column with 150/50/60 rows."""
    rng = np.random.default_rng(seed)
    n = sum(N.values())
    frame = pd.DataFrame(rng.normal(size=(n, 2)), columns=["f0", "f1"])
    frame["SEX"] = rng.integers(1, 3, n)
    frame["y"] = (frame["f0"] + 0.8 * (frame["SEX"] == 1) + rng.normal(size=n) > 0.5).astype(int)
    frame["part"] = np.repeat(list(N), list(N.values()))
    return frame


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """The training table, another table with its own split column, and that table's test
    rows alone (no split column); a model trained on the first with group names."""
    d = tmp_path_factory.mktemp("review18")
    _table(0).to_csv(d / "own.csv", index=False)
    other = _table(1)
    other.to_csv(d / "new.csv", index=False)
    other[other.part == "test"].drop(columns="part").to_csv(d / "new_test.csv", index=False)
    model = d / "m"
    api.train(str(d / "own.csv"), split_column="part", label="y", sensitive=["SEX"], epochs=1,
              group_names=NAMES, out=model, progress=False)  # fmt: skip
    return d, model


def _json(*args: object) -> dict:
    res = runner.invoke(app, [*map(str, args), "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.output.strip().splitlines()[-1])


def _groups(report: dict) -> set[str]:
    return {row["group"] for row in report["by_group"]}


def test_audit_of_another_file_takes_the_split_of_its_split_column(tables):
    d, model = tables
    new = d / "new.csv"
    test = _json("audit", model, "--data", new, "--split-column", "part")
    assert (test["split"], test["rows"]) == ("test", N["test"])
    # the same rows as the test rows alone, audited whole: the same numbers
    alone = _json("audit", model, "--data", d / "new_test.csv")
    assert (alone["split"], alone["rows"]) == ("all", N["test"])
    assert test["metrics"] == alone["metrics"]
    val = _json("audit", model, "--data", new, "--split-column", "part", "--split", "val")
    assert (val["split"], val["rows"]) == ("val", N["val"])
    every = _json("audit", model, "--data", new, "--split-column", "part", "--split", "all")
    assert (every["split"], every["rows"]) == ("all", sum(N.values()))
    text = runner.invoke(app, ["audit", str(model), "--data", str(new), "--split-column", "part"])
    assert f"(split column 'part') [test], n = {N['test']}" in text.output
    with pytest.raises(ConfigError, match="model's own data, split as it was trained"):
        api.audit(str(model), data=str(d / "own.csv"), split_column="other")


def test_a_model_keeps_its_group_names_and_audit_overrides_them(tables):
    d, model = tables
    assert _groups(_json("audit", model)) == {"male", "female"}
    new = _json("audit", model, "--data", d / "new.csv", "--split-column", "part")
    assert _groups(new) == {"male", "female"}
    renamed = _json("audit", model, "--group-names", "SEX=1:man,2:woman")
    assert _groups(renamed) == {"man", "woman"}
    # the renamed groups are the same rows: the table's numbers do not move
    by = {r["group"]: r["count"] for r in _json("audit", model)["by_group"]}
    assert {"male": by["male"], "female": by["female"]} == {
        "male": next(r["count"] for r in renamed["by_group"] if r["group"] == "man"),
        "female": next(r["count"] for r in renamed["by_group"] if r["group"] == "woman"),
    }
    with pytest.raises(ConfigError, match="not sensitive columns of the data"):
        api.audit(str(model), group_names="RACE=1:a")


def test_your_model_file_audits_and_repairs_with_group_names(tables):
    d, _ = tables
    write_linear_model_file(d, 2)
    user = ["--model-file", d / "net.safetensors", "--data", d / "own.csv", "--split-column",
            "part", "--label", "y", "--sensitive", "SEX"]  # fmt: skip
    assert _groups(_json("audit", *user)) == {"1", "2"}  # codes, without names
    assert _groups(_json("audit", *user, "--group-names", NAMES)) == {"male", "female"}
    out = d / "net-roc"
    _json("repair", *user, "--method", "roc", "--group-names", NAMES, "--out", out)
    assert _groups(_json("audit", out)) == {"male", "female"}  # the repaired model keeps them
    assert _groups(_json("audit", out, "--group-names", "SEX=1:m")) == {"m", "2"}


def test_the_decision_blocks_selection_rate_is_the_metric(tables):
    d, model = tables
    # one sensitive column may be a plain string (it was split into "S", "E", "X")
    run = api.train(str(d / "own.csv"), split_column="part", label="y", sensitive="SEX",
                    epochs=1, progress=False).to_json()  # fmt: skip
    for split, rates in run["decision"]["splits"].items():
        assert rates["selection_rate"] == run["metrics"][split]["selection_rate"]
    # audit's metrics have no selection_rate: its decision block holds the overall share,
    # which the by-group table's rates add up to
    audit = _json("audit", model, "--threshold", "0.3")
    assert "selection_rate" not in audit["metrics"]
    by = audit["by_group"]
    share = sum(r["selection_rate"] * r["count"] for r in by) / sum(r["count"] for r in by)
    assert audit["decision"]["splits"]["test"]["selection_rate"] == pytest.approx(share)
    assert audit["decision"]["threshold"] == 0.3
