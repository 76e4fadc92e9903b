"""Independent checks of what a solver claims, before the claim may become a certificate.

A MILP solver works in floating point with tolerances, presolve reductions and
heuristics of its own; on a badly scaled model HiGHS has returned "Optimal" with a
bound of 0 where a real pair reaches 0.065, and CBC has called feasible models
"infeasible". fairnn therefore never takes a solver's word alone:

* **known feasible points.** Every real pair found (the witness, the solver's own
  incumbent after repair, the pair search's pairs) is written into the model's
  variables (:meth:`~fairnn.certify.encoding.Encoding.assignment`) and checked against
  every row, bound and integrality of the model (:func:`feasible_objective`). Its
  objective is a floor: a claimed bound below it is refuted. A real pair that violates
  the model is itself a refutation (of the encoding: a propagated bound too tight).
* **"infeasible" is never true here**: ``x' = x''`` (global) and ``x = x0`` (local)
  are always feasible, so the claim is refuted.
* **consistency**: a solver's incumbent must not exceed its own bound.

:func:`refute` returns the reason a claim falls, or ``None``. A refuted claim is
solved again without its warm start (CBC 2.10 has called feasible models "infeasible"
when given one), then cross-checked with the other registered solver
(:func:`checked_solve`); if that one is refuted too, or no time is left, the certificate
falls back to a bound fairnn proved itself (the propagated bound) and says so (status
``unverified`` with the reason).
These checks can refute a wrong claim, not prove a right one: a bound that passes
them is still "sound up to the solvers' tolerances" (docs/certify.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from fairnn.certify.margin import pad_up
from fairnn.certify.milp import MilpModel
from fairnn.certify.solvers import SOLVERS, SolveResult, solve

__all__ = ["FEAS_TOL", "Checked", "checked_solve", "feasible_objective", "refute"]

#: a point counts as feasible when it violates no row, bound or integrality by more than
#: this (absolute, plus the same relative to the row's activity)
FEAS_TOL = 1e-7


def feasible_objective(model: MilpModel, x: np.ndarray, tol: float = FEAS_TOL) -> float | None:
    """The objective of ``x`` if ``x`` satisfies ``model`` within ``tol``, else ``None``."""
    start, idx, val, lo, hi = model.csr()
    rows = np.repeat(np.arange(model.n_rows), np.diff(start))
    act = np.zeros(model.n_rows)
    scale = np.zeros(model.n_rows)
    np.add.at(act, rows, val * x[idx])
    np.add.at(scale, rows, np.abs(val * x[idx]))
    slack = tol * (1.0 + scale)
    with np.errstate(invalid="ignore"):
        if np.any(act < lo - slack) or np.any(act > hi + slack):
            return None
        t = tol * (1.0 + np.abs(x))
        if np.any(x < model.lb - t) or np.any(x > model.ub + t):
            return None
    it = model.integer
    if np.any(np.abs(x[it] - np.round(x[it])) > 1e-6):
        return None
    return model.objective_value(x)


def refute(result: SolveResult, floor: float | None) -> str | None:
    """Why ``result``'s claim cannot stand (see the module docstring), or ``None``.

    ``floor`` is the largest objective of a point known to be feasible (``None``: none
    known). A result without a bound claims nothing and is not refuted.
    """
    if result.status == "infeasible":
        return f"{result.solver} claimed the problem infeasible, but a feasible point is known"
    if result.bound is None:
        return None
    if floor is not None and result.bound < floor:
        return (
            f"{result.solver} claimed the bound {result.bound:.9g} ({result.status}), below the "
            f"objective {floor:.9g} of a known feasible point"
        )
    if result.objective is not None and result.objective > pad_up(result.bound):
        return (
            f"{result.solver}'s incumbent ({result.objective:.9g}) exceeds its own bound "
            f"({result.bound:.9g})"
        )
    return None


@dataclass
class Checked:
    """A solve that survived the checks (``result``; its bound may be used), or the reason
    it did not (``reason``; then ``result.bound`` is ``None``). ``tried`` lists every solve
    made, refuted ones included (their incumbents are still candidate witnesses)."""

    result: SolveResult
    reason: str | None
    tried: list[SolveResult]


def checked_solve(
    model: MilpModel,
    points: Iterable[np.ndarray],
    *,
    solver: str,
    time_limit: float,
    deadline: float,
    cross_check: bool = True,
    **kwargs,
) -> Checked:
    """Solve ``model`` (maximise), check the claim against the feasible ``points``
    (assignments of real pairs) and, if it is refuted, solve again without the warm start,
    then cross-check with the other solver, while ``deadline`` (a ``time.perf_counter()``
    value) allows."""
    floor = _floor(model, points)
    if floor is False:
        reason = "a real pair violates the encoding (a propagated bound is too tight)"
        return Checked(
            _no_claim(SolveResult("error", None, None, None, 0.0, 0, solver)), reason, []
        )
    r = solve(model, solver=solver, time_limit=time_limit, **kwargs)
    tried = [r]
    why = refute(r, floor)
    if why is None:
        return Checked(r, None, tried)
    if kwargs.pop("start", None) is not None and deadline - time.perf_counter() > 1.0:
        # CBC 2.10 has called feasible models "infeasible" when given a (feasible) warm
        # start, and proved them without one: the same solver again, cold
        r = solve(
            model,
            solver=solver,
            time_limit=min(time_limit, deadline - time.perf_counter()),
            **kwargs,
        )
        tried.append(r)
        if refute(r, floor) is None:
            r.message = f"{r.message} (without the warm start: {why})"
            return Checked(r, None, tried)
    for t in tried:
        obj = None if t.x is None else feasible_objective(model, t.x)
        if obj is not None:
            floor = obj if floor is None else max(floor, obj)
    others = sorted((n for n in SOLVERS.names() if n != solver), key=lambda n: n != "highs")
    left = deadline - time.perf_counter()
    if cross_check and others and left > 1.0:
        r2 = solve(model, solver=others[0], time_limit=left, **kwargs)
        tried.append(r2)
        why2 = refute(r2, floor)
        if why2 is None and r2.bound is not None:
            r2.message = f"{r2.message} (cross-check: {why})"
            return Checked(r2, None, tried)
        why = f"{why}; the cross-check with {others[0]} failed too: {why2 or 'no bound'}"
    return Checked(_no_claim(r), why, tried)


def _floor(model: MilpModel, points: Iterable[np.ndarray]) -> float | None | bool:
    """The largest objective of the points (all must be feasible; ``False`` if one is not)."""
    best: float | None = None
    for x in points:
        obj = feasible_objective(model, x)
        if obj is None:
            return False
        best = obj if best is None else max(best, obj)
    return best


def _no_claim(r: SolveResult) -> SolveResult:
    return replace(r, bound=None)
