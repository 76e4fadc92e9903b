"""The FairBiNN network: accuracy layers (the leader) with a block of fairness layers (the follower).

FairBiNN (Yazdani-Jahromi et al., NeurIPS 2024, arXiv 2410.16432) splits a
feed-forward network's parameters into θ_a, the *accuracy layers* trained on
the task loss, and θ_f, a block of *fairness layers* inserted after the
``fairness_position - 1``-th accuracy layer and trained on the fairness loss.

Sizes follow the official command line (``--acc_layers``, ``--fairness_layers``,
``--fairness_position``), with the input width taken from the data:

* ``acc_layers`` are the output widths of the accuracy layers, the last one
  the output (1, a logit): ``acc_layers=[128, 128, 1]`` on 101 inputs gives
  ``101 → 128 → 128 → 1``;
* ``fairness_layers`` are the widths through the fairness block, input
  included (as in the official code): ``[128, 128]`` is one ``128 → 128``
  layer. Its first width must equal the width at ``fairness_position``;
* ``fairness_position`` ``p`` puts the block after the first ``p - 1``
  accuracy layers (``p = 1``: on the input itself).

The official code counts the input width as ``acc_layers[0]`` and asserts it;
:func:`resolve_sizes` accepts that form too when it is the only consistent
reading (``--acc_layers 101 128 128 1`` on 101 inputs).

Every hidden layer is followed by ReLU (fairness layers included, as in the
official ``linear`` mode); the output is a logit. ``forward(x,
return_hidden=True)`` returns the post-activation output of every hidden layer;
``hidden[fairness_index]`` is the fairness block's representation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import torch
from torch import nn

from fairnn.errors import ConfigError
from fairnn.nn.mlp import check_weight_memory, dense_parameters
from fairnn.nn.registry import ARCHITECTURES


def resolve_sizes(
    in_features: int,
    acc_layers: Sequence[int] | None,
    fairness_layers: Sequence[int] | None,
    fairness_position: int,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(sizes, fairness_sizes)``: every width of the accuracy path, input first, and the block's.

    ``acc_layers=None`` gives the official Adult default scaled to the input,
    three hidden layers as wide as the input then the output (``d, d, d, 1``);
    ``fairness_layers=None`` one fairness layer as wide as its position.
    """
    d = int(in_features)
    if d < 1:
        raise ConfigError(f"the FairBiNN network needs at least one input feature, got {d}")
    acc = [d, d, d, 1] if acc_layers is None else [int(a) for a in acc_layers]
    p = int(fairness_position)
    if not acc or any(a < 1 for a in acc):
        raise ConfigError(f"acc_layers must be positive widths, got {acc}")
    if acc[-1] != 1:
        raise ConfigError(
            f"the last of acc_layers is the output and must be 1 (a logit), got acc_layers={acc}"
        )
    fair = None if fairness_layers is None else [int(f) for f in fairness_layers]
    if fair is not None and (len(fair) < 2 or any(f < 1 for f in fair)):
        raise ConfigError(
            "fairness_layers lists the widths through the fairness block, its input "
            f"included, so it needs at least two positive sizes (e.g. 128 128), got {fair}"
        )

    def fits(sizes: list[int]) -> bool:
        if not 1 <= p <= len(sizes) - 1:
            return False
        return fair is None or fair[0] == sizes[p - 1]

    inferred = [d, *acc]
    official = acc  # the official form: acc_layers[0] is the input width
    if fits(inferred):
        sizes = inferred
    elif len(acc) >= 2 and acc[0] == d and fits(official):
        sizes = official
    else:
        if not 1 <= p <= len(inferred) - 1:
            raise ConfigError(
                f"fairness_position must be between 1 and {len(inferred) - 1} for "
                f"acc_layers={acc} (the block goes after the first p - 1 accuracy layers), got {p}"
            )
        assert fair is not None
        raise ConfigError(
            f"fairness_layers={fair} starts at width {fair[0]}, but at fairness_position {p} the "
            f"network is {inferred[p - 1]} wide (input {d}, then acc_layers={acc}); make the first "
            f"fairness width {inferred[p - 1]} or move the block"
        )
    w = sizes[p - 1]
    fair_sizes = (w, w) if fair is None else tuple(fair)
    return tuple(sizes), fair_sizes


@dataclass(frozen=True)
class FairBiNNConfig:
    """Architecture of a :class:`FairBiNNNet`; saved in every model file's JSON sidecar.

    ``sizes`` holds every width of the accuracy path (input first, output 1 last);
    ``fairness_sizes`` the widths through the fairness block, which sits after
    accuracy layer ``fairness_position - 1``.
    """

    sizes: tuple[int, ...]
    fairness_sizes: tuple[int, ...]
    fairness_position: int

    def __post_init__(self) -> None:
        p = self.fairness_position
        if len(self.sizes) < 2 or self.sizes[-1] != 1 or any(s < 1 for s in self.sizes):
            raise ConfigError(f"invalid FairBiNN sizes {list(self.sizes)}")
        if not 1 <= p <= len(self.sizes) - 1:
            raise ConfigError(f"fairness_position {p} is outside 1..{len(self.sizes) - 1}")
        if len(self.fairness_sizes) < 2 or self.fairness_sizes[0] != self.sizes[p - 1]:
            raise ConfigError(
                f"fairness sizes {list(self.fairness_sizes)} must start at the width "
                f"{self.sizes[p - 1]} of position {p}"
            )
        after = [self.fairness_sizes[-1], *self.sizes[p:]]
        check_weight_memory(
            sum(map(dense_parameters, (self.sizes[:p], self.fairness_sizes, after))),
            f"FairBiNN sizes {list(self.sizes)} with fairness block {list(self.fairness_sizes)}",
            "use smaller --acc_layers and --fairness_layers sizes",
        )

    @property
    def in_features(self) -> int:
        return self.sizes[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "fairbinn",
            "sizes": list(self.sizes),
            "fairness_sizes": list(self.fairness_sizes),
            "fairness_position": self.fairness_position,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FairBiNNConfig:
        return cls(
            tuple(int(s) for s in d["sizes"]),
            tuple(int(s) for s in d["fairness_sizes"]),
            int(d["fairness_position"]),
        )


class FairBiNNNet(nn.Module):
    """``x → accuracy layers 1..p-1 → fairness block → remaining accuracy layers → logit``.

    Build one from the command-line sizes with :meth:`from_sizes`, or from a saved
    architecture with :meth:`from_config`.
    """

    def __init__(self, config: FairBiNNConfig) -> None:
        super().__init__()
        self.config = config
        p, sizes = config.fairness_position, list(config.sizes)
        # accuracy layers before the block: sizes[0] → … → sizes[p-1]
        self.acc_before = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes[:p]))
        self.fairness = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(config.fairness_sizes))
        # accuracy layers after the block start from the block's output width
        after = [config.fairness_sizes[-1], *sizes[p:]]
        self.acc_after = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(after))
        self.act = nn.ReLU()

    @classmethod
    def from_sizes(
        cls,
        in_features: int,
        acc_layers: Sequence[int] | None = None,
        fairness_layers: Sequence[int] | None = None,
        fairness_position: int = 2,
    ) -> FairBiNNNet:
        sizes, fair = resolve_sizes(in_features, acc_layers, fairness_layers, fairness_position)
        return cls(FairBiNNConfig(sizes, fair, int(fairness_position)))

    @classmethod
    def from_config(cls, config: FairBiNNConfig | dict[str, Any]) -> FairBiNNNet:
        return cls(FairBiNNConfig.from_dict(config) if isinstance(config, dict) else config)

    # -- the parameter split ------------------------------------------------
    def accuracy_parameters(self) -> Iterator[nn.Parameter]:
        """θ_a, the leader: every accuracy layer, before and after the block."""
        yield from self.acc_before.parameters()
        yield from self.acc_after.parameters()

    def fairness_parameters(self) -> Iterator[nn.Parameter]:
        """θ_f, the follower: the fairness block."""
        yield from self.fairness.parameters()

    @property
    def linear_layers(self) -> list[nn.Linear]:
        """The affine maps in forward order (the last is the output layer)."""
        return [*self.acc_before, *self.fairness, *self.acc_after]  # type: ignore[list-item]

    @property
    def fairness_index(self) -> int:
        """Index in ``hidden`` of the fairness block's output (its representation)."""
        return len(self.acc_before) + len(self.fairness) - 1

    def forward(
        self, x: torch.Tensor, return_hidden: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        hidden: list[torch.Tensor] = []
        layers = self.linear_layers
        h = x
        for layer in layers[:-1]:
            h = self.act(layer(h))
            if return_hidden:
                hidden.append(h)
        out = layers[-1](h).squeeze(-1)
        return (out, hidden) if return_hidden else out


ARCHITECTURES.register("fairbinn", FairBiNNNet.from_config)
