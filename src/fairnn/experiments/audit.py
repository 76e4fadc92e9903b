"""Audit a model: metrics, a by-group table and bootstrap intervals on some data.

The model comes from a :class:`~fairnn.experiments.model_source.ModelSource`: a fairnn
model directory (on a split of its own data, or on other data run through its
preprocessor) or a user's model on a split of the data it came with.

Other data with a split column (``--data F --split-column C``) is audited on the rows
whose ``C`` names ``--split`` (``all``: every row). Groups print by the names given
(``group_names``, ``--group-names SEX=1:male,2:female``), else by those the model was
trained or repaired with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from fairnn.datasets.columns import parse_group_names
from fairnn.datasets.core import GroupInfo, Splits, TabularData, TensorData
from fairnn.datasets.own_split import own_split_rows
from fairnn.datasets.recipes import DEFAULT_RECIPE
from fairnn.datasets.sources import NUMERIC, DataSpec, looks_like_path, raw_frame
from fairnn.errors import ConfigError, InvalidValueError, ModelFileError
from fairnn.experiments.model_source import ModelSource, model_splits
from fairnn.methods.decision import decision_report, with_threshold
from fairnn.methods.fitted import FittedModel
from fairnn.validation import check_number

SPLITS = ("train", "val", "test")
#: what ``--split`` takes: one split, or ``all`` (every row of the data)
AUDIT_SPLITS = (*SPLITS, "all")
GROUP_COLUMNS = ["count", "selection_rate", "accuracy", "tpr", "fpr", "mean_score"]

__all__ = [  # NUMERIC and model_splits: their old import path, for one release
    "AUDIT_SPLITS",
    "NUMERIC",
    "SPLITS",
    "audit_data",
    "audit_model",
    "audit_source",
    "audit_report",
    "check_split",
    "is_own_data",
    "model_splits",
    "named_groups",
    "split_rows",
]


def is_own_data(fitted: FittedModel, data: str | None) -> bool:
    """Whether ``data`` is what the model trained on: omitted, its name, or the same file."""
    own = fitted.dataset.get("source")
    if data is None or data == own:
        return True
    if own is None or not (Path(data).is_file() and Path(own).is_file()):
        return False
    return Path(data).samefile(own)


def check_split(split: str) -> None:
    """Refuse a ``split`` that is not one of :data:`AUDIT_SPLITS`."""
    if split not in AUDIT_SPLITS:
        raise ConfigError(f"--split must be one of {', '.join(AUDIT_SPLITS)}, got {split!r}")


def split_rows(splits: Splits, split: str) -> TabularData:
    """The rows of ``split`` (one of :data:`AUDIT_SPLITS`): one split, or ``all``, the
    rows of train, val and test together (every row of the data)."""
    check_split(split)
    if split != "all":
        return getattr(splits, split)
    parts = [rows for _, rows in splits]
    if any(isinstance(rows, TensorData) for rows in parts):
        raise ConfigError(
            "--split all joins a table's rows; audit image or text data on train, val or test"
        )
    weights = [rows.sample_weight for rows in parts]
    return replace(
        parts[0],
        X=torch.cat([rows.X for rows in parts]),
        y=torch.cat([rows.y for rows in parts]),
        s=torch.cat([rows.s for rows in parts]),
        sample_weight=None if any(w is None for w in weights) else torch.cat(weights),  # type: ignore[arg-type]
    )


def audit_data(
    fitted: FittedModel, data: str | None, split: str, split_column: str | None = None
) -> tuple[str, TabularData, str]:
    """The rows to audit on, their name and their split: the model's own ``split``
    (``all``: every row of its data; also when ``data`` names the file it trained on), or
    a table run through its preprocessor: every row (split ``all``), or with
    ``split_column`` the rows whose column names ``split`` (:func:`other_rows`)."""
    recipe = fitted.dataset.get("recipe", DEFAULT_RECIPE)
    if data is None or is_own_data(fitted, data):
        check_split(split)  # before the data loads
        own = fitted.dataset.get("source")
        if split_column not in (None, fitted.dataset.get("split_column")):
            raise ConfigError(
                f"--split-column {split_column!r}: {own} is the model's own data, split as it "
                "was trained; drop --split-column (or audit another file with --data)"
            )
        return f"{own} ({recipe})", split_rows(model_splits(fitted), split), split
    frame, used = other_rows(data, split, split_column)
    name = data if split_column is None else f"{data} (split column {split_column!r})"
    if fitted.preprocessor is None and recipe == NUMERIC:
        spec = DataSpec.from_record(fitted.dataset)
        return name, spec.numeric_rows(frame, Path(data).stem), used
    if fitted.preprocessor is None:
        raise ModelFileError(
            "this model was saved without its preprocessor, so it cannot score new raw data; "
            "audit it on its own data (omit --data)"
        )
    return name, fitted.preprocessor.transform(frame), used


def other_rows(data: str, split: str, split_column: str | None) -> tuple[pd.DataFrame, str]:
    """The raw rows of ``data`` (not the model's own) to audit, and their split: every row
    (``all``); with ``split_column``, the rows whose column names ``split`` (``all``: every
    row), the column dropped (:func:`~fairnn.datasets.own_split.own_split_rows`)."""
    if split_column is None:
        return raw_frame(data), "all"
    check_split(split)
    if not looks_like_path(data):
        raise ConfigError(
            f"--split-column applies to a table (--data FILE.csv), not to the dataset {data!r}: "
            "drop it"
        )
    rows = own_split_rows(DataSpec(dataset=data, split_column=split_column))
    if split == "all":
        return rows.frame, split
    return rows.frame.iloc[rows.indices[SPLITS.index(split)]].reset_index(drop=True), split


def named_groups(
    td: TabularData, fitted: FittedModel, names: Mapping[str, Mapping[Any, str]]
) -> TabularData:
    """``td`` with its groups shown by ``names`` (``{column: {value: name}}``, as
    :func:`~fairnn.datasets.columns.parse_group_names` takes it); a value without a name
    keeps its own. The raw values come from the model's preprocessor where it made the
    groups (so names it was trained with can be replaced), else from the group labels."""
    names = parse_group_names(dict(names))
    attributes = td.groups.attributes
    unknown = sorted(set(names) - set(attributes))
    if unknown:
        raise ConfigError(
            f"--group-names names {unknown}, which are not sensitive columns of the data "
            f"({list(attributes)}); name the groups of those, e.g. {attributes[0]}=1:male,2:female"
        )
    pre = fitted.preprocessor
    combos = getattr(pre, "group_combos", None)
    if combos and list(pre.sensitive) == list(attributes) and len(combos) == td.groups.n_groups:
        raw = [tuple(str(pre.group_values[a][i]) for a, i in enumerate(combo)) for combo in combos]
    else:  # the labels: one value per column, joined by " & "
        raw = [tuple(label.split(" & ")) for label in td.groups.labels]

    def name(attribute: str, value: str) -> str:
        own = names.get(attribute, {})
        return own.get(value, own.get(_value_key(value), value))

    labels = tuple(
        " & ".join(name(a, v) for a, v in zip(attributes, values, strict=True))
        if len(values) == len(attributes)
        else label  # a value holds " & ": left as it is
        for values, label in zip(raw, td.groups.labels, strict=True)
    )
    return replace(td, groups=GroupInfo(attributes, labels))


def _value_key(value: str) -> str:
    """The key ``--group-names`` gives a value: ``1.0`` and ``1`` are both ``"1"``."""
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else value


def audit_source(
    source: ModelSource,
    *,
    data: str | None = None,
    split: str = "test",
    bootstrap: int = 0,
    seed: int = 0,
    threshold: float | None = None,
    group_names: Mapping[str, Mapping[Any, str]] | list[str] | str | None = None,
    split_column: str | None = None,
) -> dict[str, Any]:
    """Everything ``fairnn audit`` prints, as a JSON-ready dict.

    A model directory is audited on ``split`` of its own data, or on ``data`` (a table
    or dataset name) run through its preprocessor: every row, or with ``split_column``
    the rows whose column names ``split``; a user's model on ``split`` of the data it
    came with. ``split`` ``all`` is every row of that data. ``seed`` draws the bootstrap
    resamples. ``group_names`` (``{"SEX": {1: "male"}}`` or ``"SEX=1:male,2:female"``)
    names the groups, in place of those the model was trained or repaired with.
    """
    names = parse_group_names(group_names)
    if source.is_user:
        check_split(split)  # before the model and its data load
        if data is not None:
            raise ConfigError(
                "a user's model is audited on the data it comes with (ModelSource.data); drop data="
            )
        if split_column is not None:
            raise ConfigError(
                "a user's model is split by its data's own split_column "
                "(UserModel(split_column=...)); drop split_column="
            )
        fitted, splits = source.load()
        return audit_report(
            fitted,
            _named(split_rows(splits, split), fitted, names),
            model=f"user model ({source.name})",
            data=str(splits.info.get("source") or "data"),
            split=split,
            bootstrap=bootstrap,
            seed=seed,
            threshold=threshold,
        )
    fitted = source.fitted()
    name, td, used = audit_data(fitted, data, split, split_column)
    return audit_report(
        fitted,
        _named(td, fitted, names),
        model=f"{fitted.method} ({Path(source.name)})",
        data=name,
        split=used,
        bootstrap=bootstrap,
        seed=seed,
        threshold=threshold,
    )


def _named(
    td: TabularData, fitted: FittedModel, names: Mapping[str, Mapping[str, str]] | None
) -> TabularData:
    """``td``'s groups by ``names``, else by the names the model records
    (``training["group_names"]``: a repair given them), else as they are."""
    names = names if names is not None else fitted.training.get("group_names")
    return named_groups(td, fitted, names) if names else td


def audit_model(
    model_dir: str | Path,
    *,
    data: str | None = None,
    split: str = "test",
    bootstrap: int = 0,
    device: str = "cpu",
    seed: int = 0,
) -> dict[str, Any]:
    """:func:`audit_source` of the model directory ``model_dir``."""
    source = ModelSource.saved(model_dir, device=device)
    return audit_source(source, data=data, split=split, bootstrap=bootstrap, seed=seed)


def audit_report(
    fitted: FittedModel,
    td: TabularData,
    *,
    model: str,
    data: str,
    split: str,
    bootstrap: int = 0,
    seed: int = 0,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Metrics, the by-group table and (``bootstrap > 0``) 95% intervals of ``fitted`` on ``td``;
    ``threshold`` replaces the model's own decision threshold."""
    from fairnn.metrics import GroupMetricFrame, evaluate_with_ci

    if bootstrap != 0:
        check_number(bootstrap, "bootstrap", integer=True, ge=2, hint="resamples; 0: no intervals")

    if td.features.names != fitted.features.names:
        raise InvalidValueError(
            f"the data's {td.features.dim} features do not match the model's {fitted.features.dim}; "
            "audit with data that has the columns the model was trained on"
        )
    if threshold is not None:
        fitted = with_threshold(fitted, threshold)
    scores = fitted.predict_proba(td)
    y, groups = td.y.cpu().numpy(), td.group_labels()
    metrics = fitted.evaluate(td)
    columns = GROUP_COLUMNS if td.task == "binary" else ["count", "mean_score"]
    decided = scores
    # the model's final 0/1 decisions (its threshold, or its decision rule): the intervals
    # are those of what it decides, as its metrics are
    decisions = fitted.predict(td).astype(float) if td.task == "binary" else None
    if fitted.decision is not None and decisions is not None:
        # a decision rule (e.g. reject option) decides: the table shows its decisions
        decided = decisions
        columns = [c for c in columns if c != "mean_score"]
    frame = GroupMetricFrame(
        columns,
        y,
        decided,
        sensitive_features=groups,
        threshold=fitted.threshold,
    )
    report: dict[str, Any] = {
        "model": model,
        "data": data,
        "split": split,
        "rows": len(td),
        "metrics": metrics,
        "by_group": frame.by_group.rename_axis("group").reset_index().to_dict(orient="records"),
        "by_group_markdown": frame.to_markdown(),
        # made once: the decisions the intervals and the by-group table are computed on
        "decision": decision_report(
            fitted, [(split, td)], decided=None if decisions is None else {split: decisions}
        ),
    }
    if bootstrap > 0:
        cis = evaluate_with_ci(
            y,
            scores,
            sensitive_features=groups,
            n_resamples=bootstrap,
            seed=seed,
            threshold=fitted.threshold,
            task=td.task,
            y_pred=decisions,
        )
        report["intervals"] = {k: (ci.low, ci.high) for k, ci in cis.items()}
    return report
