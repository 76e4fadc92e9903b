"""Certification ops: every registered activation passes ``check_activation``, and the check
catches a broken one; the registries and ``CertifyConfig`` refuse bad names and values."""

from __future__ import annotations

import numpy as np
import pytest

from fairnn.certify import CertifyConfig, NetSpec
from fairnn.certify.ops import ACTIVATIONS, NeuronLayer, ReLU, Sigmoid
from fairnn.certify.ops.check import check_activation
from fairnn.certify.solvers import SOLVERS
from fairnn.errors import ConfigError, InvalidValueError


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_every_registered_activation_passes_the_contract(name):
    check_activation(ACTIVATIONS.get(name))


class _LooseInterval(ReLU):
    def interval(self, L, U):
        return self.value(L), self.value(L)


class _WrongDerivative(Sigmoid):
    def derivative(self, z):
        return 1.01 * super().derivative(z)


class _ShortBigM(ReLU):
    """Big-M with half the upper bound: cuts off true points with φ > U/2."""

    def encode(self, layer: NeuronLayer) -> list[np.ndarray]:
        half = NeuronLayer(**{**vars(layer), "U": layer.U / 2})
        out = super().encode(half)
        layer.fillers[:] = half.fillers
        return out


@pytest.mark.parametrize(
    ("op", "what"),
    [(_LooseInterval(), "interval"), (_WrongDerivative(), "derivative"), (_ShortBigM(), "encode")],
)
def test_check_activation_catches_a_broken_op(op, what):
    with pytest.raises(AssertionError, match=what):
        check_activation(op)


def test_registries_name_the_known_entries():
    assert ACTIVATIONS.names() == ["identity", "relu", "sigmoid", "tanh"]
    with pytest.raises(InvalidValueError, match="Did you mean 'relu'"):
        ACTIVATIONS.get("reLu")
    assert SOLVERS.names() == ["cbc", "highs"]
    with pytest.raises(ConfigError, match="unknown solver 'gurobi'"):
        SOLVERS.get("gurobi")


def test_netspec_accepts_only_hidden_activations_and_heads():
    W, b = (np.ones((1, 2)),), (np.zeros(1),)
    with pytest.raises(InvalidValueError, match="activation 'identity' cannot be certified"):
        NetSpec(W, b, activation="identity")
    with pytest.raises(InvalidValueError, match="output head 'relu' cannot be certified"):
        NetSpec(W, b, head="relu")  # type: ignore[arg-type]
    assert NetSpec(W, b, activation="tanh", head="identity").head == "identity"


def test_certify_config_validates_and_fills_the_kind_defaults():
    cfg = CertifyConfig(eps=0.1)
    assert cfg.resolve("global").time_limit == 60.0 and cfg.resolve("global").bounds == "lp"
    assert cfg.resolve("local").time_limit == 10.0 and cfg.resolve("local").bounds == "symbolic"
    assert CertifyConfig.of(cfg, {"time_limit": 5}).time_limit == 5.0
    with pytest.raises(InvalidValueError, match="'eps'"):
        CertifyConfig(eps=float("inf"))
    with pytest.raises(ConfigError, match="'time_limit'"):
        CertifyConfig(eps=0.1, time_limit=0)
    with pytest.raises(ConfigError, match="unknown solver"):
        CertifyConfig(eps=0.1, solver="cplex")
    with pytest.raises(ConfigError, match="'tim_limit'"):
        CertifyConfig(eps=0.1, tim_limit=3)
