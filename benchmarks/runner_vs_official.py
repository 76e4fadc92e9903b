"""One RUNNER setting on Adult: fairnn vs. the official code (Ace0001/RUNNER), same machine, same run.

fairnn: ``fairnn train --data adult --recipe runner --method NeuronImportance_GapReg
--mode MODE --lam LAM --neuron_ratio K --seed S --json`` for each seed (a subprocess
each, so start-up, data loading and preprocessing count).

Official code (not part of fairnn; prepare it yourself):

    1. get Ace0001/RUNNER @62ec0b3 (main.py, utils.py, model.py, dataset.py, adult.data, adult.test);
    2. it calls ``.cuda()`` unconditionally: on a CPU machine delete those calls,
       e.g. ``sed -i 's/\\.cuda()//g' main.py utils.py``; nothing else changes;
    3. a Python environment with its imports: torch, pytorch-lightning (seed_everything),
       aif360, fairlearn, scikit-learn, pandas, tqdm.

Then ``python benchmarks/runner_vs_official.py --official DIR --official-python PY``
runs ``python main.py --method NeuronImportance_GapReg --mode MODE --lam LAM
--neuron_ratio K --ex_num N`` there (its experiments i = 0..N-1 use seed i), and
prints both sides: wall time, per-seed test AP and gap, and the ratio. The official
code reports fairlearn's ΔEO (max of |ΔTPR|, |ΔFPR|), so the EO comparison uses
fairnn's ``eodds_gap_max``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time


def fairnn_side(seeds: list[int], mode: str, lam: float, k: float) -> tuple[float, list[dict]]:
    exe = shutil.which("fairnn") or f"{sys.executable} -m fairnn.cli"
    gap = "dp_gap" if mode == "dp" else "eodds_gap_max"
    rows, total = [], 0.0
    for s in seeds:
        cmd = [
            *exe.split(),
            "train",
            "--data",
            "adult",
            "--recipe",
            "runner",
            "--method",
            "NeuronImportance_GapReg",
            "--mode",
            mode,
            "--lam",
            str(lam),
            "--neuron_ratio",
            str(k),
            "--seed",
            str(s),
            "--json",
        ]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        total += time.perf_counter() - t0
        test = json.loads(out.strip().splitlines()[-1])["metrics"]["test"]
        rows.append({"seed": s, "ap": test["ap"], "gap": test[gap]})
    return total, rows


def official_side(
    directory: str, python: str, n: int, mode: str, lam: float, k: float
) -> tuple[float, list[dict], list[float]]:
    cmd = [
        python,
        "main.py",
        "--method",
        "NeuronImportance_GapReg",
        "--mode",
        mode,
        "--lam",
        str(lam),
        "--neuron_ratio",
        str(k),
        "--ex_num",
        str(n),
    ]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=directory).stdout
    total = time.perf_counter() - t0
    blocks = out.split("--------INDEX---------")[1:]
    rows = []
    for s, b in enumerate(blocks):
        ap = float(re.search(r"ap_test:\s*([0-9.eE+-]+)", b).group(1))
        gap = float(re.search(r"gap_test:\s*([0-9.eE+-]+)", b).group(1))
        rows.append({"seed": s, "ap": ap, "gap": gap})
    loop_times = [float(x) for x in re.findall(r"time costs:([0-9.]+) s", out)]
    return total, rows, loop_times


def show(name: str, total: float, rows: list[dict]) -> None:
    aps, gaps = [r["ap"] for r in rows], [r["gap"] for r in rows]
    sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
    per = ", ".join(f"s{r['seed']}: AP {r['ap']:.4f} gap {r['gap']:.4f}" for r in rows)
    print(
        f"{name:>8}: total {total:7.1f} s for {len(rows)} seeds ({total / len(rows):6.1f} s/seed); "
        f"AP {statistics.mean(aps):.4f} ± {sd(aps):.4f}, gap {statistics.mean(gaps):.4f} ± {sd(gaps):.4f}"
    )
    print(f"          {per}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", default="eo", choices=["dp", "eo"])
    ap.add_argument("--lam", type=float, default=None, help="default: the README's Adult λ")
    ap.add_argument(
        "--neuron-ratio", type=float, default=None, help="default: the README's Adult k"
    )
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--official", help="folder with the CPU-patched official code")
    ap.add_argument("--official-python", default=sys.executable)
    args = ap.parse_args()
    lam = args.lam if args.lam is not None else {"dp": 0.3, "eo": 1.0}[args.mode]
    k = args.neuron_ratio if args.neuron_ratio is not None else {"dp": 0.5, "eo": 0.05}[args.mode]
    gap = "ΔDP" if args.mode == "dp" else "ΔEO (max, fairlearn)"
    print(
        f"# RUNNER on Adult, mode {args.mode}, λ={lam}, k={k}, seeds 0..{args.seeds - 1}; gap = {gap}"
    )
    f_total, f_rows = fairnn_side(list(range(args.seeds)), args.mode, lam, k)
    show("fairnn", f_total, f_rows)
    if args.official:
        o_total, o_rows, loops = official_side(
            args.official, args.official_python, args.seeds, args.mode, lam, k
        )
        show("official", o_total, o_rows)
        print(
            f"official training+evaluation loop alone (its 'time costs'): {statistics.mean(loops):.1f} s/seed"
        )
        print(f"speed-up end to end (official / fairnn): {o_total / f_total:.2f}x")


if __name__ == "__main__":
    main()
