"""Why a Dask LocalCluster trained slower than local workers, and what fairnn does about it.

Dask's nanny starts every worker with ``MALLOC_TRIM_THRESHOLD_=65536``
(``distributed.nanny.pre-spawn-environ``). Setting that variable also fixes glibc's mmap
threshold at its 128 KiB default, so every tensor above it (a 256×200 float32 batch
activation is 200 KiB) is mmap'ed and unmapped again at each step instead of reused from
the heap. Three probes, same run:

1. a small-MLP training loop (3 epochs of a 200-200 MLP, batch 256, one torch thread) in
   this process, in a Dask worker as Dask starts it, and in a Dask worker after
   :func:`fairnn.experiments.executors.heap_for_tensors` (what every fairnn task calls
   first on a Dask worker: ``mallopt`` gives such blocks back to the heap);
2. the same loop in a subprocess with and without ``MALLOC_TRIM_THRESHOLD_=65536``: the
   variable alone, without Dask;
3. four short gapreg runs on Adult (5 epochs) through ``run_specs`` with local workers and
   with the Dask backend: seconds of training per run, as recorded in the results store.

Run: ``python benchmarks/dask_overhead.py [--reps 3]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def mlp_probe(fairnn_fix: bool = False) -> float:
    import torch
    from torch import nn

    if fairnn_fix:
        from fairnn.experiments.executors import heap_for_tensors

        heap_for_tensors()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(27132, 85, generator=g)
    y = (torch.rand(27132, generator=g) > 0.7).float()
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(85, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU())
    m.append(nn.Linear(200, 1))
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    t = time.perf_counter()
    for _ in range(3):
        perm = torch.randperm(len(X), generator=g)
        for i in range(0, len(X), 256):
            idx = perm[i : i + 256]
            out = m(X[idx]).squeeze(-1)
            loss = nn.functional.binary_cross_entropy_with_logits(out, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return time.perf_counter() - t


def in_subprocess(env_extra: dict[str, str]) -> float:
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
    code += "import dask_overhead as d; d.mlp_probe(); print(d.mlp_probe())"
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**env, **env_extra}, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def in_cluster(fairnn_fix: bool, reps: int) -> list[float]:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, dashboard_address=None, silence_logs=40
    )
    with cluster, Client(cluster) as client:
        client.submit(mlp_probe, fairnn_fix, pure=False).result()  # warm-up
        return [client.submit(mlp_probe, fairnn_fix, pure=False).result() for _ in range(reps)]


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
    mlp_probe()
    here = min(mlp_probe() for _ in range(args.reps))
    dask_default = min(in_cluster(False, args.reps))
    dask_fairnn = min(in_cluster(True, args.reps))
    print(f"MLP loop (best of {args.reps}): {here:.2f} s in this process")
    print(f"  in a Dask worker as Dask starts it:        {dask_default:.2f} s")
    print(f"  in a Dask worker after heap_for_tensors(): {dask_fairnn:.2f} s")
    plain = min(in_subprocess({}) for _ in range(args.reps))
    trim = min(in_subprocess({"MALLOC_TRIM_THRESHOLD_": "65536"}) for _ in range(args.reps))
    print(f"  subprocess, glibc defaults:                {plain:.2f} s")
    print(f"  subprocess, MALLOC_TRIM_THRESHOLD_=65536:  {trim:.2f} s ({trim / plain:.2f}x)")
    for _ in range(args.reps):
        local, dask = train_probe("local"), train_probe("dask")
        print(
            f"gapreg, 5 epochs: {local:.2f} s of training per run in local workers, "
            f"{dask:.2f} s in Dask workers ({dask / local:.2f}x)"
        )


if __name__ == "__main__":
    main()
