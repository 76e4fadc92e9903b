"""Where a model to audit, repair or certify comes from, with the data it is judged on.

A :class:`ModelSource` is either

* a fairnn **model directory** (written by ``train`` or ``repair``): its model file
  records the data it was trained on (:meth:`FittedModel.data_spec`), and
  :func:`model_splits` rebuilds the very same splits; or
* a **user's model** trained outside fairnn (:mod:`fairnn.experiments.byo`): an
  ``nn.Module``, or a ``.safetensors`` file with its JSON architecture ``arch``
  (:mod:`fairnn.nn.user`), plus the data it takes. A table's feature columns are the
  model's inputs, used as they are (the :data:`~fairnn.datasets.sources.NUMERIC`
  recipe); a registered dataset's are its recipe's preprocessed features.

Audit, repair and certification all load a model through :meth:`ModelSource.load`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from torch import nn

from fairnn.datasets.core import Splits
from fairnn.datasets.recipes import DEFAULT_RECIPE
from fairnn.datasets.sources import NUMERIC, DataSpec, data_fields, is_table, resolve
from fairnn.errors import ColumnError, ConfigError
from fairnn.methods.fitted import FittedModel
from fairnn.nn.user import load_user_model

ModelArg = nn.Module | str | os.PathLike[str]
ArchArg = str | os.PathLike[str] | dict[str, Any]


def model_splits(fitted: FittedModel) -> Splits:
    """The train/val/test splits a saved model was trained on, rebuilt from its sidecar."""
    return resolve(fitted.data_spec())


def user_data(data: Any, **options: Any) -> tuple[Splits, DataSpec | None]:
    """A user's model's data as splits, and its :class:`DataSpec` (None for data in memory
    that has none: Splits, a TabularData, arrays). A table (or your own split's three
    tables, a mapping) is read as the model's inputs."""
    if isinstance(data, DataSpec):
        return resolve(data, **options), data
    if is_table(data):
        options = {**options, "recipe": NUMERIC}
    splits = resolve(data, **options)
    if isinstance(data, Mapping) and not any(isinstance(p, pd.DataFrame) for p in data.values()):
        return splits, DataSpec(**data_fields(data), **options)  # your own split's three files
    if isinstance(data, pd.DataFrame | Mapping):
        return splits, DataSpec(dataset=None, **options)
    if isinstance(data, str | os.PathLike):
        return splits, DataSpec(dataset=data, **options)
    return splits, None


def user_fitted(
    model: ModelArg,
    splits: Splits,
    *,
    spec: ArchArg | None = None,
    mlp: bool = False,
    data: DataSpec | None = None,
) -> FittedModel:
    """A user's module (or model file, ``spec`` its architecture) as a :class:`FittedModel`
    on ``splits``' features; its model file records ``data`` (else the splits' info)."""
    if not isinstance(model, nn.Module):
        model, spec_d = load_user_model(model, spec)
        cols = spec_d.get("features")
        if cols is not None and list(cols) != splits.features.names:
            raise ColumnError(
                f"the spec's features {list(cols)[:5]}... are not the data's input columns "
                f"{splits.features.names[:5]}...; pass features= (--feature) in the spec's order"
            )
    fitted = FittedModel.from_module(model, splits.train, method="user", mlp=mlp)
    fitted.preprocessor = splits.preprocessor
    info = dict(splits.info)
    if data is not None:
        fitted.dataset = {**info, **data.record()}
        return fitted
    fitted.dataset = {
        **info,
        "source": info.get("source"),
        "recipe": info.get("recipe", DEFAULT_RECIPE),
        "seed": info.get("seed", 0),
    }
    if fitted.dataset["recipe"] != NUMERIC:
        fitted.dataset.setdefault("sensitive", list(splits.groups.attributes))
    return fitted


NEEDS_DATA = (
    "a user's model needs its data: a dataset name (the model takes its preprocessed "
    "features) or a CSV/parquet table or DataFrame of the model's inputs with its label and "
    "sensitive column(s) (--data, --label, --sensitive)"
)


@dataclass(frozen=True)
class ModelSource:
    """A model and the data it is judged on (see the module docstring).

    ``model``: a fairnn model directory, or a user's ``nn.Module`` or ``.safetensors``
    file. ``data``: for a user's model (required there), what
    :func:`~fairnn.datasets.resolve` takes (a :class:`DataSpec`, a dataset name, a
    CSV/parquet path, a DataFrame, Splits, arrays), described by ``options`` (the
    DataSpec fields: ``label``, ``sensitive``, ``features``, ``positive_label``,
    ``recipe``, ``seed``); for a model directory None (its own data). ``arch``: a
    user's model file's architecture (default: the file's name with ``.json``).
    """

    model: ModelArg
    data: Any = None
    arch: ArchArg | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    device: str = "cpu"

    def __post_init__(self) -> None:
        if isinstance(self.model, nn.Module) and self.data is None:
            raise ConfigError(NEEDS_DATA)

    @classmethod
    def saved(cls, model_dir: str | os.PathLike[str], *, device: str = "cpu") -> ModelSource:
        """A fairnn model directory, judged on the data its model file names."""
        return cls(model_dir, device=device)

    @classmethod
    def user(
        cls, model: ModelArg, data: Any, *, arch: ArchArg | None = None, **options: Any
    ) -> ModelSource:
        """A user's module or model file with the data it takes (``options``: DataSpec fields)."""
        if data is None:
            raise ConfigError(NEEDS_DATA)
        return cls(model, data, arch, options)

    @property
    def is_user(self) -> bool:
        """Whether this is a user's model (which comes with its data)."""
        return self.data is not None

    @property
    def name(self) -> str:
        """How reports name the model: its path, or a module's class name."""
        if isinstance(self.model, nn.Module):
            return type(self.model).__name__
        return str(self.model)

    def fitted(self, *, mlp: bool = False) -> FittedModel:
        """The model alone: a model directory's data is not loaded (a user's model is
        built on its data's features, so its data is)."""
        model = self.model
        if isinstance(model, nn.Module) or self.is_user:
            return self.load(mlp=mlp)[0]
        return FittedModel.load(model, device=self.device)

    def load(self, *, mlp: bool = False) -> tuple[FittedModel, Splits]:
        """The model as a :class:`FittedModel` and the splits it is judged on.

        ``mlp``: a user's model must be (and becomes) a fairnn MLP, as neuron repair and
        certification need. A model directory whose file names no data raises a
        :class:`~fairnn.errors.ModelFileError` that says to pass the data.
        """
        fitted, splits = self.load_optional(mlp=mlp)
        return fitted, splits if splits is not None else model_splits(fitted)

    def load_optional(self, *, mlp: bool = False) -> tuple[FittedModel, Splits | None]:
        """:meth:`load`, with None for the splits of a model file that names no data
        (certification then works on the whole input domain)."""
        if self.is_user:
            splits, spec = user_data(self.data, **self.options)
            return user_fitted(self.model, splits, spec=self.arch, mlp=mlp, data=spec), splits
        fitted = self.fitted()
        if fitted.dataset.get("source") is None:
            return fitted, None
        return fitted, model_splits(fitted)
