"""Certifiable training: L1 and ReLU stability as regularizers of the one training loop
(``TrainConfig.l1``, ``relu_stability``; Xiao et al., ICLR 2019, §3.3)."""

from __future__ import annotations

import pytest
import torch

from fairnn.errors import ConfigError
from fairnn.methods import make_method
from fairnn.training import TrainConfig
from fairnn.training.regularizers import unstable_share
from tests.synthetic import synthetic_data


def _unstable(model, X: torch.Tensor, eps: float) -> float:
    """Share of hidden neurons whose interval over the ℓ∞ ball around each row straddles 0
    (written apart from the plugin, as the certifier's interval bounds are)."""
    lo_x, hi_x = X - eps, X + eps
    n = tot = 0
    with torch.no_grad():
        for layer in model.hidden_layers:
            W, b = layer.weight, layer.bias
            lo = lo_x @ W.clamp(min=0).T + hi_x @ W.clamp(max=0).T + b
            hi = hi_x @ W.clamp(min=0).T + lo_x @ W.clamp(max=0).T + b
            n += int(((lo < 0) & (hi > 0)).sum())
            tot += lo.numel()
            lo_x, hi_x = model.act(lo), model.act(hi)
    return n / tot


@pytest.fixture(scope="module")
def data():
    return synthetic_data(600, 5, seed=0), synthetic_data(300, 5, seed=1)


def test_relu_stability_and_l1_do_what_they_say_at_equal_accuracy(data):
    # measured over seeds 0-2 (8 epochs, 200-200 MLP): unstable share 0.17-0.22 without,
    # 0.08-0.12 with relu_stability=5 (ratio 0.37-0.55); Σ|W| 1,674-1,690 without,
    # 351-734 with l1=1e-3 (ratio 0.21-0.44); validation accuracy within 0.02
    tr, va = data
    for seed in range(3):
        fits = {
            name: make_method("vanilla").fit(
                tr, va, config=TrainConfig(epochs=8, batch_size=64, progress=False, **kw), seed=seed
            )
            for name, kw in (
                ("plain", {}),
                ("stable", {"relu_stability": 5.0, "stability_eps": 0.05}),
                ("l1", {"l1": 1e-3}),
            )
        }
        unstable = {k: _unstable(m.network, va.X, 0.05) for k, m in fits.items()}
        # the library's count (the benchmark's) agrees with this independent one
        assert unstable_share(fits["plain"].network, va.X, 0.05) == pytest.approx(
            unstable["plain"], abs=1e-12
        )
        norm = {
            k: float(sum(layer.weight.detach().abs().sum() for layer in
                         (*m.network.hidden_layers, m.network.output)))
            for k, m in fits.items()
        }  # fmt: skip
        acc = {k: m.evaluate(va)["accuracy"] for k, m in fits.items()}
        assert unstable["stable"] < 0.75 * unstable["plain"], (seed, unstable)
        assert norm["l1"] < 0.6 * norm["plain"], (seed, norm)
        assert min(acc["stable"], acc["l1"]) > acc["plain"] - 0.05, (seed, acc)
        assert fits["stable"].training["config"]["relu_stability"] == 5.0


def test_certifiable_terms_need_an_mlp(data):
    tr, va = data
    with pytest.raises(ConfigError, match="need fairnn's MLP"):
        make_method("reprogram", lam=1.0).fit(
            tr, va, config=TrainConfig(epochs=1, progress=False, l1=1e-3), seed=0
        )


def test_the_command_line_trains_with_the_certifiable_terms(tmp_path):
    import json

    from typer.testing import CliRunner

    from fairnn.cli import app

    args = ["train", "--data", "german", "--epochs", "1", "--hidden", "16", "--l1", "1e-4",
            "--relu-stability", "1", "--stability-eps", "0.1", "--out", str(tmp_path / "m")]  # fmt: skip
    res = CliRunner().invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    cfg = json.loads((tmp_path / "m" / "model.json").read_text())["training"]["config"]
    assert (cfg["l1"], cfg["relu_stability"], cfg["stability_eps"]) == (1e-4, 1.0, 0.1)
    res = CliRunner().invoke(app, [*args[:-2], "--relu-stability", "-1"])
    assert res.exit_code == 2 and "relu_stability" in res.output, res.output
