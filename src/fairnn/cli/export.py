"""``fairnn export``: a model with its decision rule as TorchScript or ONNX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import OverwriteOpt, friendly, show


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
    show(api.export(model_dir, out=out, overwrite=overwrite, format=fmt))
