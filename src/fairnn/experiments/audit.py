"""Audit a model: metrics, a by-group table and bootstrap intervals on some data.

The model comes from a :class:`~fairnn.experiments.model_source.ModelSource`: a fairnn
model directory (on a split of its own data, or on other data run through its
preprocessor) or a user's model on a split of the data it came with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fairnn.datasets.core import TabularData
from fairnn.datasets.recipes import DEFAULT_RECIPE
from fairnn.datasets.sources import NUMERIC, DataSpec, raw_frame
from fairnn.errors import ConfigError, InvalidValueError, ModelFileError
from fairnn.experiments.model_source import ModelSource, model_splits
from fairnn.methods.fitted import FittedModel
from fairnn.validation import check_number

SPLITS = ("train", "val", "test")
GROUP_COLUMNS = ["count", "selection_rate", "accuracy", "tpr", "fpr", "mean_score"]

__all__ = [  # NUMERIC and model_splits: their old import path, for one release
    "NUMERIC",
    "SPLITS",
    "audit_data",
    "audit_model",
    "audit_source",
    "audit_report",
    "is_own_data",
    "model_splits",
]


def is_own_data(fitted: FittedModel, data: str | None) -> bool:
    """Whether ``data`` is what the model trained on: omitted, its name, or the same file."""
    own = fitted.dataset.get("source")
    if data is None or data == own:
        return True
    if own is None or not (Path(data).is_file() and Path(own).is_file()):
        return False
    return Path(data).samefile(own)


def audit_data(fitted: FittedModel, data: str | None, split: str) -> tuple[str, TabularData]:
    """The rows to audit on: the model's own split (also when ``data`` names the file it
    trained on), or a table run through its preprocessor (every row)."""
    recipe = fitted.dataset.get("recipe", DEFAULT_RECIPE)
    if data is None or is_own_data(fitted, data):
        if split not in SPLITS:
            raise ConfigError(
                f"--split must be one of {SPLITS} for the model's own data, got {split!r}"
            )
        own = fitted.dataset.get("source")
        return f"{own} ({recipe})", getattr(model_splits(fitted), split)
    if fitted.preprocessor is None and recipe == NUMERIC:
        spec = DataSpec.from_record(fitted.dataset)
        return data, spec.numeric_rows(raw_frame(data), Path(data).stem)
    if fitted.preprocessor is None:
        raise ModelFileError(
            "this model was saved without its preprocessor, so it cannot score new raw data; "
            "audit it on its own data (omit --data)"
        )
    return data, fitted.preprocessor.transform(raw_frame(data))


def audit_source(
    source: ModelSource,
    *,
    data: str | None = None,
    split: str = "test",
    bootstrap: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Everything ``fairnn audit`` prints, as a JSON-ready dict.

    A model directory is audited on ``split`` of its own data, or on ``data`` (a table
    or dataset name) run through its preprocessor, every row; a user's model on
    ``split`` of the data it came with. ``seed`` draws the bootstrap resamples.
    """
    if source.is_user:
        if split not in SPLITS:
            raise ConfigError(f"split must be one of {SPLITS}, got {split!r}")
        if data is not None:
            raise ConfigError(
                "a user's model is audited on the data it comes with (ModelSource.data); drop data="
            )
        fitted, splits = source.load()
        return audit_report(
            fitted,
            getattr(splits, split),
            model=f"user model ({source.name})",
            data=str(splits.info.get("source") or "data"),
            split=split,
            bootstrap=bootstrap,
            seed=seed,
        )
    fitted = source.fitted()
    name, td = audit_data(fitted, data, split)
    return audit_report(
        fitted,
        td,
        model=f"{fitted.method} ({Path(source.name)})",
        data=name,
        split=split if is_own_data(fitted, data) else "all",
        bootstrap=bootstrap,
        seed=seed,
    )


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
) -> dict[str, Any]:
    """Metrics, the by-group table and (``bootstrap > 0``) 95% intervals of ``fitted`` on ``td``."""
    from fairnn.metrics import GroupMetricFrame, evaluate_with_ci

    if bootstrap != 0:
        check_number(bootstrap, "bootstrap", integer=True, ge=2, hint="resamples; 0: no intervals")

    if td.features.names != fitted.features.names:
        raise InvalidValueError(
            f"the data's {td.features.dim} features do not match the model's {fitted.features.dim}; "
            "audit with data that has the columns the model was trained on"
        )
    scores = fitted.predict_proba(td)
    y, groups = td.y.cpu().numpy(), td.group_labels()
    metrics = fitted.evaluate(td)
    columns = GROUP_COLUMNS if td.task == "binary" else ["count", "mean_score"]
    decided = scores
    if fitted.decision is not None and td.task == "binary":
        # a decision rule (e.g. reject option) decides: the table shows its decisions
        decided = fitted.predict(td).astype(float)
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
        )
        report["intervals"] = {k: (ci.low, ci.high) for k, ci in cis.items()}
    return report
