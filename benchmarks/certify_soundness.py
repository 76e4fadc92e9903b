"""Soundness sweep of certification over many random networks (issue 19, item 1).

The long form of ``tests/certify/test_soundness.py``: for each seed, a random network
(ReLU, sigmoid or tanh; 1-2 hidden layers), a mixed domain (continuous, integer,
binary, one-hot, immutable) and a random metric (weighted ℓ∞/ℓ1/ℓ2, general and
projector Mahalanobis, embeddings) are certified globally and locally (HiGHS, or CBC
for ``--solver cbc``), and the test's independent oracle (own forward pass, metric,
domain, pair sampler and projected-gradient attack) looks for pairs beyond the bound.
Prints one line per case and the counts:

* ``unsound``: a sampled or attacked pair above a certified upper bound (must be 0);
* ``errors``: a certificate call that raised;
* ``unverified``: certificates that fell back to fairnn's own bound (sound, loose);
* ``lower < 99% attack``: the oracle's attack beat the certificate's witness by > 1 %;
* ``local lower 0``: local certificates with lower bound 0 although the oracle found a
  pair above 1e-3.

``--adult8`` certifies instead the held-out Adult 1×8 ReLU net of the HiGHS repro (Benussi
et al.'s Mahalanobis metric as their code encodes it, ``tests/data/certify``) at ε = 0.01,
0.05, 0.25 and prints the bound beside the best real pair found.

    python benchmarks/certify_soundness.py --seeds 0:100
    python benchmarks/certify_soundness.py --seeds 0:40 --solver cbc --time-limit 10
    python benchmarks/certify_soundness.py --adult8 --time-limit 60
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fairnn.certify import certify_global  # noqa: E402
from tests.certify.test_soundness import TOL, _adult8, make_case  # noqa: E402


def run(seed: int, solver: str, time_limit: float, n_local: int) -> dict:
    case = make_case(seed)
    rng = np.random.default_rng(10_000 + seed)
    rec: dict = {
        "seed": seed,
        "act": case.act,
        "head": case.head,
        "metric": case.metric,
        "eps": round(case.eps, 4),
        "hidden": [W.shape[0] for W in case.Ws[:-1]],
    }
    t0 = time.perf_counter()
    try:
        cert = case.certify_global(solver, time_limit)
    except Exception as e:  # noqa: BLE001 - a sweep counts every failure
        rec["error"] = f"global: {type(e).__name__}: {e}"
        return rec
    rec["global_s"] = time.perf_counter() - t0
    X1, X2 = case.sample_pairs(20_000, rng)
    sampled = float(np.abs(case.f(X1) - case.f(X2)).max(initial=0.0))
    attacked = case.attack(rng, starts=256, steps=150)
    rec.update(
        upper=cert.delta_upper,
        lower=cert.delta_lower,
        status=cert.status,
        sampled=sampled,
        attack=attacked,
    )
    w1, w2 = (np.atleast_2d(np.asarray(w)) for w in cert.witness)
    real = abs(case.f(w1)[0] - case.f(w2)[0])
    rec["witness_ok"] = bool(case.ok_pairs(w1, w2)[0] and abs(real - cert.delta_lower) <= 1e-12)
    rec["unsound"] = int(max(sampled, attacked) > cert.delta_upper + TOL)
    rec["weak"] = int(cert.delta_lower < 0.99 * max(sampled, attacked) - 1e-9)
    X0 = case.sample(n_local, rng)
    t0 = time.perf_counter()
    try:
        res = case.certify_local(X0, solver, time_limit / 4)
    except Exception as e:  # noqa: BLE001
        rec["error"] = f"local: {type(e).__name__}: {e}"
        return rec
    rec["local_s"] = time.perf_counter() - t0
    loc = Counter()
    for x0, c in zip(X0, res, strict=True):
        _, B = case.sample_pairs(3000, rng, x1=x0)
        found = max(
            float(np.abs(case.f(B) - case.f(x0)[0]).max(initial=0.0)),
            case.attack(rng, starts=64, steps=100, x1=x0),
        )
        w0, wl = (np.atleast_2d(np.asarray(w)) for w in c.witness)
        ok = (
            case.ok_pairs(w0, wl)[0]
            and abs(abs(case.f(wl)[0] - case.f(w0)[0]) - c.delta_lower) <= 1e-12
        )
        loc["witness_bad"] += int(not ok)
        loc["unsound"] += int(found > c.delta_upper + TOL)
        loc["lower0"] += int(c.delta_lower == 0 and found > 1e-3)
        loc["weak"] += int(c.delta_lower < 0.99 * found - 1e-9)
        loc["unverified"] += int(c.status == "unverified")
    rec["local"] = dict(loc)
    return rec


def adult8(solver: str, time_limit: float) -> None:
    from fairnn.certify import embedding_metric

    seq, feats, A, _ = _adult8()
    met = embedding_metric(A, "linf", feats)
    for eps in (0.01, 0.05, 0.25):
        t0 = time.perf_counter()
        c = certify_global(
            seq, feats, eps=eps, metric=met, solver=solver, time_limit=time_limit, threads=1
        )
        print(
            f"adult 1x8, Mahalanobis box, eps={eps}: delta in [{c.delta_lower:.5f}, "
            f"{c.delta_upper:.5f}] {c.status} {time.perf_counter() - t0:.1f}s "
            f"(statuses {c.details['statuses']})",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", default="0:60", help="a:b, the range of case seeds")
    ap.add_argument("--solver", default="highs")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per global certificate")
    ap.add_argument("--local", type=int, default=4, help="local certificates per case")
    ap.add_argument("--adult8", action="store_true", help="the HiGHS repro's Adult 1x8 net")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.adult8:
        adult8(a.solver, a.time_limit)
        return
    lo, hi = (int(v) for v in a.seeds.split(":"))
    total = Counter()
    t0 = time.perf_counter()
    for seed in range(lo, hi):
        rec = run(seed, a.solver, a.time_limit, a.local)
        total["cases"] += 1
        if "error" in rec:
            total["errors"] += 1
            print(seed, rec.get("metric"), rec.get("act"), "ERROR", rec["error"], flush=True)
            continue
        loc = rec.get("local", {})
        total["unsound"] += rec["unsound"] + loc.get("unsound", 0)
        total["witness_bad"] += int(not rec["witness_ok"]) + loc.get("witness_bad", 0)
        total["unverified"] += int(rec["status"] == "unverified") + loc.get("unverified", 0)
        total["global_weak"] += rec["weak"]
        total["local_weak"] += loc.get("weak", 0)
        total["local_lower0"] += loc.get("lower0", 0)
        total["local_certs"] += a.local
        print(
            f"{seed:4d} {rec['act']:7s} {rec['head']:8s} {rec['metric']:11s} eps={rec['eps']:<7g} "
            f"U={rec['upper']:.6g} L={rec['lower']:.6g} found={max(rec['sampled'], rec['attack']):.6g} "
            f"{rec['status']:10s} {rec['global_s']:.1f}s local={loc}",
            flush=True,
        )
    print(
        f"\n{total['cases']} cases ({a.solver}, {a.time_limit:g} s), {total['local_certs']} local "
        f"certificates, {time.perf_counter() - t0:.0f} s\n"
        f"  unsound (a pair above a certified bound): {total['unsound']}\n"
        f"  witness not a real pair:                  {total['witness_bad']}\n"
        f"  errors:                                   {total['errors']}\n"
        f"  unverified (fallback bound):              {total['unverified']}\n"
        f"  global lower < 99% of the oracle's best:  {total['global_weak']}\n"
        f"  local lower < 99% of the oracle's best:   {total['local_weak']}\n"
        f"  local lower 0 with a pair above 1e-3:     {total['local_lower0']}"
    )


if __name__ == "__main__":
    main()
