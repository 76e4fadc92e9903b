"""PreAct ResNet-18 with a width multiplier ``k`` (He et al. 2016, "Identity Mappings").

The four stages have ``k, 2k, 4k, 8k`` channels (``k = 64`` is the standard
ResNet-18), the parametrisation of Nakkiran et al.'s deep double descent that the
MinDiff code (Veldanda et al. 2023, ``celeba/architecture.py``) sweeps with
``k ∈ {5, 7, 9, 13, 19, 55, 64}``. The stem is a 3x3 convolution (stride 1: small
images); global average pooling feeds a linear layer to one logit.
``forward(x, return_hidden=True)`` also returns the pooled ``8k`` features.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from fairnn.errors import ConfigError
from fairnn.nn.registry import ARCHITECTURES


@dataclass(frozen=True)
class ResNetConfig:
    k: int = 64
    in_channels: int = 3
    blocks: tuple[int, ...] = (2, 2, 2, 2)
    out_features: int = 1

    def __post_init__(self) -> None:
        if self.k < 1 or self.in_channels < 1 or any(b < 1 for b in self.blocks):
            raise ConfigError(f"PreAct ResNet sizes must be >= 1, got {self}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["blocks"] = list(self.blocks)
        return {"type": "preact_resnet", **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ResNetConfig:
        d = {k: v for k, v in d.items() if k != "type"}
        if "blocks" in d:
            d["blocks"] = tuple(int(b) for b in d["blocks"])
        return cls(**d)


class PreActBlock(nn.Module):
    """BN → ReLU → conv3x3 → BN → ReLU → conv3x3, plus the (projected) identity."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.shortcut = (
            nn.Conv2d(c_in, c_out, 1, stride, bias=False) if stride != 1 or c_in != c_out else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(x))
        short = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(torch.relu(self.bn2(out)))
        return out + short


class PreActResNet(nn.Module):
    def __init__(
        self,
        k: int = 64,
        in_channels: int = 3,
        blocks: tuple[int, ...] = (2, 2, 2, 2),
        out_features: int = 1,
    ) -> None:
        super().__init__()
        self.config = ResNetConfig(int(k), int(in_channels), tuple(blocks), int(out_features))
        k = self.config.k
        self.stem = nn.Conv2d(self.config.in_channels, k, 3, 1, 1, bias=False)
        layers: list[nn.Module] = []
        c_in = k
        for i, n in enumerate(self.config.blocks):
            c_out = k * 2**i
            for j in range(n):
                layers.append(PreActBlock(c_in, c_out, 2 if (j == 0 and i > 0) else 1))
                c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(c_in)
        self.output = nn.Linear(c_in, self.config.out_features)

    @classmethod
    def from_config(cls, config: ResNetConfig | dict[str, Any]) -> PreActResNet:
        c = ResNetConfig.from_dict(config) if isinstance(config, dict) else config
        return cls(c.k, c.in_channels, c.blocks, c.out_features)

    def forward(
        self, x: torch.Tensor, return_hidden: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        h = torch.relu(self.bn(self.layers(self.stem(x)))).mean(dim=(2, 3))
        out = self.output(h)
        if self.config.out_features == 1:
            out = out.squeeze(-1)
        return (out, [h]) if return_hidden else out


ARCHITECTURES.register("preact_resnet", PreActResNet.from_config)


def preact_resnet18(k: int = 64, in_channels: int = 3) -> PreActResNet:
    """PreAct ResNet-18 of width ``k`` (stages ``k, 2k, 4k, 8k``)."""
    return PreActResNet(k, in_channels, (2, 2, 2, 2))
