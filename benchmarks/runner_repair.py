"""RUNNER as repair: train a vanilla MLP on Adult, then repair it; before/after over seeds.

For each seed: ``fairnn train --data adult --method vanilla --seed S --out DIR``, then
``fairnn repair DIR --method runner --mode MODE --lam LAM --neuron_ratio K --epochs E``
(only the selected neurons' incoming weights move). Prints the test metrics before and
after, per seed and as mean ± std. Run: ``python benchmarks/runner_repair.py``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

KEYS = ("accuracy", "ap", "dp_gap", "eodds_gap_sum")


def cli(*args: str) -> dict:
    exe = shutil.which("fairnn") or f"{sys.executable} -m fairnn.cli"
    out = subprocess.run(
        [*exe.split(), *args, "--json"], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--mode", default="dp", choices=["dp", "eo"])
    ap.add_argument("--lam", type=float, default=5.0)
    ap.add_argument("--neuron-ratio", type=float, default=0.5)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    print(
        f"# vanilla on Adult (clean), then `fairnn repair --method runner --mode {args.mode} "
        f"--lam {args.lam} --neuron_ratio {args.neuron_ratio} --epochs {args.epochs}`; test split"
    )
    print("seed  stage   " + "  ".join(f"{k:>13}" for k in KEYS))
    before, after = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for s in range(args.seeds):
            model = Path(tmp) / f"van{s}"
            cli(
                "train",
                "--data",
                "adult",
                "--method",
                "vanilla",
                "--seed",
                str(s),
                "--out",
                str(model),
            )
            rep = cli(
                "repair",
                str(model),
                "--method",
                "runner",
                "--mode",
                args.mode,
                "--lam",
                str(args.lam),
                "--neuron_ratio",
                str(args.neuron_ratio),
                "--epochs",
                str(args.epochs),
                "--seed",
                str(s),
                "--out",
                str(model) + "-runner",
            )
            for stage, m, acc in (
                ("before", rep["before"]["test"], before),
                ("after", rep["after"]["test"], after),
            ):
                acc.append(m)
                print(f"{s:>4}  {stage:<6}  " + "  ".join(f"{m[k]:13.4f}" for k in KEYS))
    for stage, rows in (("before", before), ("after", after)):
        mean = [statistics.mean(r[k] for r in rows) for k in KEYS]
        sd = [statistics.stdev(r[k] for r in rows) if len(rows) > 1 else 0.0 for k in KEYS]
        print(
            f"mean  {stage:<6}  "
            + "  ".join(f"{m:7.4f}±{d:.3f}" for m, d in zip(mean, sd, strict=True))
        )


if __name__ == "__main__":
    main()
