"""``fairnn repair``: repair a trained model and report before/after."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import (
    EXTRA_ARGS,
    DeviceOpt,
    GroupNamesOpt,
    JsonOpt,
    ModelDirArg,
    OverwriteOpt,
    ThresholdOpt,
    friendly,
    model_file_options,
    parse_extra,
    setup_logging,
    show,
)


@app.command("repair", context_settings=EXTRA_ARGS)
@friendly
@model_file_options
def repair(
    ctx: typer.Context,
    method: Annotated[
        str, typer.Option(help="A method that repairs trained models (see `fairnn methods`).")
    ],
    model_dir: ModelDirArg = None,
    mode: Annotated[
        str | None, typer.Option(help="dp or eo; default: the mode the model was trained in.")
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
    epochs: Annotated[
        int | None, typer.Option(help="Fine-tuning epochs (methods that fine-tune).")
    ] = None,
    lr: Annotated[float | None, typer.Option(help="Fine-tuning learning rate.")] = None,
    threshold: ThresholdOpt = None,
    group_names: GroupNamesOpt = None,
    user_model: Any = None,  # replaced by the model-file options (model_file_options)
    device: DeviceOpt = "cpu",
    out: Annotated[
        Path | None,
        typer.Option(help="Where to save the repaired model (default MODEL_DIR-METHOD)."),
    ] = None,
    overwrite: OverwriteOpt = False,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Repair a trained model (post-processing or neuron repair) and report before/after.

    Method parameters follow as --name value, e.g. `--method roc --theta 0.6`. Your own
    PyTorch model: --model-file model.safetensors [--arch model.json] --data ... --out DIR.
    """
    setup_logging(quiet or as_json)
    extra = list(ctx.args)
    if user_model["model_file"] is not None and model_dir is not None:
        # with --model-file there is no MODEL_DIR: click gave it the first method parameter
        extra, model_dir = [str(model_dir), *extra], None
    result = api.repair(
        api.model_source(model_dir, **user_model),
        method,
        params=parse_extra(extra),
        mode=mode,
        seed=seed,
        epochs=epochs,
        lr=lr,
        threshold=threshold,
        device=device,
        out=out,
        overwrite=overwrite,
        progress=not quiet and not as_json,
        group_names=group_names,
    )
    show(result, as_json)
