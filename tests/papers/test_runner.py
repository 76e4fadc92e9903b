"""RUNNER neuron repair, GapReg and adversarial debiasing (issue 3)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from fairnn.cli import app
from fairnn.errors import ConfigError
from fairnn.methods import FittedModel, make_method
from fairnn.methods.runner import NeuronGapPenalty, RunnerParams
from fairnn.nn import MLP
from fairnn.nn.adversary import Adversary
from fairnn.training import Batch, Forward, LoopState, TrainConfig
from fairnn.training.adversarial import AdversarialPlugin
from tests.effects import paired_effect
from tests.synthetic import synthetic_data

QUICK = TrainConfig(epochs=2, batch_size=128, select="last", progress=False)


def _state(model, data):
    opt = torch.optim.Adam(model.parameters())
    return LoopState(model, opt, QUICK, data, torch.device("cpu"), torch.Generator())


def _batch(data):
    return Batch(torch.arange(len(data)), data.X, data.y, data.s, None)


@pytest.mark.parametrize("mode", ["dp", "eo"])
def test_importance_and_penalty_match_the_official_definition(mode):
    """Scores equal Σ_j (W·∂gap/∂W)² computed the official way (deep copy + backward)."""
    data = synthetic_data(300, seed=2)
    torch.manual_seed(0)
    model = MLP(5, (12, 8))
    p = RunnerParams(lam=1.0, mode=mode, neuron_ratio=0.25)
    plugin = NeuronGapPenalty(p, "all")
    plugin.setup(_state(model, data))
    logits, hidden = model(data.X, return_hidden=True)
    term = plugin.loss_terms(_batch(data), Forward(logits, hidden), _state(model, data))
    (value,) = term.values()

    # the official route: copy the model, backpropagate the output gap, read W.grad
    twin = copy.deepcopy(model)
    f = torch.sigmoid(twin(data.X))
    s, y = data.s, data.y

    def gap(v):
        if mode == "dp":
            return (v[s == 0].mean(0) - v[s == 1].mean(0)).abs()
        return sum(
            (v[(s == 0) & (y == c)].mean(0) - v[(s == 1) & (y == c)].mean(0)).abs() for c in (0, 1)
        )

    gap(f).backward()
    expected = gap(torch.sigmoid(logits)).detach() if mode == "eo" else torch.tensor(0.0)
    for layer, act, idx in zip(twin.hidden_layers, hidden, plugin.selected, strict=True):
        scores = (layer.weight * layer.weight.grad).pow(2).sum(1)
        k = int(0.25 * layer.out_features)
        assert set(idx.tolist()) == set(torch.topk(scores, k).indices.tolist())
        expected = expected + gap(act.detach()[:, idx]).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)
    # nothing was written into the live gradients
    assert all(q.grad is None for q in model.parameters())


def test_neuron_importance_ablation_scores_by_the_loss():
    m = make_method("NeuronImportance", mode="eo")
    assert m.name == "neuron_importance" and m.params.importance == "loss"


def test_runner_reduces_neuron_and_output_gaps_vs_vanilla():
    """Over three seeds, paired with vanilla (tests/effects.py). Measured over eight: the soft
    ΔDP falls from 0.18 to 0.01 ± 0.005 (t = 92)."""
    data, val = synthetic_data(800, seed=0), synthetic_data(400, seed=1)
    cfg = TrainConfig(epochs=8, batch_size=200, select="last", progress=False)
    runner = make_method("runner", lam=5.0, neuron_ratio=0.5)
    seeds = range(3)
    base = [make_method("vanilla").fit(data, val, config=cfg, seed=s) for s in seeds]
    fair = [runner.fit(data, val, config=cfg, seed=s) for s in seeds]
    gap = lambda m: m.evaluate(val)["dp_gap_soft"]  # noqa: E731
    paired_effect([gap(m) for m in fair], [gap(m) for m in base], t_min=3.0)


def test_repair_touches_only_selected_neurons():
    """The repair of a trained model, at four seeds; its soft ΔDP paired with the model's
    before the repair (tests/effects.py). Measured over eight seeds: 0.22 → 0.13 ± 0.01
    (t = 30); with lam = 0, 0.22 → 0.22 (t = 0.4). (A 2-epoch base had a soft ΔDP of 0.009,
    which lam = 0 fine-tuning raised to 0.07: too little to repair.)"""
    data, val = synthetic_data(600, seed=0), synthetic_data(300, seed=1)
    base_cfg = TrainConfig(epochs=8, batch_size=100, lr=1e-2, select="last", progress=False)
    cfg = TrainConfig(epochs=3, batch_size=100, lr=1e-2, select="last", progress=False)
    gaps_before, gaps_after = [], []
    for seed in range(4):
        fitted = make_method("vanilla").fit(
            data, val, config=base_cfg, architecture={"hidden": [16, 16]}, seed=seed
        )
        before = {k: v.clone() for k, v in fitted.network.state_dict().items()}
        gaps_before.append(fitted.evaluate(val)["dp_gap_soft"])
        repaired = make_method("runner", lam=10.0, neuron_ratio=0.25).repair(
            fitted, data, val, config=cfg, seed=seed
        )
        gaps_after.append(repaired.evaluate(val)["dp_gap_soft"])
        after = repaired.network.state_dict()
        # the output layer is frozen
        assert torch.equal(after["output.weight"], before["output.weight"])
        touched = repaired.training["repair"]["neurons_touched"]
        for li, n_touched in enumerate(touched):
            w0, w1 = before[f"hidden_layers.{li}.weight"], after[f"hidden_layers.{li}.weight"]
            changed = (w0 != w1).any(1)
            assert 0 < int(changed.sum()) <= n_touched < 16
    paired_effect(gaps_after, gaps_before, t_min=3.0)


def test_repair_a_users_sequential_module():
    data = synthetic_data(400, seed=0)
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    fitted = FittedModel.from_module(seq, data)
    with torch.no_grad():
        assert torch.allclose(seq(data.X).squeeze(-1), fitted.network(data.X), atol=1e-6)
    make_method("runner", lam=1.0).repair(fitted, data, None, config=QUICK)
    with pytest.raises(ConfigError, match=r"layer 1 \(BatchNorm1d\)"):
        FittedModel.from_module(
            nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)), data
        )


def test_methods_that_cannot_repair_say_so():
    fitted = make_method("vanilla").fit(synthetic_data(100), None, config=QUICK)
    with pytest.raises(ConfigError, match="cannot repair"):
        make_method("gapreg").repair(fitted, synthetic_data(100))


def test_projected_update_removes_the_adversary_direction():
    data = synthetic_data(200, seed=3)
    torch.manual_seed(0)
    model = MLP(5, (8,))
    adv = Adversary(2, "eo")
    plugin = AdversarialPlugin(adv, alpha=0.0, lr=1e-3)
    state = _state(model, data)
    plugin.setup(state)
    logits = model(data.X)
    adv_before = [q.clone() for q in adv.parameters()]
    plugin.loss_terms(_batch(data), Forward(logits), state)
    nn.functional.binary_cross_entropy_with_logits(logits, data.y).backward()
    plugin.after_backward(state)
    for q, g_a in zip(plugin.params, plugin._g_adv, strict=True):
        if g_a is not None and g_a.norm() > 0:
            cos = (q.grad * g_a).sum() / (q.grad.norm() * g_a.norm() + 1e-12)
            assert abs(cos.item()) < 1e-4
    # the adversary stepped on its own loss
    assert any(not torch.equal(a, b) for a, b in zip(adv_before, adv.parameters(), strict=True))
    # its EO input is [σ((1+|c|)z), σ·y, σ·(1−y)]
    feats = adv.features(logits.detach(), data.y)
    assert feats.shape == (200, 3)
    assert torch.allclose(feats[:, 1] + feats[:, 2], feats[:, 0])


runner = CliRunner()


def test_the_seeds_command_lines_run(tmp_path):
    for args in (
        ["--method", "van", "--mode", "dp", "--lam", "1"],
        [
            "--method",
            "NeuronImportance_GapReg",
            "--mode",
            "eo",
            "--lam",
            "5",
            "--neuron_ratio",
            "0.05",
        ],
        ["--method", "runner", "--mode", "dp", "--neuron-ratio", "0.5"],
    ):
        r = runner.invoke(
            app,
            ["train", "--data", "german", "--recipe", "runner", *args, "--epochs", "1", "--json"],
        )
        assert r.exit_code == 0, r.output
        res = json.loads(r.stdout.strip().splitlines()[-1])
        assert res["recipe"] == "runner"
    assert res["params"]["neuron_ratio"] == 0.5


def test_runner_recipe_fills_the_papers_tables():
    from fairnn.experiments import RunSpec
    from fairnn.experiments.run import method_params

    spec = RunSpec.make(dataset="adult", recipe="runner", method="runner", mode="eo")
    assert method_params(spec) == {"lam": 1.0, "neuron_ratio": 0.05, "mode": "eo"}
    spec = RunSpec.make(
        dataset="adult", recipe="runner", method="runner", mode="dp", params={"lam": 2}
    )
    assert method_params(spec)["lam"] == 2 and method_params(spec)["neuron_ratio"] == 0.5


def test_cli_repair_of_a_saved_vanilla_model(tmp_path):
    model = tmp_path / "van"
    r = runner.invoke(
        app,
        [
            "train",
            "--data",
            "adult",
            "--method",
            "vanilla",
            "--epochs",
            "3",
            "--out",
            str(model),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "repair",
            str(model),
            "--method",
            "runner",
            "--lam",
            "5",
            "--neuron_ratio",
            "0.5",
            "--epochs",
            "3",
            "--out",
            str(tmp_path / "fixed"),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout.strip().splitlines()[-1])
    # one seed (a seed costs 10 s here); measured at seeds 0-3: ΔDP 0.17-0.22 before, 0.022-0.034
    # after (at most 0.17 of before), so half of before holds with a wide margin
    assert rep["after"]["test"]["dp_gap"] < 0.5 * rep["before"]["test"]["dp_gap"], rep
    fixed = FittedModel.load(tmp_path / "fixed")
    assert fixed.method == "runner" and fixed.training["repaired_from"]["method"] == "vanilla"
    assert np.isclose(fixed.training["repair"]["params"]["lam"], 5.0)


def test_reproduction_writes_table_and_resumes(tmp_path, monkeypatch):
    from fairnn.experiments.reproductions import get_reproduction

    kwargs = dict(
        seeds=[0],
        datasets=["german"],
        methods=["vanilla", "runner"],
        modes=["dp", "eo"],
        train={"epochs": 2, "steps_per_epoch": 3},
    )
    report = get_reproduction("runner")(tmp_path, **kwargs)
    text = report.read_text()
    assert "| runner |" in text and "Credit ΔEO" in text
    assert (tmp_path / "runner-ap-vs-gap.png").exists()
    from fairnn.experiments import executors
    from fairnn.experiments.store import ResultStore

    with ResultStore(tmp_path / "results.db") as store:
        assert store.count() == 4

    def boom(*a, **k):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(executors, "execute", boom)
    assert get_reproduction("runner")(tmp_path, **kwargs).read_text() == text
