"""The ``fairnn`` Typer application that every command module adds its commands to."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="fairnn",
    help="Measure, mitigate and certify the fairness of neural networks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
