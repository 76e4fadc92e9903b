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
