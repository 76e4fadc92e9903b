"""``fairnn sweep``, ``results`` and ``report``: many runs, their database and its report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import DbOpt, QuietOpt, exit_with, friendly, show

DEFAULT_DB = Path("fairnn-results.db")
DatasetFilter = Annotated[list[str] | None, typer.Option(help="Only this dataset (repeat).")]
SweepFilter = Annotated[str | None, typer.Option("--sweep", help="Only this sweep.")]


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
    db: DbOpt = DEFAULT_DB,
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
    quiet: QuietOpt = False,
) -> None:
    """Run every spec of a sweep file that the results database does not hold yet.

    Exit status: 0 when every run is done, 1 when some runs failed (now or in an earlier
    invocation), 2 for a usage error (bad file, option or database), 130 when interrupted.
    """
    result = api.sweep(
        file,
        db=db,
        workers=workers,
        backend=backend,
        scheduler=scheduler,
        save_models=save_models,
        retry_failed=retry_failed,
        dry_run=dry_run,
        threads=threads,
        device=device,
        progress=not quiet,
        on_plan=lambda plan: typer.echo(plan.to_text()),
    )
    exit_with(result.interrupted, 130)
    if dry_run:
        return
    typer.echo(result.summary_text())
    exit_with(result.failure_message(), 1)


@app.command("results")
@friendly
def results(
    db: DbOpt = DEFAULT_DB,
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or parquet.")] = "table",
    out: Annotated[
        Path | None, typer.Option(help="Write here instead of printing (needed for parquet).")
    ] = None,
    dataset: DatasetFilter = None,
    method: Annotated[list[str] | None, typer.Option(help="Only this method (repeat).")] = None,
    recipe: Annotated[list[str] | None, typer.Option(help="Only this recipe (repeat).")] = None,
    mode: Annotated[list[str] | None, typer.Option(help="Only this notion: dp, eo.")] = None,
    seed: Annotated[list[int] | None, typer.Option(help="Only this seed (repeat).")] = None,
    status: Annotated[str | None, typer.Option(help="Only done or failed runs.")] = None,
    sweep_name: SweepFilter = None,
    split: Annotated[
        list[str] | None, typer.Option(help="Metric splits to show (table: test by default).")
    ] = None,
) -> None:
    """Show the runs in a results database, one row per run."""
    table = api.results(
        db,
        format=fmt,
        dataset=dataset,
        method=method,
        recipe=recipe,
        mode=mode,
        seed=seed,
        status=status,
        sweep=sweep_name,
        split=split,
    )
    if out is None:
        typer.echo(table.to_text().rstrip("\n"))
        return
    typer.echo(f"{len(table)} runs written to {table.write(out)}")


@app.command("report")
@friendly
def report(
    out: Annotated[Path, typer.Option(help="Folder for the figures, tables and index.html.")],
    db: DbOpt = DEFAULT_DB,
    split: Annotated[str, typer.Option(help="Split the report scores.")] = "test",
    dataset: DatasetFilter = None,
    sweep_name: SweepFilter = None,
) -> None:
    """Pareto fronts, hypervolumes and mean ± std tables over seeds, as an HTML page."""
    show(api.report(out, db=db, split=split, dataset=dataset, sweep=sweep_name))
