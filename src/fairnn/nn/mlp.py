"""The multilayer perceptron every tabular method trains.

The MLP exposes its hidden activations to the methods that need them (RUNNER's
neuron repair, FairNeuron's path analysis, certification) without copying the
model: ``forward(x, return_hidden=True)`` returns the post-activation output of
every hidden layer alongside the logits, and ``linear_layers`` lists the affine
maps in order, which is all a MILP encoding needs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any, Literal

import torch
from torch import nn

from fairnn.errors import ConfigError
from fairnn.nn.registry import ARCHITECTURES

Activation = Literal["relu", "sigmoid", "tanh"]
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def dense_parameters(widths: Sequence[int]) -> int:
    """Weights and biases of a chain of Linear layers through ``widths`` (exact, no overflow)."""
    return sum((int(a) + 1) * int(b) for a, b in pairwise(widths))


def physical_memory() -> int:
    """This machine's memory in bytes (1 TiB when the platform does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 1 << 40


def check_weight_memory(n_params: int, what: str, fix: str) -> None:
    """Refuse, before allocating, a network whose float32 weights alone exceed the memory.

    Training needs about four times the weights (gradients and Adam's two moments).
    """
    need, have = 4 * n_params, physical_memory()
    if need > have:
        raise ConfigError(
            f"{what} need ~{_bytes(need)} for the float32 weights alone ({n_params:.3g} "
            f"parameters; ~{_bytes(4 * need)} to train with Adam), more than this machine's "
            f"{_bytes(have)} of memory: {fix}"
        )


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000:
            return f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"


@dataclass(frozen=True)
class MLPConfig:
    """Architecture of an :class:`MLP`; saved in every model file's JSON sidecar."""

    in_features: int
    hidden: tuple[int, ...] = (200, 200)
    activation: Activation = "relu"
    dropout: float = 0.0
    out_features: int = 1

    def __post_init__(self) -> None:
        if self.in_features < 1:
            raise ConfigError(f"in_features must be >= 1, got {self.in_features}")
        if any(int(h) < 1 for h in self.hidden):
            raise ConfigError(f"hidden sizes must be >= 1, got {list(self.hidden)}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"activation {self.activation!r} is not one of {sorted(ACTIVATIONS)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        check_weight_memory(
            dense_parameters([self.in_features, *self.hidden, self.out_features]),
            f"hidden sizes {list(self.hidden)}",
            "use smaller --hidden sizes",
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return {"type": "mlp", **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MLPConfig:
        d = {k: v for k, v in d.items() if k != "type"}
        d["hidden"] = tuple(int(h) for h in d.get("hidden", ()))
        return cls(**d)


class MLP(nn.Module):
    """``in → hidden[0] → … → hidden[-1] → out`` with one activation throughout.

    The output is a logit (apply a sigmoid for a probability); for regression
    it is the prediction itself. Dropout, when set, follows every hidden
    activation.
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (200, 200),
        activation: Activation = "relu",
        dropout: float = 0.0,
        out_features: int = 1,
    ) -> None:
        super().__init__()
        self.config = MLPConfig(
            int(in_features),
            tuple(int(h) for h in hidden),
            activation,
            float(dropout),
            int(out_features),
        )
        sizes = [self.config.in_features, *self.config.hidden]
        self.hidden_layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        self.act = ACTIVATIONS[activation]()
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.output = nn.Linear(sizes[-1], self.config.out_features)

    @classmethod
    def from_config(cls, config: MLPConfig | dict[str, Any]) -> MLP:
        c = MLPConfig.from_dict(config) if isinstance(config, dict) else config
        return cls(c.in_features, c.hidden, c.activation, c.dropout, c.out_features)

    @classmethod
    def from_sequential(cls, seq: nn.Sequential) -> MLP:
        """An MLP with the weights of a user's ``nn.Sequential`` of Linear and activation layers.

        Accepts ``Linear`` layers separated by one activation type (ReLU, Sigmoid
        or Tanh) and optional ``Dropout``; the last layer must be ``Linear``.
        Anything else raises a :class:`ConfigError` naming the layer.
        """
        names = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
        linears: list[nn.Linear] = []
        acts: set[str] = set()
        dropout = 0.0
        for i, layer in enumerate(seq):
            if isinstance(layer, nn.Linear):
                linears.append(layer)
            elif type(layer) in names:
                acts.add(names[type(layer)])
            elif isinstance(layer, nn.Dropout):
                dropout = float(layer.p)
            else:
                raise ConfigError(
                    f"layer {i} ({type(layer).__name__}) is not supported; an MLP here is Linear "
                    "layers with ReLU, Sigmoid or Tanh between them (and optional Dropout)"
                )
        if not linears or not isinstance(seq[-1], nn.Linear):
            raise ConfigError("the module must end with a Linear layer that outputs the logit")
        if len(acts) > 1:
            raise ConfigError(f"the module mixes activations {sorted(acts)}; fairnn's MLP uses one")
        for a, b in pairwise(linears):
            if a.out_features != b.in_features:
                raise ConfigError(
                    f"Linear layers do not chain: {a.out_features} outputs feed {b.in_features} inputs"
                )
        model = cls(
            linears[0].in_features,
            [lay.out_features for lay in linears[:-1]],
            activation=acts.pop() if acts else "relu",  # type: ignore[arg-type]
            dropout=dropout,
            out_features=linears[-1].out_features,
        )
        with torch.no_grad():
            for mine, theirs in zip(model.linear_layers, linears, strict=True):
                mine.weight.copy_(theirs.weight)
                mine.bias.copy_(theirs.bias)
        return model

    @property
    def linear_layers(self) -> list[nn.Linear]:
        """The affine maps in order: hidden layers, then the output layer."""
        return [*self.hidden_layers, self.output]

    def forward(
        self, x: torch.Tensor, return_hidden: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        hidden: list[torch.Tensor] = []
        h = x
        for layer in self.hidden_layers:
            h = self.act(layer(h))
            if return_hidden:
                hidden.append(h)
            h = self.drop(h)
        out = self.output(h)
        if self.config.out_features == 1:
            out = out.squeeze(-1)
        return (out, hidden) if return_hidden else out


ARCHITECTURES.register("mlp", MLP.from_config)
