"""Global certificates at scale: one MILP over the domain vs branch and bound over it.

Runs ``fairnn certify MODEL --eps EPS --time-limit T --json`` with ``--search milp``,
``--search branch`` and ``--search branch --workers 2`` (local processes) on each model
directory given, and prints one row per run: the proven bound, the witness, the gap, the
status, the leaves (explored / pruned / closed by MILP / open) and the wall time.

    FAIRNN_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1 \\
        python benchmarks/certify_scale.py /tmp/adult200 /tmp/adult32 --eps 0.05 --time-limit 60

The models: ``fairnn train --data adult --method vanilla --out DIR`` (fairnn's default
MLP 200-200) and the same with ``--hidden 32 --hidden 32`` (etc.). ``--eps`` takes a
comma-separated list; ``--runs published`` adds Benussi et al.'s encoding as their code
builds it (:meth:`fairnn.certify.EncodeOptions.published`: plain big-M, LP neuron bounds,
the sigmoid as convex-combination weights, no attack) solved by CBC on the same model,
domain and metric, in this process, with ``--published-time-limit`` (default: the same
limit). ``--out FILE`` writes the rows as JSON. Results are in BENCHMARKS.md ("Global
certificates at scale").
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
    "published": [],  # in this process: see published()
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


def published(model: str, eps: float, time_limit: float) -> dict:
    """Benussi et al.'s encoding with CBC on the model's domain and the CLI's default metric
    (weighted ℓ∞, the model's sensitive columns free)."""
    from fairnn.certify import CertifyConfig, EncodeOptions, certify_global
    from fairnn.experiments.model_source import ModelSource

    fitted, splits = ModelSource.saved(model, device="cpu").load()
    cfg = CertifyConfig(
        eps=eps,
        metric="linf",
        solver="cbc",
        time_limit=time_limit,
        progress=False,
        options=EncodeOptions.published(),
        attack=False,
        refine_rounds=0,
        use_propagated_bound=False,
    )
    t0 = time.perf_counter()
    c = certify_global(fitted, fitted.features, config=cfg, data=splits.train)
    return {
        "upper": c.delta_upper,
        "witness": c.delta_lower,
        "gap": c.gap,
        "status": c.status,
        "leaves": None,
        "solve_s": c.details.get("solve_s"),
        "time_s": c.time_s,
        "wall_s": time.perf_counter() - t0,
        "trace": None,
    }


def _line(row: dict) -> str:
    lv = row.get("leaves")
    leaves = "-" if not lv else "{explored}/{pruned}/{closed_by_milp}/{open}".format(**lv)
    return (
        f"{Path(row['model']).name:>16} {row['eps']:>5g} {row['run']:>10} "
        f"{row['upper']:>8.4f} {row['witness']:>8.4f} {100 * row['gap']:>6.1f} % "
        f"{row['status']:>11} {leaves:>16} {row['wall_s']:>7.1f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="fairnn model directories")
    ap.add_argument("--eps", default="0.05", help="comma-separated")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--published-time-limit", type=float, default=None)
    ap.add_argument(
        "--runs", nargs="+", default=["milp", "branch", "branch-2w"], choices=list(RUNS)
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rows = []
    print(f"# load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(
        f"{'model':>16} {'eps':>5} {'run':>10} {'δ upper':>8} {'witness':>8} {'gap':>8} "
        f"{'status':>11} {'leaves e/p/m/o':>16} {'wall_s':>7}",
        flush=True,
    )
    for model in args.models:
        for eps in (float(e) for e in args.eps.split(",")):
            for name in args.runs:
                if name == "published":
                    res = published(model, eps, args.published_time_limit or args.time_limit)
                else:
                    res = certify(model, eps, args.time_limit, RUNS[name])
                row = {"model": model, "eps": eps, "run": name, **res}
                rows.append(row)
                print(_line(row), flush=True)
    print(f"# load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.out is not None:
        args.out.write_text(json.dumps({"load": os.getloadavg(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
