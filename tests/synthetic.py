"""A small synthetic dataset for unit tests of the model and training layers.

Named synthetic on purpose: it stands in for no real dataset. Group 1 has a
higher base rate and a shifted feature, so an unconstrained model shows a DP
gap that a penalty can shrink.
"""

from __future__ import annotations

import torch

from fairnn.datasets.core import Feature, FeatureMeta, GroupInfo, TabularData


def synthetic_data(n: int = 600, d: int = 5, seed: int = 0, n_groups: int = 2) -> TabularData:
    g = torch.Generator().manual_seed(seed)
    s = torch.randint(n_groups, (n,), generator=g)
    X = torch.randn(n, d, generator=g)
    X[:, 0] += 1.0 * s.float()
    logit = 1.5 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2]
    y = (torch.rand(n, generator=g) < torch.sigmoid(logit)).float()
    feats = FeatureMeta(
        tuple(Feature(f"x{i}", f"x{i}", "continuous", lower=-10, upper=10) for i in range(d))
    )
    groups = GroupInfo(("synthetic_group",), tuple(f"g{i}" for i in range(n_groups)))
    return TabularData(X, y, s, feats, groups, label="synthetic_label", name="synthetic")


def biased_arrays(n: int = 400, d: int = 4, seed: int = 0, shift: float = 1.5):
    """numpy ``(X, y, a)``: group ``a`` = 1 shifts feature 0, which drives the label, so an
    unconstrained model has a demographic-parity gap (for the interop and estimator tests)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n)
    X = rng.normal(size=(n, d))
    X[:, 0] += shift * a
    y = (rng.random(n) < 1 / (1 + np.exp(-(2 * X[:, 0] - X[:, 1])))).astype(int)
    return X, y, a


class TanhNet(torch.nn.Module):
    """A user's custom module (not a Sequential): what audit, ROC and export must accept."""

    def __init__(self, d: int = 5, width: int = 6) -> None:
        super().__init__()
        self.a, self.b = torch.nn.Linear(d, width), torch.nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(torch.tanh(self.a(x)))


def write_linear_model_file(folder, in_features: int, name: str = "net", seed: int = 0):
    """A user's one-layer model as files from outside fairnn: ``name.safetensors`` (weights
    of ``nn.Sequential(nn.Linear(in_features, 1))``, seeded) and ``name.json`` (its
    architecture). Returns the weights file's path."""
    import json
    from pathlib import Path

    from safetensors.torch import save_file
    from torch import nn

    folder = Path(folder)
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(in_features, 1))
    save_file(net.state_dict(), str(folder / f"{name}.safetensors"))
    arch = {
        "type": "sequential",
        "layers": [{"type": "Linear", "in_features": in_features, "out_features": 1}],
    }
    (folder / f"{name}.json").write_text(json.dumps(arch))
    return folder / f"{name}.safetensors"
