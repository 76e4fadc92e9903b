"""Issue 4's baselines against vanilla on Adult (clean recipe), over several seeds.

Every method runs as ``fairnn train --data adult --method NAME --seed S`` does
(``run_spec``: the clean protocol, 20 epochs, selection by validation loss),
in one process so each seed's splits load once. Prints one Markdown table of
test-split mean ± std: accuracy, AP, ΔDP (``dp_gap``), ΔEO (``eodds_gap_sum``,
|ΔTPR| + |ΔFPR|), ΔTPR (``eopp_gap``, Fair-SMOTE's EOD and FairNeuron's "EO"),
and the wall time per run; the last column says whether the method's target gap
is below vanilla's, on the mean over seeds and in how many seeds.

Run: ``python benchmarks/baselines_adult.py [--seeds 0 1 2] [--only roc fairsmote]``
(``OMP_NUM_THREADS=1`` to measure on one core).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from fairnn.datasets import load_dataset
from fairnn.experiments import RunSpec, run_spec

KEYS = ("accuracy", "ap", "dp_gap", "eodds_gap_sum", "eopp_gap")
HEAD = ("accuracy", "AP", "ΔDP", "ΔEO", "ΔTPR")

#: (row label, method, parameters, the gap it targets); parameters at the seed setting
RUNS: list[tuple[str, str, dict[str, Any], str | None]] = [
    ("vanilla", "vanilla", {}, None),
    ("oversample", "oversample", {}, "eopp_gap"),
    ("reweighing", "reweighing", {}, "dp_gap"),
    ("fairsmote", "fairsmote", {}, "eopp_gap"),
    ("resampling (NNFF)", "resampling", {}, "dp_gap"),
    ("roc θ=0.6", "roc", {"theta": 0.6}, "dp_gap"),
    ("roc search (val ΔDP ≤ 0.05)", "roc", {"search": True, "target": 0.05}, "dp_gap"),
    ("fairneuron (default grid)", "fairneuron", {}, "dp_gap"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--only", nargs="*", help="row labels or method names to run (plus vanilla)")
    args = ap.parse_args()
    runs = [r for r in RUNS if not args.only or r[1] == "vanilla" or {r[0], r[1]} & set(args.only)]
    results: dict[str, list[dict[str, float]]] = {label: [] for label, *_ in runs}
    for seed in args.seeds:
        splits = load_dataset("adult", seed=seed)
        for label, method, params, _ in runs:
            spec = RunSpec.make(dataset="adult", method=method, params=params, seed=seed)
            t0 = time.perf_counter()
            res = run_spec(spec, splits=splits, runtime={"progress": False})
            row = {k: res.metrics["test"][k] for k in KEYS}
            row["time_s"] = time.perf_counter() - t0
            results[label].append(row)
            print(
                f"seed {seed} {label:<28}"
                + " ".join(f"{k}={row[k]:.4f}" for k in KEYS)
                + f" {row['time_s']:.1f}s",
                file=sys.stderr,
                flush=True,
            )
    base = {k: statistics.mean(r[k] for r in results["vanilla"]) for k in KEYS}
    seeds = ", ".join(map(str, args.seeds))
    print(f"Adult, clean recipe, test split, seeds {seeds} (mean ± std)\n")
    print("| method | " + " | ".join(HEAD) + " | time (s) | target gap below vanilla |")
    print("|---|" + "---|" * (len(HEAD) + 2))
    for label, _, _, target in runs:
        rows = results[label]
        cells = [_mean_std([r[k] for r in rows]) for k in (*KEYS, "time_s")]
        if target is None:
            verdict = "—"
        else:
            mean = statistics.mean(r[target] for r in rows)
            name = HEAD[KEYS.index(target)]
            wins = sum(r[target] < v[target] for r, v in zip(rows, results["vanilla"], strict=True))
            verdict = f"{name}: {'yes' if mean < base[target] else 'no'} ({wins}/{len(rows)} seeds)"
        print(f"| {label} | " + " | ".join(cells) + f" | {verdict} |")


def _mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    digits = 1 if max(values) > 5 else 4
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


if __name__ == "__main__":
    main()
