"""The foundation's acceptance run, end to end through the CLI, over several seeds.

Runs ``fairnn train --data adult --method METHOD --seed S --json`` as a subprocess
(so the wall time includes start-up, data loading and preprocessing) and prints
each run's test metrics and wall time, then the mean ± std over seeds.
Run: ``python benchmarks/adult_vanilla.py [--seeds 0 1 2 3 4] [--method vanilla]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time

KEYS = ("accuracy", "ap", "dp_gap", "eodds_gap_sum", "eodds_gap_max")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--method", default="vanilla")
    ap.add_argument("--data", default="adult")
    ap.add_argument("extra", nargs="*", help="more `fairnn train` arguments, after --")
    args = ap.parse_args()
    exe = shutil.which("fairnn") or f"{sys.executable} -m fairnn.cli"
    rows = []
    print(f"# fairnn train --data {args.data} --method {args.method} {' '.join(args.extra)} --json")
    print("seed  wall_s  " + "  ".join(f"{k:>13}" for k in KEYS))
    for seed in args.seeds:
        cmd = [
            *exe.split(),
            "train",
            "--data",
            args.data,
            "--method",
            args.method,
            "--seed",
            str(seed),
            "--json",
            *args.extra,
        ]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - t0
        test = json.loads(out.strip().splitlines()[-1])["metrics"]["test"]
        rows.append((wall, test))
        print(f"{seed:>4}  {wall:6.1f}  " + "  ".join(f"{test[k]:13.4f}" for k in KEYS))
    if len(rows) > 1:
        walls = [w for w, _ in rows]
        print(
            f"mean  {statistics.mean(walls):6.1f}  "
            + "  ".join(f"{statistics.mean(t[k] for _, t in rows):13.4f}" for k in KEYS)
        )
        print(
            f" std  {statistics.stdev(walls):6.1f}  "
            + "  ".join(f"{statistics.stdev(t[k] for _, t in rows):13.4f}" for k in KEYS)
        )


if __name__ == "__main__":
    main()
