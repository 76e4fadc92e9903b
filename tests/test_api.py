"""The façade ``fairnn.api``: every function, called once on small inputs, renders what the
command line prints for the same call (its ``--json`` line, or its text)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairnn import api
from fairnn.api_results import Result
from fairnn.cli import app
from fairnn.errors import ConfigError

runner = CliRunner()
#: fields that measure time (and the solver's timed trace), which two equal calls do not share
VOLATILE = ("per_second", "trace")


def cli(*args: object, code: int = 0) -> str:
    res = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == code, res.output
    return res.stdout


def cli_json(*args: object) -> object:
    return json.loads(cli(*args, "--json").strip().splitlines()[-1])


def steady(obj: object) -> object:
    """``obj`` without the fields in :data:`VOLATILE` or named ``*_s``, at any depth."""
    if isinstance(obj, dict):
        return {k: steady(v) for k, v in obj.items() if k not in VOLATILE and not k.endswith("_s")}
    if isinstance(obj, list):
        return [steady(v) for v in obj]
    return obj


def same_text(result: Result, printed: str) -> None:
    assert result.to_text() == printed.rstrip("\n")
    assert str(result) == result.to_text()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A German model, trained by the façade and by the CLI into the same folder."""
    out = tmp_path_factory.mktemp("api") / "m"
    args = dict(method="gapreg", params={"lam": 0.5}, epochs=1, hidden=[8], progress=False)
    first = api.train("german", out=out, **args)
    again = cli_json(
        "train", "--data", "german", "--method", "gapreg", "--lam", "0.5", "--epochs", "1",
        "--hidden", "8", "--out", out, "--overwrite",
    )  # fmt: skip
    assert steady(first.to_json()) == steady(again)
    assert first.to_json()["params"] == {"lam": 0.5, "mode": "dp"}
    assert first.fitted is not None and first.model_path == str(out)
    text = first.to_text().splitlines()
    assert text[0].startswith("gapreg on german (clean, seed 0) in ")
    assert text[-1] == f"model saved to {out}"
    return out


def test_import_loads_no_heavy_module():
    code = (
        "import sys, fairnn.api; print(sorted(m for m in ('torch', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_registries():
    assert api.datasets().to_json() == cli_json("datasets")
    same_text(api.datasets(), cli("datasets"))
    assert api.dataset_info("german").to_json() == cli_json("datasets", "info", "german")
    same_text(api.dataset_info("german"), cli("datasets", "info", "german"))
    methods = api.methods()
    same_text(methods, cli("methods"))
    assert {"vanilla", "gapreg", "roc"} <= {m["name"] for m in methods.to_json()}
    same_text(api.reproductions(), cli("reproduce"))


def test_train_text_matches_the_cli(model):
    # the fixture compared the JSON; the text differs from the CLI's only in the time
    res = api.train("german", epochs=1, hidden=[8], fnr_gap=0.1, progress=False)
    printed = cli("train", "--data", "german", "--epochs", "1", "--hidden", "8", "--fnr-gap", "0.1")
    body = res.to_text().splitlines()
    assert body[1:] == printed.splitlines()[1:]
    assert "constrained_error" in body[1]


def test_audit(model):
    res = api.audit(model, bootstrap=20)
    assert res.to_json() == cli_json("audit", model, "--bootstrap", "20")
    same_text(res, cli("audit", model, "--bootstrap", "20"))
    assert "95% bootstrap intervals:" in res.to_text()


def test_repair_and_its_default_path(model):
    res = api.repair(model, "roc", params={"theta": 0.7}, progress=False)
    assert res.to_json()["model_path"] == str(api.repaired_path(model, "roc"))
    assert Path(f"{model}-roc").is_dir()
    again = cli_json("repair", model, "--method", "roc", "--theta", "0.7", "--overwrite")
    assert steady(res.to_json()) == steady(again)
    assert res.to_json()["after"]["test"]["dp_gap"] == again["after"]["test"]["dp_gap"]
    text = cli("repair", model, "--method", "roc", "--theta", "0.7", "--overwrite", "-q")
    same_text(res, text)
    with pytest.raises(ConfigError, match="--mode must be dp or eo"):
        api.repair(model, "roc", mode="xx")


def test_certify(model):
    res = api.certify(model, eps=0.05, local=2, progress=False)
    printed = cli_json("certify", model, "--eps", "0.05", "--local", "2", "-q")
    assert steady(res.to_json()) == steady(printed)
    assert "text" not in res.to_json() and res.to_text().startswith("local")


def test_a_model_source_is_a_directory_or_a_user_model_with_data():
    assert api.model_source("runs/m", label="ignored") == "runs/m"
    own = api.model_source(model_file="m.safetensors", data="t.csv", sensitive="sex")
    assert own == api.UserModel("m.safetensors", data="t.csv", sensitive="sex")
    assert own.data_options()["sensitive"] == "sex"
    assert api.repaired_path(own, "ROC") == Path("m-roc")
    assert api.repaired_path("runs/m", "roc") == Path("runs/m-roc")
    for bad in ({}, {"model_dir": "m", "model_file": "m.safetensors"}):
        with pytest.raises(ConfigError, match="MODEL_DIR .* or --model-file"):
            api.model_source(**bad)
    with pytest.raises(ConfigError, match="--model-file needs --data"):
        api.UserModel("m.safetensors")


def test_a_user_model(tmp_path):
    """A plain PyTorch MLP saved as safetensors, audited, repaired and certified."""
    import torch
    from safetensors.torch import save_file

    from tests.synthetic import biased_arrays

    X, y, a = biased_arrays(600, 3, 0)
    table = pd.DataFrame(X, columns=["f0", "f1", "f2"]).assign(y=y, sex=np.where(a, "M", "F"))
    table.to_csv(tmp_path / "t.csv", index=False)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    save_file(net.state_dict(), str(tmp_path / "m.safetensors"))
    layers = [{"type": "Linear", "in_features": 3, "out_features": 4}, {"type": "ReLU"}]
    layers.append({"type": "Linear", "in_features": 4, "out_features": 1})
    (tmp_path / "m.json").write_text(json.dumps({"type": "sequential", "layers": layers}))
    own = api.UserModel(tmp_path / "m.safetensors", data=tmp_path / "t.csv", label="y",
                        sensitive=["sex"])  # fmt: skip
    byo = ["--model-file", own.file, "--data", own.data, "--label", "y", "--sensitive", "sex"]
    assert api.audit(own).to_json() == cli_json("audit", *byo)
    res = api.repair(own, "roc", progress=False)
    assert res.to_json()["model_path"] == str(tmp_path / "m-roc") and res.fitted is not None
    again = cli_json("repair", *byo, "--method", "roc", "--overwrite")
    assert steady(res.to_json()) == steady(again)
    cert = api.certify(own, eps=0.1, local=2, progress=False)
    assert steady(cert.to_json()) == steady(
        cli_json("certify", *byo, "--eps", "0.1", "--local", "2")
    )


def test_export(model, tmp_path):
    res = api.export(model, out=tmp_path / "x")
    assert res.path.is_file() and res.description.is_file()
    same_text(res, cli("export", model, "--out", tmp_path / "x", "--overwrite"))


def test_monitor_writes_and_renders(tmp_path):
    rng = np.random.default_rng(0)
    ts = pd.Timestamp("2024-03-04") + pd.to_timedelta(rng.integers(0, 14 * 86400, 2000), "s")
    log = pd.DataFrame(
        {"timestamp": ts, "score": rng.random(2000), "group": rng.choice(["A", "B"], 2000)}
    )
    log["label"] = (rng.random(2000) < log["score"]).astype(int)
    path = tmp_path / "log.csv"
    log.sort_values("timestamp").to_csv(path, index=False)
    res = api.monitor(path, bootstrap=20, progress=False)
    assert res.to_json()["out"] is None
    assert res.write() == tmp_path / "log-monitor"
    assert {p.name for p in res.write().iterdir()} == {"windows.csv", "flags.csv", "monitor.png"}
    assert res.to_json() == cli_json("monitor", path, "--bootstrap", "20")
    same_text(res, cli("monitor", path, "--bootstrap", "20", "-q"))
    with pytest.raises(ConfigError, match="give write"):
        api.monitor(log, bootstrap=20, progress=False).write()


SWEEP = """\
name: api
datasets: [german]
methods: [vanilla, {name: gapreg, params: {lam: [0.5]}}]
seeds: [0]
train: {epochs: 1}
"""


def test_sweep_results_and_report(tmp_path, monkeypatch):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "sweep.yaml").write_text(SWEEP)
    monkeypatch.chdir(tmp_path / "a")
    plans = []
    dry = api.sweep("sweep.yaml", db="g.db", dry_run=True, on_plan=plans.append)
    assert plans == [dry.plan] and dry.summary is None
    res = api.sweep("sweep.yaml", db="g.db", progress=False)
    assert res.to_json()["db"] == "g.db" and res.to_json()["to_run"] == 2
    assert (res.summary.done, res.summary.failed, res.failure_message()) == (2, 0, None)
    monkeypatch.chdir(tmp_path / "b")
    same_text(dry, cli("sweep", "sweep.yaml", "--db", "g.db", "--dry-run"))
    same_text(res, cli("sweep", "sweep.yaml", "--db", "g.db", "-q"))

    table = api.results("g.db", format="json")
    assert table.to_json() == json.loads(cli("results", "--db", "g.db", "--format", "json"))
    assert len(table) == 2
    text = api.results("g.db", split=["val", "test"])
    same_text(text, cli("results", "--db", "g.db", "--split", "val", "--split", "test"))
    csv = api.results("g.db", format="csv", method=["vanilla"]).write(tmp_path / "r.csv")
    assert pd.read_csv(csv)["method"].tolist() == ["vanilla"]
    with pytest.raises(ConfigError, match="--format must be"):
        api.results("g.db", format="xml")
    with pytest.raises(ConfigError, match="parquet writes a file"):
        api.results("g.db", format="parquet").to_text()

    page = api.report(tmp_path / "rep", db="g.db")
    assert page.page.is_file()
    same_text(page, cli("report", "--out", tmp_path / "rep", "--db", "g.db"))


def test_reproduce_narrows_a_study_that_takes_the_option(tmp_path, monkeypatch):
    from fairnn.experiments import reproductions

    calls = []

    def study(out: Path, seeds: list[int], full: bool, device: str, parts=("a", "b")) -> Path:
        calls.append((seeds, parts))
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.md").write_text(f"# study of {len(seeds)} seeds\n", encoding="utf-8")
        return out / "report.md"

    monkeypatch.setattr(reproductions, "get_reproduction", lambda name: study)
    res = api.reproduce("tiny", seeds=2, out=tmp_path / "r", parts=["a"])
    assert calls == [([0, 1], ("a",))]
    assert res.failure_message() is None and res.to_json()["db"] is None
    same_text(res, cli("reproduce", "tiny", "--seeds", "2", "--out", tmp_path / "r", "--part", "a"))
    with pytest.raises(ConfigError, match="has no --dataset option"):
        api.reproduce("tiny", out=tmp_path / "r", datasets=["adult"])
    with pytest.raises(ConfigError, match="one run at a time"):
        api.reproduce("tiny", out=tmp_path / "r", workers=2)


def test_nnff(monkeypatch):
    """The facade and the command hand their options to the registered pipeline and show
    its report and text (the pipeline itself runs in tests/certify/test_certify.py)."""
    from fairnn.experiments.reproductions import PIPELINES, Pipeline

    seen, report = [], {"stages": [{"name": "random search", "delta_upper": 0.1}]}
    stand_in = Pipeline(
        run=lambda **kw: seen.append(kw) or report,
        format=lambda rep: f"NNFF pipeline on Boston: {rep}",
    )
    real_get = PIPELINES.get
    monkeypatch.setattr(
        PIPELINES, "get", lambda name: stand_in if name == "nnff" else real_get(name)
    )
    res = api.nnff(draws=2, epochs=1)
    assert res.to_json() == report and res.to_text() == f"NNFF pipeline on Boston: {report}"
    assert steady(res.to_json()) == steady(cli_json("nnff", "--draws", "2", "--epochs", "1"))
    same_text(res, cli("nnff", "--draws", "2", "--epochs", "1"))
    options = {"eps": 0.3, "seed": 42, "draws": 2, "epochs": 1, "solver": "highs"}
    assert seen == [options] * 3


def test_demo(tmp_path, monkeypatch):
    """The facade's plumbing; the real demo (two Adult trainings, about 20 s) runs once per
    suite, from the installed wheel, in tests/test_packaging.py."""
    from fairnn.experiments import demo as demo_module

    def quick(out, seed, device):  # the demo's contract: a table and a report written
        (Path(out) / "report.md").parent.mkdir(parents=True, exist_ok=True)
        (Path(out) / "report.md").write_text(f"seed {seed} on {device}")
        return "vanilla  0.85", Path(out) / "report.md"

    monkeypatch.setattr(demo_module, "run_demo", quick)
    res = api.demo(tmp_path / "d", seed=2)
    assert res.report.read_text() == "seed 2 on cpu" and res.to_text().startswith("vanilla")
    seen = []
    monkeypatch.setattr(api, "demo", lambda out, **kw: seen.append((out, kw)) or res)
    same_text(res, cli("demo", "--out", tmp_path / "e", "--seed", "3"))
    assert seen == [(tmp_path / "e", {"seed": 3, "device": "cpu"})]
