"""``fairnn train``: train a model with a method and report its metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import (
    EXTRA_ARGS,
    DeviceOpt,
    DropOpt,
    GroupNamesOpt,
    JsonOpt,
    OverwriteOpt,
    QuietOpt,
    SensitiveAsInputOpt,
    SplitColumnOpt,
    TestFileOpt,
    TrainFileOpt,
    ValFileOpt,
    data_option,
    friendly,
    optional_scalar,
    parse_extra,
    setup_logging,
    show,
)
from fairnn.errors import ConfigError


@app.command("train", context_settings=EXTRA_ARGS)
@friendly
def train(
    ctx: typer.Context,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            help="Dataset name (see `fairnn datasets`) or a CSV/parquet path (or --train, "
            "--val, --test).",
        ),
    ] = None,
    train_file: TrainFileOpt = None,
    val_file: ValFileOpt = None,
    test_file: TestFileOpt = None,
    split_column: SplitColumnOpt = None,
    method: Annotated[
        str, typer.Option(help="Method name (see `fairnn methods`).")
    ] = api.BASELINE_METHOD,
    mode: Annotated[
        str,
        typer.Option(
            help="Fairness notion: dp or eo. A method whose own mode is something else takes "
            "other values as that mode (fairbinn: reg, bilevel, adv, hybrid)."
        ),
    ] = "dp",
    seed: Annotated[
        int, typer.Option(help="Seed for the split, the initialisation and the batches.")
    ] = 0,
    recipe: Annotated[
        str, typer.Option(help="Dataset recipe: clean (default) or a paper's, e.g. runner.")
    ] = api.DEFAULT_RECIPE,
    label: Annotated[str | None, typer.Option(help="Label column (your own data).")] = None,
    sensitive: Annotated[
        list[str] | None, typer.Option(help="Sensitive column(s); repeat for intersections.")
    ] = None,
    categorical: Annotated[
        list[str] | None,
        typer.Option(help="Own data: treat this column as categorical (COL[,COL]; repeat)."),
    ] = None,
    continuous: Annotated[
        list[str] | None,
        typer.Option(help="Own data: treat this column as continuous (COL[,COL]; repeat)."),
    ] = None,
    positive_label: Annotated[
        str | None,
        typer.Option(
            "--positive-label",
            "--positive_label",
            help="Own data: the label value that counts as positive.",
        ),
    ] = None,
    drop: DropOpt = None,
    sensitive_as_input: SensitiveAsInputOpt = None,
    group_names: GroupNamesOpt = None,
    epochs: Annotated[int | None, typer.Option(help="Training epochs.")] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", "--batch_size", help="Batch size.")
    ] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    lr_decay: Annotated[
        float | None,
        typer.Option(
            "--lr-decay",
            "--lr_decay",
            help="Multiply the learning rate by this every --lr-decay-every steps.",
        ),
    ] = None,
    lr_decay_every: Annotated[
        int | None,
        typer.Option(
            "--lr-decay-every", "--lr_decay_every", help="Steps between learning-rate decays."
        ),
    ] = None,
    hidden: Annotated[
        list[int] | None,
        typer.Option(help="Hidden layer sizes; repeat: --hidden 200 --hidden 200."),
    ] = None,
    select: Annotated[
        str | None,
        typer.Option(
            help="Model selection (early stopping): last, loss, constrained_error or a metric name."
        ),
    ] = None,
    patience: Annotated[
        int | None, typer.Option(help="Early stopping: stop after N epochs without improvement.")
    ] = None,
    weight_decay: Annotated[
        float | None,
        typer.Option("--weight-decay", "--weight_decay", help="L2 regularisation (weight decay)."),
    ] = None,
    flood_level: Annotated[
        float | None,
        typer.Option(
            "--flood-level",
            "--flood_level",
            "--flood",
            help="Flooding level b: the primary loss L becomes |L - b| + b (Ishida et al. 2020).",
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Decision threshold in (0, 1) the model keeps: decide 1 when the score is "
            "above it (default 0.5); every label metric uses it."
        ),
    ] = None,
    class_weight: Annotated[
        str | None,
        typer.Option(
            "--class-weight",
            "--class_weight",
            help="Imbalanced labels: weigh the positive class in the loss, 'balanced' "
            "(negatives/positives) or a number > 0.",
        ),
    ] = None,
    l1: Annotated[
        float | None,
        typer.Option(help="Certifiable training: λ·Σ|W| on the MLP's weights."),
    ] = None,
    relu_stability: Annotated[
        float | None,
        typer.Option(
            "--relu-stability",
            "--relu_stability",
            help="Certifiable training: the ReLU-stability term's weight (Xiao et al. 2019): "
            "fewer neurons that change sign near the data, faster certificates.",
        ),
    ] = None,
    stability_eps: Annotated[
        float | None,
        typer.Option(
            "--stability-eps",
            "--stability_eps",
            help="The ℓ∞ radius (model-input units) of --relu-stability (default 0.05).",
        ),
    ] = None,
    fnr_gap: Annotated[
        float | None,
        typer.Option(
            "--fnr-gap",
            "--fnr_gap",
            help="Also report errors under per-group thresholds chosen on val with "
            "|ΔFNR| <= this (the MinDiff paper's evaluation).",
        ),
    ] = None,
    target_gap: Annotated[
        float | None,
        typer.Option(
            "--target-gap",
            "--target_gap",
            help="Search the method's fairness weight (e.g. gapreg's lam) on val for the most "
            "accurate non-degenerate model whose gap is at most this.",
        ),
    ] = None,
    target_budget: Annotated[
        int,
        typer.Option(
            "--target-budget", "--target_budget", help="With --target-gap: the most fits."
        ),
    ] = 6,
    arch: Annotated[
        str | None,
        typer.Option(
            help="Image/text data: cnn or preact_resnet; text or transformer. "
            "Any data: random_features (with --width N)."
        ),
    ] = None,
    width: Annotated[
        int | None,
        typer.Option(help="Image/text data: CNN channels, ResNet width k, or embedding dim."),
    ] = None,
    device: DeviceOpt = "cpu",
    out: Annotated[
        Path | None, typer.Option(help="Save the model (safetensors + JSON) here.")
    ] = None,
    overwrite: OverwriteOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train a model with a method and report metrics on train, val and test.

    Method parameters follow as --name value, e.g. `--method gapreg --lam 0.3`.
    """
    setup_logging(quiet or as_json)
    source = data_option(data, train_file, val_file, test_file)
    if source is None:
        raise ConfigError("give --data (a dataset name or table) or --train F --val F --test F")
    result = api.train(
        source,
        split_column=split_column,
        method=method,
        params=parse_extra(list(ctx.args)),
        mode=mode,
        seed=seed,
        recipe=recipe,
        label=label,
        sensitive=sensitive,
        categorical=categorical,
        continuous=continuous,
        positive_label=optional_scalar(positive_label),
        drop=drop,
        sensitive_as_input=sensitive_as_input,
        group_names=group_names,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        lr_decay=lr_decay,
        lr_decay_every=lr_decay_every,
        hidden=hidden,
        select=select,
        patience=patience,
        weight_decay=weight_decay,
        flood_level=flood_level,
        threshold=threshold,
        class_weight=optional_scalar(class_weight),
        l1=l1,
        relu_stability=relu_stability,
        stability_eps=stability_eps,
        fnr_gap=fnr_gap,
        target_gap=None if target_gap is None else {"target": target_gap, "budget": target_budget},
        arch=arch,
        width=width,
        device=device,
        out=out,
        overwrite=overwrite,
        progress=not quiet and not as_json,
    )
    show(result, as_json)
