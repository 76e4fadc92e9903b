"""``fairnn monitor``: fairness over time from a prediction log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import JsonOpt, QuietOpt, friendly, show


@app.command("monitor")
@friendly
def monitor_cmd(
    log: Annotated[Path, typer.Argument(help="Prediction log: CSV or parquet.")],
    window: Annotated[
        str, typer.Option(help="Time span (7d, 12h, 2w) or rows per window (5000).")
    ] = "7d",
    out: Annotated[
        Path | None, typer.Option(help="Folder for windows.csv, flags.csv and monitor.png.")
    ] = None,
    timestamp_col: Annotated[str, typer.Option(help="Timestamp column.")] = "timestamp",
    score_col: Annotated[str, typer.Option(help="Score column (P(y=1)).")] = "score",
    group_col: Annotated[str, typer.Option(help="Group column.")] = "group",
    label_col: Annotated[
        str | None, typer.Option(help="Label column (empty while unknown); 'none': no labels.")
    ] = "label",
    threshold: Annotated[
        float, typer.Option(help="Decision threshold on the score, in (0, 1): above it is 1.")
    ] = 0.5,
    gap_threshold: Annotated[
        float,
        typer.Option(help="Flag a window whose gap exceeds this, in [0, 1) ([0, 2) for sums)."),
    ] = 0.1,
    reference: Annotated[
        int, typer.Option(help="Reference window (index) for significant moves.")
    ] = 0,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples per window.")] = 200,
    chunksize: Annotated[int, typer.Option(help="Rows read at a time.")] = 100_000,
    seed: Annotated[int, typer.Option()] = 0,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fairness over time from a prediction log: metrics per window, intervals, flags, a plot."""
    result = api.monitor(
        log,
        window,
        timestamp=timestamp_col,
        score=score_col,
        group=group_col,
        label=None if label_col in (None, "none") else label_col,
        threshold=threshold,
        gap_threshold=gap_threshold,
        reference=reference,
        bootstrap=bootstrap,
        chunksize=chunksize,
        seed=seed,
        progress=not quiet and not as_json,
    )
    result.write(out)
    show(result, as_json)
