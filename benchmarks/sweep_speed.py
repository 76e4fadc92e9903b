"""The shipped Adult sweep through each executor: runs per minute and speed-up, same run.

Takes the sweep file (default ``examples/adult_comparison.yaml``) and times a subset of
its specs with 1 local worker, 2 local workers and a 2-worker Dask LocalCluster, each into
a fresh results database. The default subset is one run per method (its first spec); each
method's seconds in the worker, times the runs of that method the whole file computes
(runs that differ only in their notion label are computed once), divided by the workers,
project the whole sweep. ``--runs N`` times N evenly spread specs instead and projects by
their rate. Prints wall time, runs per minute, speed-up over 1 worker and the projection.
Run: ``python benchmarks/sweep_speed.py [--runs N] [--no-dask]``; the whole sweep itself is
``fairnn sweep examples/adult_comparison.yaml --workers 2``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from fairnn.experiments.executors import run_specs, twin_key
from fairnn.experiments.spec import RunSpec
from fairnn.experiments.store import ResultStore
from fairnn.experiments.sweep import load_sweep


def subset(specs: list[RunSpec], runs: int) -> list[RunSpec]:
    if runs <= 0:  # one per method
        first: dict[str, RunSpec] = {}
        for s in specs:
            first.setdefault(s.method, s)
        return list(first.values())
    if runs >= len(specs):
        return specs
    step = len(specs) / runs
    return [specs[int(i * step)] for i in range(runs)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default="examples/adult_comparison.yaml")
    ap.add_argument(
        "--runs", type=int, default=0, help="evenly spread subset size (0: one run per method)"
    )
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    sweep = load_sweep(args.file)
    specs = subset(sweep.specs, args.runs)
    # computed runs per method in the whole file (twins once)
    leaders = {twin_key(s): s.method for s in sweep.specs}
    per_method = Counter(leaders.values())
    computed_sub = len({twin_key(s) for s in specs})
    setups = [("local", 1), ("local", 2)] + ([] if args.no_dask else [("dask", 2)])
    print(
        f"# {sweep.name}: {len(sweep)} runs in the file ({len(leaders)} computed); "
        f"timing {len(specs)} of them per setup"
    )
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
            if args.runs <= 0:
                # each method's worker seconds × its computed runs in the file, over the workers
                by_method = {r["method"]: r["wall_s"] or 0.0 for r in runs}
                full_min = sum(by_method.get(m, 0.0) * n for m, n in per_method.items())
                full_min /= 60 * workers
            else:
                full_min = wall / 60 * len(leaders) / computed_sub
            print(
                f"{backend:>5} × {workers}: {wall:7.1f} s, {summary.done} done, {summary.failed} failed, "
                f"{rate:5.1f} runs/min, speed-up {base / wall:4.2f}x, whole sweep ≈ {full_min:5.1f} min; "
                f"per run: {run_s:5.1f} s in the worker, {fit_s:5.1f} s of it training"
            )


if __name__ == "__main__":
    main()
