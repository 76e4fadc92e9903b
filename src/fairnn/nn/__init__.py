"""Models and differentiable penalties."""

from fairnn.nn.fairbinn import FairBiNNNet
from fairnn.nn.mlp import MLP, MLPConfig
from fairnn.nn.registry import architecture_of, build_network, register_architecture

__all__ = [
    "MLP",
    "FairBiNNNet",
    "MLPConfig",
    "architecture_of",
    "build_network",
    "register_architecture",
]
