"""MILP solvers behind one call: HiGHS (highspy, the default) and CBC (through PuLP).

:func:`solve` maximises a :class:`~fairnn.certify.milp.MilpModel` within a time
limit and returns the *anytime* result: the best incumbent found (a feasible
point, so a lower bound on the maximum) and the proven dual bound (an upper
bound on the maximum). Only the dual bound may become a certificate:

* HiGHS reports it directly (``mip_dual_bound``), also when it stops at the
  time limit;
* CBC is driven through PuLP as a *minimisation* of the negated objective, and
  the bound is read from the "Lower bound" line CBC prints when it stops early
  (negated back). When CBC proves optimality the bound is the objective widened
  by the relative gap it was allowed to stop at. When no bound can be read,
  :attr:`SolveResult.bound` is ``None`` and the caller falls back to a bound it
  proved itself (interval or LP bounds).

Solvers work in floating point with feasibility tolerances (HiGHS: 1e-7 primal,
1e-6 integrality). :data:`BOUND_MARGIN` is added to every dual bound to cover
them; it is part of the documented soundness caveat (docs/certify.md).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fairnn.certify.milp import MilpModel
from fairnn.errors import ConfigError
from fairnn.registry import Registry

#: absolute + relative margin added to a solver's dual bound (floating-point tolerances)
BOUND_MARGIN = 1e-6


def pad_up(v: float) -> float:
    return v + BOUND_MARGIN * (1.0 + abs(v))


@dataclass
class SolveResult:
    """What a MILP solve proved (``bound``) and found (``objective``, ``x``)."""

    status: str  # optimal | time_limit | infeasible | error
    objective: float | None
    bound: float | None
    x: np.ndarray | None
    time_s: float
    nodes: int
    solver: str
    message: str = ""

    @property
    def gap(self) -> float | None:
        if self.bound is None or self.objective is None:
            return None
        return (self.bound - self.objective) / max(abs(self.bound), 1e-12)


#: ``(model, time_limit, mip_rel_gap, start, threads, seed, verbose) -> SolveResult``
Solver = Callable[
    [MilpModel, float | None, float, np.ndarray | None, int | None, int, bool], SolveResult
]

#: the MILP solvers :func:`solve` knows, by name
SOLVERS: Registry[Solver] = Registry("solver", error=ConfigError)


def highs_model(model: MilpModel, *, relax: bool = False, maximize: bool = True):
    import highspy

    start, idx, val, lo, hi = model.csr()
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_vars
    lp.num_row_ = model.n_rows
    cost = np.zeros(model.n_vars)
    cost[: model.cost.shape[0]] = model.cost
    lp.col_cost_ = cost
    inf = highspy.kHighsInf
    lp.col_lower_ = np.where(np.isfinite(model.lb), model.lb, -inf)
    lp.col_upper_ = np.where(np.isfinite(model.ub), model.ub, inf)
    lp.row_lower_ = np.where(np.isfinite(lo), lo, -inf)
    lp.row_upper_ = np.where(np.isfinite(hi), hi, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = start.astype(np.int32)
    lp.a_matrix_.index_ = idx.astype(np.int32)
    lp.a_matrix_.value_ = val
    lp.offset_ = model.objective_offset
    if not relax and model.integer.any():
        k_int, k_cont = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
        lp.integrality_ = [k_int if b else k_cont for b in model.integer]
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    return lp


def new_highs(time_limit: float | None = None, threads: int | None = None, seed: int = 0):
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", int(seed))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    return h


def solve(
    model: MilpModel,
    *,
    solver: str = "highs",
    time_limit: float | None = 60.0,
    mip_rel_gap: float = 1e-4,
    start: np.ndarray | None = None,
    threads: int | None = None,
    seed: int = 0,
    verbose: bool = False,
) -> SolveResult:
    """Maximise ``model`` with the solver registered as ``solver`` (:data:`SOLVERS`); see
    the module docstring for what is proven."""
    run = SOLVERS.get(solver)
    return run(model, time_limit, mip_rel_gap, start, threads, seed, verbose)


@SOLVERS.register("highs")
def _solve_highs(model, time_limit, mip_rel_gap, start, threads, seed, verbose) -> SolveResult:
    import highspy

    t0 = time.perf_counter()
    h = new_highs(time_limit, threads, seed)
    if verbose:
        h.setOptionValue("output_flag", True)
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.passModel(highs_model(model))
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=np.float64)
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    S = highspy.HighsModelStatus
    is_mip = bool(model.integer.any())
    x = None
    obj = None
    if info.primal_solution_status == 2:  # feasible
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        obj = float(info.objective_function_value)
    bound: float | None = None
    if is_mip:
        b = float(info.mip_dual_bound)
        if math.isfinite(b):
            bound = b
    elif status == S.kOptimal:
        bound = float(info.objective_function_value)
    if status == S.kOptimal:
        st = "optimal"
    elif status in (S.kTimeLimit, S.kInterrupt, S.kIterationLimit, S.kSolutionLimit):
        st = "time_limit"
    elif status == S.kInfeasible:
        st = "infeasible"
    else:
        st = "error"
    if bound is not None:
        bound = pad_up(bound)
    return SolveResult(
        st,
        obj,
        bound,
        x,
        time.perf_counter() - t0,
        int(info.mip_node_count) if is_mip else 0,
        "highs",
        h.modelStatusToString(status),
    )


_LOWER = re.compile(r"^Lower bound:\s*(\S+)", re.M)
_OBJ = re.compile(r"^Objective value:\s*(\S+)", re.M)
_RESULT = re.compile(r"^Result - (.*)$", re.M)
_NODES = re.compile(r"^Enumerated nodes:\s*(\d+)", re.M)


@SOLVERS.register("cbc")
def _solve_cbc(model, time_limit, mip_rel_gap, start, threads, seed, verbose) -> SolveResult:
    """CBC through PuLP (``seed`` is not passed on: PuLP's CBC call has no seed)."""
    try:
        import pulp
    except ImportError:  # pragma: no cover - pulp is a dependency
        raise ConfigError("the CBC solver needs PuLP: pip install pulp") from None
    t0 = time.perf_counter()
    prob = pulp.LpProblem("fairnn_certify", pulp.LpMinimize)
    lb, ub, it = model.lb, model.ub, model.integer
    xs = [
        pulp.LpVariable(
            f"v{j}",
            lowBound=float(lb[j]) if math.isfinite(lb[j]) else None,
            upBound=float(ub[j]) if math.isfinite(ub[j]) else None,
            cat=pulp.LpInteger if it[j] else pulp.LpContinuous,
        )
        for j in range(model.n_vars)
    ]
    cost = np.zeros(model.n_vars)
    cost[: model.cost.shape[0]] = model.cost
    nz = np.flatnonzero(cost)
    # minimise the negated objective (without its constant), so CBC's "Lower bound" is
    # minus our upper bound before the constant is added back
    prob += pulp.LpAffineExpression([(xs[j], -float(cost[j])) for j in nz])
    start_arr, idx, val, lo, hi = model.csr()
    for r in range(model.n_rows):
        s, e = start_arr[r], start_arr[r + 1]
        expr = pulp.LpAffineExpression(
            [(xs[j], float(v)) for j, v in zip(idx[s:e], val[s:e], strict=True)]
        )
        if lo[r] == hi[r]:
            prob += expr == float(lo[r])
        else:
            if math.isfinite(lo[r]):
                prob += expr >= float(lo[r])
            if math.isfinite(hi[r]):
                prob += expr <= float(hi[r])
    if start is not None:
        for j, v in enumerate(start):
            xs[j].setInitialValue(float(np.round(v)) if it[j] else float(v))
    fd, log_path = tempfile.mkstemp(prefix="fairnn-cbc-", suffix=".log")
    os.close(fd)
    try:
        cmd = pulp.PULP_CBC_CMD(
            msg=verbose,
            timeLimit=None if time_limit is None else max(float(time_limit), 1.0),
            gapRel=float(mip_rel_gap),
            threads=threads,
            warmStart=start is not None,
            logPath=log_path,
        )
        try:
            prob.solve(cmd)
        except pulp.PulpSolverError as e:
            return SolveResult(
                "error", None, None, None, time.perf_counter() - t0, 0, "cbc", str(e)
            )
        with open(log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
    finally:
        os.unlink(log_path)
    result = _RESULT.search(log)
    result_text = result.group(1).strip() if result else pulp.LpStatus.get(prob.status, "")
    nodes = int(_NODES.search(log).group(1)) if _NODES.search(log) else 0
    has_sol = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    x = None
    obj = None
    if has_sol:
        x = np.array([v.varValue if v.varValue is not None else 0.0 for v in xs], dtype=np.float64)
        obj = model.objective_value(x)
    bound = None
    if "Optimal" in result_text and obj is not None:
        st = "optimal"
        # CBC stops once (bound - incumbent) <= gapRel * |incumbent| (+ its absolute 1e-10)
        bound = obj + mip_rel_gap * max(abs(obj), abs(obj - model.objective_offset)) + 1e-10
    elif "infeasible" in result_text.lower():
        st = "infeasible"
    elif "time" in result_text.lower() or "Stopped" in result_text:
        st = "time_limit"
        m = _LOWER.search(log)
        if m:
            try:
                bound = -float(m.group(1)) + model.objective_offset
            except ValueError:
                bound = None
    else:
        st = "error"
    if bound is not None:
        bound = pad_up(bound)
    return SolveResult(st, obj, bound, x, time.perf_counter() - t0, nodes, "cbc", result_text)
