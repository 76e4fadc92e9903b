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
from torch import nn

from fairnn.datasets.core import Splits, TabularData
from fairnn.errors import ColumnError, ConfigError
from fairnn.experiments.audit import NUMERIC, SPLITS, audit_report
from fairnn.experiments.repair import repair_fitted
from fairnn.experiments.run import looks_like_path
from fairnn.methods.base import get_method
from fairnn.methods.fitted import FittedModel
from fairnn.nn.user import load_user_model

ModelArg = nn.Module | str | os.PathLike[str]
DataArg = str | os.PathLike[str] | pd.DataFrame | Splits | TabularData


def numeric_table_splits(source: str | pd.DataFrame, info: dict[str, Any]) -> Splits:
    """A numeric table (path or frame) split as :func:`user_splits` does, from saved ``info``."""
    from fairnn.datasets import read_table
    from fairnn.datasets.arrays import numeric_splits, table_as_numeric

    frame = read_table(source) if not isinstance(source, pd.DataFrame) else source
    name = Path(source).stem if not isinstance(source, pd.DataFrame) else "frame"
    data = table_as_numeric(
        frame,
        label=info["label"],
        sensitive=info["sensitive"],
        features=info.get("features"),
        positive_label=info.get("positive_label"),
        name=name,
    )
    return numeric_splits(data, seed=int(info.get("seed", 0)), info=dict(info))


def user_splits(
    data: DataArg,
    *,
    label: str | None = None,
    sensitive: str | Sequence[str] | None = None,
    features: Sequence[str] | None = None,
    positive_label: Any = None,
    recipe: str = "clean",
    seed: int = 0,
) -> Splits:
    """The train/val/test splits a user's model is audited or repaired on (module docstring)."""
    if isinstance(data, Splits):
        return data
    if isinstance(data, TabularData):
        from fairnn.datasets.arrays import numeric_splits

        return numeric_splits(data, seed=seed, info={"source": None, "seed": seed})
    if isinstance(data, pd.DataFrame) or looks_like_path(str(data)):
        if label is None or not sensitive:
            raise ColumnError(
                "a table for a user's model needs its label and sensitive column(s): "
                "--label COL --sensitive COL (label=..., sensitive=... in Python)"
            )
        sens = [sensitive] if isinstance(sensitive, str) else list(sensitive)
        info = {
            "source": None if isinstance(data, pd.DataFrame) else str(data),
            "recipe": NUMERIC,
            "seed": seed,
            "label": label,
            "sensitive": sens,
            "features": None if features is None else list(features),
            "positive_label": positive_label,
        }
        return numeric_table_splits(data if isinstance(data, pd.DataFrame) else str(data), info)
    from fairnn.datasets import load_dataset

    sens_arg = sensitive or None
    return load_dataset(str(data), recipe=recipe, seed=seed, sensitive=sens_arg)


def user_fitted(
    model: ModelArg,
    splits: Splits,
    *,
    spec: str | os.PathLike[str] | dict[str, Any] | None = None,
    mlp: bool = False,
) -> FittedModel:
    """A user's module (or model file) as a :class:`FittedModel` on ``splits``' features."""
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
    fitted.dataset = {
        **info,
        "source": info.get("source"),
        "recipe": info.get("recipe", "clean"),
        "seed": info.get("seed", 0),
    }
    if fitted.dataset["recipe"] != NUMERIC:
        fitted.dataset.setdefault("sensitive", list(splits.groups.attributes))
    return fitted


def audit_user_model(
    model: ModelArg,
    data: DataArg,
    *,
    spec: str | os.PathLike[str] | dict[str, Any] | None = None,
    split: str = "test",
    bootstrap: int = 0,
    seed: int = 0,
    **data_options: Any,
) -> dict[str, Any]:
    """``fairnn audit``'s report for a user's module on ``data`` (``split`` of its splits)."""
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {SPLITS}, got {split!r}")
    splits = user_splits(data, seed=seed, **data_options)
    fitted = user_fitted(model, splits, spec=spec)
    label = model if not isinstance(model, nn.Module) else type(model).__name__
    source = splits.info.get("source") or "data"
    return audit_report(
        fitted,
        getattr(splits, split),
        model=f"user model ({label})",
        data=str(source),
        split=split,
        bootstrap=bootstrap,
        seed=seed,
    )


def repair_user_model(
    model: ModelArg,
    data: DataArg,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    spec: str | os.PathLike[str] | dict[str, Any] | None = None,
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
    cls = get_method(method)
    splits = user_splits(data, seed=seed, **data_options)
    needs_mlp = cls.can_repair is True  # neuron repair (RUNNER, FairNeuron) edits an MLP
    fitted = user_fitted(model, splits, spec=spec, mlp=needs_mlp)
    fitted.dataset["mode"] = mode
    label = str(model) if not isinstance(model, nn.Module) else type(model).__name__
    return repair_fitted(
        fitted,
        splits,
        method,
        params,
        out=out,
        mode=mode,
        seed=seed,
        train=train,
        runtime=runtime,
        model_label=label,
        overwrite=overwrite,
    )
