"""Bring your own model: a user's PyTorch module, or a model file written outside fairnn.

A *model file* is the module's ``state_dict`` saved with safetensors plus a small
JSON architecture spec (nothing is ever unpickled)::

    import json, safetensors.torch
    safetensors.torch.save_file(model.state_dict(), "model.safetensors")
    json.dump({"type": "sequential", "layers": [
        {"type": "Linear", "in_features": 12, "out_features": 32}, {"type": "ReLU"},
        {"type": "Linear", "in_features": 32, "out_features": 1}]}, open("model.json", "w"))

``{"type": "sequential", "layers": [...]}`` rebuilds an ``nn.Sequential`` layer by layer
(the state-dict keys are then ``0.weight``, ``0.bias``, ``2.weight``... as PyTorch
writes them); each layer is ``{"type": NAME, **constructor arguments}`` with NAME one
of :data:`LAYERS`. Any architecture fairnn registers (``{"type": "mlp", ...}``, the
CNNs) may be named too. An optional ``"features"`` list names the input columns in order.

* :func:`load_user_model` reads the two files into a module, with an error for each
  way a file from elsewhere can be wrong (a pickle, another format, keys or shapes
  that do not fit the spec, an unknown layer).
* :func:`as_mlp` turns a module into fairnn's :class:`~fairnn.nn.mlp.MLP` (what
  certification and RUNNER repair need) or raises an error that names the first
  layer it cannot take.
* :class:`SequentialNet` is the rebuilt module; it outputs one logit per row and is
  a registered architecture (``"sequential"``), so a repaired user model saves and loads.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fairnn.errors import ConfigError, ModelFileError
from fairnn.nn.mlp import MLP
from fairnn.nn.registry import ARCHITECTURES, build_network

#: layer name -> (class, constructor arguments a spec may give)
LAYERS: dict[str, tuple[type[nn.Module], tuple[str, ...]]] = {
    "Linear": (nn.Linear, ("in_features", "out_features", "bias")),
    "ReLU": (nn.ReLU, ()),
    "LeakyReLU": (nn.LeakyReLU, ("negative_slope",)),
    "Sigmoid": (nn.Sigmoid, ()),
    "Tanh": (nn.Tanh, ()),
    "ELU": (nn.ELU, ("alpha",)),
    "GELU": (nn.GELU, ()),
    "SiLU": (nn.SiLU, ()),
    "Softplus": (nn.Softplus, ("beta", "threshold")),
    "Dropout": (nn.Dropout, ("p",)),
    "BatchNorm1d": (nn.BatchNorm1d, ("num_features", "eps", "momentum", "affine")),
    "LayerNorm": (nn.LayerNorm, ("normalized_shape", "eps", "elementwise_affine")),
    "Identity": (nn.Identity, ()),
    "Flatten": (nn.Flatten, ("start_dim", "end_dim")),
}
PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt")


@dataclass(frozen=True)
class SequentialConfig:
    layers: tuple[dict[str, Any], ...]
    features: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": "sequential", "layers": [dict(x) for x in self.layers]}
        if self.features is not None:
            d["features"] = list(self.features)
        return d


def _layer(i: int, spec: Any) -> nn.Module:
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise ModelFileError(
            f"layer {i} of the architecture spec is {spec!r}; each layer is "
            '{"type": NAME, ...constructor arguments}'
        )
    name = spec["type"]
    if name not in LAYERS:
        raise ModelFileError(
            f"layer {i} ({name}) is not a layer fairnn can rebuild from a spec; known: "
            f"{sorted(LAYERS)}. For other modules use the Python API with the module itself"
        )
    cls, allowed = LAYERS[name]
    args = {k: v for k, v in spec.items() if k != "type"}
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise ModelFileError(
            f"layer {i} ({name}) has argument(s) {unknown} fairnn does not pass; it takes "
            f"{list(allowed) or 'none'}"
        )
    try:
        return cls(**args)
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"layer {i} ({name}) cannot be built from {args}: {e}") from None


def describe_layer(layer: nn.Module) -> dict[str, Any]:
    """The spec entry of one layer (inverse of the spec reader), or a ConfigError naming it."""
    name = type(layer).__name__
    if name not in LAYERS or type(layer) is not LAYERS[name][0]:
        raise ConfigError(
            f"{name} cannot be written to an architecture spec; layers fairnn can: {sorted(LAYERS)}"
        )
    out: dict[str, Any] = {"type": name}
    for arg in LAYERS[name][1]:
        if arg == "bias":
            out[arg] = layer.bias is not None  # type: ignore[attr-defined]
        elif arg == "affine" or arg == "elementwise_affine":
            out[arg] = bool(getattr(layer, arg))
        elif hasattr(layer, arg):
            v = getattr(layer, arg)
            out[arg] = list(v) if isinstance(v, tuple) else v
    return out


class SequentialNet(nn.Sequential):
    """An ``nn.Sequential`` described by a spec; returns ``(n,)`` logits for one output."""

    def __init__(self, layers: list[dict[str, Any]], features: list[str] | None = None) -> None:
        if not isinstance(layers, list) or not layers:
            raise ModelFileError('the architecture spec needs a non-empty "layers" list')
        super().__init__(*[_layer(i, x) for i, x in enumerate(layers)])
        self.config = SequentialConfig(
            tuple(dict(x) for x in layers), None if features is None else tuple(features)
        )

    @classmethod
    def from_config(cls, d: dict[str, Any]) -> SequentialNet:
        return cls(d.get("layers"), d.get("features"))  # type: ignore[arg-type]

    @classmethod
    def from_sequential(cls, seq: nn.Sequential) -> SequentialNet:
        """A copy of a user's ``nn.Sequential`` (same weights), or a ConfigError naming a layer."""
        specs = []
        for i, layer in enumerate(seq):
            try:
                specs.append(describe_layer(layer))
            except ConfigError as e:
                raise ConfigError(f"layer {i}: {e}") from None
        net = cls(specs)
        net.load_state_dict(seq.state_dict())
        return net

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        out = super().forward(x)
        return out.squeeze(-1) if out.ndim == 2 and out.shape[-1] == 1 else out


ARCHITECTURES.register("sequential", SequentialNet.from_config)


class ModuleAdapter(nn.Module):
    """Any user module as fairnn's networks behave: ``(n, 1)`` logits become ``(n,)``."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.module(x)
        if isinstance(out, tuple | list):
            out = out[0]
        return out.squeeze(-1) if out.ndim == 2 and out.shape[-1] == 1 else out


def logit_module(module: nn.Module) -> nn.Module:
    """``module`` as a network that outputs the logit: an ``nn.Sequential`` (or a model
    file's :class:`SequentialNet`) ending in ``Linear(·, 1), Sigmoid`` outputs a
    probability, so the Sigmoid is dropped (fairnn applies it: the scores are unchanged).
    Read as logits, its probabilities would pass through a second sigmoid and every score
    would land in [0.5, 0.73]. Anything else is returned as it is."""
    layers = list(module) if isinstance(module, nn.Sequential) else []
    if not (
        len(layers) >= 2
        and isinstance(layers[-1], nn.Sigmoid)
        and isinstance(layers[-2], nn.Linear)
        and layers[-2].out_features == 1
    ):
        return module
    if isinstance(module, SequentialNet):
        cfg = module.config
        features = None if cfg.features is None else list(cfg.features)
        head = SequentialNet([dict(x) for x in cfg.layers[:-1]], features)
    else:
        head = nn.Sequential(*layers[:-1])
    head.load_state_dict(module.state_dict())  # the Sigmoid holds no weights
    return head.train(module.training)


def as_mlp(module: nn.Module, purpose: str = "this") -> MLP:
    """fairnn's MLP with ``module``'s weights, or a ConfigError naming the layer it cannot take.

    ``purpose`` ("certification", "RUNNER repair") goes into the message.
    """
    inner = module.module if isinstance(module, ModuleAdapter) else module
    if isinstance(inner, MLP):
        return inner
    if isinstance(inner, nn.Sequential):
        try:
            return MLP.from_sequential(inner)
        except ConfigError as e:
            raise ConfigError(f"{purpose} needs an MLP: {e}") from None
    raise ConfigError(
        f"{purpose} needs an MLP (Linear layers with ReLU, Sigmoid or Tanh between them); "
        f"{type(inner).__name__} is a custom module whose layer order fairnn cannot read: "
        "rebuild it as an nn.Sequential or a fairnn.nn.MLP"
    )


def as_network(module: nn.Module) -> nn.Module:
    """``module`` in the form fairnn keeps: an MLP when it is one, a SequentialNet when a
    spec can describe it (both save to model files), otherwise wrapped in a ModuleAdapter
    (usable in memory: audit, ROC; not savable)."""
    if isinstance(module, MLP | SequentialNet):
        return module
    if isinstance(module, nn.Sequential):
        try:
            return MLP.from_sequential(module)
        except ConfigError:
            pass
        try:
            return SequentialNet.from_sequential(module)
        except ConfigError:
            pass
    return ModuleAdapter(module)


def read_spec(spec: str | os.PathLike[str] | dict[str, Any]) -> dict[str, Any]:
    """The architecture spec as a dict (from a JSON file or given)."""
    if isinstance(spec, dict):
        return spec
    p = Path(spec)
    if not p.is_file():
        raise ModelFileError(
            f"architecture spec {str(p)!r} does not exist; write the JSON spec beside the "
            "weights (docs/guides/pytorch.md)"
        )
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelFileError(f"architecture spec {str(p)!r} is not valid JSON: {e}") from None
    if not isinstance(d, dict) or "type" not in d:
        raise ModelFileError(
            f'architecture spec {str(p)!r} must be a JSON object with a "type" '
            '("sequential" with "layers", or "mlp"); got keys '
            f"{sorted(d) if isinstance(d, dict) else type(d).__name__}"
        )
    if d.get("format") == "fairnn-model":
        raise ModelFileError(
            f"{str(p)!r} is a fairnn model sidecar: pass its directory as MODEL_DIR instead"
        )
    return d


def load_weights(
    network: nn.Module,
    path: str | os.PathLike[str],
    spec: str = "the spec",
    layout: str = "out_in",
) -> None:
    """Load a safetensors state dict into ``network``; never unpickles.

    Each mismatch has its own error: not safetensors, keys that do not fit the
    architecture (named), wrong shapes.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    w = str(path)
    if not Path(w).is_file():
        raise ModelFileError(f"weights file {w!r} does not exist")
    try:
        tensors = load_file(w, device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(f"{w!r} is not a readable safetensors file: {e}") from None
    state = network.state_dict()
    expected, got = set(state.keys()), set(tensors.keys())
    missing, unexpected = sorted(expected - got), sorted(got - expected)
    if missing or unexpected:
        raise ModelFileError(
            f"the weights in {w!r} do not fit the architecture in {spec}: "
            f"missing {missing or 'none'}, unexpected {unexpected or 'none'}"
        )
    if layout == "in_out":  # Keras/TensorFlow and JAX store a dense kernel as (in, out)
        tensors = {k: v.T if v.ndim == 2 else v for k, v in tensors.items()}
    wrong = [k for k, v in tensors.items() if tuple(v.shape) != tuple(state[k].shape)]
    if wrong:
        flipped = all(
            tensors[k].ndim == 2 and tuple(tensors[k].T.shape) == tuple(state[k].shape)
            for k in wrong
        )
        hint = (
            ": they are stored transposed, (in, out) as Keras and JAX write them; add "
            '"layout": "in_out" to the spec, or save PyTorch\'s state_dict (out, in)'
            if flipped
            else ""
        )
        shapes = ", ".join(
            f"{k} {tuple(tensors[k].shape)} (expected {tuple(state[k].shape)})" for k in wrong[:3]
        )
        raise ModelFileError(f"the weights in {w!r} have the wrong shapes{hint}: {shapes}")
    try:
        network.load_state_dict(tensors)
    except RuntimeError as e:
        raise ModelFileError(f"the weights in {w!r} have the wrong shapes: {e}") from None


def default_spec_path(weights: str | os.PathLike[str]) -> Path:
    """``model.safetensors`` -> ``model.json`` beside it."""
    return Path(weights).with_suffix(".json")


def load_user_model(
    weights: str | os.PathLike[str],
    spec: str | os.PathLike[str] | dict[str, Any] | None = None,
) -> tuple[nn.Module, dict[str, Any]]:
    """The module in ``weights`` (safetensors) described by ``spec``; returns (module, spec).

    ``spec`` defaults to the JSON file with the weights' name (``model.json``).
    """
    w = Path(weights)
    if w.suffix.lower() in PICKLE_SUFFIXES:
        raise ModelFileError(
            f"{str(w)!r} looks like a pickled PyTorch file; fairnn never unpickles. Save the "
            "weights with safetensors.torch.save_file(model.state_dict(), 'model.safetensors')"
        )
    if w.is_dir():
        raise ModelFileError(
            f"{str(w)!r} is a directory; --model-file takes the .safetensors file "
            "(a fairnn model directory is passed as MODEL_DIR)"
        )
    spec_path = spec if spec is not None else default_spec_path(w)
    d = read_spec(spec_path)
    layout = d.get("layout", "out_in")
    if layout not in ("out_in", "in_out"):
        raise ModelFileError(
            f'the spec\'s "layout" is {layout!r}: "out_in" (PyTorch\'s nn.Linear, the default) '
            'or "in_out" (a dense kernel as Keras and JAX store it)'
        )
    network = build_network({k: v for k, v in d.items() if k != "layout"})
    where = "the spec" if isinstance(spec_path, dict) else repr(str(spec_path))
    load_weights(network, w, where, layout)
    network.eval()
    return network, d
