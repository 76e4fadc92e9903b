"""Export a fitted model, post-processing included, to TorchScript (or ONNX).

The exported module takes ``x`` (float32 ``(n, d)``, the model's preprocessed
features, in the order ``export.json`` lists) and ``s`` (int64 ``(n,)`` group ids,
labels in ``export.json``; read only by group-dependent rules, pass zeros
otherwise) and returns ``(proba, decision)``: ``P(y=1|x)`` as float32 and the 0/1
decision as int64, made by the model's decision rule (one threshold, per-group
thresholds, reject option), so it decides exactly as ``FittedModel.predict``.

TorchScript needs nothing beyond torch. ONNX is written by torch's exporter,
which needs the ``onnx`` package (``pip install 'fairnn[onnx]'``); fairnn does not
require it, so ``format="onnx"`` raises an error saying so when it is missing.
Preprocessing is not part of the export (``fairnn audit --data raw.csv`` applies
it); ``export.json`` names the features it produces.
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import torch
from torch import nn

import fairnn
from fairnn.atomic import atomic_directory, check_target
from fairnn.errors import ConfigError
from fairnn.methods.decision import DecisionRule, ThresholdModule
from fairnn.methods.fitted import FittedModel

Format = Literal["torchscript", "onnx"]
FILES = {"torchscript": "model.torchscript", "onnx": "model.onnx"}
SIDECAR = "export.json"
EXPORT_FILES = (*FILES.values(), SIDECAR)


def decision_module(rule: DecisionRule | None, threshold: float) -> nn.Module:
    """The torch twin of a decision rule (:meth:`DecisionRule.as_module`; no rule: one threshold)."""
    return ThresholdModule(threshold) if rule is None else rule.as_module()


class ExportModule(nn.Module):
    """``(x, s) -> (proba, decision)``: network, sigmoid, decision rule."""

    def __init__(self, network: nn.Module, decide: nn.Module) -> None:
        super().__init__()
        self.network, self.decide = network, decide

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.network(x)
        proba = torch.sigmoid(logits)
        return proba, self.decide(proba.double(), s)


def export_module(fitted: FittedModel) -> ExportModule:
    if fitted.task != "binary":
        raise ConfigError("export covers binary classifiers (probability and decision)")
    network = fitted.network.to("cpu").eval()
    return ExportModule(network, decision_module(fitted.decision, fitted.threshold)).eval()


def export_model(
    fitted: FittedModel | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    format: Format = "torchscript",  # noqa: A002 (the CLI's word)
    overwrite: bool = False,
) -> Path:
    """Write ``out/model.torchscript`` (or ``model.onnx``) and ``out/export.json``; return the model file.

    The folder ``out`` appears complete or not at all; an existing export there is
    replaced only with ``overwrite``.
    """
    if format not in FILES:
        raise ConfigError(f"format must be 'torchscript' or 'onnx', got {format!r}")
    check_target(out, overwrite=overwrite, owned=EXPORT_FILES, what="an export")
    if not isinstance(fitted, FittedModel):
        fitted = FittedModel.load(fitted)
    module = export_module(fitted)
    with atomic_directory(out, overwrite=overwrite, owned=EXPORT_FILES, what="an export") as tmp:
        _write_export(fitted, module, tmp, format)
    return Path(out) / FILES[format]


def _write_export(fitted: FittedModel, module: ExportModule, target: Path, format: Format) -> None:  # noqa: A002
    d = fitted.features.dim
    x = torch.zeros(2, d)
    s = torch.zeros(2, dtype=torch.long)
    path = target / FILES[format]
    if format == "torchscript":
        # shape checks in a network's forward (squeezing (n, 1) logits) are constants in
        # the trace, which is right: the feature count is fixed
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            traced = torch.jit.trace(module, (x, s), check_trace=False)
        torch.jit.save(traced, str(path))
    else:
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise ConfigError(
                "ONNX export needs the onnx package, which this environment lacks: "
                "pip install 'fairnn[onnx]', or use --format torchscript"
            ) from None
        torch.onnx.export(
            module,
            (x, s),
            str(path),
            dynamo=False,
            input_names=["x", "s"],
            output_names=["proba", "decision"],
            dynamic_axes={"x": {0: "n"}, "s": {0: "n"}, "proba": {0: "n"}, "decision": {0: "n"}},
        )
    sidecar = {
        "format": "fairnn-export",
        "fairnn_version": fairnn.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "file": path.name,
        "export_format": format,
        "inputs": {
            "x": {"dtype": "float32", "shape": ["n", d], "features": fitted.features.names},
            "s": {
                "dtype": "int64",
                "shape": ["n"],
                "groups": dict(enumerate(fitted.groups.labels)),
                "read": fitted.decision is not None and fitted.decision.needs_groups,
            },
        },
        "outputs": {
            "proba": "float32 (n,): P(y=1 | x)",
            "decision": "int64 (n,): the 0/1 decision of the model's rule",
        },
        "decision": {"kind": "threshold", "threshold": fitted.threshold}
        if fitted.decision is None
        else fitted.decision.to_dict(),
        "method": {"name": fitted.method, "params": fitted.params},
        "preprocessing": "not included: x is the preprocessed features named above",
    }
    (target / SIDECAR).write_text(json.dumps(sidecar, indent=2, default=str), encoding="utf-8")
