"""Lower bounds of global certificates: the attack inside ``certify`` against an outside one.

Issue 19's target: the pair search that ``fairnn certify MODEL --eps E`` runs before its
solver (``certify/global_.py``: :func:`~fairnn.certify.attack.search_pairs` seeded with the
training rows, then :func:`~fairnn.certify.witness.polish_witness`, every setting at its
default, no solver) finds at least 99 % of what an attack from outside with 10× its budget
finds. Per model directory (``fairnn train --data adult --method vanilla --out DIR
[--hidden ...]``) and ε, the weighted ℓ∞ metric ``fairnn certify`` takes by default for a
fairnn model (weight 1, 0 for the sensitive ``race`` block) and this table:

* **inside**: fairnn's own pair search, as the certificate runs it, and its CPU seconds;
* **outside**: written here, independently of fairnn's certify code. Its network, domain
  and metric come from the model files alone (``model.json``, ``model.safetensors``) as the
  oracle of ``tests/certify/test_soundness.py`` (:class:`Case`: own forward pass, distance,
  domain check). It is a steepest-ascent coordinate search over a pair: from each start
  (training rows and random domain points, ``x'' = x'``) every single change is tried at
  once: each category of each one-hot block for both points, every (x', x'') category pair
  of a block the metric lets switch, each flip of a binary column, steps of 1, 2, 4, ...
  grid units around the current value and 6 random values over the range of each integer
  or continuous column for both points, and up to 11 differences the ball allows in it;
  the best change is taken until none improves (no random restarts near a good pair). Starts run in batches until 10× the inside's CPU time is spent (``--factor``).

Both pairs are re-checked by the oracle (domain, metric, float64 forward pass) before they
count. Prints a row per (model, ε): inside, outside, inside/outside, CPU seconds of each
(and the outside's number of starts); ``--before`` adds the inside search without its climbs
over the discrete columns (``search_pairs(..., n_local=0)``, no ``climb_pair``): the
search before them. Results are in BENCHMARKS.md ("Lower bounds: the certificate's attack").

    FAIRNN_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1 python benchmarks/certify_attack.py \\
        /tmp/bb/adult32 /tmp/scale/adult32x32x32 /tmp/scale/adult64x64 /tmp/scale/adult64x64x64 \\
        /tmp/m200 --before --out attack.json
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.certify.test_soundness import Case  # noqa: E402

#: how far the oracle lets a distance exceed ε (float64 rounding), as in its ``ok_pairs``
_REL = 1e-9


# -- the oracle's view of a fairnn model directory (model files only) -------------------------
def oracle_case(model_dir: str, eps: float) -> Case:
    """The model as an oracle :class:`Case`: columns from ``model.json``'s features (an
    integer column on its raw grid, ``raw = x * scale + offset``), the layers from
    ``model.safetensors``, ReLU with a sigmoid head (a binary model's probability) and the
    default weighted ℓ∞ metric (weight 0 for sensitive features, 1 for the others)."""
    from safetensors.numpy import load_file

    meta = json.loads((Path(model_dir) / "model.json").read_text())
    arch = meta["architecture"]
    if arch.get("activation", "relu") != "relu" or meta.get("task") != "binary":
        raise SystemExit(f"{model_dir}: this benchmark takes binary ReLU MLPs")
    cols, w = [], []
    for ft in meta["features"]:
        lo, hi = float(ft["lower"]), float(ft["upper"])
        col = {"kind": ft["kind"], "lo": lo, "hi": hi}
        if ft["kind"] == "integer":
            scale, offset = float(ft["scale"]), float(ft["offset"])
            klo = int(np.ceil(lo * scale + offset - 1e-4))
            khi = int(np.floor(hi * scale + offset + 1e-4))
            origin, step = -offset / scale, 1.0 / scale
            col.update(
                origin=origin,
                step=step,
                klo=klo,
                khi=khi,
                lo=origin + klo * step,
                hi=origin + khi * step,
            )
        elif ft["kind"] == "onehot":
            col["block"] = ft["block"]
        cols.append(col)
        w.append(0.0 if ft.get("sensitive") else 1.0)
        if not ft.get("mutable", True):
            raise SystemExit(f"{model_dir}: immutable columns are not handled here")
    state = load_file(str(Path(model_dir) / "model.safetensors"))
    n_hidden = len(arch["hidden"])
    names = [f"hidden_layers.{k}" for k in range(n_hidden)] + ["output"]
    Ws = [state[f"{n}.weight"].astype(np.float64) for n in names]
    bs = [state[f"{n}.bias"].astype(np.float64) for n in names]
    d = len(cols)
    return Case(0, cols, np.zeros(d, bool), Ws, bs, "relu", "sigmoid", "linf", np.array(w),
                None, None, float(eps))  # fmt: skip


def pair_value(case: Case, a: np.ndarray, b: np.ndarray) -> float:
    """``|f(x') - f(x'')|`` by the oracle, or -1 when it is no pair of the domain within ε."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    if not case.ok_pairs(a, b)[0]:
        return -1.0
    return float(abs(case.f(a)[0] - case.f(b)[0]))


# -- the outside attack ----------------------------------------------------------------------
class Moves:
    """Every single change of a pair ``(x', x'')`` the coordinate search tries, as index and
    value arrays applied to copies of the pair, for a batch of pairs at once."""

    def __init__(self, case: Case):
        self.case = case
        kinds = case.kinds
        self.r = np.where(case.w > 0, case.eps / np.where(case.w > 0, case.w, 1.0), np.inf)
        self.blocks = [np.asarray(b) for b in case.blocks]
        # a block may switch when a change of category alone fits in the ball
        self.switch = [bool(np.all(self.r[b] >= 1.0 - 1e-12)) for b in self.blocks]
        self.binary = [j for j in range(case.d) if kinds[j] == "binary"]
        self.numeric = [j for j in range(case.d) if kinds[j] in ("integer", "continuous")]

    def _grid(self, j: int, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Values of numeric column ``j`` to try for the rows ``x`` (B, k): a few spread over
        its range, and steps of 1, 2, 4, ... grid units (or widths / 2^m) around ``x``."""
        c = self.case.cols[j]
        lo, hi = c["lo"], c["hi"]
        unit = c["step"] if c["kind"] == "integer" else (hi - lo) / 1024
        m = int(np.ceil(np.log2(max((hi - lo) / unit, 1.0)))) + 1
        steps = unit * 2.0 ** np.arange(m)
        near = x[:, None] + np.concatenate([steps, -steps])[None, :]
        spread = rng.uniform(lo, hi, (x.shape[0], 6))
        vals = np.clip(np.concatenate([near, spread], 1), lo, hi)
        if c["kind"] == "integer":
            vals = c["origin"] + np.round((vals - c["origin"]) / c["step"]) * c["step"]
        return vals

    def _diffs(self, j: int) -> np.ndarray:
        """Differences ``x''_j - x'_j`` the ball allows alone in numeric column ``j``."""
        c = self.case.cols[j]
        r = min(self.r[j], c["hi"] - c["lo"])
        if c["kind"] == "integer":
            kmax = int(np.floor(r / c["step"] + 1e-9))
            if kmax == 0:
                return np.zeros(0)
            ks = np.unique(np.round(np.linspace(-kmax, kmax, 9)))
            ks = np.unique(np.concatenate([ks, [-1, 1]]).clip(-kmax, kmax))
            return ks[ks != 0] * c["step"]
        return np.array([-r, -r / 2, r / 2, r]) if r > 0 else np.zeros(0)

    def candidates(
        self, X1: np.ndarray, X2: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """(B, M, d) copies of the pairs, each with one change."""
        out1, out2 = [], []

        def add(c1: np.ndarray, c2: np.ndarray) -> None:
            out1.append(c1)
            out2.append(c2)

        for b, sw in zip(self.blocks, self.switch, strict=True):
            for i, ci in enumerate(b):
                for k, ck in enumerate(b):
                    if i != k and not sw:
                        continue
                    c1, c2 = X1.copy(), X2.copy()
                    c1[:, b] = 0.0
                    c2[:, b] = 0.0
                    c1[:, ci] = 1.0
                    c2[:, ck] = 1.0
                    add(c1, c2)
        for j in self.binary:
            lo, hi = self.case.cols[j]["lo"], self.case.cols[j]["hi"]
            add(_set(X1, j, lo + hi - X1[:, j]), _set(X2, j, lo + hi - X2[:, j]))
            if self.r[j] >= hi - lo:
                add(X1, _set(X2, j, lo + hi - X2[:, j]))
        for j in self.numeric:
            gap = X2[:, j] - X1[:, j]
            for v in self._grid(j, X1[:, j], rng).T:  # both points move, the difference kept
                add(_set(X1, j, v), _set(X2, j, np.clip(v + gap, self.case.lo[j], self.case.hi[j])))
            for t in self._diffs(j):  # x'' moves within the ball
                v2 = np.clip(X1[:, j] + t, self.case.lo[j], self.case.hi[j])
                add(X1, _set(X2, j, v2))
        return np.stack(out1, 1), np.stack(out2, 1)


def _set(X: np.ndarray, j: int, v: np.ndarray) -> np.ndarray:
    Y = X.copy()
    Y[:, j] = v
    return Y


def coordinate_search(
    case: Case, X1: np.ndarray, moves: Moves, rng: np.random.Generator, sweeps: int = 40
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steepest ascent of ``|f(x') - f(x'')|`` from the pairs ``(X1, X1)``; returns the final
    pairs and their values (every accepted pair is a checked pair of the oracle)."""
    X2 = X1.copy()
    val = np.abs(case.f(X1) - case.f(X2))
    live = np.ones(len(X1), bool)
    for _ in range(sweeps):
        idx = np.flatnonzero(live)
        if idx.size == 0:
            break
        C1, C2 = moves.candidates(X1[idx], X2[idx], rng)
        B, M, d = C1.shape
        F1, F2 = C1.reshape(-1, d), C2.reshape(-1, d)
        v = np.abs(case.f(F1) - case.f(F2))
        v = np.where(case.ok_pairs(F1, F2), v, -1.0).reshape(B, M)
        k = v.argmax(1)
        better = v[np.arange(B), k] > val[idx] + 1e-12
        live[idx[~better]] = False
        up = idx[better]
        X1[up] = C1[better, k[better]]
        X2[up] = C2[better, k[better]]
        val[up] = v[better, k[better]]
    return X1, X2, val


def outside_attack(
    case: Case, rows: np.ndarray, budget_s: float, seed: int = 1, batch: int = 32
) -> dict:
    """Coordinate searches from batches of starts (half training rows, half random domain
    points) until ``budget_s`` CPU seconds are spent (at least one batch)."""
    rng = np.random.default_rng(seed)
    moves = Moves(case)
    t0 = time.process_time()
    best = (-1.0, None, None)
    starts = 0
    while starts == 0 or time.process_time() - t0 < budget_s:
        n_rows = batch // 2
        X = np.vstack([rows[rng.integers(0, len(rows), n_rows)], case.sample(batch - n_rows, rng)])
        X1, X2, val = coordinate_search(case, X, moves, rng)
        starts += batch
        i = int(val.argmax())
        if val[i] > best[0]:
            best = (float(val[i]), X1[i].copy(), X2[i].copy())
    return {"value": best[0], "pair": best[1:], "starts": starts, "cpu_s": time.process_time() - t0}


def snap_rows(case: Case, X: np.ndarray) -> np.ndarray:
    """Training rows (float32) onto the oracle's domain: integers onto their grid, clipped."""
    X = np.clip(np.asarray(X, np.float64), case.lo, case.hi)
    for j, c in enumerate(case.cols):
        if c["kind"] == "integer":
            k = np.clip(np.round((X[:, j] - c["origin"]) / c["step"]), c["klo"], c["khi"])
            X[:, j] = c["origin"] + k * c["step"]
    return X[case.violation(X) <= 1e-9]


# -- the attack inside certify -----------------------------------------------------------------
def inside_attack(model_dir: str, eps: float, discrete: bool = True) -> dict:
    """The certificate's pair search as ``fairnn certify MODEL --eps EPS`` runs it before its
    solver (``_incumbent``, then ``polish_witness`` as after the solve), defaults throughout;
    ``discrete=False``: without the climbs over the discrete columns (the search before
    them: ``search_pairs(..., n_local=0)``, and ``polish_witness`` without ``climb_pair``)."""
    from unittest import mock

    from fairnn import api
    from fairnn.certify import global_, witness
    from fairnn.certify.attack import search_pairs
    from fairnn.certify.config import CertifyConfig
    from fairnn.certify.problem import prepare
    from fairnn.certify.witness import polish_witness

    fitted, splits = api._source(model_dir, seed=0).load_optional(mlp=True)
    train = splits.train
    cfg = CertifyConfig(eps=eps).resolve("global")
    net, domain, met = prepare(fitted, fitted.features, metric=cfg.metric, data=train)
    search = search_pairs if discrete else functools.partial(search_pairs, n_local=0)
    climb = witness.climb_pair if discrete else (lambda *args, **kw: None)
    t0 = time.process_time()
    with (
        mock.patch.object(global_, "search_pairs", search),
        mock.patch.object(witness, "climb_pair", climb),
    ):
        best = global_._incumbent(net, domain, met, cfg, train)
        polish_witness(net, domain, met, eps, best)
    cpu = time.process_time() - t0
    rows = train.X.detach().cpu().numpy()
    return {
        "value": best.value,
        "pair": best.pair,
        "cpu_s": cpu,
        "rows": rows,
        "weights": met.weights,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("models", nargs="+", help="fairnn model directories (binary ReLU MLPs)")
    ap.add_argument("--eps", type=float, nargs="+", default=[0.01, 0.05, 0.25])
    ap.add_argument("--factor", type=float, default=10.0, help="outside budget / inside CPU time")
    ap.add_argument("--min-outside-s", type=float, default=0.0, help="outside budget at least")
    ap.add_argument("--out", type=Path, default=None, help="write the rows as JSON")
    ap.add_argument(
        "--before", action="store_true", help="also the inside search without its discrete climb"
    )
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    print(f"load average {os.getloadavg()}")
    head = (
        f"{'model':28s} {'eps':>5s} {'inside':>8s} {'outside':>8s} {'ratio':>6s} "
        f"{'in_cpu_s':>8s} {'out_cpu_s':>9s} {'starts':>6s}"
    )
    if a.before:
        head += f" {'before':>8s} {'ratio':>6s} {'cpu_s':>6s}"
    print(head, flush=True)
    for model in a.models:
        for eps in a.eps:
            inside = inside_attack(model, eps)
            case = oracle_case(model, eps)
            assert np.array_equal(case.w, inside["weights"]), "the oracle's metric is not fairnn's"
            budget = max(a.factor * inside["cpu_s"], a.min_outside_s)
            outside = outside_attack(case, snap_rows(case, inside["rows"]), budget)
            v_in = 0.0 if inside["pair"] is None else max(pair_value(case, *inside["pair"]), 0.0)
            v_out = max(pair_value(case, *outside["pair"]), 0.0)
            assert abs(v_in - inside["value"]) <= 1e-9, "the inside pair's value is not its own"
            ratio = v_in / v_out if v_out > 0 else 1.0
            row = {
                "model": model, "eps": eps, "inside": v_in, "outside": v_out, "ratio": ratio,
                "inside_cpu_s": inside["cpu_s"], "outside_cpu_s": outside["cpu_s"],
                "outside_starts": outside["starts"],
            }  # fmt: skip
            line = (
                f"{model:28s} {eps:5g} {v_in:8.5f} {v_out:8.5f} {ratio:6.3f} "
                f"{inside['cpu_s']:8.2f} {outside['cpu_s']:9.2f} {outside['starts']:6d}"
            )
            if a.before:
                old = inside_attack(model, eps, discrete=False)
                v_old = 0.0 if old["pair"] is None else max(pair_value(case, *old["pair"]), 0.0)
                row.update(before=v_old, before_cpu_s=old["cpu_s"])
                ratio_old = v_old / v_out if v_out > 0 else 1.0
                line += f" {v_old:8.5f} {ratio_old:6.3f} {old['cpu_s']:6.2f}"
            rows.append(row)
            print(line, flush=True)
    print(f"load average {os.getloadavg()}")
    if a.out is not None:
        a.out.write_text(json.dumps({"load": os.getloadavg(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
