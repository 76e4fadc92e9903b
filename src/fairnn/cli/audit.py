"""``fairnn audit``: a model's accuracy and group fairness, overall and by group."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import (
    DeviceOpt,
    GroupNamesOpt,
    JsonOpt,
    ModelDirArg,
    SeedOpt,
    ThresholdOpt,
    friendly,
    model_file_options,
    show,
)


@app.command("audit")
@friendly
@model_file_options
def audit(
    model_dir: ModelDirArg = None,
    data: Annotated[
        str | None,
        typer.Option(help="Dataset name or CSV/parquet path; default: the model's own data."),
    ] = None,
    split: Annotated[
        str,
        typer.Option(
            help="train, val, test, or all (every row); a --data file that is not the "
            "model's own is audited on every row, or with --split-column C on the rows whose "
            "C is this split."
        ),
    ] = "test",
    bootstrap: Annotated[
        int, typer.Option(help="Bootstrap resamples for 95% intervals: 0 (none) or >= 2.")
    ] = 0,
    threshold: ThresholdOpt = None,
    group_names: GroupNamesOpt = None,
    user_model: Any = None,  # replaced by the model-file options (model_file_options)
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    as_json: JsonOpt = False,
) -> None:
    """Measure a model's accuracy and group fairness, overall and by group.

    Your own PyTorch model: --model-file model.safetensors [--arch model.json] --data ...
    """
    # MODEL_DIR --data F --split-column C: C splits the other data F (not a --model-file's)
    split_column = user_model.pop("split_column") if model_dir is not None else None
    model = api.model_source(model_dir, data=data, **user_model)
    report = api.audit(
        model,
        data=data,
        split=split,
        bootstrap=bootstrap,
        seed=seed,
        device=device,
        threshold=threshold,
        group_names=group_names,
        split_column=split_column,
    )
    show(report, as_json)
