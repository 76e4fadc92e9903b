"""Global and local certification speed on Adult (issue 6's performance section).

Trains ReLU MLPs on Adult in Benussi et al.'s setting (fairness through
unawareness: sex and race out of the inputs, native-country dropped; 39 inputs,
numeric features standardised) and certifies each globally:

* nets 1x8, 1x16, 1x32, 1x64, 2x16, 2x32, 3x32; ε in {0.01, 0.05, 0.25};
* weighted ℓ∞ (all weights 1) and Mahalanobis (Benussi's sensitive-subspace
  projector, learned by a logistic probe for sex);
* HiGHS and CBC; ``--published`` adds Benussi's encoding as coded
  (:meth:`fairnn.certify.EncodeOptions.published`: plain big-M, LP bounds, the
  sigmoid as convex-combination weights, the Mahalanobis ball by its bounding box,
  no attack, no refinement) with CBC and its own time limit (the paper's is 180 s);
* local certificates per second on 1x16 (1,000 test rows);
* ε = 0 with sex in the inputs and free (only the protected attribute flips),
  over the whole domain, in one solve.

Nets trained with fairnn's own defaults (85 inputs, exact integers, the race block free)
are certified by ``benchmarks/certify_scale.py`` (with the published encoding beside them),
the lower bounds by ``benchmarks/certify_attack.py``, local certificates of the default
200-200 model by ``benchmarks/local_certificates.py``.

Integer features (age, hours, …) are relaxed to continuous by default, as in
Benussi et al.'s MinMax-scaled inputs (``--integers exact`` keeps the grid).

    python benchmarks/certify_speed.py                       # everything (about an hour)
    python benchmarks/certify_speed.py --nets 1x8,1x16 --eps 0.05 --solvers highs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from fairnn.certify import EncodeOptions, certify_global, certify_local, mahalanobis_metric
from fairnn.certify.metrics import sensitive_subspace_matrix, weighted_metric
from fairnn.datasets import load_dataset
from fairnn.methods import FittedModel, make_method
from fairnn.training import TrainConfig

NETS = ("1x8", "1x16", "1x32", "1x64", "2x16", "2x32", "3x32")
DROP = ["native-country", "race"]


def train_net(name: str, splits, cache: Path, tag: str = "ftu") -> FittedModel:
    path = cache / f"adult-{tag}-{name}"
    if (path / "model.json").exists():
        return FittedModel.load(path)
    hidden = [int(h) for h in name.split("x")[1:]] * int(name.split("x")[0])
    cfg = TrainConfig(epochs=5, weight_decay=1e-4, progress=False)
    fm = make_method("vanilla").fit(
        splits.train, splits.val, config=cfg, seed=0, architecture={"hidden": hidden}
    )
    fm.save(path)
    return fm


def targets(net: str, metric: str, eps: float) -> bool | None:
    if metric == "linf":
        return True
    if metric == "mahalanobis" and eps in (0.01, 0.05) and net in ("1x8", "1x16", "1x32", "2x16"):
        return True
    return None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nets", default=",".join(NETS))
    ap.add_argument("--eps", default="0.01,0.05,0.25")
    ap.add_argument("--metrics", default="linf,mahalanobis")
    ap.add_argument("--solvers", default="highs,cbc")
    ap.add_argument("--cbc-nets", default="1x8,1x16,1x32", help="nets CBC runs on")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--published", action="store_true")
    ap.add_argument("--published-time-limit", type=float, default=180.0)
    ap.add_argument("--published-nets", default="1x8,1x16,1x32")
    ap.add_argument("--local", type=int, default=1000)
    ap.add_argument("--no-flip", action="store_true")
    ap.add_argument("--integers", default="relax")
    ap.add_argument("--cache", default=os.environ.get("FAIRNN_BENCH_CACHE", ".bench-cache"))
    ap.add_argument("--json", default=None, help="write every result here")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    splits = load_dataset("adult", seed=0, drop_features=DROP)
    print(
        f"# adult (clean, seed 0, sex and race out of X, native-country dropped): "
        f"{splits.train.n_features} inputs; integers {args.integers}; "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {platform.machine()}"
    )
    S = sensitive_subspace_matrix(splits.train)
    metrics = {
        "linf": weighted_metric("linf", splits.features),
        "mahalanobis": mahalanobis_metric(S, splits.features),
    }
    rows = []
    header = (
        f"{'net':>5} {'metric':>11} {'eps':>5} {'solver':>10} {'delta_up':>9} {'delta_lo':>9} "
        f"{'gap%':>7} {'status':>10} {'time_s':>7} {'target':>7}"
    )
    print(header)

    def report(net, mname, eps, label, c):
        ok = targets(net, mname, eps)
        met = None if ok is None else (c.gap <= 0.01 and c.time_s <= 60.0)
        row = {
            "net": net,
            "metric": mname,
            "eps": eps,
            "solver": label,
            "delta_upper": c.delta_upper,
            "delta_lower": c.delta_lower,
            "gap": c.gap,
            "status": c.status,
            "time_s": c.time_s,
            "target_met": met,
            "nodes": c.details.get("nodes"),
            "bounds_s": c.details.get("bounds_s"),
        }
        rows.append(row)
        tgt = "-" if met is None else ("met" if met else "missed")
        print(
            f"{net:>5} {mname:>11} {eps:>5g} {label:>10} {c.delta_upper:>9.5f} "
            f"{c.delta_lower:>9.5f} {100 * c.gap:>7.2f} {c.status:>10} {c.time_s:>7.1f} {tgt:>7}",
            flush=True,
        )

    eps_list = [float(e) for e in args.eps.split(",")]
    for net in args.nets.split(","):
        fm = train_net(net, splits, cache)
        for mname in args.metrics.split(","):
            for eps in eps_list:
                for solver in args.solvers.split(","):
                    if solver == "cbc" and net not in args.cbc_nets.split(","):
                        continue
                    c = certify_global(
                        fm,
                        eps=eps,
                        metric=metrics[mname],
                        data=splits.train,
                        solver=solver,
                        time_limit=args.time_limit,
                        integers=args.integers,
                    )
                    report(net, mname, eps, solver, c)
                if args.published and net in args.published_nets.split(","):
                    c = certify_global(
                        fm,
                        eps=eps,
                        metric=metrics[mname],
                        solver="cbc",
                        time_limit=args.published_time_limit,
                        integers=args.integers,
                        options=EncodeOptions.published(),
                        attack=False,
                        refine_rounds=0,
                        use_propagated_bound=False,
                    )
                    report(net, mname, eps, "published", c)

    if args.local:
        fm = train_net("1x16", splits, cache)
        X = splits.test.X[: args.local]
        for mname in ("linf", "l2"):
            met = metrics.get(mname) or weighted_metric(mname, splits.features)
            t0 = time.perf_counter()
            res = certify_local(fm, X, eps=0.05, metric=met, integers=args.integers, progress=False)
            dt = time.perf_counter() - t0
            s = res.summary_dict()
            print(
                f"local 1x16 {mname} eps=0.05: {len(res)} points in {dt:.1f}s = "
                f"{len(res) / dt:.1f}/s; exact {s['exact']}/{len(res)}; max delta_up "
                f"{s['delta_upper_max']:.4f}"
            )
            rows.append({"local": mname, "points": len(res), "per_second": len(res) / dt, **s})

    if not args.no_flip:
        sp2 = load_dataset("adult", seed=0, drop_features=DROP, include_sensitive=True)
        fm = train_net("1x16", sp2, cache, tag="with-sex")
        met = weighted_metric("linf", sp2.features)  # sex is sensitive: weight 0, free
        c = certify_global(fm, eps=0.0, metric=met, data=sp2.train, time_limit=args.time_limit)
        w1, w2 = (np.asarray(w) for w in c.witness)
        diff = [sp2.features.names[i] for i in np.flatnonzero(w1 != w2)]
        print(
            f"flip (eps=0, sex free) 1x16 over the whole domain: delta in "
            f"[{c.delta_lower:.5f}, {c.delta_upper:.5f}], {c.status}, {c.details['rounds']} "
            f"solve(s), {c.time_s:.1f}s; witness differs in {diff}"
        )
        rows.append({"flip": True, **c.to_dict()})
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=float), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
