"""``fairnn certify``: a proven ε-δ individual-fairness bound and a witness pair."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import (
    JsonOpt,
    ModelDirArg,
    QuietOpt,
    SeedOpt,
    friendly,
    model_file_options,
    setup_logging,
    show,
)


@app.command("certify")
@friendly
@model_file_options
def certify(
    eps: Annotated[float, typer.Option(help="Similarity radius ε (model-input units).")],
    model_dir: ModelDirArg = None,
    metric: Annotated[
        str,
        typer.Option(
            help="linf, l1, l2 (weighted), mahalanobis (the ellipsoid), mahalanobis-box "
            "(Benussi et al.'s per-eigenvector box) or embedding."
        ),
    ] = "linf",
    metric_matrix: Annotated[
        str | None,
        typer.Option(
            "--metric-matrix",
            help="S of mahalanobis(-box) or A of embedding: a .npy, .csv or .json file in "
            "model-input units (default for mahalanobis: S learned from the data).",
        ),
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="Solver threads (default: the solver's choice).")
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option(
            help="A domain spec file (JSON: each input's kind, bounds, one-hot block, "
            "immutability; docs/certify.md) instead of the domain the model or data implies."
        ),
    ] = None,
    save_domain: Annotated[
        str | None,
        typer.Option("--save-domain", help="Write the domain used to this file (to edit)."),
    ] = None,
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
    search: Annotated[
        str,
        typer.Option(
            help="milp (one MILP over the whole domain) or branch (branch and bound over the "
            "input domain; an anytime bound)."
        ),
    ] = "milp",
    workers: Annotated[
        int,
        typer.Option(
            help="Processes for the local points (--local N) or the leaf MILPs (--search branch)."
        ),
    ] = 1,
    backend: Annotated[
        str, typer.Option(help="Where --workers run: local (processes) or dask.")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address; without it a local cluster is started."),
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    user_model: Any = None,  # replaced by the model-file options (model_file_options)
    seed: SeedOpt = 0,
) -> None:
    """Certify ε-δ individual fairness: a proven δ upper bound and a witness pair.

    Your own PyTorch MLP: --model-file model.safetensors [--arch model.json] --data ...
    """
    setup_logging(quiet or as_json)
    result = api.certify(
        api.model_source(model_dir, **user_model),
        eps=eps,
        metric=metric,
        weights=weights,
        local=local,
        solver=solver,
        time_limit=time_limit,
        output=output,
        integers=integers,
        progress=not quiet and not as_json,
        seed=seed,
        matrix=metric_matrix,
        threads=threads,
        domain=domain,
        save_domain=save_domain,
        search=search,
        workers=workers,
        backend=backend,
        scheduler=scheduler,
    )
    show(result, as_json)
