"""The façade: one function per thing fairnn does, each returning a result that renders itself.

    from fairnn import api

    run = api.train("adult", method="gapreg", params={"lam": 1.0}, epochs=5, out="runs/gapreg")
    print(run.to_text())               # what `fairnn train` prints
    audit = api.audit("runs/gapreg", bootstrap=200)
    audit.to_json()["by_group"]        # what `fairnn audit --json` prints

Every function here is what one ``fairnn`` command does; the command line
(:mod:`fairnn.cli`) only parses options, calls it and prints ``to_text()`` or
``to_json()`` (the result classes are in :mod:`fairnn.api_results`). Options keep the
command line's names and defaults (:data:`DEFAULT_RECIPE` and :data:`BASELINE_METHOD`
come from :mod:`fairnn.defaults`). A function imports the part of fairnn it drives when
it is called, so ``import fairnn.api`` loads no torch or pandas and a command loads only
what it uses.

Your own model (audit, repair, certify): pass a :class:`UserModel` (a ``.safetensors``
file, its architecture spec and the data it takes) where a model directory goes.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairnn.api_results import (
    AuditResult,
    CertifyResult,
    ColumnPreview,
    DatasetInfo,
    DatasetList,
    DemoResult,
    ExportResult,
    MethodList,
    MonitorResult,
    NnffResult,
    RepairResult,
    ReportResult,
    ReproduceResult,
    Result,
    RunsTable,
    StudyList,
    SweepPlan,
    SweepResult,
    TrainResult,
    check_results_format,
)
from fairnn.defaults import BASELINE_METHOD, DEFAULT_RECIPE
from fairnn.errors import ConfigError

if TYPE_CHECKING:
    from fairnn.experiments.model_source import ModelSource

__all__ = [
    "BASELINE_METHOD",
    "DEFAULT_RECIPE",
    "Result",
    "UserModel",
    "audit",
    "certify",
    "dataset_info",
    "datasets",
    "demo",
    "export",
    "methods",
    "model_source",
    "monitor",
    "nnff",
    "repair",
    "repaired_path",
    "report",
    "reproduce",
    "reproductions",
    "results",
    "sweep",
    "table_info",
    "train",
]

Paths = str | Path


# -- the registries ----------------------------------------------------------------------
def datasets() -> DatasetList:
    """The registered datasets: rows, label, sensitive attributes, source, licence, presence."""
    from fairnn.datasets import dataset_info as info_of
    from fairnn.datasets import list_datasets
    from fairnn.datasets.provenance import data_source

    infos = [info_of(name) for name in list_datasets()]
    return DatasetList(infos, [data_source(info) for info in infos])


def dataset_info(name: str) -> DatasetInfo:
    """Everything the registry knows about dataset ``name``, and where its files are."""
    from fairnn.datasets import dataset_info as info_of

    return DatasetInfo(info_of(name))


def table_info(
    data: Paths,
    *,
    label: str | None = None,
    sensitive: str | Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    continuous: Sequence[str] | None = None,
    drop: Sequence[str] | None = None,
    sensitive_as_input: bool | None = None,
    positive_label: Any = None,
    group_names: Mapping[str, Mapping[Any, str]] | Sequence[str] | None = None,
) -> ColumnPreview:
    """How :func:`train` would treat each column of your own table ``data`` (its role,
    kind, distinct values, one-hot width, and the warnings), before training."""
    from fairnn.datasets.columns import preview
    from fairnn.datasets.sources import DataSpec, raw_frame

    spec = DataSpec(
        dataset=os.fspath(data),
        label=label,
        sensitive=sensitive,
        categorical=categorical,
        continuous=continuous,
        drop=drop,
        sensitive_as_input=sensitive_as_input,
        positive_label=positive_label,
        group_names=group_names,
    )
    spec.check(exists=True)
    label, sensitive = spec.table_columns()
    choices = {k: getattr(spec, k) for k in ("categorical", "continuous", "drop", "group_names")}
    return ColumnPreview(
        preview(
            raw_frame(os.fspath(data)),
            label=label,
            sensitive=sensitive,
            sensitive_as_input=spec.sensitive_as_input,
            positive_label=spec.positive_label,
            **choices,
        )
    )


def methods() -> MethodList:
    """The registered methods, their stage, parameters (with defaults) and paper."""
    from fairnn.methods import list_methods

    return MethodList(
        [
            {
                "name": cls.name,
                "stage": cls.stage,
                "aliases": list(cls.aliases),
                "params": {
                    k: f.get_default(call_default_factory=True)
                    for k, f in cls.Params.model_fields.items()
                },
                "paper": cls.paper,
            }
            for cls in list_methods()
        ]
    )


# -- one model ---------------------------------------------------------------------------
def train(
    data: str | Mapping[str, Paths],
    *,
    method: str = BASELINE_METHOD,
    params: dict[str, Any] | None = None,
    mode: str = "dp",
    seed: int = 0,
    recipe: str = DEFAULT_RECIPE,
    label: str | None = None,
    sensitive: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    continuous: Sequence[str] | None = None,
    positive_label: Any = None,
    split_column: str | None = None,
    drop: Sequence[str] | None = None,
    sensitive_as_input: bool | None = None,
    group_names: Mapping[str, Mapping[Any, str]] | Sequence[str] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    lr_decay: float | None = None,
    lr_decay_every: int | None = None,
    hidden: Sequence[int] | None = None,
    select: str | None = None,
    patience: int | None = None,
    weight_decay: float | None = None,
    flood_level: float | None = None,
    threshold: float | None = None,
    class_weight: str | float | None = None,
    l1: float | None = None,
    relu_stability: float | None = None,
    stability_eps: float | None = None,
    fnr_gap: float | None = None,
    target_gap: float | Mapping[str, Any] | None = None,
    arch: str | None = None,
    width: int | None = None,
    device: str = "cpu",
    out: Paths | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Train ``method`` (with its ``params``) on ``data`` and evaluate on train, val and test.

    ``data`` is a registered dataset name or a CSV/parquet path (then give ``label`` and
    ``sensitive``), split 60/20/20 by ``seed``; or your own split, used exactly: a mapping
    ``{"train": F, "val": F, "test": F}`` of three tables, or one table with
    ``split_column`` naming each row's split (train/val/test). ``mode`` is the fairness
    notion (dp, eo), or a method's own mode (FairBiNN: reg, bilevel, adv, hybrid). Training options left ``None`` take the
    recipe's protocol. ``threshold`` is the decision threshold the model keeps (0.5 by
    default; every label metric reads it) and ``class_weight`` (``"balanced"`` or the
    positive class's weight) weighs the positive class in the loss
    (:class:`~fairnn.training.TrainConfig`); ``l1``, ``relu_stability`` and
    ``stability_eps`` are certifiable training (the same config). A table's columns: ``drop`` leaves
    columns out, ``categorical``/``continuous`` force a column's kind, and
    ``sensitive_as_input`` also feeds the sensitive column(s) to the model (default: not;
    docs/datasets.md); ``group_names`` (``{"SEX": {1: "male", 2: "female"}}``) names the
    groups in audits and reports. ``fnr_gap`` also reports errors under per-group thresholds with
    |ΔFNR| <= ``fnr_gap`` (the MinDiff paper's evaluation). ``target_gap`` (a gap, or
    ``{"target": 0.02, "budget": 6, "grid": 3, "lo": ..., "hi": ...}``) searches the
    method's fairness weight on validation for the most accurate non-degenerate model
    whose gap meets it (:mod:`fairnn.experiments.target_gap`; ``result.run.target_gap``).
    With ``out`` the model is saved there (an earlier model is replaced only with
    ``overwrite``).
    """
    from fairnn.datasets.columns import parse_group_names
    from fairnn.datasets.sources import data_fields
    from fairnn.experiments import RunSpec
    from fairnn.experiments.run import resolve_mode
    from fairnn.experiments.target_gap import run_spec_or_search

    mode, params = resolve_mode(method, mode, dict(params or {}))
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
            threshold=threshold,
            class_weight=class_weight,
            l1=l1,
            relu_stability=relu_stability,
            stability_eps=stability_eps,
        ).items()
        if v is not None
    }
    architecture: dict[str, Any] = {"hidden": list(hidden)} if hidden else {}
    architecture.update({k: v for k, v in dict(type=arch, width=width).items() if v is not None})
    spec = RunSpec.make(
        **data_fields(data),
        split_column=split_column,
        recipe=recipe,
        method=method,
        params=params,
        mode=mode,
        seed=seed,
        label=label,
        sensitive=_names(sensitive),
        categorical=_names(categorical),
        continuous=_names(continuous),
        positive_label=positive_label,
        drop=_names(drop),
        sensitive_as_input=sensitive_as_input,
        group_names=parse_group_names(group_names),
        train=overrides,
        architecture=architecture,
        constraint={"gap": "fnr", "gamma": fnr_gap} if fnr_gap is not None else None,
        target_gap=target_gap,
    )
    run = run_spec_or_search(
        spec, out=out, runtime={"device": device, "progress": progress}, overwrite=overwrite
    )
    return TrainResult(run)


@dataclass(frozen=True)
class UserModel:
    """Your own model for :func:`audit`, :func:`repair` and :func:`certify`.

    ``file``: a ``.safetensors`` state dict (``arch``: its JSON architecture spec, default
    the file's name with ``.json``). ``data``: a dataset name (the model takes its
    preprocessed features, with ``recipe``), or a CSV/parquet table or DataFrame of the
    model's inputs with ``label``, ``sensitive`` and optionally ``features`` (the input
    columns, in order) and ``positive_label``; your own split: a mapping ``{"train": F,
    "val": F, "test": F}``, or one table with ``split_column``.
    """

    file: Paths
    data: Any = None
    arch: Paths | None = None
    label: str | None = None
    sensitive: str | Sequence[str] | None = None
    features: Sequence[str] | None = None
    positive_label: Any = None
    recipe: str = DEFAULT_RECIPE
    split_column: str | None = None

    def __post_init__(self) -> None:
        if self.data is None:
            raise ConfigError(
                "--model-file needs --data: a dataset name (the model must take its "
                "preprocessed features) or a CSV/parquet table of the model's inputs with "
                "--label and --sensitive"
            )

    def data_options(self) -> dict[str, Any]:
        """The :class:`~fairnn.datasets.DataSpec` fields that describe :attr:`data`."""
        sensitive = self.sensitive
        return {
            "label": self.label,
            "sensitive": sensitive
            if isinstance(sensitive, str) or not sensitive
            else list(sensitive),
            "features": list(self.features) if self.features else None,
            "positive_label": self.positive_label,
            "recipe": self.recipe,
            "split_column": self.split_column,
        }


Model = Paths | UserModel


def _names(value: str | Sequence[str] | None) -> list[str] | None:
    """Column names as a list: one name may come as a plain string (``sensitive="SEX"``)."""
    if not value:
        return None
    return [value] if isinstance(value, str) else list(value)


def model_source(
    model_dir: Paths | None = None, model_file: Paths | None = None, **options: Any
) -> Model:
    """Exactly one of a fairnn model directory and a user's model file (with the other
    fields of :class:`UserModel` as ``options``, unused for a model directory)."""
    if (model_dir is None) == (model_file is None):
        raise ConfigError(
            "give either MODEL_DIR (a fairnn model directory) or --model-file FILE.safetensors "
            "(your own model, with --data)"
        )
    if model_dir is not None and (
        isinstance(options.get("data"), Mapping) or options.get("split_column") is not None
    ):
        raise ConfigError(
            "--train/--val/--test and --split-column give the data of --model-file; a model "
            "directory keeps the split it was trained on (audit other data with --data FILE)"
        )
    return model_dir if model_file is None else UserModel(model_file, **options)  # type: ignore[return-value]


def _source(model: Model, *, seed: int = 0, device: str = "cpu") -> ModelSource:
    """The one :class:`~fairnn.experiments.model_source.ModelSource` audit, repair and
    certify load a model through."""
    from fairnn.experiments.model_source import ModelSource

    if isinstance(model, UserModel):
        return ModelSource.user(
            model.file, model.data, arch=model.arch, seed=seed, **model.data_options()
        )
    return ModelSource.saved(model, device=device)


def audit(
    model: Model,
    *,
    data: str | None = None,
    split: str = "test",
    bootstrap: int = 0,
    device: str = "cpu",
    seed: int = 0,
    threshold: float | None = None,
    group_names: Mapping[str, Mapping[Any, str]] | Sequence[str] | None = None,
    split_column: str | None = None,
) -> AuditResult:
    """A model's accuracy and group fairness on ``split`` (train, val, test, or ``all``:
    every row of the data), overall and by group.

    ``model`` is a directory written by :func:`train` (``data``: its own data by default,
    or a dataset/table run through its preprocessor: every row, or with ``split_column``
    the rows whose column names ``split``), or a :class:`UserModel`, audited on its own
    data (``seed``: the seed of its split; ``data`` is not used). ``bootstrap``
    resamples (0 or >= 2) add 95% intervals. ``threshold`` audits the decisions at that
    threshold instead of the model's own. ``group_names`` (``{"SEX": {1: "male", 2:
    "female"}}``) names the groups, in place of those the model was trained with.
    """
    from fairnn.experiments.audit import audit_source

    source = _source(model, seed=seed, device=device)
    if source.is_user:
        data = None  # a user's model is audited on the data it comes with
    report = audit_source(
        source,
        data=data,
        split=split,
        bootstrap=bootstrap,
        seed=seed,
        threshold=threshold,
        group_names=group_names,
        split_column=split_column,
    )
    return AuditResult(report)


def repaired_path(model: Model, method: str) -> Path:
    """Where a repaired model goes by default: ``MODEL_DIR-METHOD`` beside a model
    directory, or ``FILE-METHOD`` (without the suffix) beside a user's model file."""
    from fairnn.methods import get_method

    base = Path(model.file).with_suffix("") if isinstance(model, UserModel) else Path(model)
    return Path(f"{base}-{get_method(method).name}")


def repair(
    model: Model,
    method: str,
    *,
    params: dict[str, Any] | None = None,
    mode: str | None = None,
    seed: int = 0,
    epochs: int | None = None,
    lr: float | None = None,
    threshold: float | None = None,
    device: str = "cpu",
    out: Paths | None = None,
    overwrite: bool = False,
    progress: bool = True,
    group_names: Mapping[str, Mapping[Any, str]] | Sequence[str] | None = None,
) -> RepairResult:
    """Repair a trained model (post-processing or neuron repair); val/test before and after.

    ``mode`` (dp, eo) defaults to the mode the model was trained in (dp for a
    :class:`UserModel`); ``epochs`` and ``lr`` set the fine-tuning of methods that
    fine-tune. ``threshold`` makes the model decide at that threshold, before and after the
    repair (ROC centres its region on it). The repaired model is saved to ``out`` (default: :func:`repaired_path`;
    an earlier model there is replaced only with ``overwrite``). ``group_names`` (``{"SEX":
    {1: "male"}}``) names the groups; the repaired model keeps them for its audits.
    """
    if mode is not None and mode not in ("dp", "eo"):
        raise ConfigError(f"--mode must be dp or eo, got {mode!r}")
    train = {k: v for k, v in dict(epochs=epochs, lr=lr).items() if v is not None}
    runtime = {"device": device, "progress": progress}
    target = out or repaired_path(model, method)
    from fairnn.experiments.repair import repair_source

    source = _source(model, seed=seed, device=device)
    report, fitted = repair_source(
        source,
        method,
        params,
        out=target,
        mode=mode,
        seed=seed,
        train=train,
        runtime=runtime,
        overwrite=overwrite,
        threshold=threshold,
        group_names=group_names,
    )
    return RepairResult(report, fitted)


def certify(
    model: Model,
    *,
    eps: float,
    metric: str = "linf",
    weights: str | dict[str, float] | None = None,
    local: int = 0,
    solver: str = "highs",
    time_limit: float = 60.0,
    output: str | None = None,
    integers: str = "exact",
    progress: bool = True,
    seed: int = 0,
    matrix: Paths | Any = None,
    threads: int | None = None,
    domain: Paths | None = None,
    save_domain: Paths | None = None,
    search: str = "milp",
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
) -> CertifyResult:
    """Certify ε-δ individual fairness: a proven δ upper bound and a witness pair.

    ``local`` >= 1 certifies that many test rows one by one (0: the whole input domain).
    ``weights``: a mapping ``feature -> weight``, ``name=w,name=w``, a ``.json`` file,
    ``rank`` or ``nnff``. ``matrix``: ``S`` of ``mahalanobis``/``mahalanobis-box`` or ``A``
    of ``embedding`` (an array, or a .npy/.csv/.json file), in model-input units.
    ``time_limit`` is in seconds (per point with ``local``); ``threads``: solver threads.
    ``domain``: a domain spec file (one-hot blocks, integer and immutable columns, boxes;
    :mod:`fairnn.certify.domain_file`) for the input domain; ``save_domain`` writes the
    domain used. ``seed``: the seed of a :class:`UserModel`'s split. ``search="branch"``:
    branch and bound over the input domain, its leaf MILPs on ``workers`` processes
    (``backend`` ``local`` or ``dask``, at ``scheduler``). ``workers`` also run local
    points.
    """
    from fairnn.certify.command import certify_model
    from fairnn.certify.metrics import parse_weights

    # a model file that names no data is certified on the whole input domain
    fitted, splits = _source(model, seed=seed).load_optional(mlp=True)
    report = certify_model(
        fitted,
        eps=eps,
        metric=metric,
        weights=parse_weights(weights) if isinstance(weights, str) else weights,
        local=local,
        train=None if splits is None else splits.train,
        rows=None if splits is None else splits.test,
        solver=solver,
        time_limit=time_limit,
        output=output,
        integers=integers,
        progress=progress,
        matrix=matrix,
        threads=threads,
        domain=domain,
        save_domain=save_domain,
        search=search,
        workers=workers,
        backend=backend,
        scheduler=scheduler,
    )
    return CertifyResult(report)


def export(
    model_dir: Paths,
    *,
    out: Paths | None = None,
    overwrite: bool = False,
    format: str = "torchscript",  # noqa: A002 (the CLI's word)
) -> ExportResult:
    """Export a model with its decision rule, (x, s) -> (probability, decision), as
    TorchScript or ONNX to ``out`` (default ``MODEL_DIR-export``)."""
    from fairnn.export import export_model

    target = Path(out) if out is not None else Path(f"{model_dir}-export")
    return ExportResult(
        export_model(model_dir, target, format=format, overwrite=overwrite)  # type: ignore[arg-type]
    )


# -- a prediction log --------------------------------------------------------------------
def monitor(
    log: Any, window: str | int = "7d", *, bootstrap: int = 200, **options: Any
) -> MonitorResult:
    """Fairness over time from a prediction log (CSV or parquet path, or a DataFrame):
    metrics per ``window`` with ``bootstrap`` resamples for intervals, and flags.

    ``options`` are those of :func:`fairnn.monitor.monitor` (``timestamp``, ``score``,
    ``group`` and ``label`` columns, ``threshold``, ``gap_threshold``, ``reference``,
    ``chunksize``, ``seed``, ``progress``...). ``.write(out)`` on the result writes
    ``windows.csv``, ``flags.csv`` and ``monitor.png``.
    """
    from fairnn.monitor import monitor as run_monitor

    report = run_monitor(log, window, n_resamples=bootstrap, **options)
    return MonitorResult(report, log=Path(log) if isinstance(log, str | Path) else None)


# -- paper reproductions -----------------------------------------------------------------
def reproductions() -> StudyList:
    """The paper reproductions :func:`reproduce` runs, with a one-line description each."""
    from fairnn.experiments.reproductions import list_reproductions

    return StudyList(list_reproductions())


#: the options that narrow a study, where its function takes them: parameter -> flag
STUDY_OPTIONS = {"datasets": "--dataset", "modes": "--mode", "parts": "--part"}


def study_options(study: Callable[..., Any]) -> set[str]:
    """The keyword options a reproduction's function takes (``workers`` and those of
    :data:`STUDY_OPTIONS`), read from its signature."""
    accepted = inspect.signature(study).parameters
    return {key for key in ("workers", *STUDY_OPTIONS) if key in accepted}


def reproduce(
    name: str,
    *,
    seeds: int = 3,
    out: Paths | None = None,
    full: bool = False,
    device: str = "cpu",
    workers: int = 1,
    datasets: Sequence[str] | None = None,
    modes: Sequence[str] | None = None,
    parts: Sequence[str] | None = None,
) -> ReproduceResult:
    """Rerun a paper's experiment (seeds 0..``seeds``-1) and write its table, plot and raw
    results under ``out`` (default ``reproduce-NAME``). ``workers``, ``datasets``, ``modes``
    and ``parts`` narrow a study that takes them; a study without one says so."""
    from fairnn.experiments.reproductions import get_reproduction

    study = get_reproduction(name)
    accepted = study_options(study)
    extra: dict[str, Any] = {}
    if workers != 1:
        if "workers" not in accepted:
            raise ConfigError(f"the {name} reproduction runs one run at a time; drop --workers")
        extra["workers"] = workers
    given = {"datasets": datasets, "modes": modes, "parts": parts}
    for key, flag in STUDY_OPTIONS.items():
        value = given[key]
        if not value:
            continue
        if key not in accepted:
            raise ConfigError(f"the {name} reproduction has no {flag} option; drop it")
        extra[key] = tuple(value) if key == "parts" else list(value)
    target = Path(out or f"reproduce-{name}")
    page = study(target, seeds=list(range(seeds)), full=full, device=device, **extra)
    result = ReproduceResult(name, Path(page))
    db = target / "results.db"
    if db.is_file():  # the studies that train record their runs there, as a sweep does
        from fairnn.experiments.store import ResultStore

        with ResultStore(db, create=False) as store:
            runs = store.runs(sweep=result.sweep)
        result.db, result.runs = db, len(runs)
        result.failed = sum(r["status"] == "failed" for r in runs)
    return result


def nnff(
    eps: float = 0.3, *, seed: int = 42, draws: int = 20, epochs: int = 10, solver: str = "highs"
) -> NnffResult:
    """The NNFF seed's pipeline on Boston with every stage's δ beside its exact certificate."""
    from fairnn.experiments.reproductions import PIPELINES

    pipeline = PIPELINES.get("nnff")
    rep = pipeline.run(eps=eps, seed=seed, draws=draws, epochs=epochs, solver=solver)
    return NnffResult(rep, pipeline.format(rep))


def demo(out: Paths = "demo-output", *, seed: int = 0, device: str = "cpu") -> DemoResult:
    """Train vanilla and a gap penalty on Adult; a text table and a report with a chart."""
    from fairnn.experiments.demo import run_demo

    table, page = run_demo(out, seed=seed, device=device)
    return DemoResult(table, Path(page))


# -- sweeps, stored results, reports -----------------------------------------------------
def sweep(
    file: Paths,
    *,
    db: Paths | None = None,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    save_models: Paths | None = None,
    retry_failed: bool = False,
    dry_run: bool = False,
    threads: int | None = None,
    device: str = "cpu",
    progress: bool = True,
    on_plan: Callable[[SweepPlan], None] | None = None,
) -> SweepResult:
    """Run every spec of a sweep file (YAML) that the results database ``db`` lacks.

    ``on_plan(plan)`` is called once the runs are counted, before any runs (the command
    line prints the count there); ``dry_run`` stops at that point. A Ctrl-C returns a
    result whose ``interrupted`` says so (finished runs are kept); the result's
    ``failure_message()`` names the runs that failed, now or before.
    """
    from fairnn.experiments.executors import SweepInterrupted, check_run_options, run_specs
    from fairnn.experiments.store import DEFAULT_DB, ResultStore
    from fairnn.experiments.sweep import load_sweep

    db = Path(db if db is not None else DEFAULT_DB)
    spec = load_sweep(file)
    check_run_options(workers, threads, backend, device)
    spec.check()
    with ResultStore(db) as store:
        todo = store.missing(spec.specs, retry_failed=retry_failed)
        plan = SweepPlan(spec.name, len(spec), len(todo), db)
        if on_plan is not None:
            on_plan(plan)
        if dry_run:
            return SweepResult(plan)
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
                progress=progress,
                threads=threads,
                device=device,
            )
        except SweepInterrupted as e:
            return SweepResult(plan, interrupted=str(e))
    return SweepResult(plan, summary)


def results(
    db: Paths | None = None,
    *,
    format: str = "table",  # noqa: A002 (the CLI's word)
    split: Sequence[str] | None = None,
    **filters: Any,
) -> RunsTable:
    """The runs of a results database (default ``fairnn-results.db``), one row per run, to
    render as a table, CSV, JSON or parquet; ``split`` picks the metric splits shown (the
    table: test by default). ``filters``: ``dataset``, ``method``, ``recipe``, ``mode``,
    ``seed``, ``status`` or ``sweep``, each a value or a list of the values to keep."""
    from fairnn.experiments.store import DEFAULT_DB, ResultStore

    check_results_format(format)
    with ResultStore(db if db is not None else DEFAULT_DB, create=False) as store:
        rows = store.runs(**filters)
    return RunsTable(rows, format, split)


def report(
    out: Paths,
    *,
    db: Paths | None = None,
    split: str = "test",
    dataset: Sequence[str] | None = None,
    sweep: str | None = None,
) -> ReportResult:
    """Pareto fronts, hypervolumes and mean ± std tables over seeds of the finished runs,
    as figures, tables and ``index.html`` under ``out``."""
    from fairnn.experiments.report import write_report
    from fairnn.experiments.store import DEFAULT_DB, ResultStore

    with ResultStore(db if db is not None else DEFAULT_DB, create=False) as store:
        rows = store.runs(dataset=dataset, sweep=sweep, status="done")
    return ReportResult(Path(write_report(rows, out, split=split)))
