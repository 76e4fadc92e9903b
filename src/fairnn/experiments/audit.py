"""Audit a saved model: metrics, a by-group table and bootstrap intervals on some data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fairnn.datasets.core import Splits, TabularData
from fairnn.errors import ConfigError, InvalidValueError, ModelFileError
from fairnn.experiments.run import load_splits, looks_like_path
from fairnn.experiments.spec import RunSpec
from fairnn.methods.fitted import FittedModel
from fairnn.validation import check_number

SPLITS = ("train", "val", "test")
GROUP_COLUMNS = ["count", "selection_rate", "accuracy", "tpr", "fpr", "mean_score"]
#: the recipe of data whose feature columns are a user model's inputs, used as they are
NUMERIC = "numeric"


def model_splits(fitted: FittedModel) -> Splits:
    """The train/val/test splits a saved model was trained on, rebuilt from its sidecar."""
    own = fitted.dataset.get("source")
    if own is None:
        raise ModelFileError(
            "the model file does not say which data it was trained on; pass --data"
        )
    if fitted.dataset.get("recipe") == NUMERIC:
        from fairnn.experiments.byo import numeric_table_splits

        return numeric_table_splits(own, fitted.dataset)
    spec = RunSpec.make(
        dataset=own,
        recipe=fitted.dataset.get("recipe", "clean"),
        seed=int(fitted.dataset.get("seed", fitted.seed)),
        label=fitted.dataset.get("label"),
        sensitive=list(fitted.groups.attributes),
        categorical=fitted.dataset.get("categorical"),
        continuous=fitted.dataset.get("continuous"),
        positive_label=fitted.dataset.get("positive_label"),
    )
    return load_splits(spec)


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
    own = fitted.dataset.get("source")
    if is_own_data(fitted, data):
        if split not in SPLITS:
            raise ConfigError(
                f"--split must be one of {SPLITS} for the model's own data, got {split!r}"
            )
        recipe = fitted.dataset.get("recipe", "clean")
        return f"{own} ({recipe})", getattr(model_splits(fitted), split)
    if fitted.preprocessor is None and fitted.dataset.get("recipe") == NUMERIC:
        from fairnn.datasets import read_table
        from fairnn.datasets.arrays import table_as_numeric

        ds = fitted.dataset
        return data, table_as_numeric(
            read_table(data),
            label=ds["label"],
            sensitive=ds["sensitive"],
            features=ds.get("features"),
            positive_label=ds.get("positive_label"),
            name=Path(data).stem,
        )
    if fitted.preprocessor is None:
        raise ModelFileError(
            "this model was saved without its preprocessor, so it cannot score new raw data; "
            "audit it on its own data (omit --data)"
        )
    from fairnn.datasets import load_raw, read_table

    frame = read_table(data) if looks_like_path(data) else load_raw(data)
    return data, fitted.preprocessor.transform(frame)


def audit_model(
    model_dir: str | Path,
    *,
    data: str | None = None,
    split: str = "test",
    bootstrap: int = 0,
    device: str = "cpu",
    seed: int = 0,
) -> dict[str, Any]:
    """Everything ``fairnn audit`` prints, as a JSON-ready dict."""

    fitted = FittedModel.load(model_dir, device=device)
    name, td = audit_data(fitted, data, split)
    return audit_report(
        fitted,
        td,
        model=f"{fitted.method} ({Path(model_dir)})",
        data=name,
        split=split if is_own_data(fitted, data) else "all",
        bootstrap=bootstrap,
        seed=seed,
    )


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
