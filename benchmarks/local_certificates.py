"""Local certificates on fairnn's default Adult model: points per second (issue 19 item 2).

    python benchmarks/local_certificates.py [--model DIR] [--rows 200] [--eps 0.05] [--skip-whole]

Without ``--model``, trains fairnn's default Adult model (vanilla, MLP 200-200, seed 0).
Certifies the first ``--rows`` test rows locally (weighted ℓ∞, HiGHS) several ways and prints
points per second, CPU seconds of this process, unstable ReLUs per MILP (the median of each
row's largest piece), MILPs per row (the mean) and the mean δ:

* ``whole ball, interval``: the earlier default (one MILP pair per ball, interval bounds);
* ``pieces, full MILP``: the ball cut per switchable category, each piece's MILP the full
  encoding (every neuron a column; the default before the pieces were folded);
* ``pieces, folded, interval``: each piece's stable neurons folded away
  (:mod:`fairnn.certify.fold`), with interval bounds;
* ``pieces, folded``: the current default (symbolic bounds, folded pieces);
* ``pieces, folded, 2 workers``: the same on two local worker processes.

Every variant's bounds must hold the others' witnesses (a lower bound above another
variant's upper bound would be a soundness bug) and every δ must equal the others' to 1e-6
on the rows both closed: the script checks both; ``closed`` counts the rows proven exactly
(status ``optimal``) within the 10 s per row. Ratios are against the first variant,
measured in the same run. Worker processes start inside the timed call (about 2-4 s of
imports each), and their CPU time is not this process's. The load average before the first
variant is printed: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from fairnn.certify import certify_local, local  # noqa: E402

VARIANTS = {
    "whole ball, interval": {"pieces": 1, "bounds": "interval", "fold": False},
    "pieces, full MILP": {"fold": False},
    "pieces, folded, interval": {"bounds": "interval"},
    "pieces, folded": {},
    "pieces, folded, 2 workers": {"workers": 2},
}


def _model(path: str | None):
    if path:
        from fairnn.experiments.model_source import ModelSource

        return ModelSource.saved(path, device="cpu").load()
    from fairnn.experiments.run import run_spec
    from fairnn.experiments.spec import RunSpec

    res = run_spec(
        RunSpec.make(dataset="adult", method="vanilla", seed=0), runtime={"progress": False}
    )
    return res.fitted, res.splits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a saved fairnn model directory (default: train one)")
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--eps", type=float, default=0.05)
    ap.add_argument(
        "--skip-whole", action="store_true", help="leave out the slow whole-ball baseline"
    )
    ap.add_argument(
        "--skip-full", action="store_true", help="leave out the unfolded pieces (slow too)"
    )
    args = ap.parse_args()
    fitted, splits = _model(args.model)
    X = splits.test.X[: args.rows]
    print(f"Adult default model, {len(X)} test rows, weighted linf, eps {args.eps}, HiGHS")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    head = f"{'variant':<29} {'pts/s':>7} {'ratio':>6} {'CPU s':>6} {'unstable':>9} {'MILPs':>6}"
    print(head + f" {'closed':>7} {'mean δ':>8}")
    base = None
    seen: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for name, extra in VARIANTS.items():
        if args.skip_whole and extra.get("pieces") == 1:
            continue
        if args.skip_full and extra == {"fold": False}:
            continue
        settings = dict(extra)
        local.FOLD = settings.pop("fold", True)  # worker processes keep the default (True)
        t0, c0 = time.perf_counter(), time.process_time()
        res = certify_local(fitted, X, eps=args.eps, progress=False, **settings)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        local.FOLD = True
        certs = res.certificates
        deltas = np.array([c.delta_upper for c in certs])
        lowers = np.array([c.delta_lower for c in certs])
        exact = np.array([c.status == "optimal" for c in certs])
        for up, low, both in seen:
            if np.any(lowers > up + 1e-6) or np.any(low > deltas + 1e-6):
                raise SystemExit(f"{name}: a witness exceeds another variant's bound")
            if np.any(np.abs(deltas - up)[both & exact] > 1e-6):
                raise SystemExit(f"{name}: a closed δ differs from another variant's by > 1e-6")
        seen.append((deltas, lowers, exact))
        rate = len(X) / wall
        base = base or rate
        unstable = np.median([c.model_size.get("unstable_relu", 0) for c in certs])
        milps = np.mean([c.model_size.get("milps", 0) for c in certs])
        closed = sum(c.status == "optimal" for c in certs)
        print(
            f"{name:<29} {rate:>7.2f} {rate / base:>5.1f}× {cpu:>6.1f} {unstable:>9.0f} "
            f"{milps:>6.2f} {closed:>7} {deltas.mean():>8.5f}"
        )


if __name__ == "__main__":
    main()
