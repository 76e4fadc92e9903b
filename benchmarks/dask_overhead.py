"""Where a Dask LocalCluster loses time against local workers (issue 10's diagnosis).

Two probes, each in a plain process and in a 2-worker Dask LocalCluster, same run:

1. a BLAS-heavy loop (300 products of 400×400 matrices, one torch thread);
2. four short gapreg runs on Adult (5 epochs) through ``run_specs``: seconds of
   training per run, as recorded in the results store.

Run: ``python benchmarks/dask_overhead.py [--reps 3]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def blas_probe() -> float:
    import torch

    torch.set_num_threads(1)
    t = time.perf_counter()
    a = torch.randn(400, 400, generator=torch.Generator().manual_seed(0))
    for _ in range(300):
        a = (a @ a).tanh()
    return time.perf_counter() - t


def train_probe(backend: str) -> float:
    from fairnn.experiments.executors import run_specs
    from fairnn.experiments.spec import RunSpec
    from fairnn.experiments.store import ResultStore

    specs = [
        RunSpec.make(
            dataset="adult", method="gapreg", params={"lam": 0.1 * (i + 1)}, train={"epochs": 5}
        )
        for i in range(4)
    ]
    with tempfile.TemporaryDirectory() as tmp, ResultStore(Path(tmp) / "r.db") as store:
        run_specs(specs, store, backend=backend, workers=2, progress=False)
        runs = store.runs(status="done")
    return sum(r["time_s"] for r in runs) / len(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        for _ in range(args.reps):
            here = blas_probe()
            there = client.submit(blas_probe, pure=False).result()
            print(f"BLAS loop: {here:.2f} s in this process, {there:.2f} s in a Dask worker")
    for _ in range(args.reps):
        local, dask = train_probe("local"), train_probe("dask")
        print(
            f"gapreg, 5 epochs: {local:.2f} s of training per run in local workers, "
            f"{dask:.2f} s in Dask workers ({dask / local:.2f}x)"
        )


if __name__ == "__main__":
    main()
