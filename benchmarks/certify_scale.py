"""Global certificates at scale: one MILP over the domain vs branch and bound over it.

Runs ``fairnn certify MODEL --eps EPS --time-limit T --json`` with ``--search milp``,
``--search branch`` and ``--search branch --workers 2`` (local processes) on each model
directory given, and prints one row per run: the proven bound, the witness, the gap, the
status, the leaves (explored / pruned / closed by MILP / open) and the wall time.

    FAIRNN_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1 \\
        python benchmarks/certify_scale.py /tmp/adult200 /tmp/adult32 --eps 0.05 --time-limit 60

The models: ``fairnn train --data adult --method vanilla --out DIR`` (fairnn's default
MLP 200-200) and the same with ``--hidden 32 --hidden 32``. ``--out FILE`` writes the rows
as JSON. Results are in BENCHMARKS.md ("Global certificates at scale").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

RUNS = {
    "milp": ["--search", "milp"],
    "branch": ["--search", "branch"],
    "branch-2w": ["--search", "branch", "--workers", "2"],
}


def certify(model: str, eps: float, time_limit: float, extra: list[str]) -> dict:
    exe = Path(sys.executable).with_name("fairnn")
    cmd = [str(exe), "certify", model, "--eps", str(eps), "--time-limit", str(time_limit)]
    t0 = time.perf_counter()
    out = subprocess.run([*cmd, *extra, "--json"], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    res = json.loads(out.stdout)
    d = res.get("details", {})
    return {
        "upper": res["delta_upper"],
        "witness": res["delta_lower"],
        "gap": res["gap"],
        "status": res["status"],
        "leaves": {k: d.get(k) for k in ("explored", "pruned", "closed_by_milp", "open", "milp")}
        if d.get("search") == "branch"
        else None,
        "solve_s": d.get("solve_s"),
        "time_s": res["time_s"],
        "wall_s": wall,
        "trace": d.get("trace", [])[-1:] if d.get("search") == "branch" else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="fairnn model directories")
    ap.add_argument("--eps", type=float, default=0.05)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rows = []
    for model in args.models:
        for name in args.runs:
            row = {
                "model": model,
                "run": name,
                **certify(model, args.eps, args.time_limit, RUNS[name]),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps({"load": os.getloadavg(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
