"""``fairnn demo``: vanilla and a gap penalty on Adult, a table and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import friendly, setup_logging, show


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
    setup_logging(False)
    show(api.demo(out, seed=seed, device=device))
