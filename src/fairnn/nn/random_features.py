"""Random ReLU features with a learned logistic-regression head.

The model of the MinDiff over-parameterization study (Veldanda et al., TMLR 2023, §4,
Waterbirds; the official ``waterbirds/min_diff.py``): fixed input features x, a fixed
random map φ(x) = max(xW, 0) whose N columns are Gaussian vectors normalised to unit
length, and a logistic regression on φ(x); only the last layer is learned. The width N
moves the model from under- to over-parameterized (N > number of training rows lets it
interpolate).

Images are turned into fixed features by ``pool × pool`` average pooling and flattening
(the paper uses ImageNet ResNet-18 features, which fairnn's offline stand-ins do not
have; docs/methods/mindiff.md). ``W`` is a buffer, saved with the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from fairnn.errors import ConfigError
from fairnn.nn.mlp import check_weight_memory
from fairnn.nn.registry import ARCHITECTURES


@dataclass(frozen=True)
class RandomFeaturesConfig:
    in_shape: tuple[int, ...]
    width: int = 1000
    pool: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.width < 1:
            raise ConfigError(f"random features width must be >= 1, got {self.width}")
        if self.pool < 1:
            raise ConfigError(f"random features pool must be >= 1, got {self.pool}")
        if len(self.in_shape) not in (1, 3):
            raise ConfigError(
                f"random features take (features,) or (channels, height, width) inputs, "
                f"got shape {self.in_shape}"
            )
        check_weight_memory(
            (self.in_features + 1) * self.width + 1,
            f"random features of width {self.width} on {self.in_features} inputs",
            "use a smaller --width",
        )

    @property
    def in_features(self) -> int:
        if len(self.in_shape) == 1:
            return int(self.in_shape[0])
        c, h, w = self.in_shape
        return int(c * (h // self.pool) * (w // self.pool))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["in_shape"] = list(self.in_shape)
        return {"type": "random_features", **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RandomFeaturesConfig:
        d = {k: v for k, v in d.items() if k != "type"}
        d["in_shape"] = tuple(int(v) for v in d["in_shape"])
        return cls(**d)


class RandomReLUFeatures(nn.Module):
    """``logit = head(max(x W, 0))`` with a fixed W of unit-norm Gaussian columns."""

    def __init__(self, config: RandomFeaturesConfig) -> None:
        super().__init__()
        self.config = config
        gen = torch.Generator().manual_seed(config.seed)
        W = torch.randn(config.in_features, config.width, generator=gen)
        self.register_buffer("W", W / W.norm(dim=0, keepdim=True).clamp_min(1e-12))
        self.head = nn.Linear(config.width, 1)

    @classmethod
    def from_config(cls, config: RandomFeaturesConfig | dict[str, Any]) -> RandomReLUFeatures:
        c = RandomFeaturesConfig.from_dict(config) if isinstance(config, dict) else config
        return cls(c)

    @classmethod
    def for_data(cls, data: Any, width: int, pool: int | None = None) -> RandomReLUFeatures:
        """For tabular rows ``(n, d)`` or images ``(n, C, H, W)`` (pooled 2×2 by default),
        with W drawn from torch's global generator (seeded by the method's ``fit``)."""
        shape = tuple(int(v) for v in data.X.shape[1:])
        if pool is None:
            pool = 2 if len(shape) == 3 and min(shape[1:]) >= 28 else 1
        seed = int(torch.randint(0, 2**31 - 1, (1,)))
        return cls(RandomFeaturesConfig(shape, int(width), int(pool), seed))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 4 and self.config.pool > 1:
            x = nn.functional.avg_pool2d(x, self.config.pool)
        return torch.relu(x.reshape(x.shape[0], -1) @ self.W)

    def forward(
        self, x: torch.Tensor, return_hidden: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        return self.forward_precomputed(self.features(x), return_hidden)

    # the training loop maps the training inputs through the frozen part once
    def precompute(self, x: torch.Tensor) -> torch.Tensor:
        """φ(x), the fixed random features (no parameters are learned here)."""
        return self.features(x)

    def forward_precomputed(
        self, h: torch.Tensor, return_hidden: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """The learned logistic regression on precomputed features ``h = φ(x)``."""
        out = self.head(h).squeeze(-1)
        return (out, [h]) if return_hidden else out


ARCHITECTURES.register("random_features", RandomReLUFeatures.from_config)
