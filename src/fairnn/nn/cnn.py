"""A small CNN for 28x28 (or larger) images that trains on CPU cores in minutes.

``conv3x3 → ReLU → maxpool`` blocks of ``width, 2·width, …`` channels, adaptive average
pooling to a 4x4 map (so any image size works), a hidden linear layer of ``hidden``
ReLU units, then one logit. ``forward(x, return_hidden=True)`` also returns the hidden
features (the representation adversaries and MinDiff read).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from fairnn.errors import ConfigError
from fairnn.nn.registry import ARCHITECTURES


@dataclass(frozen=True)
class CNNConfig:
    in_channels: int = 3
    width: int = 16
    blocks: int = 2
    dropout: float = 0.0
    out_features: int = 1
    hidden: int = 64

    def __post_init__(self) -> None:
        if self.in_channels < 1 or self.width < 1 or self.blocks < 1 or self.hidden < 1:
            raise ConfigError(f"CNN sizes must be >= 1, got {self}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "cnn", **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CNNConfig:
        return cls(**{k: v for k, v in d.items() if k != "type"})


class SmallCNN(nn.Module):
    def __init__(
        self,
        in_channels: int = 3,
        width: int = 16,
        blocks: int = 2,
        dropout: float = 0.0,
        out_features: int = 1,
        hidden: int = 64,
    ) -> None:
        super().__init__()
        self.config = CNNConfig(
            int(in_channels),
            int(width),
            int(blocks),
            float(dropout),
            int(out_features),
            int(hidden),
        )
        layers: list[nn.Module] = []
        c_in = self.config.in_channels
        for b in range(self.config.blocks):
            c_out = self.config.width * 2**b
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c_out
        layers.append(nn.AdaptiveAvgPool2d(4))
        self.features = nn.Sequential(*layers)
        self.hidden = nn.Sequential(
            nn.Flatten(), nn.Linear(c_in * 16, self.config.hidden), nn.ReLU()
        )
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.output = nn.Linear(self.config.hidden, self.config.out_features)

    @classmethod
    def from_config(cls, config: CNNConfig | dict[str, Any]) -> SmallCNN:
        c = CNNConfig.from_dict(config) if isinstance(config, dict) else config
        return cls(c.in_channels, c.width, c.blocks, c.dropout, c.out_features, c.hidden)

    def forward(
        self, x: torch.Tensor, return_hidden: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        h = self.hidden(self.features(x))
        out = self.output(self.drop(h))
        if self.config.out_features == 1:
            out = out.squeeze(-1)
        return (out, [h]) if return_hidden else out


ARCHITECTURES.register("cnn", SmallCNN.from_config)
