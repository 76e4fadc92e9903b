"""MILP solvers behind one call: HiGHS (highspy, the default) and CBC (through PuLP).

:func:`solve` maximises a :class:`~fairnn.certify.milp.MilpModel` (conditioned
first: :meth:`~fairnn.certify.milp.MilpModel.conditioned`) within a time limit and
returns the *anytime* result: the best incumbent found (a feasible point, so a lower
bound on the maximum) and the dual bound (an upper bound on the maximum). Only the
dual bound may become a certificate, and only after the caller's independent check
(:mod:`fairnn.certify.verify`):

* HiGHS reports it as a number (``mip_dual_bound``), also at the time limit;
* CBC is driven through PuLP as a *minimisation* of the negated objective. PuLP has
  no call that returns CBC's bound, and CBC prints it only as text: the "best
  possible" value of its search messages (8 significant digits) and a "Lower bound"
  line (3 decimals). Each printed value is taken with half a unit in its last printed
  digit added (:func:`~fairnn.certify.margin.printed_error`), and the tightest of them
  is used. CBC prunes nodes within its cutoff increment (``inc``, pinned to
  :data:`CBC_INCREMENT`) of the incumbent, so the bound is never below the incumbent
  plus the increment. When CBC proves optimality it prints no bound; its stopping rule
  (gap ``≤ ratio · max(|incumbent|, |bound|)``) gives
  ``bound ≤ (obj + inc + ratio·|obj|) / (1 - ratio)``. CBC gets no warm start (CBC 2.10
  has called feasible models "infeasible" when given one).
  When no bound can be had, :attr:`SolveResult.bound` is ``None`` and the caller
  falls back to a bound it proved itself (interval or LP bounds).

Every dual bound is widened by :func:`~fairnn.certify.margin.pad_up` (the solvers'
feasibility tolerances; see :mod:`fairnn.certify.margin`).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fairnn.certify.margin import BOUND_MARGIN, pad_up, printed_error
from fairnn.certify.milp import MilpModel
from fairnn.errors import ConfigError
from fairnn.registry import Registry

__all__ = [
    "BOUND_MARGIN",
    "CBC_INCREMENT",
    "SMALL_MIP",
    "SOLVERS",
    "SolveResult",
    "pad_up",
    "solve",
]

#: CBC's cutoff increment (its default, pinned so the bound accounts for it)
CBC_INCREMENT = 1e-5

#: ``tuning`` for MILPs of a few dozen columns (a local certificate's folded piece,
#: :mod:`fairnn.certify.fold`): HiGHS's feasibility-jump heuristic costs about 2 ms a
#: solve there and finds nothing the search would not (measured: 3.6 -> 1.3 ms a solve on
#: the default Adult model's pieces, same bounds). It only looks for incumbents.
SMALL_MIP: dict[str, Any] = {"mip_heuristic_run_feasibility_jump": False}


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


#: ``(model, time_limit, mip_rel_gap, start, threads, seed, verbose[, tuning]) -> SolveResult``
#: (``tuning``, optional: :func:`solve`'s)
Solver = Callable[..., SolveResult]

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


_SCHEDULER: list[int | None] = []  # the thread count HiGHS's global scheduler was set up with


@dataclass
class SolveWatch:
    """A running certificate's view into its solves (HiGHS: its MIP callback).

    ``on_bound(dual_bound, incumbent)`` receives HiGHS's current bounds, in the solved
    model's sense and scale, at most every ``every`` seconds (for display only: nothing
    read here is a certificate); setting ``stop`` (Ctrl-C) interrupts the solve, which then
    returns its anytime bound as at a time limit. CBC runs without a watch."""

    stop: threading.Event = field(default_factory=threading.Event)
    on_bound: Callable[[float, float], None] | None = None
    every: float = 0.5
    _last: float = -math.inf

    def poll(self, event: Any) -> None:
        now = time.perf_counter()
        if self.on_bound is not None and now - self._last >= self.every:
            self._last = now
            out = event.data_out
            self.on_bound(float(out.mip_dual_bound), float(out.mip_primal_bound))
        if self.stop.is_set():
            event.interrupt()


#: the watches of the certificates running now (innermost last)
_WATCHES: list[SolveWatch] = []


@contextmanager
def watching(watch: SolveWatch) -> Iterator[SolveWatch]:
    """Let ``watch`` see (and stop) every HiGHS solve inside the block."""
    _WATCHES.append(watch)
    try:
        yield watch
    finally:
        _WATCHES.remove(watch)


_BANNER: list[bool] = []  # whether HiGHS has printed its once-per-process banner


def _quiet_first(make):
    """``make()`` with the C-level standard output sent to /dev/null: HiGHS prints its
    banner from the constructor of the first instance in a process, before any option can
    be set, and on standard output it would corrupt ``fairnn certify --json | jq``."""
    import os
    import sys

    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no standard output to protect
        return make()
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            try:
                return make()
            finally:
                os.dup2(saved, 1)
                _BANNER.append(True)
    finally:
        os.close(saved)


def new_highs(time_limit: float | None = None, threads: int | None = None, seed: int = 0):
    """A quiet HiGHS instance. HiGHS sets up one thread scheduler per process at its first
    run and fails every later run that asks for another thread count ("Not Set", with a
    dual bound of 0 that must not be read); a change of ``threads`` resets it first."""
    import highspy

    if _SCHEDULER and _SCHEDULER[0] != threads:
        reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
        if reset is not None:
            reset(True)
    _SCHEDULER[:] = [threads]
    h = _quiet_first(highspy.Highs) if not _BANNER else highspy.Highs()
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
    tuning: Mapping[str, Any] | None = None,
) -> SolveResult:
    """Maximise ``model`` with the solver registered as ``solver`` (:data:`SOLVERS`); see
    the module docstring for what is proven. ``tuning``: HiGHS options by name that change
    how fast a solve runs, never what it proves (e.g. a primal heuristic switched off;
    :data:`SMALL_MIP`); an option this HiGHS does not know is skipped, and CBC ignores
    them."""
    run = SOLVERS.get(solver)
    args = (model.conditioned(), time_limit, mip_rel_gap, start, threads, seed, verbose)
    return run(*args, tuning) if tuning else run(*args)


@SOLVERS.register("highs")
def _solve_highs(
    model, time_limit, mip_rel_gap, start, threads, seed, verbose, tuning=None
) -> SolveResult:
    import highspy

    t0 = time.perf_counter()
    h = new_highs(time_limit, threads, seed)
    if verbose:
        h.setOptionValue("output_flag", True)
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    for name, value in (tuning or {}).items():
        h.setOptionValue(name, value)  # an unknown option returns an error status: skipped
    h.passModel(highs_model(model))
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=np.float64)
        sol.value_valid = True
        h.setSolution(sol)
    if _WATCHES and model.integer.any():
        h.cbMipInterrupt.subscribe(_WATCHES[-1].poll)
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
    if status == S.kOptimal:
        st = "optimal"
    elif status in (S.kTimeLimit, S.kInterrupt, S.kIterationLimit, S.kSolutionLimit):
        st = "time_limit"
    elif status == S.kInfeasible:
        st = "infeasible"
    else:
        st = "error"
    bound: float | None = None
    if st in ("optimal", "time_limit"):  # a failed run reports a dual bound of 0
        if is_mip:
            b = float(info.mip_dual_bound)
            if math.isfinite(b):
                bound = b
        elif st == "optimal":
            bound = float(info.objective_function_value)
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


_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_LOWER = re.compile(r"^Lower bound:\s*" + _NUMBER, re.M)
_POSSIBLE = re.compile(r"best possible " + _NUMBER)
_OBJ = re.compile(r"^Objective value:\s*" + _NUMBER, re.M)
_RESULT = re.compile(r"^Result - (.*)$", re.M)
_NODES = re.compile(r"^Enumerated nodes:\s*(\d+)", re.M)


def _printed(matches: list[str]) -> list[tuple[float, float]]:
    """``(value, rounding error)`` of printed numbers (huge placeholders such as 1e+50 dropped)."""
    out = []
    for text in matches:
        v = float(text)
        if math.isfinite(v) and abs(v) < 1e40:
            out.append((v, printed_error(text)))
    return out


def cbc_bound(
    log: str, optimal: bool, ratio: float, increment: float = CBC_INCREMENT
) -> float | None:
    """The upper bound on the *maximum* (CBC minimised its negation, without the objective's
    constant) that CBC's log proves, before the floating-point margin; see the module
    docstring. ``None`` when the log proves none."""
    inc = _printed(_OBJ.findall(log))
    # CBC's incumbent, in the maximisation sense; rounding taken against us
    obj = None if not inc else -inc[-1][0] + inc[-1][1]
    if optimal:
        if obj is None:
            return None
        u = obj + increment + ratio * abs(obj)
        return u / (1.0 - ratio) if u > 0 else u
    lbs = _printed(_POSSIBLE.findall(log) + _LOWER.findall(log))
    if not lbs:
        return None
    # every printed lower bound of the minimisation is valid; the largest is the tightest
    bound = min(-v + err for v, err in lbs)
    if obj is not None:
        # nodes within the cutoff increment of the incumbent were pruned unexplored
        bound = max(bound, obj + increment)
    return bound


def _pulp_problem(pulp, model: MilpModel):
    """The PuLP problem of ``model`` as a minimisation of the negated objective (without its
    constant: CBC's lower bound is then minus our upper bound before the constant), and its
    variables."""
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
    return prob, xs


@SOLVERS.register("cbc")
def _solve_cbc(
    model, time_limit, mip_rel_gap, start, threads, seed, verbose, tuning=None
) -> SolveResult:
    """CBC through PuLP (``seed`` is not passed on: PuLP's CBC call has no seed). The warm
    ``start`` is not passed on either: CBC 2.10 has called feasible models "Problem proven
    infeasible" when given a feasible MIP start, and solved them without one."""
    del start, seed, tuning
    try:
        import pulp
    except ImportError:  # pragma: no cover - pulp is a dependency
        raise ConfigError("the CBC solver needs PuLP: pip install pulp") from None
    t0 = time.perf_counter()
    fd, log_path = tempfile.mkstemp(prefix="fairnn-cbc-", suffix=".log")
    os.close(fd)
    try:
        with warnings.catch_warnings():
            # PuLP 3 deprecates the calls that PuLP 2.7 (the oldest supported) offers
            warnings.simplefilter("ignore", DeprecationWarning)
            prob, xs = _pulp_problem(pulp, model)
            cmd = pulp.PULP_CBC_CMD(
                msg=verbose,
                timeLimit=None if time_limit is None else max(float(time_limit), 1.0),
                gapRel=float(mip_rel_gap),
                threads=threads,
                logPath=log_path,
                options=[f"inc {CBC_INCREMENT!r}"],
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
    if "Optimal" in result_text:
        st = "optimal"
        bound = cbc_bound(log, True, float(mip_rel_gap))
    elif "infeasible" in result_text.lower():
        st = "infeasible"
    elif "time" in result_text.lower() or "Stopped" in result_text:
        st = "time_limit"
        bound = cbc_bound(log, False, float(mip_rel_gap))
    else:
        st = "error"
    if bound is not None:
        bound = pad_up(bound + model.objective_offset)
    return SolveResult(st, obj, bound, x, time.perf_counter() - t0, nodes, "cbc", result_text)
