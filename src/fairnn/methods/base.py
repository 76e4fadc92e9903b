"""The interface every method shares, and the registry that names them.

A method is a class with a typed parameter set (:class:`MethodParams`, names
as in its paper), a ``stage`` (``pre``, ``in`` or ``post``) and one ``fit``.
The ``fit`` template is the same for all: ``prepare`` may change what the
model trains on (pre-processing: resampled rows or sample weights),
``build_network`` makes the model, ``plugins`` adds loss terms, optimizers and
hooks to the one training loop (in-processing), and ``finish`` may wrap the
trained model (post-processing). A method overrides only the steps it needs.

``Method`` is generic over its parameters: ``class GapReg(Method[GapRegParams])`` sets
``Params`` and types ``self.params``. Methods live in :data:`METHODS`, a
:class:`~fairnn.registry.Registry` (with aliases) that :func:`register` fills.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import replace
from typing import Any, ClassVar, Generic, Literal, TypeVar, get_args, get_origin

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import nn

from fairnn.datasets.core import TabularData
from fairnn.errors import ConfigError, InvalidValueError
from fairnn.methods.fitted import FittedModel
from fairnn.nn.mlp import MLP
from fairnn.registry import Registry
from fairnn.training.config import TrainConfig
from fairnn.training.hooks import Plugin
from fairnn.training.loop import fit
from fairnn.validation import ConfigModel, check_seed, config_errors

Stage = Literal["pre", "in", "post"]
log = logging.getLogger(__name__)


class MethodParams(ConfigModel, what="method parameter"):
    """Base of every method's parameters: unknown names are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Architecture(ConfigModel, what="architecture"):
    """The MLP a method trains (RUNNER's default: two hidden layers of 200, ReLU)."""

    model_config = ConfigDict(extra="forbid")

    hidden: list[int] = Field(default_factory=lambda: [200, 200])
    activation: Literal["relu", "sigmoid", "tanh"] = "relu"
    dropout: float = Field(0.0, ge=0, lt=1)
    #: image/text data: "cnn" or "preact_resnet"; "text" or "transformer" (default: the
    #: first of each); ``width`` is the CNN's channels, the ResNet's k or the embedding dim.
    #: "random_features" (any data): fixed random ReLU features of ``width`` N and a learned
    #: logistic regression (the MinDiff paper's width sweep)
    type: str | None = None
    width: int | None = Field(None, ge=1)

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str | None) -> str | None:
        known = architecture_types()
        if v is None or v in known or v in ARCHITECTURE_ALIASES:
            return v
        close = difflib.get_close_matches(v.lower(), [*known, *ARCHITECTURE_ALIASES], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown architecture {v!r}{hint}; known: {', '.join(known)}")


#: other names :func:`fairnn.nn.factory.network_for_data` accepts for ``preact_resnet``
ARCHITECTURE_ALIASES = ("resnet", "resnet18")


def architecture_types() -> tuple[str, ...]:
    """The values of ``Architecture.type``: ``mlp`` (tabular default), then image and text nets."""
    from fairnn.nn.factory import IMAGE_ARCHITECTURES, TEXT_ARCHITECTURES

    return tuple(dict.fromkeys(("mlp", *IMAGE_ARCHITECTURES, *TEXT_ARCHITECTURES)))


def validate_model(model_cls: type[BaseModel], values: dict[str, Any], what: str) -> Any:
    """``model_cls(**values)``; a bad value raises :class:`ConfigError` naming ``what``."""
    with config_errors(what):
        return model_cls.__pydantic_validator__.validate_python(values)


P = TypeVar("P", bound=MethodParams)


class Method(Generic[P]):
    """Base class of every fairness method; ``P`` is its parameter model (``Params``)."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    stage: ClassVar[Stage]
    #: the parameter model; set from ``Method[XParams]`` when a subclass does not name it
    Params: ClassVar[type[MethodParams]] = MethodParams
    paper: ClassVar[str] = ""
    #: whether :meth:`repair` can act on an already-trained model (post-processing and
    #: neuron repair); by default exactly the ``post`` methods can.
    can_repair: ClassVar[bool | None] = None
    #: whether training reads the sensitive attribute (the scikit-learn estimator then
    #: requires ``sensitive_features``); only plain training does not.
    needs_groups: ClassVar[bool] = True
    #: parameters a paper's command line passes to every method (RUNNER's ``--lam``,
    #: ``--neuron_ratio``) that this method does not use: accepted with a warning.
    ignored_params: ClassVar[tuple[str, ...]] = ()
    #: the parameter that receives a run's fairness notion (``--mode dp|eo``); a method
    #: whose own ``mode`` means something else (FairBiNN's training mode) names another.
    notion_param: ClassVar[str] = "mode"
    #: the parameter that weighs fairness against accuracy (the larger, the smaller the gap;
    #: ``fairnn train --target-gap`` searches it); None: the method has none.
    fairness_weight: ClassVar[str | None] = None
    params: P

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Params" in cls.__dict__:
            return
        for base in cls.__dict__.get("__orig_bases__", ()):
            if get_origin(base) is Method:
                (params,) = get_args(base)
                if isinstance(params, type) and issubclass(params, MethodParams):
                    cls.Params = params

    @classmethod
    def repairs(cls) -> bool:
        return cls.stage == "post" if cls.can_repair is None else cls.can_repair

    def __init__(self, **params: Any) -> None:
        for key in [k for k in params if k in self.ignored_params]:
            log.warning(
                "method %r ignores %s=%r (accepted for a paper's command line)",
                self.name,
                key,
                params.pop(key),
            )
        self.params = validate_model(self.Params, params, f"method {self.name!r} parameter")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"

    # -- the steps a method may override ----------------------------------
    def prepare(self, train: TabularData, seed: int) -> TabularData:
        """Pre-processing: return the rows (and weights) the model trains on."""
        return train

    def build_network(self, train: TabularData, architecture: Architecture) -> nn.Module:
        if architecture.type == "random_features" and train.X.ndim == 2:
            from fairnn.nn.random_features import RandomReLUFeatures

            return RandomReLUFeatures.for_data(train, architecture.width or 1000)
        if getattr(train, "modality", "tabular") != "tabular":
            from fairnn.nn.factory import network_for_data

            return network_for_data(
                train,
                architecture.type,
                width=architecture.width,
                hidden=architecture.hidden,
                dropout=architecture.dropout,
            )
        if architecture.type not in (None, "mlp"):
            raise ConfigError(
                f"architecture {architecture.type!r} does not take tabular data; use mlp (the "
                "default) or random_features"
            )
        return MLP(
            train.n_features, architecture.hidden, architecture.activation, architecture.dropout
        )

    def plugins(self, train: TabularData, val: TabularData | None) -> list[Plugin]:
        """In-processing: loss terms, optimizers and hooks for the training loop."""
        return []

    def train_config(self, config: TrainConfig) -> TrainConfig:
        """Adjust the training settings the method needs (e.g. a balanced sampler)."""
        return config

    def finish(
        self, fitted: FittedModel, train: TabularData, val: TabularData | None
    ) -> FittedModel:
        """Post-processing: wrap or adjust the trained model."""
        return fitted

    def repair(
        self,
        fitted: FittedModel,
        train: TabularData,
        val: TabularData | None = None,
        *,
        config: TrainConfig | None = None,
        seed: int = 0,
    ) -> FittedModel:
        """Apply the method to an already-trained model and return the repaired model.

        The repaired model is always a new :class:`FittedModel`; ``fitted`` (its network's
        weights and flags, and its attributes) is left as it was. It may share modules that
        the repair does not change (the frozen network under a decision rule or a trigger).
        The default (post-processing methods) runs :meth:`finish` on ``fitted``;
        repair methods that fine-tune (RUNNER) override this.
        """
        if not self.repairs():
            able = ", ".join(c.name for c in list_methods() if c.repairs()) or "none yet"
            raise ConfigError(
                f"method {self.name!r} trains a model from scratch ({self.stage}-processing) and "
                f"cannot repair a trained one; methods that can: {able}"
            )
        repaired = self.finish(fitted, train, val)
        return replace(repaired) if repaired is fitted else repaired

    # -- the template -------------------------------------------------------
    def fit(
        self,
        train: TabularData,
        val: TabularData | None = None,
        *,
        config: TrainConfig | None = None,
        seed: int = 0,
        architecture: Architecture | dict[str, Any] | None = None,
    ) -> FittedModel:
        """Train on ``train`` (selecting on ``val``) and return a :class:`FittedModel`.

        A post-processing method trains the base model (as vanilla does) and then
        repairs it (:meth:`repair`).
        """
        fitted, data = self.fit_base(
            train, val, config=config, seed=seed, architecture=architecture
        )
        if self.stage == "post":  # the base model is trained; the method repairs it
            return self.repair(
                fitted, data, val, config=self.train_config(config or TrainConfig()), seed=seed
            )
        return self.finish(fitted, data, val)

    def fit_base(
        self,
        train: TabularData,
        val: TabularData | None = None,
        *,
        config: TrainConfig | None = None,
        seed: int = 0,
        architecture: Architecture | dict[str, Any] | None = None,
    ) -> tuple[FittedModel, TabularData]:
        """Steps 1-4 of :meth:`fit`: the trained model (before ``finish``/``repair``) and
        the rows it trained on."""
        check_seed(seed)
        check_training_data(train, "train")
        if val is not None:
            check_training_data(val, "val")
            if val.n_features != train.n_features:
                raise InvalidValueError(
                    f"val has {val.n_features} features but train has {train.n_features}; "
                    "both splits must come from the same preprocessing"
                )
        arch = (
            architecture
            if isinstance(architecture, Architecture)
            else validate_model(Architecture, architecture or {}, "architecture")
        )
        config = self.train_config(config or TrainConfig())
        data = self.prepare(train, seed)
        torch.manual_seed(seed)
        network = self.build_network(data, arch)
        result = fit(network, data, val, config, plugins=self.plugins(data, val), seed=seed)
        fitted = FittedModel(
            network=result.model,
            features=train.features,
            groups=train.groups,
            task=train.task,
            label=train.label,
            method=self.name,
            params=self.params.model_dump(mode="json"),
            seed=seed,
            threshold=config.threshold,
            training={
                "config": config.model_dump(mode="json"),
                "pos_weight": result.pos_weight,
                "architecture": arch.model_dump(mode="json"),
                "best_epoch": result.best_epoch,
                "select": result.select,
                "time_s": result.time_s,
                "history": result.history,
            },
        )
        return fitted, data


def check_training_data(data: TabularData, split: str) -> None:
    """Errors that name the split and the fix, before any tensor math runs."""
    if len(data) == 0:
        raise InvalidValueError(f"the {split} split has no rows")
    if isinstance(data.X, torch.Tensor) and not torch.isfinite(data.X).all():
        bad = (~torch.isfinite(data.X)).any(0).nonzero().flatten().tolist()
        names = [data.features.names[i] for i in bad[:5]]
        raise InvalidValueError(
            f"the {split} features contain NaN or inf in column(s) {names}; impute or drop those rows"
        )
    if data.task == "binary":
        vals = torch.unique(data.y).tolist()
        if not set(vals) <= {0.0, 1.0}:
            raise InvalidValueError(
                f"the {split} label {data.label!r} must be 0/1 for a binary task, found values {vals[:10]}"
            )


# -- registry ---------------------------------------------------------------
#: every method by name and alias
METHODS: Registry[type[Method[Any]]] = Registry("method")


M = TypeVar("M", bound=type[Method[Any]])


def register(cls: M) -> M:
    """Class decorator: make a method available by its name and aliases."""
    METHODS.register(cls.name, cls, aliases=cls.aliases)
    return cls


def get_method(name: str) -> type[Method[Any]]:
    """The method class registered as ``name`` (or an alias); unknown names raise ConfigError."""
    return METHODS.get(name)


def make_method(name: str, **params: Any) -> Method[Any]:
    return get_method(name)(**params)


def list_methods() -> list[type[Method[Any]]]:
    """The registered method classes, sorted by name."""
    return [cls for _, cls in METHODS.items()]
