"""Repair a model with a post-processing or neuron-repair method; report before/after.

The model comes from a :class:`~fairnn.experiments.model_source.ModelSource` (a fairnn
model directory, or a user's model with its data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from fairnn.datasets.columns import parse_group_names
from fairnn.datasets.core import Splits
from fairnn.datasets.recipes import DEFAULT_RECIPE
from fairnn.experiments.audit import named_groups
from fairnn.experiments.model_source import ModelSource
from fairnn.experiments.protocols import protocol
from fairnn.methods.base import get_method
from fairnn.methods.decision import decision_report, with_threshold
from fairnn.methods.fitted import FittedModel, check_out
from fairnn.training.config import TrainConfig
from fairnn.validation import check_seed


def repair_source(
    source: ModelSource,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    out: str | Path | None = None,
    mode: str | None = None,
    seed: int = 0,
    train: dict[str, Any] | None = None,
    runtime: dict[str, Any] | None = None,
    overwrite: bool = False,
    threshold: float | None = None,
    group_names: Mapping[str, Mapping[Any, str]] | list[str] | str | None = None,
) -> tuple[dict[str, Any], FittedModel]:
    """Repair ``source``'s model with ``method``; evaluate val/test before and after.

    ``mode`` defaults to the mode the model was trained in (``dp`` for a user's model).
    A user's model must be an MLP for neuron repair (RUNNER, FairNeuron). ``group_names``
    (``{"SEX": {1: "male"}}`` or ``"SEX=1:male,2:female"``) names the groups; the repaired
    model keeps them (its groups and ``training["group_names"]``), so auditing it shows
    them. Returns the report and the repaired model (saved to ``out`` when given; an
    existing model folder there is replaced only with ``overwrite``).
    """
    cls = get_method(method)
    fitted, splits = source.load(mlp=cls.can_repair is True)  # neuron repair edits an MLP
    names = parse_group_names(group_names)
    if names:
        splits = replace(
            splits,
            **{split: named_groups(rows, fitted, names) for split, rows in splits},
        )
        fitted.groups = splits.train.groups
        fitted.training = {**fitted.training, "group_names": names}
    mode = mode or fitted.dataset.get("mode", "dp")
    fitted.dataset.setdefault("mode", mode)
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
        model_label=source.name,
        overwrite=overwrite,
        threshold=threshold,
    )


def repair_model(
    model_dir: str | Path,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    out: str | Path | None = None,
    mode: str | None = None,
    seed: int = 0,
    train: dict[str, Any] | None = None,
    runtime: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """:func:`repair_source` of the model directory ``model_dir``; returns the report.

    The repaired model is saved to ``out`` (default: ``MODEL_DIR-METHOD`` beside it).
    """
    runtime = runtime or {}
    target = Path(out) if out is not None else Path(f"{Path(model_dir)}-{get_method(method).name}")
    source = ModelSource.saved(model_dir, device=runtime.get("device", "cpu"))
    report, _ = repair_source(
        source,
        method,
        params,
        out=target,
        mode=mode,
        seed=seed,
        train=train,
        runtime=runtime,
        overwrite=overwrite,
    )
    return report


def repair_fitted(
    fitted: FittedModel,
    splits: Splits,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    out: str | Path | None,
    mode: str = "dp",
    seed: int = 0,
    train: dict[str, Any] | None = None,
    runtime: dict[str, Any] | None = None,
    model_label: str = "model",
    overwrite: bool = False,
    threshold: float | None = None,
) -> tuple[dict[str, Any], FittedModel]:
    """Apply ``method`` to ``fitted`` (trained on ``splits``); evaluate val/test before and after.

    ``threshold`` makes ``fitted`` decide at that threshold first (before and after).

    Returns the JSON-ready report and the repaired model (saved to ``out`` when given;
    an existing model folder there is replaced only with ``overwrite``).
    """
    check_seed(seed)
    runtime = runtime or {}
    cls = get_method(method)
    params = dict(params or {})
    if cls.notion_param in cls.Params.model_fields:  # the notion goes where the method reads it
        params.setdefault(cls.notion_param, mode)
    repairer = cls(**params)
    recipe = fitted.dataset.get("recipe", DEFAULT_RECIPE)
    values = {**protocol(recipe, mode, cls.name), **(train or {}), **runtime}
    config = TrainConfig.make(**values)
    if out is not None:  # before the work, not after it
        check_out(out, overwrite=overwrite)
    if threshold is not None:
        fitted = with_threshold(fitted, threshold)
    before = {name: fitted.evaluate(data) for name, data in splits if name != "train"}
    base = {"method": fitted.method, "params": fitted.params}
    repaired = repairer.repair(fitted, splits.train, splits.val, config=config, seed=seed)
    repaired.method, repaired.params = cls.name, repairer.params.model_dump(mode="json")
    kept = {k: fitted.training[k] for k in ("group_names",) if k in fitted.training}
    repaired.training = {
        **repaired.training,
        **kept,  # the groups' names go with the model
        "repaired_from": {**base, "model_dir": model_label},
    }
    if kept:  # named groups (the same groups, by their names)
        repaired.groups = fitted.groups
    after = {name: repaired.evaluate(data) for name, data in splits if name != "train"}
    path = repaired.save(out, overwrite=overwrite) if out is not None else None
    report = {
        "model": model_label,
        "method": cls.name,
        "params": repairer.params.model_dump(mode="json"),
        "mode": mode,
        "before": before,
        "after": after,
        "decision": decision_report(repaired, [(n, d) for n, d in splits if n != "train"]),
        "model_path": None if path is None else str(path),
    }
    return report, repaired
