"""Models and differentiable penalties.

Importing this package imports every built-in architecture, and each registers itself in
:data:`fairnn.nn.registry.ARCHITECTURES` (Python runs this file before any
``fairnn.nn.*`` module, so model files can name any of them).
"""

from fairnn.nn import trigger, user  # noqa: F401  (register "reprogram" and "sequential")
from fairnn.nn.cnn import CNNConfig, SmallCNN
from fairnn.nn.factory import network_for_data
from fairnn.nn.fairbinn import FairBiNNNet
from fairnn.nn.mlp import MLP, MLPConfig
from fairnn.nn.random_features import RandomFeaturesConfig, RandomReLUFeatures
from fairnn.nn.registry import (
    ARCHITECTURES,
    architecture_of,
    build_network,
    register_architecture,
)
from fairnn.nn.resnet import PreActResNet, ResNetConfig, preact_resnet18
from fairnn.nn.text import TextClassifier, TextConfig

__all__ = [
    "ARCHITECTURES",
    "MLP",
    "CNNConfig",
    "FairBiNNNet",
    "MLPConfig",
    "PreActResNet",
    "RandomFeaturesConfig",
    "RandomReLUFeatures",
    "ResNetConfig",
    "SmallCNN",
    "TextClassifier",
    "TextConfig",
    "architecture_of",
    "build_network",
    "network_for_data",
    "preact_resnet18",
    "register_architecture",
]
