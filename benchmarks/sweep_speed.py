"""The shipped Adult sweep through each executor: runs per minute and speed-up, same run.

Takes the sweep file (default ``examples/adult_comparison.yaml``), picks ``--runs`` of
its specs (a fixed, evenly spread subset; all of them with ``--runs 0``) and runs that
same subset with 1 local worker, 2 local workers and a 2-worker Dask LocalCluster,
each into a fresh results database. Prints wall time, runs per minute, speed-up over
1 worker, and the projected time of the whole sweep at each rate.
Run: ``python benchmarks/sweep_speed.py [--runs 24]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from fairnn.experiments.executors import run_specs
from fairnn.experiments.store import ResultStore
from fairnn.experiments.sweep import load_sweep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default="examples/adult_comparison.yaml")
    ap.add_argument("--runs", type=int, default=24, help="subset size (0: the whole sweep)")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    sweep = load_sweep(args.file)
    specs = sweep.specs
    if args.runs and args.runs < len(specs):
        step = len(specs) / args.runs
        specs = [specs[int(i * step)] for i in range(args.runs)]
    setups = [("local", 1), ("local", 2)] + ([] if args.no_dask else [("dask", 2)])
    print(f"# {sweep.name}: {len(sweep)} runs in the file; timing {len(specs)} of them per setup")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for backend, workers in setups:
            with ResultStore(Path(tmp) / f"{backend}{workers}.db") as store:
                t0 = time.perf_counter()
                summary = run_specs(specs, store, backend=backend, workers=workers, progress=False)
                wall = time.perf_counter() - t0
                runs = store.runs(status="done")
            # where the time goes: training inside the runs vs. the run's whole wall time
            fit_s = sum(r["time_s"] or 0.0 for r in runs) / max(len(runs), 1)
            run_s = sum(r["wall_s"] or 0.0 for r in runs) / max(len(runs), 1)
            rate = summary.done / wall * 60
            base = base or wall
            full_min = len(sweep) / rate if rate else float("inf")
            print(
                f"{backend:>5} × {workers}: {wall:7.1f} s, {summary.done} done, {summary.failed} failed, "
                f"{rate:5.1f} runs/min, speed-up {base / wall:4.2f}x, whole sweep ≈ {full_min:5.1f} min; "
                f"per run: {run_s:5.1f} s in the worker, {fit_s:5.1f} s of it training"
            )


if __name__ == "__main__":
    main()
