"""The ``fairnn`` command line. Thin: it parses, calls the library, prints.

Method parameters pass straight through as ``--name value`` (``--lam 0.3``,
``--neuron_ratio 0.05``), so a paper's command line works as written; the
method's parameter model validates them, as it does for the Python API.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from fairnn.errors import ConfigError, FairnnError
from fairnn.experiments.tables import format_table, text_table

app = typer.Typer(
    name="fairnn",
    help="Measure, mitigate and certify the fairness of neural networks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
datasets_app = typer.Typer(
    help="List the dataset registry, or show one entry.", no_args_is_help=False
)
app.add_typer(datasets_app, name="datasets")

F = TypeVar("F", bound=Callable[..., Any])
REPORT_METRICS = ("accuracy", "ap", "dp_gap", "eodds_gap_sum", "eodds_gap_max")


def friendly(fn: F) -> F:
    """Print a FairnnError's message (no traceback) and exit with status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FairnnError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _setup_logging(quiet: bool) -> None:
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s")


def parse_extra(args: list[str]) -> dict[str, Any]:
    """``['--lam', '0.3', '--neuron_ratio=0.05', '--flag']`` → method parameters."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        tok = args[i]
        if not tok.startswith("--") or len(tok) < 3:
            raise ConfigError(
                f"unexpected argument {tok!r}; method parameters are given as --name value"
            )
        name, eq, value = tok[2:].partition("=")
        values: list[str] = []
        if eq:
            values = [value]
        else:
            while i + 1 < len(args) and not (
                args[i + 1].startswith("--") and not _is_number(args[i + 1])
            ):
                i += 1
                values.append(args[i])
        key = name.replace("-", "_")
        parsed = [_parse_scalar(v) for v in values]
        out[key] = True if not parsed else parsed[0] if len(parsed) == 1 else parsed
        i += 1
    return out


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _parse_scalar(v: str) -> Any:
    try:
        return json.loads(v)
    except json.JSONDecodeError:
        return v


# -- datasets ------------------------------------------------------------------
@datasets_app.callback(invoke_without_command=True)
@friendly
def datasets_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the registered datasets: rows, label, sensitive attributes, source, license, presence."""
    if ctx.invoked_subcommand is not None:
        return
    from fairnn.datasets import dataset_info, list_datasets

    infos = [dataset_info(name) for name in list_datasets()]
    if as_json:
        typer.echo(json.dumps(infos, default=str))
        return
    cols = ("name", "rows", "task", "label", "sensitive", "source", "license", "present")
    table = [[str(_cell(info, c)) for c in cols] for info in infos]
    typer.echo(text_table(cols, table, numeric=False))


def _cell(info: dict[str, Any], col: str) -> Any:
    if col == "source":
        if not info.get("files"):
            return "generated"
        found = [loc["origin"] for f in info.get("local", []) for loc in f.get("locations", [])]
        if found:
            return found[0]
        return "download" if any(info.get("download_urls") or []) else "user-supplied"
    v = info.get(col, "")
    if v is None:
        return "?"
    if col == "license":
        return str(v).split(" (")[0][:28]
    if isinstance(v, list | tuple):
        return ",".join(map(str, v))
    if col == "present":
        return "yes" if v else "no"
    return v


@datasets_app.command("info")
@friendly
def datasets_info(
    name: Annotated[str, typer.Argument(help="A registered dataset name, e.g. adult.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Everything the registry knows about one dataset, and where its files are."""
    from fairnn.datasets import dataset_info

    info = dataset_info(name)
    if as_json:
        typer.echo(json.dumps(info, default=str))
        return
    for k, v in info.items():
        typer.echo(f"{k:>12}: {v}")


# -- methods -------------------------------------------------------------------
@app.command("methods")
@friendly
def methods_list() -> None:
    """List the registered methods, their stage, parameters and paper."""
    from fairnn.methods import list_methods

    for cls in list_methods():
        params = ", ".join(
            f"{k}={f.get_default(call_default_factory=True)!r}"
            for k, f in cls.Params.model_fields.items()
        )
        alias = f" (aliases: {', '.join(cls.aliases)})" if cls.aliases else ""
        typer.echo(f"{cls.name} [{cls.stage}]{alias}\n    params: {params or '-'}\n    {cls.paper}")


OverwriteOpt = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace what an earlier run wrote at --out (atomically); without it, refuse.",
    ),
]


# -- train ---------------------------------------------------------------------
@app.command(
    "train",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
@friendly
def train(
    ctx: typer.Context,
    data: Annotated[
        str,
        typer.Option("--data", help="Dataset name (see `fairnn datasets`) or a CSV/parquet path."),
    ],
    method: Annotated[str, typer.Option(help="Method name (see `fairnn methods`).")] = "vanilla",
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
    ] = "clean",
    label: Annotated[str | None, typer.Option(help="Label column (your own data).")] = None,
    sensitive: Annotated[
        list[str] | None, typer.Option(help="Sensitive column(s); repeat for intersections.")
    ] = None,
    categorical: Annotated[
        list[str] | None, typer.Option(help="Own data: treat this column as categorical (repeat).")
    ] = None,
    continuous: Annotated[
        list[str] | None, typer.Option(help="Own data: treat this column as continuous (repeat).")
    ] = None,
    positive_label: Annotated[
        str | None,
        typer.Option(
            "--positive-label",
            "--positive_label",
            help="Own data: the label value that counts as positive.",
        ),
    ] = None,
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
    fnr_gap: Annotated[
        float | None,
        typer.Option(
            "--fnr-gap",
            "--fnr_gap",
            help="Also report errors under per-group thresholds chosen on val with "
            "|ΔFNR| <= this (the MinDiff paper's evaluation).",
        ),
    ] = None,
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
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
    out: Annotated[
        Path | None, typer.Option(help="Save the model (safetensors + JSON) here.")
    ] = None,
    overwrite: OverwriteOpt = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object as the last line.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Train a model with a method and report metrics on train, val and test.

    Method parameters follow as --name value, e.g. `--method gapreg --lam 0.3`.
    """
    from fairnn.experiments import RunSpec, run_spec
    from fairnn.experiments.run import resolve_mode

    _setup_logging(quiet or as_json)
    mode, params = resolve_mode(method, mode, parse_extra(list(ctx.args)))
    overrides = {
        k: v
        for k, v in dict(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            lr_decay=lr_decay,
            lr_decay_every=lr_decay_every,
            select=select,
            patience=patience,
            weight_decay=weight_decay,
            flood_level=flood_level,
        ).items()
        if v is not None
    }
    arch_d: dict[str, Any] = {"hidden": list(hidden)} if hidden else {}
    arch_d.update({k: v for k, v in dict(type=arch, width=width).items() if v is not None})
    spec = RunSpec.make(
        dataset=data,
        recipe=recipe,
        method=method,
        params=params,
        mode=mode,
        seed=seed,
        label=label,
        sensitive=list(sensitive) if sensitive else None,
        categorical=list(categorical) if categorical else None,
        continuous=list(continuous) if continuous else None,
        positive_label=_parse_scalar(positive_label) if positive_label is not None else None,
        train=overrides,
        architecture=arch_d,
        constraint={"gap": "fnr", "gamma": fnr_gap} if fnr_gap is not None else None,
    )
    result = run_spec(
        spec,
        out=out,
        runtime={"device": device, "progress": not quiet and not as_json},
        overwrite=overwrite,
    )
    if as_json:
        typer.echo(json.dumps(result.to_json()))
        return
    typer.echo(
        f"{spec.method} on {spec.dataset} ({spec.recipe}, seed {spec.seed}) in {result.time_s:.1f}s"
    )
    columns = REPORT_METRICS
    if spec.constraint is not None:
        columns = (*REPORT_METRICS, "fnr_gap", "constrained_error", "constrained_gap")
    typer.echo(format_table(result.metrics, columns))
    if result.model_path:
        typer.echo(f"model saved to {result.model_path}")


# -- audit ---------------------------------------------------------------------
ModelDirArg = Annotated[
    Path | None,
    typer.Argument(help="A model directory written by `fairnn train --out` (or use --model-file)."),
]
ModelFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--model-file",
        help="Your own model: a .safetensors state dict (with an architecture spec, --arch).",
    ),
]
ArchOpt = Annotated[
    Path | None,
    typer.Option(help="JSON architecture spec of --model-file (default: its name with .json)."),
]
LabelOpt = Annotated[str | None, typer.Option(help="--model-file on a table: the label column.")]
SensitiveOpt = Annotated[
    list[str] | None, typer.Option(help="--model-file on a table: sensitive column(s); repeat.")
]
FeatureOpt = Annotated[
    list[str] | None,
    typer.Option("--feature", help="--model-file on a table: input column, in order; repeat."),
]
PositiveOpt = Annotated[
    str | None, typer.Option(help="--model-file on a table: the label value that is positive.")
]
ByoDataOpt = Annotated[
    str | None, typer.Option(help="--model-file: dataset name or CSV/parquet table.")
]
RecipeOpt = Annotated[str, typer.Option(help="--model-file on a dataset name: recipe.")]
SeedOpt = Annotated[int, typer.Option(help="--model-file: seed of the split.")]


def _model_source(model_dir: Path | None, model_file: Path | None) -> None:
    if (model_dir is None) == (model_file is None):
        raise ConfigError(
            "give either MODEL_DIR (a fairnn model directory) or --model-file FILE.safetensors "
            "(your own model, with --data)"
        )


def _byo_data(
    data: str | None,
    label: str | None,
    sensitive: list[str] | None,
    feature: list[str] | None,
    positive_label: str | None,
    recipe: str,
) -> dict[str, Any]:
    if data is None:
        raise ConfigError(
            "--model-file needs --data: a dataset name (the model must take its preprocessed "
            "features) or a CSV/parquet table of the model's inputs with --label and --sensitive"
        )
    return {
        "label": label,
        "sensitive": list(sensitive) if sensitive else None,
        "features": list(feature) if feature else None,
        "positive_label": _parse_scalar(positive_label) if positive_label is not None else None,
        "recipe": recipe,
    }


@app.command("audit")
@friendly
def audit(
    model_dir: ModelDirArg = None,
    data: Annotated[
        str | None,
        typer.Option(help="Dataset name or CSV/parquet path; default: the model's own data."),
    ] = None,
    split: Annotated[
        str, typer.Option(help="train, val, test, or all (for a file you pass).")
    ] = "test",
    bootstrap: Annotated[
        int, typer.Option(help="Bootstrap resamples for 95% intervals: 0 (none) or >= 2.")
    ] = 0,
    model_file: ModelFileOpt = None,
    arch: ArchOpt = None,
    label: LabelOpt = None,
    sensitive: SensitiveOpt = None,
    feature: FeatureOpt = None,
    positive_label: PositiveOpt = None,
    recipe: RecipeOpt = "clean",
    seed: SeedOpt = 0,
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object as the last line.")
    ] = False,
) -> None:
    """Measure a model's accuracy and group fairness, overall and by group.

    Your own PyTorch model: --model-file model.safetensors [--arch model.json] --data ...
    """
    _model_source(model_dir, model_file)
    if model_file is not None:
        from fairnn.experiments.byo import audit_user_model

        opts = _byo_data(data, label, sensitive, feature, positive_label, recipe)
        report = audit_user_model(
            model_file, data, spec=arch, split=split, bootstrap=bootstrap, seed=seed, **opts
        )
    else:
        from fairnn.experiments.audit import audit_model

        report = audit_model(model_dir, data=data, split=split, bootstrap=bootstrap, device=device)
    if as_json:
        typer.echo(json.dumps(report, default=float))
        return
    typer.echo(f"{report['model']} on {report['data']} [{report['split']}], n = {report['rows']}")
    typer.echo(format_table({"overall": report["metrics"]}, REPORT_METRICS))
    if report.get("intervals"):
        typer.echo("\n95% bootstrap intervals:")
        for k, (lo, hi) in report["intervals"].items():
            typer.echo(f"  {k:>14}: [{lo:.4f}, {hi:.4f}]")
    typer.echo("\nby group:")
    typer.echo(report["by_group_markdown"])


# -- repair --------------------------------------------------------------------
@app.command(
    "repair",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
@friendly
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
    model_file: ModelFileOpt = None,
    arch: ArchOpt = None,
    data: ByoDataOpt = None,
    label: LabelOpt = None,
    sensitive: SensitiveOpt = None,
    feature: FeatureOpt = None,
    positive_label: PositiveOpt = None,
    recipe: RecipeOpt = "clean",
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
    out: Annotated[
        Path | None,
        typer.Option(help="Where to save the repaired model (default MODEL_DIR-METHOD)."),
    ] = None,
    overwrite: OverwriteOpt = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object as the last line.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Repair a trained model (post-processing or neuron repair) and report before/after.

    Method parameters follow as --name value, e.g. `--method roc --theta 0.6`. Your own
    PyTorch model: --model-file model.safetensors [--arch model.json] --data ... --out DIR.
    """
    _setup_logging(quiet or as_json)
    extra = list(ctx.args)
    if model_file is not None and model_dir is not None:
        # with --model-file there is no MODEL_DIR: click gave it the first method parameter
        extra, model_dir = [str(model_dir), *extra], None
    _model_source(model_dir, model_file)
    if mode is not None and mode not in ("dp", "eo"):
        raise ConfigError(f"--mode must be dp or eo, got {mode!r}")
    train = {k: v for k, v in dict(epochs=epochs, lr=lr).items() if v is not None}
    runtime = {"device": device, "progress": not quiet and not as_json}
    params = parse_extra(extra)
    if model_file is not None:
        from fairnn.experiments.byo import repair_user_model
        from fairnn.methods import get_method

        opts = _byo_data(data, label, sensitive, feature, positive_label, recipe)
        target = out or model_file.with_name(f"{model_file.stem}-{get_method(method).name}")
        report, _ = repair_user_model(
            model_file,
            data,  # type: ignore[arg-type]
            method,
            params,
            spec=arch,
            out=target,
            mode=mode or "dp",
            seed=seed,
            train=train,
            runtime=runtime,
            overwrite=overwrite,
            **opts,
        )
    else:
        from fairnn.experiments.repair import repair_model

        report = repair_model(
            model_dir,  # type: ignore[arg-type]
            method,
            params,
            out=out,
            mode=mode,
            seed=seed,
            train=train,
            runtime=runtime,
            overwrite=overwrite,
        )
    if as_json:
        typer.echo(json.dumps(report))
        return
    typer.echo(f"{report['method']} {report['params']} on {report['model']} (test split)")
    rows = {"before": report["before"]["test"], "after": report["after"]["test"]}
    typer.echo(format_table(rows, REPORT_METRICS))
    typer.echo(f"repaired model saved to {report['model_path']}")


# -- export ------------------------------------------------------------------
@app.command("export")
@friendly
def export(
    model_dir: Annotated[Path, typer.Argument(help="A fairnn model directory.")],
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default MODEL_DIR-export).")
    ] = None,
    overwrite: OverwriteOpt = False,
    fmt: Annotated[
        str,
        typer.Option("--format", help="torchscript (default) or onnx (needs the onnx package)."),
    ] = "torchscript",
) -> None:
    """Export a model with its post-processing rule: (x, s) -> (probability, decision)."""
    from fairnn.export import export_model

    target = out or Path(f"{model_dir}-export")
    path = export_model(model_dir, target, format=fmt, overwrite=overwrite)  # type: ignore[arg-type]
    typer.echo(
        f"exported to {path} (inputs and outputs described in {path.parent / 'export.json'})"
    )


# -- monitor -----------------------------------------------------------------
@app.command("monitor")
@friendly
def monitor_cmd(
    log: Annotated[Path, typer.Argument(help="Prediction log: CSV or parquet.")],
    window: Annotated[
        str, typer.Option(help="Time span (7d, 12h, 2w) or rows per window (5000).")
    ] = "7d",
    out: Annotated[
        Path | None, typer.Option(help="Folder for windows.csv, flags.csv and monitor.png.")
    ] = None,
    timestamp_col: Annotated[str, typer.Option(help="Timestamp column.")] = "timestamp",
    score_col: Annotated[str, typer.Option(help="Score column (P(y=1)).")] = "score",
    group_col: Annotated[str, typer.Option(help="Group column.")] = "group",
    label_col: Annotated[
        str | None, typer.Option(help="Label column (empty while unknown); 'none': no labels.")
    ] = "label",
    threshold: Annotated[
        float, typer.Option(help="Decision threshold on the score, in (0, 1): above it is 1.")
    ] = 0.5,
    gap_threshold: Annotated[
        float,
        typer.Option(help="Flag a window whose gap exceeds this, in [0, 1) ([0, 2) for sums)."),
    ] = 0.1,
    reference: Annotated[
        int, typer.Option(help="Reference window (index) for significant moves.")
    ] = 0,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples per window.")] = 200,
    chunksize: Annotated[int, typer.Option(help="Rows read at a time.")] = 100_000,
    seed: Annotated[int, typer.Option()] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object as the last line.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Fairness over time from a prediction log: metrics per window, intervals, flags, a plot."""
    from fairnn.monitor import monitor

    report = monitor(
        log,
        window,
        timestamp=timestamp_col,
        score=score_col,
        group=group_col,
        label=None if label_col in (None, "none") else label_col,
        threshold=threshold,
        gap_threshold=gap_threshold,
        reference=reference,
        n_resamples=bootstrap,
        chunksize=chunksize,
        seed=seed,
        progress=not quiet and not as_json,
    )
    target = out or Path(f"{log.with_suffix('')}-monitor")
    target.mkdir(parents=True, exist_ok=True)
    report.windows.to_csv(target / "windows.csv", index=False)
    report.flags.to_csv(target / "flags.csv", index=False)
    plot = report.plot(target / "monitor.png")
    if as_json:
        payload = {
            "windows": json.loads(report.windows.to_json(orient="records", date_format="iso")),
            "flags": json.loads(report.flags.to_json(orient="records")),
            "flagged_windows": report.flagged_windows,
            "out": str(target),
        }
        typer.echo(json.dumps(payload))
        return
    typer.echo(report.to_markdown(["dp_gap", "eodds_gap_sum", "accuracy"]))
    flagged = report.flagged_windows
    typer.echo(f"\nflagged windows: {flagged or 'none'}")
    typer.echo(f"written to {target} (windows.csv, flags.csv, {plot.name})")


# -- reproduce -----------------------------------------------------------------
@app.command("reproduce")
@friendly
def reproduce(
    name: Annotated[
        str | None, typer.Argument(help="Which paper's experiment; omit to list them.")
    ] = None,
    seeds: Annotated[int, typer.Option(help="Number of seeds (0..N-1).")] = 3,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default reproduce-NAME).")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="The paper's sizes instead of the CPU-sized default.")
    ] = False,
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
    workers: Annotated[int, typer.Option(help="Runs at a time, where the study supports it.")] = 1,
    datasets: Annotated[
        list[str] | None,
        typer.Option("--dataset", help="Only this dataset (repeat), where the study supports it."),
    ] = None,
    modes: Annotated[
        list[str] | None,
        typer.Option("--mode", help="Only this notion, dp or eo (repeat), where supported."),
    ] = None,
    parts: Annotated[
        list[str] | None,
        typer.Option("--part", help="Only this part of the study (repeat), where supported."),
    ] = None,
) -> None:
    """Rerun a paper's experiment and write its table, plot and raw results.

    `--dataset`, `--mode` and `--part` narrow a study that has several (e.g.
    `fairnn reproduce reprogramming --dataset adult --mode eo --part lambda`).
    """
    from fairnn.experiments.reproductions import get_reproduction, list_reproductions

    if name is None:
        for key, desc in list_reproductions().items():
            typer.echo(f"{key:>12}  {desc}")
        return
    _setup_logging(False)
    study = get_reproduction(name)
    extra: dict[str, Any] = {}
    accepted = inspect.signature(study).parameters
    if workers != 1:
        if "workers" not in accepted:
            raise ConfigError(f"the {name} reproduction runs one run at a time; drop --workers")
        extra["workers"] = workers
    for key, flag, value in (
        ("datasets", "--dataset", datasets),
        ("modes", "--mode", modes),
        ("parts", "--part", parts),
    ):
        if not value:
            continue
        if key not in accepted:
            raise ConfigError(f"the {name} reproduction has no {flag} option; drop it")
        extra[key] = tuple(value) if key == "parts" else list(value)
    target = Path(out or f"reproduce-{name}")
    report = study(target, seeds=list(range(seeds)), full=full, device=device, **extra)
    typer.echo(report.read_text(encoding="utf-8"))
    typer.echo(f"\nreport written to {report}")
    db = target / "results.db"
    if db.is_file():  # the studies that train record their runs there, as a sweep does
        from fairnn.experiments.store import ResultStore

        with ResultStore(db, create=False) as store:
            runs = store.runs(sweep=f"reproduce-{name}")
        failed = sum(r["status"] == "failed" for r in runs)
        _exit_if_failed(failed, len(runs), db, f"reproduce-{name}")


# -- sweeps, results, reports ---------------------------------------------------
@app.command("sweep")
@friendly
def sweep(
    file: Annotated[Path, typer.Argument(help="A sweep file (YAML); see docs/sweeps.md.")],
    workers: Annotated[int, typer.Option(help="Runs at a time (worker processes).")] = 1,
    backend: Annotated[
        str, typer.Option(help="local (worker processes here) or dask (a Dask cluster).")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address; without it a LocalCluster is started."),
    ] = None,
    db: Annotated[Path, typer.Option(help="Results database (SQLite).")] = Path(
        "fairnn-results.db"
    ),
    save_models: Annotated[
        Path | None, typer.Option("--save-models", help="Save every model under DIR/RUN_KEY.")
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run again the runs recorded as failed.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and count the runs; run nothing.")
    ] = False,
    threads: Annotated[
        int | None, typer.Option(help="Torch threads per worker (default: cores / workers).")
    ] = None,
    device: Annotated[
        str, typer.Option(help="cpu, cuda or cuda:N (not part of a run's key).")
    ] = "cpu",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run every spec of a sweep file that the results database does not hold yet.

    Exit status: 0 when every run is done, 1 when some runs failed (now or in an earlier
    invocation), 2 for a usage error (bad file, option or database), 130 when interrupted.
    """
    from fairnn.experiments.executors import SweepInterrupted, check_run_options, run_specs
    from fairnn.experiments.store import ResultStore
    from fairnn.experiments.sweep import load_sweep

    spec = load_sweep(file)
    check_run_options(workers, threads, backend, device)
    spec.check()
    with ResultStore(db) as store:
        todo = store.missing(spec.specs, retry_failed=retry_failed)
        typer.echo(
            f"sweep {spec.name!r}: {len(spec)} runs, {len(spec) - len(todo)} already in {db}, "
            f"{len(todo)} to run"
        )
        if dry_run:
            return
        try:
            summary = run_specs(
                spec.specs,
                store,
                backend=backend,  # type: ignore[arg-type]
                workers=workers,
                scheduler=scheduler,
                sweep=spec.name,
                retry_failed=retry_failed,
                models_dir=save_models,
                progress=not quiet,
                threads=threads,
                device=device,
            )
        except SweepInterrupted as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(130) from None
    typer.echo(f"done: {summary.done}, failed: {summary.failed}, skipped: {summary.skipped}")
    _exit_if_failed(summary.failures, summary.total, db, spec.name, summary.failed_before)


def _exit_if_failed(failed: int, total: int, db: Path, sweep: str, earlier: int = 0) -> None:
    """Say how many runs failed and where their errors are, and exit with status 1."""
    if not failed:
        return
    import shlex

    before = (
        f" ({earlier} in an earlier invocation; --retry-failed runs them again)" if earlier else ""
    )
    typer.echo(
        f"error: {failed} of {total} runs failed{before}; see the errors with: fairnn results "
        f"--db {shlex.quote(str(db))} --status failed --sweep {shlex.quote(sweep)}",
        err=True,
    )
    raise typer.Exit(1)


@app.command("results")
@friendly
def results(
    db: Annotated[Path, typer.Option(help="Results database (SQLite).")] = Path(
        "fairnn-results.db"
    ),
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or parquet.")] = "table",
    out: Annotated[
        Path | None, typer.Option(help="Write here instead of printing (needed for parquet).")
    ] = None,
    dataset: Annotated[list[str] | None, typer.Option(help="Only this dataset (repeat).")] = None,
    method: Annotated[list[str] | None, typer.Option(help="Only this method (repeat).")] = None,
    recipe: Annotated[list[str] | None, typer.Option(help="Only this recipe (repeat).")] = None,
    mode: Annotated[list[str] | None, typer.Option(help="Only this notion: dp, eo.")] = None,
    seed: Annotated[list[int] | None, typer.Option(help="Only this seed (repeat).")] = None,
    status: Annotated[str | None, typer.Option(help="Only done or failed runs.")] = None,
    sweep_name: Annotated[str | None, typer.Option("--sweep", help="Only this sweep.")] = None,
    split: Annotated[
        list[str] | None, typer.Option(help="Metric splits to show (table: test by default).")
    ] = None,
) -> None:
    """Show the runs in a results database, one row per run."""
    from fairnn.experiments.store import ResultStore, runs_frame

    if fmt not in ("table", "csv", "json", "parquet"):
        raise ConfigError(f"--format must be table, csv, json or parquet, got {fmt!r}")
    with ResultStore(db, create=False) as store:
        rows = store.runs(
            dataset=dataset,
            method=method,
            recipe=recipe,
            mode=mode,
            seed=seed,
            status=status,
            sweep=sweep_name,
        )
    if fmt == "json":
        text = json.dumps(
            [
                {k: v for k, v in r.items() if k != "spec"} | {"spec": json.loads(r["spec"])}
                for r in rows
            ],
            default=str,
        )
    elif fmt == "table":
        splits = split or ["test"]
        head = ["key", "dataset", "method", "params", "mode", "seed", "status"]
        metric_cols = [f"{s}.{m}" for s in splits for m in REPORT_METRICS]
        body = []
        for r in rows:
            cells = [str(r[c]) if c != "params" else json.dumps(r["params"]) for c in head]
            for s in splits:
                vals = r["metrics"].get(s, {})
                cells += [f"{vals[m]:.4f}" if m in vals else "-" for m in REPORT_METRICS]
            if r["status"] == "failed":
                cells[-1] += "  " + (r["error"] or "unknown error").strip().splitlines()[-1][:80]
            body.append(cells)
        text = text_table(head + metric_cols, body, numeric=False) if body else "(no runs)"
    else:
        frame = runs_frame(rows, split)
        if fmt == "parquet":
            if out is None:
                raise ConfigError("--format parquet writes a file: give --out FILE.parquet")
            frame.to_parquet(out, index=False)
            typer.echo(f"{len(frame)} runs written to {out}")
            return
        text = frame.to_csv(index=False)
    if out is not None:
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        typer.echo(f"{len(rows)} runs written to {out}")
    else:
        typer.echo(text.rstrip("\n"))


@app.command("report")
@friendly
def report(
    out: Annotated[Path, typer.Option(help="Folder for the figures, tables and index.html.")],
    db: Annotated[Path, typer.Option(help="Results database (SQLite).")] = Path(
        "fairnn-results.db"
    ),
    split: Annotated[str, typer.Option(help="Split the report scores.")] = "test",
    dataset: Annotated[list[str] | None, typer.Option(help="Only this dataset (repeat).")] = None,
    sweep_name: Annotated[str | None, typer.Option("--sweep", help="Only this sweep.")] = None,
) -> None:
    """Pareto fronts, hypervolumes and mean ± std tables over seeds, as an HTML page."""
    from fairnn.experiments.report import write_report
    from fairnn.experiments.store import ResultStore

    with ResultStore(db, create=False) as store:
        rows = store.runs(dataset=dataset, sweep=sweep_name, status="done")
    page = write_report(rows, out, split=split)
    typer.echo(f"report written to {page}")


# -- certify -------------------------------------------------------------------
@app.command("certify")
@friendly
def certify(
    eps: Annotated[float, typer.Option(help="Similarity radius ε (model-input units).")],
    model_dir: ModelDirArg = None,
    metric: Annotated[str, typer.Option(help="linf, l1, l2 or mahalanobis.")] = "linf",
    weights: Annotated[
        str | None,
        typer.Option(help="Metric weights: name=w,name=w, a .json file, 'rank' or 'nnff'."),
    ] = None,
    local: Annotated[
        int, typer.Option(help="Certify N >= 1 test rows locally (0: the whole domain).")
    ] = 0,
    solver: Annotated[str, typer.Option(help="highs (default) or cbc.")] = "highs",
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds (global; per point with --local).")
    ] = 60.0,
    output: Annotated[
        str | None, typer.Option(help="probability (binary default), logit or value.")
    ] = None,
    integers: Annotated[
        str, typer.Option(help="Integer features: exact (grid) or relax (continuous).")
    ] = "exact",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object as the last line.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    model_file: ModelFileOpt = None,
    arch: ArchOpt = None,
    data: ByoDataOpt = None,
    label: LabelOpt = None,
    sensitive: SensitiveOpt = None,
    feature: FeatureOpt = None,
    positive_label: PositiveOpt = None,
    recipe: RecipeOpt = "clean",
    seed: SeedOpt = 0,
) -> None:
    """Certify ε-δ individual fairness: a proven δ upper bound and a witness pair.

    Your own PyTorch MLP: --model-file model.safetensors [--arch model.json] --data ...
    """
    from fairnn.certify.command import certify_model
    from fairnn.certify.metrics import parse_weights
    from fairnn.errors import ModelFileError
    from fairnn.experiments.audit import model_splits
    from fairnn.methods.fitted import FittedModel

    _setup_logging(quiet or as_json)
    _model_source(model_dir, model_file)
    if model_file is not None:
        from fairnn.experiments.byo import user_fitted, user_splits

        opts = _byo_data(data, label, sensitive, feature, positive_label, recipe)
        splits = user_splits(data, seed=seed, **opts)
        fitted = user_fitted(model_file, splits, spec=arch, mlp=True)
    else:
        fitted = FittedModel.load(model_dir)
        try:
            splits = model_splits(fitted)
        except ModelFileError:
            splits = None
    report = certify_model(
        fitted,
        eps=eps,
        metric=metric,
        weights=parse_weights(weights),
        local=local,
        train=None if splits is None else splits.train,
        rows=None if splits is None else splits.test,
        solver=solver,
        time_limit=time_limit,
        output=output,
        integers=integers,
        progress=not quiet and not as_json,
    )
    if as_json:
        report.pop("text", None)
        typer.echo(json.dumps(report, default=float))
        return
    typer.echo(report["text"])


@app.command("nnff")
@friendly
def nnff(
    eps: Annotated[float, typer.Option(help="Similarity radius ε (the seed's 0.3).")] = 0.3,
    seed: Annotated[int, typer.Option(help="Split, draws and training seed.")] = 42,
    draws: Annotated[int, typer.Option(help="Random-search draws of w, b (Algorithm 1).")] = 20,
    epochs: Annotated[int, typer.Option(help="Simulated-gradient steps (Algorithm 3).")] = 10,
    solver: Annotated[str, typer.Option(help="highs or cbc for the certificates.")] = "highs",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object as the last line.")
    ] = False,
) -> None:
    """The NNFF seed's pipeline on Boston with every stage's δ beside its exact certificate."""
    from fairnn.experiments.reproductions.nnff import format_report, run_nnff

    _setup_logging(as_json)
    rep = run_nnff(eps=eps, seed=seed, draws=draws, epochs=epochs, solver=solver)
    if as_json:
        typer.echo(json.dumps(rep))
        return
    typer.echo(format_report(rep))


# -- demo ----------------------------------------------------------------------
@app.command("demo")
@friendly
def demo(
    out: Annotated[Path, typer.Option(help="Where to write report.md and the chart.")] = Path(
        "demo-output"
    ),
    seed: Annotated[int, typer.Option()] = 0,
    device: Annotated[str, typer.Option()] = "cpu",
) -> None:
    """Train vanilla and a gap penalty on Adult; print a table; write a report with a chart."""
    from fairnn.experiments.demo import run_demo

    _setup_logging(False)
    table, report = run_demo(out, seed=seed, device=device)
    typer.echo(table)
    typer.echo(f"\nreport written to {report}")


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
