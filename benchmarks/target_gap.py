"""Mitigate to a target gap on Adult: vanilla vs gapreg vs runner with ``--target-gap``.

Runs ``fairnn train --data adult --method M [--target-gap T --target-budget B] --json``
as subprocesses and prints, per method, the weight chosen, the validation and test gap
and accuracy, the fits tried, and whether the target was met on validation and on test.
Run: ``python benchmarks/target_gap.py [--target 0.02] [--budget 6] [--mode dp]
[--epochs N] [--seeds 0 1 2]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time


def train(exe: list[str], method: str, seed: int, args: argparse.Namespace, search: bool) -> dict:
    cmd = [*exe, "train", "--data", args.data, "--method", method, "--mode", args.mode]
    cmd += ["--seed", str(seed), "--json"]
    if args.epochs is not None:
        cmd += ["--epochs", str(args.epochs)]
    if search:
        cmd += ["--target-gap", str(args.target), "--target-budget", str(args.budget)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="adult")
    ap.add_argument("--target", type=float, default=0.02)
    ap.add_argument("--budget", type=int, default=6)
    ap.add_argument("--mode", default="dp", choices=["dp", "eo"])
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--seeds", "--seed", type=int, nargs="+", default=[0])
    ap.add_argument("--methods", nargs="+", default=["vanilla", "gapreg", "runner"])
    args = ap.parse_args()
    exe = (shutil.which("fairnn") or f"{sys.executable} -m fairnn.cli").split()
    gap = "dp_gap" if args.mode == "dp" else "eodds_gap_sum"
    print(
        f"# {args.data}, {args.mode}, target {gap} <= {args.target:g} on val, budget "
        f"{args.budget} fits, seeds {' '.join(map(str, args.seeds))}, epochs {args.epochs or 'recipe default'}"
    )
    print(
        f"{'seed':>4} {'method':<8} {'weight':>12} {'fits':>4} {'val gap':>8} {'val acc':>8} "
        f"{'test gap':>8} {'test acc':>8} {'val met':>7} {'test met':>8} {'wall s':>7}"
    )
    for seed, method in ((s, m) for s in args.seeds for m in args.methods):
        t0 = time.perf_counter()
        out = train(exe, method, seed, args, search=method != "vanilla")
        wall = time.perf_counter() - t0
        m, tg = out["metrics"], out.get("target_gap")
        weight = f"{tg['weight_param']}={tg['weight']:.3g}" if tg else "-"
        fits = tg["fits"] if tg else 1
        val_met = m["val"][gap] <= args.target
        test_met = m["test"][gap] <= args.target
        print(
            f"{seed:>4} {method:<8} {weight:>12} {fits:>4} {m['val'][gap]:8.4f} "
            f"{m['val']['accuracy']:8.4f} {m['test'][gap]:8.4f} {m['test']['accuracy']:8.4f} "
            f"{'yes' if val_met else 'no':>7} {'yes' if test_met else 'no':>8} {wall:7.1f}"
            + ("  (degenerate)" if out.get("degenerate") else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
