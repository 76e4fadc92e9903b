"""``fairnn datasets``: the dataset registry, or one entry of it."""

from __future__ import annotations

from typing import Annotated

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import friendly, show

datasets_app = typer.Typer(
    help="List the dataset registry, or show one entry.", no_args_is_help=False
)
app.add_typer(datasets_app, name="datasets")


@datasets_app.callback(invoke_without_command=True)
@friendly
def datasets_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the registered datasets: rows, label, sensitive attributes, source, license, presence."""
    if ctx.invoked_subcommand is not None:
        return
    show(api.datasets(), as_json)


@datasets_app.command("info")
@friendly
def datasets_info(
    name: Annotated[str, typer.Argument(help="A registered dataset name, e.g. adult.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Everything the registry knows about one dataset, and where its files are."""
    show(api.dataset_info(name), as_json)
