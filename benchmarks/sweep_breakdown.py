"""Where a finished sweep's time went, per method, from its results database.

For each method: the specs recorded, the runs computed (notion twins are computed once and
recorded under both specs, with the same start time), the mean seconds a computed run spent
in its worker, and worker-minutes (computed × s/run). Also the sweep's wall time, first start
to last finish. Run after ``fairnn sweep FILE --workers 2 --db adult.db``:
``python benchmarks/sweep_breakdown.py --db adult.db``.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from fairnn.experiments.store import ResultStore


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    args = ap.parse_args()
    with ResultStore(args.db) as store:
        runs = store.runs(status="done")
    if not runs:
        raise SystemExit(f"{args.db} holds no finished run")
    by_method: dict[str, list[dict]] = defaultdict(list)
    for r in runs:
        by_method[r["method"]].append(r)
    rows = []
    for method, rs in by_method.items():
        computed = {(r["worker"], r["started_at"]): r["wall_s"] or 0.0 for r in rs}
        per_run = sum(computed.values()) / len(computed)
        rows.append((method, len(rs), len(computed), per_run, per_run * len(computed) / 60))
    rows.sort(key=lambda row: -row[4])
    wall = max(r["finished_at"] for r in runs) - min(r["started_at"] for r in runs)
    print(f"# {args.db}: {len(runs)} runs, wall {wall:.0f} s = {wall / 60:.1f} min")
    print("| method | runs | computed | s/run | worker-min |")
    print("|---|---:|---:|---:|---:|")
    for method, n, c, s, wm in rows:
        print(f"| {method} | {n} | {c} | {s:.1f} | {wm:.1f} |")
    print(f"worker-minutes in all: {sum(row[4] for row in rows):.1f}")


if __name__ == "__main__":
    main()
