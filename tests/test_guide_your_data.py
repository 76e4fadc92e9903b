"""docs/guides/your-data.md, run as written: every ``fairnn`` command of its bash blocks,
in order, on a synthetic table shaped like a real one (issue 18 item 10)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairnn.cli import app

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guides" / "your-data.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


def synthetic_income(n: int, seed: int) -> pd.DataFrame:
    """Synthetic, named so: census-like numeric codes (OCCP with 120 codes, RAC1P 1-9,
    SEX 1-2), a constant column, and a label about 9 % positive that depends on SEX."""
    rng = np.random.default_rng(seed)
    sex = rng.integers(1, 3, n)
    age = rng.integers(17, 90, n)
    hours = np.clip(rng.normal(38, 12, n), 1, 99).round()
    occp = rng.integers(0, 120, n) * 10 + 10
    logit = -3.2 + 0.03 * (age - 40) + 0.04 * (hours - 38) + 0.9 * (sex == 1)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "AGEP": age,
            "WKHP": hours,
            "OCCP": occp,
            "SCHL": rng.integers(1, 25, n),
            "ST": np.full(n, 6),  # constant: one state
            "SEX": sex,
            "RAC1P": rng.integers(1, 10, n),
            "PINCP": y,
        }
    )


@pytest.mark.slow
def test_every_command_of_the_guide_runs(tmp_path, monkeypatch):
    parts = []
    for split, n, seed in (("train", 1400, 0), ("val", 400, 1), ("test", 400, 2)):
        synthetic_income(n, seed).to_parquet(tmp_path / f"income.{split}.parquet")
        parts.append(synthetic_income(n, seed).assign(part=split))
    pd.concat(parts).to_parquet(tmp_path / "income.parquet")  # one table, a split column
    (tmp_path / "sweep.yaml").write_text(_blocks("yaml")[0])
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    commands = [
        line
        for block in _blocks("bash")
        for line in block.splitlines()
        if line.startswith("fairnn ")
    ]
    assert len(commands) >= 10
    said = {}
    for line in commands:
        args = shlex.split(line.split("  #")[0])[1:]
        res = runner.invoke(app, args, catch_exceptions=False)
        assert res.exit_code == 0, f"{line}\n{res.output[-2000:]}"
        said[line] = res.output
    assert (tmp_path / "income-report" / "index.html").is_file()
    # what the guide says the commands print
    audits = [out for line, out in said.items() if line.startswith("fairnn audit")]
    assert "| male " in audits[0] and "| female " in audits[0]  # the names trained with
    assert "income.parquet (split column 'part') [test], n = 400" in audits[2]
    assert "| men " in audits[3] and "| women " in audits[3]
    assert "target gap: weight chosen" in said["fairnn results --db income.db"]
    assert "lam=" in (tmp_path / "income-report" / "report.md").read_text()
