"""Models and differentiable penalties."""

from fairnn.nn.cnn import CNNConfig, SmallCNN
from fairnn.nn.fairbinn import FairBiNNNet
from fairnn.nn.mlp import MLP, MLPConfig
from fairnn.nn.random_features import RandomFeaturesConfig, RandomReLUFeatures
from fairnn.nn.registry import (
    architecture_of,
    build_network,
    network_for_data,
    register_architecture,
)
from fairnn.nn.resnet import PreActResNet, ResNetConfig, preact_resnet18
from fairnn.nn.text import TextClassifier, TextConfig

__all__ = [
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
