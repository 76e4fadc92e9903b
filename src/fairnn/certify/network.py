"""What certification needs from a network: its affine layers, activation and output head.

The certified function is ``f(x) = offset + scale · head(z(x))`` where ``z`` is the
network's output logit (an MLP: affine layers with one hidden activation) and
``head`` is ``sigmoid`` (a binary classifier's probability, Benussi et al.'s
``f``), ``tanh`` or ``identity`` (a logit or a regression output). The NNFF seed's
Boston model ``5 + 45 · σ(w·x + b)`` is a network without hidden layers, a
sigmoid head, offset 5 and scale 45 (:class:`fairnn.papers.nnff.model.SigmoidUnit`).

:func:`as_network` turns a fairnn model (a :class:`~fairnn.nn.MLP`, a saved
model, a user's ``nn.Sequential``) into a :class:`CertNet`: the :class:`NetSpec`
the MILP encodes, plus the *real* network's forward pass in float64, on which
every witness is re-evaluated.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from fairnn.certify.ops import ACTIVATIONS, activation
from fairnn.errors import InvalidValueError
from fairnn.nn.mlp import MLP

Head = Literal["sigmoid", "tanh", "identity"]
Output = Literal["probability", "logit", "value"]


@dataclass(frozen=True)
class NetSpec:
    """Affine layers ``(W (out × in), b)`` in order; the last one gives the logit ``z``."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activation: str = "relu"
    head: Head = "sigmoid"
    head_scale: float = 1.0
    head_offset: float = 0.0

    def __post_init__(self) -> None:
        if not (self.activation in ACTIVATIONS and ACTIVATIONS.get(self.activation).hidden):
            raise InvalidValueError(f"activation {self.activation!r} cannot be certified")
        if not (self.head in ACTIVATIONS and ACTIVATIONS.get(self.head).head):
            raise InvalidValueError(f"output head {self.head!r} cannot be certified")
        if self.weights[-1].shape[0] != 1:
            raise InvalidValueError(
                f"certification needs one output; the network has {self.weights[-1].shape[0]}"
            )

    @property
    def in_features(self) -> int:
        return int(self.weights[0].shape[1])

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(int(W.shape[0]) for W in self.weights[:-1])

    def logit(self, X: np.ndarray) -> np.ndarray:
        """The logit ``z`` in float64 numpy (a second implementation, for tests)."""
        h = np.atleast_2d(np.asarray(X, dtype=np.float64))
        return _logit(h, self.weights, self.biases, activation(self.activation).value)

    def apply_head(self, z: np.ndarray) -> np.ndarray:
        return self.head_offset + self.head_scale * activate(self.head, np.asarray(z, np.float64))

    def torch_function(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """``f`` as a differentiable torch function of a float64 batch (the pair search's)."""
        logit = self.torch_logit()
        head = activation(self.head).torch_value
        offset, scale = self.head_offset, self.head_scale

        def f(x: torch.Tensor) -> torch.Tensor:
            return offset + scale * head(logit(x))

        return f

    def torch_logit(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """The logit ``z`` as a differentiable torch function of a float64 batch."""
        Ws = [torch.as_tensor(W) for W in self.weights]
        bs = [torch.as_tensor(b) for b in self.biases]
        act = activation(self.activation).torch_value

        def z(x: torch.Tensor) -> torch.Tensor:
            return _logit(x, Ws, bs, act)

        return z

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.in_features,
            "hidden": list(self.hidden),
            "activation": self.activation,
            "head": self.head,
            "head_scale": self.head_scale,
            "head_offset": self.head_offset,
            "neurons": int(sum(self.hidden)),
        }


def _logit(h: Any, weights: Sequence[Any], biases: Sequence[Any], act: Callable) -> Any:
    """The affine layers with ``act`` between them, on a batch of numpy rows or tensors."""
    for W, b in zip(weights[:-1], biases[:-1], strict=True):
        h = act(h @ W.T + b)
    return (h @ weights[-1].T + biases[-1])[:, 0]


def activate(kind: str, x: np.ndarray) -> np.ndarray:
    """The registered activation ``kind`` (:mod:`fairnn.certify.ops`) at ``x``, in numpy."""
    return activation(kind).value(x)


@dataclass
class CertNet:
    """A :class:`NetSpec` and the real network's ``f`` (float64 torch forward)."""

    spec: NetSpec
    forward: Callable[[np.ndarray], np.ndarray]
    output: Output = "probability"

    def f(self, X: np.ndarray) -> np.ndarray:
        return self.forward(np.atleast_2d(np.asarray(X, dtype=np.float64)))


def _torch_forward(module: nn.Module, post: Callable[[torch.Tensor], torch.Tensor]):
    real = copy.deepcopy(module).double().eval().cpu()

    @torch.no_grad()
    def fwd(X: np.ndarray) -> np.ndarray:
        out = post(real(torch.as_tensor(X, dtype=torch.float64)))
        return out.reshape(-1).numpy().astype(np.float64)

    return fwd


def _mlp_spec(mlp: MLP, head: Head) -> NetSpec:
    if mlp.config.out_features != 1:
        raise InvalidValueError("certification needs a network with one output")
    Ws = tuple(lay.weight.detach().double().cpu().numpy() for lay in mlp.linear_layers)
    bs = tuple(lay.bias.detach().double().cpu().numpy() for lay in mlp.linear_layers)
    return NetSpec(Ws, bs, mlp.config.activation, head)


def as_network(model: Any, *, task: str | None = None, output: str | None = None) -> CertNet:
    """A :class:`CertNet` from a fairnn model, an MLP, an ``nn.Sequential`` or a CertNet.

    ``output`` is ``probability`` (σ of the logit; default for a binary task),
    ``logit`` (the logit itself) or ``value`` (a regression output; default for
    regression). A ``Sequential`` that ends with ``Sigmoid`` already outputs a
    probability. A module with a ``certify_spec()`` method (NNFF's ``SigmoidUnit``)
    describes itself; its forward must return ``f``.
    """
    if isinstance(model, CertNet):
        return model
    if hasattr(model, "network") and hasattr(model, "features"):  # a FittedModel
        task = task or getattr(model, "task", None)
        model = model.network
    if hasattr(model, "certify_spec"):
        spec = model.certify_spec()
        return CertNet(spec, _torch_forward(model, lambda t: t), "value")
    if output is None:
        output = "value" if task == "regression" else "probability"
    if output not in ("probability", "logit", "value"):
        raise InvalidValueError(f"output must be probability, logit or value, got {output!r}")
    if isinstance(model, nn.Sequential):
        layers = list(model)
        last = layers[-1] if layers else None
        if isinstance(last, nn.Sigmoid | nn.Tanh):
            head: Head = "sigmoid" if isinstance(last, nn.Sigmoid) else "tanh"
            mlp = MLP.from_sequential(nn.Sequential(*layers[:-1]))
            return CertNet(_mlp_spec(mlp, head), _torch_forward(model, lambda t: t), "probability")
        mlp = MLP.from_sequential(model)
        model = mlp
    if not isinstance(model, MLP):
        raise InvalidValueError(
            f"cannot certify a {type(model).__name__}: pass a fairnn MLP, a saved fairnn model, "
            "an nn.Sequential of Linear and ReLU/Sigmoid/Tanh layers, or a module with certify_spec()"
        )
    if output == "probability":
        return CertNet(_mlp_spec(model, "sigmoid"), _torch_forward(model, torch.sigmoid), output)
    return CertNet(_mlp_spec(model, "identity"), _torch_forward(model, lambda t: t), output)  # type: ignore[arg-type]
