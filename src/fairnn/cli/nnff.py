"""``fairnn nnff``: the NNFF seed's pipeline on Boston, each stage certified."""

from __future__ import annotations

from typing import Annotated

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import JsonOpt, friendly, setup_logging, show


@app.command()  # named for its function, as the facade's: `fairnn nnff` runs api.nnff
@friendly
def nnff(
    eps: Annotated[float, typer.Option(help="Similarity radius ε (the seed's 0.3).")] = 0.3,
    seed: Annotated[int, typer.Option(help="Split, draws and training seed.")] = 42,
    draws: Annotated[int, typer.Option(help="Random-search draws of w, b (Algorithm 1).")] = 20,
    epochs: Annotated[int, typer.Option(help="Simulated-gradient steps (Algorithm 3).")] = 10,
    solver: Annotated[str, typer.Option(help="highs or cbc for the certificates.")] = "highs",
    as_json: JsonOpt = False,
) -> None:
    """The NNFF seed's pipeline on Boston with every stage's δ beside its exact certificate."""
    setup_logging(as_json)
    show(api.nnff(eps, seed=seed, draws=draws, epochs=epochs, solver=solver), as_json)
