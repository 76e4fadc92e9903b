"""Models and differentiable penalties."""

from fairnn.nn.mlp import MLP, MLPConfig
from fairnn.nn.registry import architecture_of, build_network, register_architecture

__all__ = ["MLP", "MLPConfig", "architecture_of", "build_network", "register_architecture"]
