"""Golden outputs of a fixed set of commands, to prove that a restructuring changed nothing.

    python benchmarks/golden_outputs.py record golden.json   # before moving code
    python benchmarks/golden_outputs.py check golden.json    # after: metrics to 1e-9, the rest exactly

The commands: ``train`` for every registered method on Adult with ``--epochs 1`` (the
post-processing methods on a vanilla base), ``audit`` with a bootstrap, ``repair`` (ROC and
RUNNER), ``certify`` of a 1×8 net (global and local), a 4-run sweep and ``results``. Each
command's JSON output (the last stdout line, or the whole stdout for ``results --format
json``) is recorded with fields that measure time or name temporary paths removed. Training
is deterministic for a fixed seed on one machine and thread count, not across CPUs (see
tests/effects.py), so a golden file is compared on the machine that recorded it.

``benchmarks/golden/current.json`` was recorded before issue 17's restructuring (commit
92d3181) and re-recorded on 2026-12-04 at d9d36bb, on the same machine. Against the first
recording, every difference then was intended: keys added by issue 18 (``selection_rate``
in each split's metrics, ``degenerate``, ``decision``, the certificate's ``witness_raw``,
a local summary's ``unverified`` count; 112 in all) and the global certificate of the 1×8
net (32 values), which issue 19's soundness work changed: the padded bounds
(δ upper 0.0239478 -> 0.0239479), a larger MILP (418 -> 446 columns: the conditioned
encoding) and a witness 0.15 % lower (within the 0.5 % target gap). No metric, run id or
other output moved. Re-recorded again later on 2026-12-04 after issue 19's scale work, with 23
intended differences, all in the certificates: the global certificate's propagated bound
(``relaxation_bound`` 0.0321 -> 0.0240, the largest symbolic bound of its 25 parts) and its new
``parts`` entry; each local certificate's ``model_size`` now describes the largest piece of
its ball (fewer columns, integers and unstable neurons) and counts ``pieces`` and ``milps``.
Every δ, witness and status is unchanged. Re-recorded a third time on 2026-12-04 (the fifth
session), with 65 intended differences, all in the certificates: the global one's pair search
now climbs over discrete changes, so its witness is a different, better pair (δ lower
0.023909 -> 0.023946, δ upper 0.0239479 -> 0.0239470, gap 0.16 % -> 0, 224 -> 15 nodes; the
head grid around the new witness's logits adds 4 columns), and each local certificate's MILP
is folded (``model_size``: 96 -> 88 columns, 775 -> 87 nonzeros) with δ equal to 1e-15.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

FAIRNN = [str(Path(sys.executable).parent / "fairnn")]
VOLATILE = (
    "time",
    "seconds",
    "per_second",
    "elapsed",
    "model_path",
    "path",
    "created",
    "started",
    "finished",
    "worker",
)
SWEEP = """\
name: golden
datasets: [german]
methods:
  - vanilla
  - {name: gapreg, params: {lam: [0.5, 1.0]}}
seeds: [0, 1]
train: {epochs: 1}
"""


def _methods() -> list[tuple[str, str]]:
    from fairnn.methods import list_methods

    return [(cls.name, cls.stage) for cls in list_methods()]


def _volatile(key: str) -> bool:
    k = key.lower()
    return k.endswith("_s") or k == "trace" or any(v in k for v in VOLATILE)


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items() if not _volatile(str(k)) and k != "_recorded"}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def _run(args: list[str], cwd: Path, whole: bool = False) -> Any:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [*FAIRNN, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(
            f"fairnn {' '.join(args)} exited {done.returncode}:\n{done.stderr[-2000:]}"
        )
    lines = [ln for ln in done.stdout.splitlines() if ln.strip()]
    return _clean(json.loads(done.stdout if whole else lines[-1]))


def outputs() -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = ["--data", "adult", "--epochs", "1", "--seed", "0", "--json"]
        out["train vanilla --out"] = _run(
            ["train", "--method", "vanilla", *base, "--out", "van"], work
        )
        for name, stage in _methods():
            if name == "vanilla":
                continue
            out[f"train {name}"] = _run(["train", "--method", name, *base], work)
            print(f"  train {name} ({stage})", file=sys.stderr)
        out["audit"] = _run(["audit", "van", "--bootstrap", "50", "--json"], work)
        out["repair roc"] = _run(["repair", "van", "--method", "roc", "--json"], work)
        out["repair runner"] = _run(
            ["repair", "van", "--method", "runner", "--lam", "5", "--json"], work
        )
        net = ["--data", "adult", "--hidden", "8", "--epochs", "1", "--seed", "0"]
        _run(["train", "--method", "vanilla", *net, "--out", "net8", "--json"], work)
        cert = ["certify", "net8", "--eps", "0.05", "--time-limit", "30", "--json", "-q"]
        out["certify global"] = _run(cert, work)
        out["certify local"] = _run([*cert, "--local", "3"], work)
        (work / "sweep.yaml").write_text(SWEEP)
        subprocess.run(
            [*FAIRNN, "sweep", "sweep.yaml", "--db", "g.db", "--workers", "1", "-q"],
            cwd=work,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            check=True,
            capture_output=True,
        )
        rows = _run(["results", "--db", "g.db", "--format", "json"], work, whole=True)
        out["results"] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
    return out


def compare(old: Any, new: Any, where: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        problems = [f"{where}: key {k!r} only in one" for k in set(old) ^ set(new)]
        for k in sorted(set(old) & set(new)):
            problems += compare(old[k], new[k], f"{where}.{k}")
        return problems
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{where}: {len(old)} items, now {len(new)}"]
        return [
            p
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for p in compare(a, b, f"{where}[{i}]")
        ]
    if isinstance(old, float) or isinstance(new, float):
        both_nan = (
            isinstance(old, float)
            and isinstance(new, float)
            and math.isnan(old)
            and math.isnan(new)
        )
        if both_nan or (old is not None and new is not None and abs(old - new) <= 1e-9):
            return []
    return [] if old == new else [f"{where}: {old!r} -> {new!r}"]


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in {"record", "check"}:
        raise SystemExit(__doc__)
    path = Path(sys.argv[2])
    new = outputs()
    if sys.argv[1] == "record":
        path.write_text(json.dumps(new, indent=1, sort_keys=True))
        print(f"recorded {len(new)} outputs in {path}")
        return
    problems = compare(_clean(json.loads(path.read_text())), _clean(json.loads(json.dumps(new))))
    for p in problems[:50]:
        print(p)
    print(f"{len(new)} outputs, {len(problems)} differences")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
