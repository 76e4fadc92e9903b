"""``fairnn datasets``: the dataset registry, or one entry of it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import (
    DropOpt,
    GroupNamesOpt,
    SensitiveAsInputOpt,
    friendly,
    optional_scalar,
    show,
)

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
    name: Annotated[
        str, typer.Argument(help="A registered dataset name (e.g. adult), or your own table.")
    ],
    label: Annotated[str | None, typer.Option(help="Your table: its label column.")] = None,
    sensitive: Annotated[
        list[str] | None, typer.Option(help="Your table: sensitive column(s); repeat.")
    ] = None,
    categorical: Annotated[
        list[str] | None, typer.Option(help="Your table: force categorical (COL[,COL]).")
    ] = None,
    continuous: Annotated[
        list[str] | None, typer.Option(help="Your table: force continuous (COL[,COL]).")
    ] = None,
    drop: DropOpt = None,
    sensitive_as_input: SensitiveAsInputOpt = None,
    positive_label: Annotated[
        str | None,
        typer.Option("--positive-label", help="Your table: the label value that is positive."),
    ] = None,
    group_names: GroupNamesOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Everything the registry knows about one dataset, and where its files are; for your
    own table (with --label and --sensitive), how training would treat each column."""
    if label is None and not sensitive and not Path(name).exists():
        show(api.dataset_info(name), as_json)
        return
    preview = api.table_info(
        name,
        label=label,
        sensitive=sensitive,
        categorical=categorical,
        continuous=continuous,
        drop=drop,
        sensitive_as_input=sensitive_as_input,
        positive_label=optional_scalar(positive_label),
        group_names=group_names,
    )
    show(preview, as_json)
