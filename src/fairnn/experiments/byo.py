"""Audit and repair a model trained outside fairnn: a user's ``nn.Module`` plus a dataset.

The model is an ``nn.Module`` (Python) or a model file: safetensors weights plus a
JSON architecture spec (:mod:`fairnn.nn.user`; CLI ``--model-file``). The data is

* a registered dataset name: the module must take that recipe's preprocessed
  features (``fairnn datasets info NAME``), split by ``seed`` as fairnn trains; or
* a table (CSV/parquet path or DataFrame) whose feature columns already are the
  module's inputs, used as they are (no scaling, no one-hot): name the ``label``
  and ``sensitive`` column(s); ``features`` (or the spec's ``"features"``) picks
  and orders the input columns, by default every other column. It is split
  train/val/test (60/20/20, stratified on label and group) by ``seed``; the
  repair methods fit on train (and validation), every report reads val and test.

Audit, ROC and any post-processing take any module; RUNNER repair (and
certification) need an MLP and name the first layer they cannot take.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fairnn.datasets.core import Splits, TabularData
from fairnn.datasets.recipes import DEFAULT_RECIPE
from fairnn.datasets.sources import NUMERIC, DataSpec, resolve
from fairnn.experiments.audit import audit_source
from fairnn.experiments.model_source import ArchArg, ModelArg, ModelSource, user_data
from fairnn.experiments.model_source import user_fitted as user_fitted  # its old path
from fairnn.experiments.repair import repair_source
from fairnn.methods.fitted import FittedModel

DataArg = str | os.PathLike[str] | pd.DataFrame | Splits | TabularData


def numeric_table_splits(source: str | pd.DataFrame, info: dict[str, Any]) -> Splits:
    """A numeric table (path or frame) split as :func:`user_splits` does, from saved ``info``
    (a model file's data record)."""
    spec = DataSpec.from_record({**info, "recipe": NUMERIC, "source": None})
    if isinstance(source, pd.DataFrame):
        return resolve(source, **spec.model_dump(exclude={"dataset"}))
    return resolve(spec.model_copy(update={"dataset": str(source)}))


def user_splits(
    data: DataArg,
    *,
    label: str | None = None,
    sensitive: str | Sequence[str] | None = None,
    features: Sequence[str] | None = None,
    positive_label: Any = None,
    recipe: str = DEFAULT_RECIPE,
    seed: int = 0,
) -> Splits:
    """The train/val/test splits a user's model is audited or repaired on (module docstring)."""
    splits, _ = user_data(
        data,
        label=label,
        sensitive=sensitive,
        features=features,
        positive_label=positive_label,
        recipe=recipe,
        seed=seed,
    )
    return splits


def audit_user_model(
    model: ModelArg,
    data: DataArg,
    *,
    spec: ArchArg | None = None,
    split: str = "test",
    bootstrap: int = 0,
    seed: int = 0,
    **data_options: Any,
) -> dict[str, Any]:
    """``fairnn audit``'s report for a user's module on ``data`` (``split`` of its splits)."""
    source = ModelSource.user(model, data, arch=spec, seed=seed, **data_options)
    return audit_source(source, split=split, bootstrap=bootstrap, seed=seed)


def repair_user_model(
    model: ModelArg,
    data: DataArg,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    spec: ArchArg | None = None,
    out: str | os.PathLike[str] | None = None,
    mode: str = "dp",
    seed: int = 0,
    train: dict[str, Any] | None = None,
    runtime: dict[str, Any] | None = None,
    overwrite: bool = False,
    **data_options: Any,
) -> tuple[dict[str, Any], FittedModel]:
    """Repair a user's module with a post-processing or neuron-repair method.

    Returns the before/after report and the repaired :class:`FittedModel` (saved as a
    fairnn model directory to ``out`` when given, replacing a model there only with
    ``overwrite``; ``fairnn audit OUT`` then works).
    """
    source = ModelSource.user(model, data, arch=spec, seed=seed, **data_options)
    return repair_source(
        source,
        method,
        params,
        out=None if out is None else Path(out),
        mode=mode,
        seed=seed,
        train=train,
        runtime=runtime,
        overwrite=overwrite,
    )
