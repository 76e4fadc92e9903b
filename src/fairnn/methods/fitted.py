"""A trained model with everything needed to use it, and its model files.

A model directory holds ``model.safetensors`` (the weights; nothing is ever
unpickled) and ``model.json`` (the sidecar: architecture, feature metadata,
groups, the fitted preprocessor, dataset and recipe, method and parameters,
seed, training history and the fairnn version). Both are written into a
temporary folder beside the target, which is then renamed into place
(:mod:`fairnn.atomic`): a model directory appears complete or not at all, and an
existing one is replaced only with ``overwrite=True``. Loading validates the
sidecar (:class:`Sidecar`) and names the file and the field it rejects.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from safetensors.torch import save_file
from torch import nn

import fairnn
from fairnn.atomic import atomic_directory, check_target, leftovers
from fairnn.datasets.core import FeatureMeta, GroupInfo, LazyImages, TabularData
from fairnn.datasets.sources import DataSpec
from fairnn.defaults import BASELINE_METHOD
from fairnn.errors import FairnnError, InvalidValueError, ModelFileError
from fairnn.methods.decision import DecisionRule, check_threshold, rule_from_dict
from fairnn.nn.registry import architecture_of, build_network
from fairnn.nn.user import load_weights
from fairnn.training.inference import predict_logits, scores_from_logits

FORMAT = "fairnn-model"
FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
SIDECAR = "model.json"
MODEL_FILES = (WEIGHTS, SIDECAR)
LOAD_FIX = "correct it in the file or save the model again"
#: what a sidecar field must hold, for the error that rejects it
FIELD_HINTS = {
    "threshold": "a probability in (0, 1), 0.5 by default",
    "decision": "a rule fairnn wrote, its thresholds in (0, 1), one per group",
}


class MethodInfo(BaseModel):
    """The sidecar's ``method``: the method's registry name and parameters."""

    model_config = ConfigDict(extra="allow")
    name: str = "unknown"
    params: dict[str, Any] = Field(default_factory=dict)


class Sidecar(BaseModel):
    """``model.json``: validated on save and on load; unknown fields are kept."""

    model_config = ConfigDict(extra="allow")
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    fairnn_version: str | None = None
    created: str | None = None
    architecture: dict[str, Any]
    task: Literal["binary", "regression", "multiclass"] = "binary"
    label: str | int = "label"
    threshold: float = 0.5
    features: list[dict[str, Any]]
    groups: dict[str, Any]
    method: MethodInfo = Field(default_factory=MethodInfo)
    seed: int = 0
    dataset: dict[str, Any] = Field(default_factory=dict)
    preprocessor: dict[str, Any] | None = None
    training: dict[str, Any] = Field(default_factory=dict)
    decision: dict[str, Any] | None = None

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, v: float) -> float:
        return check_threshold(v, "threshold")


@dataclass
class FittedModel:
    """A trained network plus its meaning: features, groups, provenance.

    ``predict_proba`` returns the probability of the positive label, shape
    ``(n,)`` (for regression, the prediction itself). ``predict`` applies the
    ``decision`` rule when a post-processing method set one (reject-option
    classification, per-group thresholds), else ``1[p > threshold]``.
    """

    network: nn.Module
    features: FeatureMeta
    groups: GroupInfo
    task: str = "binary"
    label: str = "label"
    method: str = BASELINE_METHOD
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    threshold: float = 0.5
    preprocessor: Any = None
    dataset: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    decision: DecisionRule | None = None

    @classmethod
    def from_module(
        cls, module: nn.Module, data: TabularData, method: str = "user", *, mlp: bool = True
    ) -> FittedModel:
        """Wrap a user's trained PyTorch module so audit and repair methods can use it.

        With ``mlp=True`` (what RUNNER repair and certification need) a tabular model's
        ``module`` is a :class:`fairnn.nn.MLP` or an ``nn.Sequential`` of Linear and
        activation layers (its weights are copied into a fairnn MLP); anything else raises
        a ConfigError naming the layer. With ``mlp=False`` (audit, ROC, reprogramming:
        methods that only read the output), and always for image and text data, any module
        that maps ``data.X`` to one logit per row works: a Sequential fairnn can describe
        is kept so that it saves; another module is used as it is (it cannot be saved to a
        model file). ``data`` supplies the feature metadata and groups.
        """
        from fairnn.nn.user import as_mlp, as_network, logit_module

        module = logit_module(module)  # a final Sigmoid: the layer before it is the logit
        tabular = getattr(data, "modality", "tabular") == "tabular"
        network = as_mlp(module, "this method") if mlp and tabular else as_network(module)
        fitted = cls(
            network=network,
            features=data.features,
            groups=data.groups,
            task=data.task,
            label=data.label,
            method=method,
        )
        network.eval()
        try:
            with torch.no_grad():
                out = network(data.X[:2].to(next(network.parameters()).device))
        except RuntimeError as e:
            raise InvalidValueError(
                f"the module cannot take the data's {data.n_features} features "
                f"({', '.join(data.features.names[:5])}, ...): {e}"
            ) from None
        if tuple(out.shape) != (min(2, len(data)),):
            raise InvalidValueError(
                f"the module returns shape {tuple(out.shape)} for 2 rows; fairnn needs one logit "
                "per row (n,) or (n, 1)"
            )
        return fitted

    # -- prediction -------------------------------------------------------
    def _as_tensor(self, X: Any) -> torch.Tensor:
        if isinstance(X, TabularData):
            X = X.X
        device = next(self.network.parameters()).device
        if isinstance(X, LazyImages):  # image files read batch by batch
            return X.to(device)  # type: ignore[return-value]
        t = torch.as_tensor(
            np.asarray(X, dtype=np.float32) if not isinstance(X, torch.Tensor) else X
        )
        # (n, d) tabular rows; (n, C, H, W) images and (n, L) token ids: axis 1 is the features
        if t.ndim < 2 or t.shape[1] != self.features.dim:
            raise InvalidValueError(
                f"X has shape {tuple(t.shape)} but this model takes (n, {self.features.dim}) "
                f"inputs ({self.features.dim} features: {', '.join(self.features.names[:5])}, ...)"
            )
        if not torch.isfinite(t).all():
            raise InvalidValueError("X contains NaN or inf; impute or drop those rows first")
        return t.to(device=device, dtype=torch.float32)

    def predict_proba(self, X: Any) -> np.ndarray:
        t = self._as_tensor(X)
        logits = predict_logits(self.network, t, 65536 if t.ndim == 2 else 256)  # type: ignore[arg-type]
        return scores_from_logits(logits, self.task).detach().cpu().double().numpy()

    def predict(self, X: Any, s: Any = None) -> np.ndarray:
        """0/1 decisions; ``s`` (group ids) is needed when the decision rule reads groups.

        With a :class:`TabularData`, its ``s`` is used.
        """
        p = self.predict_proba(X)
        if self.task != "binary":
            return p
        if self.decision is None:
            return (p > self.threshold).astype(np.int64)
        if s is None and isinstance(X, TabularData):
            s = X.s.detach().cpu().numpy()
        elif isinstance(s, torch.Tensor):
            s = s.detach().cpu().numpy()
        return self.decision.decide(p, s)

    def evaluate(self, data: TabularData, metrics: list[str] | None = None) -> dict[str, float]:
        """Every default metric of :func:`fairnn.metrics.evaluate` on ``data``.

        Label metrics read :meth:`predict` (so a decision rule counts); AP and the
        other score metrics read :meth:`predict_proba`.
        """
        from fairnn.metrics import evaluate

        scores = self.predict_proba(data)
        y_pred = None
        if self.decision is not None and data.task == "binary":
            y_pred = self.decision.decide(scores, data.s.detach().cpu().numpy())
        return evaluate(
            data.y.cpu().numpy(),
            scores,
            sensitive_features=data.group_labels(),
            threshold=self.threshold,
            metrics=metrics,
            task=data.task,
            y_pred=y_pred,
        )

    def data_spec(self) -> DataSpec:
        """The data this model was trained on, read from its sidecar's ``dataset`` record
        (:meth:`DataSpec.record <fairnn.datasets.sources.DataSpec.record>`); a
        :class:`~fairnn.errors.ModelFileError` when the record names no data."""
        if self.dataset.get("source") is None:
            raise ModelFileError(
                "the model file does not say which data it was trained on; pass --data"
            )
        return DataSpec.from_record(
            self.dataset, sensitive=list(self.groups.attributes), seed=self.seed
        )

    def to(self, device: str | torch.device) -> FittedModel:
        self.network.to(device)
        return self

    # -- files ------------------------------------------------------------
    def save(self, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write ``model.safetensors`` and ``model.json`` as the folder ``directory``.

        The folder appears complete or not at all. An existing model folder is refused
        unless ``overwrite``; a folder holding other files always is.
        """
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.network.state_dict().items()}
        side = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "fairnn_version": fairnn.__version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "architecture": architecture_of(self.network),
            "task": self.task,
            "label": self.label,
            "threshold": self.threshold,
            "features": self.features.to_list(),
            "groups": self.groups.to_dict(),
            "method": {"name": self.method, "params": self.params},
            "seed": self.seed,
            "dataset": self.dataset,
            "preprocessor": None if self.preprocessor is None else self.preprocessor.to_dict(),
            "training": self.training,
            "decision": None if self.decision is None else self.decision.to_dict(),
        }
        sidecar = _validated(side, Path(directory) / SIDECAR, "set a valid value before saving")
        text = json.dumps(sidecar.model_dump(), indent=2, default=_json_default)
        with atomic_directory(directory, overwrite=overwrite, owned=MODEL_FILES) as tmp:
            save_file(tensors, str(tmp / WEIGHTS), metadata={"format": FORMAT})
            (tmp / SIDECAR).write_text(text, encoding="utf-8")
        return Path(directory)

    @classmethod
    def load(cls, directory: str | os.PathLike[str], device: str = "cpu") -> FittedModel:
        """Read a model directory written by :meth:`save`; never unpickles."""
        d = Path(directory)
        if not d.exists():
            left = leftovers(d)
            hint = (
                f" (an interrupted save left {left[-1].name} beside it; save or train again)"
                if left
                else ""
            )
            raise ModelFileError(f"model directory {str(d)!r} does not exist{hint}")
        if d.is_file():
            hint = (
                " fairnn never unpickles .pt/.pkl files; save the state dict with "
                "safetensors and describe the architecture in model.json"
                if d.suffix in (".pt", ".pth", ".pkl", ".pickle", ".bin")
                else ""
            )
            raise ModelFileError(
                f"{str(d)!r} is a file; pass the model directory that holds {SIDECAR} and {WEIGHTS}.{hint}"
            )
        side_path, w_path = d / SIDECAR, d / WEIGHTS
        if not side_path.exists():
            done = " (it has weights only: the save was incomplete)" if w_path.exists() else ""
            raise ModelFileError(
                f"{str(d)!r} is not a fairnn model directory: {SIDECAR} is missing{done} "
                f"(train one with `fairnn train --out {d}`)"
            )
        try:
            raw = json.loads(side_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ModelFileError(f"{str(side_path)!r} is not valid JSON: {e}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ModelFileError(
                f"{str(side_path)!r} is not a fairnn model sidecar (its 'format' is "
                f"{raw.get('format') if isinstance(raw, dict) else None!r}, expected {FORMAT!r})"
            )
        version = raw.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ModelFileError(
                f"{str(side_path)!r} has model format version {version!r}, written by fairnn "
                f"{raw.get('fairnn_version')}; this fairnn {fairnn.__version__} reads versions up to "
                f"{FORMAT_VERSION}: upgrade fairnn"
            )
        if not w_path.exists():
            raise ModelFileError(
                f"{str(d)!r} has {SIDECAR} but no {WEIGHTS}; the save was incomplete"
            )
        side = _validated(raw, side_path, LOAD_FIX)
        try:
            features = FeatureMeta.from_list(side.features)
            groups = GroupInfo.from_dict(side.groups)
            network = build_network(side.architecture)
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFileError(f"{str(side_path)!r} lacks or mangles the field {e}") from None
        decision = None
        if side.decision is not None:
            try:
                decision = rule_from_dict(side.decision)
            except (FairnnError, KeyError, TypeError, ValueError) as e:
                raise _field_error(side_path, "decision", e) from None
            n = len(getattr(decision, "thresholds", ())) or groups.n_groups
            if n != groups.n_groups:
                raise _field_error(
                    side_path, "decision", f"{n} thresholds for {groups.n_groups} groups"
                )
        load_weights(network, w_path, SIDECAR)
        network.eval().to(device)
        pre = side.preprocessor
        if pre is not None:
            from fairnn.datasets.preprocess import preprocessor_from_dict

            pre = preprocessor_from_dict(pre)
        return cls(
            network=network,
            features=features,
            groups=groups,
            task=side.task,
            label=side.label,  # type: ignore[arg-type]
            method=side.method.name,
            params=side.method.params,
            seed=side.seed,
            threshold=side.threshold,
            preprocessor=pre,
            dataset=side.dataset,
            training=side.training,
            decision=decision,
        )


def check_out(directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Raise a :class:`ModelFileError` now unless :meth:`FittedModel.save` could write there."""
    return check_target(directory, overwrite=overwrite, owned=MODEL_FILES)


def _validated(side: dict[str, Any], path: Path, fix: str) -> Sidecar:
    """``side`` as a :class:`Sidecar`; a bad field raises a :class:`ModelFileError` naming it."""
    try:
        return Sidecar.model_validate(side)
    except ValidationError as e:
        err = e.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or "(root)"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if "got" not in msg:
            msg += f" (got {err.get('input')!r})"
        raise _field_error(path, name, msg, fix) from None


def _field_error(path: Path, name: str, problem: object, fix: str = "") -> ModelFileError:
    hint = FIELD_HINTS.get(name.split(".")[0])
    expected = f"; expected {hint}" if hint else ""
    return ModelFileError(
        f"{str(path)!r}: field {name!r} is invalid: {problem}{expected}; {fix or LOAD_FIX}"
    )


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
