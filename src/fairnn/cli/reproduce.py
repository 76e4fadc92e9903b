"""``fairnn reproduce``: rerun a paper's experiment, or list them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import exit_with, friendly, setup_logging, show


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
    if name is None:
        show(api.reproductions())
        return
    setup_logging(False)
    result = api.reproduce(
        name,
        seeds=seeds,
        out=out,
        full=full,
        device=device,
        workers=workers,
        datasets=datasets,
        modes=modes,
        parts=parts,
    )
    show(result)
    exit_with(result.failure_message(), 1)
