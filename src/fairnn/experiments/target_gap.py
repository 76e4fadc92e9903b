"""Mitigate to a target gap: search a method's fairness weight on validation.

``fairnn train --method gapreg --target-gap 0.02`` (``target_gap`` in the API and in
sweep files, :class:`~fairnn.experiments.spec.TargetGap`) fits the method at several
values of its fairness weight (:attr:`Method.fairness_weight`: gapreg's and runner's
``lam``, MinDiff's ``mindiff_weight``, ...) and keeps the most accurate model that is
not degenerate (:mod:`fairnn.metrics.degenerate`) and whose validation gap (the run's
notion's metric, :mod:`fairnn.notion`) is at most the target.

The weights: a log-grid of ``grid`` values from ``lo`` to ``hi``, then geometric
bisection between the largest weight that missed the target and the smallest that met
it (or, when none met, ten times the largest weight tried), while the ``budget`` of fits
lasts (one :func:`~fairnn.training.search.run_search`;
the rule that ranks the fits is :class:`~fairnn.training.search.MeetTarget`).

When no fit meets the target, the run still succeeds (exit 0) with the fit of the
smallest validation gap and a warning: the report's ``met`` is false. Test metrics are
only reported, never used to choose.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fairnn.datasets.core import Splits
from fairnn.errors import ConfigError, FairnnError
from fairnn.experiments.run import RunResult, load_splits, method_params, run_spec
from fairnn.experiments.spec import RunSpec, TargetGap
from fairnn.methods.base import METHODS, get_method
from fairnn.methods.fitted import check_out
from fairnn.metrics.degenerate import why_degenerate
from fairnn.notion import Notion
from fairnn.training.search import Budget, MeetTarget, Outcome, log_grid, run_search

__all__ = [
    "fairness_weight",
    "run_spec_or_search",
    "target_gap_lines",
    "target_summary",
    "weighted_methods",
]

#: the metric the criterion reads: the gap, or NaN for a degenerate model (never chosen
#: while any model can be ranked)
_JUDGED = "gap_if_not_degenerate"
#: a bisection stops when the weights it brackets differ by less than this ratio
_TOL = 0.05
#: when no weight in the range meets the target, the next weight tried is the largest × this
_EXTEND = 10.0
#: the default range around a method's default weight
_BELOW, _ABOVE = 100.0, 10.0


def weighted_methods() -> list[str]:
    """The methods that declare a fairness weight, by name."""
    return [n for n, cls in METHODS.items() if cls.fairness_weight]


def fairness_weight(method: str) -> str:
    """The name of ``method``'s fairness weight; an error names the methods that have one."""
    weight = get_method(method).fairness_weight
    if not weight:
        raise ConfigError(
            f"target_gap: method {method!r} has no fairness weight to search; use one of "
            f"{', '.join(weighted_methods())}"
        )
    return weight


def _range(spec: RunSpec, target: TargetGap, weight: str) -> tuple[float, float]:
    default = get_method(spec.method).Params.model_fields[weight].default
    base = float(default) if isinstance(default, int | float) and default > 0 else 1.0
    lo = target.lo if target.lo is not None else base / _BELOW
    hi = target.hi if target.hi is not None else base * _ABOVE
    if lo > hi:
        raise ConfigError(f"target_gap: lo ({lo:g}) must be at most hi ({hi:g})")
    return lo, hi


def run_spec_or_search(
    spec: RunSpec,
    *,
    out: str | Path | None = None,
    splits: Splits | None = None,
    runtime: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> RunResult:
    """Run ``spec`` (``fairnn train`` and sweeps call this): without a ``target_gap``,
    :func:`~fairnn.experiments.run.run_spec`; with one, fit it at the fairness weight the
    search chooses on validation.

    Returns the chosen fit's :class:`RunResult` with :attr:`RunResult.target_gap` (the
    report: target, weight, met, the validation and test gap and accuracy, every fit);
    the saved model records the report in its training info (``target_gap``).
    """
    target = spec.target_gap
    if target is None:
        return run_spec(spec, out=out, splits=splits, runtime=runtime, overwrite=overwrite)
    weight = fairness_weight(spec.method)
    if weight in spec.params:
        raise ConfigError(
            f"target_gap searches {spec.method}'s {weight}; leave {weight} out of the params"
        )
    if out is not None:
        check_out(out, overwrite=overwrite)
    gap = Notion(spec.mode).gap_metric
    lo, hi = _range(spec, target, weight)
    splits = splits if splits is not None else load_splits(spec)
    base = spec.model_copy(update={"target_gap": None})
    method_params(base)  # a bad parameter fails before any fit
    met: dict[float, bool] = {}  # weight -> validation gap within the target (steers bisection)

    def evaluate(w: float) -> Outcome[RunResult]:
        run = run_spec(
            base.model_copy(update={"params": {**spec.params, weight: w}}),
            splits=splits,
            runtime=runtime,
        )
        val = run.metrics["val"]
        degenerate = why_degenerate(val, "val")
        met[w] = val[gap] <= target.target
        judged = math.nan if degenerate else val[gap]
        info = {
            "weight": w,
            "val_gap": val[gap],
            "val_accuracy": val["accuracy"],
            "test_gap": run.metrics["test"][gap],
            "test_accuracy": run.metrics["test"]["accuracy"],
            "degenerate": bool(degenerate),
        }
        return Outcome(run, {_JUDGED: judged, "accuracy": val["accuracy"]}, info)

    def candidates() -> Iterator[float]:
        yield from log_grid(lo, hi, min(target.grid, target.budget))
        while True:
            meets = [w for w, ok in met.items() if ok]
            if not meets:  # even the largest weight missed: look further up
                yield max(met) * _EXTEND
                continue
            misses = [w for w, ok in met.items() if not ok and w < min(meets)]
            if not misses:
                return
            a, b = max(misses), min(meets)
            if b / a - 1 <= _TOL:
                return
            yield math.sqrt(a * b)

    result = run_search(
        candidates(),
        evaluate,
        MeetTarget(_JUDGED, target.target, maximize="accuracy"),
        budget=Budget(max_trials=target.budget),
        label=f"target gap {target.target:g} ({spec.method} {weight})",
    )
    run, best = result.model, result.best.info
    report = {
        "target": target.target,
        "metric": gap,
        "weight_param": weight,
        "weight": best["weight"],
        "met": result.feasible,
        "range": [lo, max(hi, *met)],
        "budget": target.budget,
        "fits": len(result.trials),
        "stopped": result.stopped,
        "val_gap": best["val_gap"],
        "val_accuracy": best["val_accuracy"],
        "test_gap": best["test_gap"],
        "test_accuracy": best["test_accuracy"],
        "test_met": best["test_gap"] <= target.target,
        "trials": [dict(t.info) for t in result.trials],
    }
    run.target_gap = report
    run.spec = spec.model_copy(update={"params": {**spec.params, weight: best["weight"]}})
    run.run_id = spec.key()
    run.time_s = sum(t.seconds for t in result.trials)
    if run.fitted is not None:
        run.fitted.training = {**run.fitted.training, "target_gap": report}
        if out is not None:
            run.model_path = str(run.fitted.save(out, overwrite=overwrite))
    return run


def target_gap_lines(report: dict[str, Any]) -> list[str]:
    """The report as text: the fits tried, the weight chosen, and a warning when missed."""
    w = report["weight_param"]
    lines = [
        f"target gap: {report['metric']} <= {report['target']:g} on val; "
        f"{report['fits']} fits ({report['stopped']})",
        f"  {w:>14} {'val gap':>9} {'val acc':>9} {'test gap':>9} {'test acc':>9}",
    ]
    for t in report["trials"]:
        mark = " *" if t["weight"] == report["weight"] else ""
        mark += " (degenerate)" if t["degenerate"] else ""
        lines.append(
            f"  {t['weight']:>14.4g} {t['val_gap']:>9.4f} {t['val_accuracy']:>9.4f} "
            f"{t['test_gap']:>9.4f} {t['test_accuracy']:>9.4f}{mark}"
        )
    chosen = (
        f"chose {w} = {report['weight']:.4g}: val gap {report['val_gap']:.4f}, "
        f"test gap {report['test_gap']:.4f} (test {'meets' if report['test_met'] else 'misses'}"
        " the target)"
    )
    lines.append(chosen)
    if not report["met"]:
        lines.append(
            f"warning: no {w} in [{report['range'][0]:g}, {report['range'][1]:g}] met the "
            f"target {report['target']:g} on val within {report['budget']} fits; kept the "
            "smallest gap (widen the range, raise the budget or relax the target)"
        )
    return lines


def target_summary(runs: list[dict[str, Any]]) -> str:
    """The searches of recorded runs (rows of :meth:`ResultStore.runs
    <fairnn.experiments.store.ResultStore.runs>`, one configuration's seeds) as one table
    cell: the weights chosen, their validation gaps and whether each met the target, e.g.
    ``lam=4.22, 31.6 (val gap 0.0038, 0.0210; met 1/2)``; ``-`` when none searched."""
    found = sorted((r for r in runs if r.get("target_weight") is not None), key=lambda r: r["seed"])
    if not found:
        return "-"
    try:
        name = fairness_weight(found[0]["method"])
    except FairnnError:  # a method this fairnn does not know
        name = "weight"
    weights = ", ".join(f"{r['target_weight']:.3g}" for r in found)
    gaps = ", ".join(
        "?" if r["target_val_gap"] is None else f"{r['target_val_gap']:.4f}" for r in found
    )
    met = sum(bool(r["target_met"]) for r in found)
    verdict = ("met" if met else "missed") if len(found) == 1 else f"met {met}/{len(found)}"
    return f"{name}={weights} (val gap {gaps}; {verdict})"
