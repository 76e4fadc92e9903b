"""Search-then-keep: try candidate settings, score each on validation, keep the best.

One helper for every hyperparameter search a method runs on a trained model:
FairNeuron's (θ, γ) grid, the reject-option θ grid, and a fairness weight λ searched
for the most accurate model that meets a validation gap target.

* :func:`run_search` evaluates candidates in the order given (a :func:`grid` or
  :func:`log_grid` of a scalar, a product of grids, random draws) until they run
  out or the :class:`Budget` does.
* :func:`bisect` searches a scalar between two ends for the boundary of a target
  that the trials meet on one side (a larger λ, a smaller gap), halving the
  interval, linearly or geometrically, within the budget.

``evaluate(candidate)`` trains or adjusts a model and returns an :class:`Outcome`:
the model, its validation metrics (None: not scored) and anything to report. A
:class:`Criterion` ranks outcomes, lower first, from their metrics:
:class:`Minimize` (a metric or a score of the metrics; FairNeuron's rule) or
:class:`MeetTarget` (trials whose gap is at most a target, the most accurate or the
first tried of them; else the smallest gap). Ties go to the trial tried first, so an
ordered grid breaks them toward its first value (the lightest touch); in a bisection,
to the value nearest the end tried first (the lightest touch again). A trial whose
metrics the criterion cannot rank (undefined or not scored) is kept only when no
trial can be ranked; :attr:`SearchResult.ranked` says which happened.

Only the best model is kept in memory; every trial (candidate, metrics, what
``evaluate`` reported, time) is in :attr:`SearchResult.trials` and
:meth:`SearchResult.report`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from fairnn.errors import ConfigError

__all__ = [
    "Budget",
    "Criterion",
    "MeetTarget",
    "Minimize",
    "Outcome",
    "SearchResult",
    "Trial",
    "bisect",
    "grid",
    "log_grid",
    "run_search",
]

log = logging.getLogger(__name__)

C = TypeVar("C")
R = TypeVar("R")
Metrics = Mapping[str, float]
Rank = tuple[float, ...]


# -- candidates -----------------------------------------------------------------------
def grid(lo: float, hi: float, n: int) -> list[float]:
    """``n`` evenly spaced values from ``lo`` to ``hi`` (both included)."""
    _check_ends(lo, hi, n, log=False)
    return [lo] if n == 1 else [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def log_grid(lo: float, hi: float, n: int) -> list[float]:
    """``n`` geometrically spaced values from ``lo`` to ``hi`` (both included, both > 0)."""
    _check_ends(lo, hi, n, log=True)
    if n == 1:
        return [lo]
    a, b = math.log(lo), math.log(hi)
    return [lo, *(math.exp(a + (b - a) * i / (n - 1)) for i in range(1, n - 1)), hi]


def _check_ends(lo: float, hi: float, n: int, *, log: bool) -> None:
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ConfigError(f"search range: need finite lo <= hi, got lo={lo}, hi={hi}")
    if log and lo <= 0:
        raise ConfigError(f"a log-scale search range must be positive, got lo={lo}")
    if n < 1:
        raise ConfigError(f"a search grid needs at least one value, got n={n}")


# -- criteria -----------------------------------------------------------------------
class Criterion(Protocol):
    """Ranks a trial's validation metrics (lower is better; None: cannot be ranked)."""

    def rank(self, metrics: Metrics) -> Rank | None: ...

    def feasible(self, metrics: Metrics) -> bool:
        """Whether the trial meets the criterion's requirement (:func:`bisect` steers by it)."""
        ...

    def describe(self) -> str: ...


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


@dataclass(frozen=True)
class Minimize:
    """The smallest ``score``: a metric's name or a function of the metrics.

    A non-finite score cannot be ranked. Every ranked trial is feasible.
    """

    score: str | Callable[[Metrics], float]
    name: str | None = None

    def value(self, metrics: Metrics) -> float:
        s = metrics[self.score] if isinstance(self.score, str) else self.score(metrics)
        return float(s)

    def rank(self, metrics: Metrics) -> Rank | None:
        v = self.value(metrics)
        return (v,) if math.isfinite(v) else None

    def feasible(self, metrics: Metrics) -> bool:
        return math.isfinite(self.value(metrics))

    def describe(self) -> str:
        named = self.score if isinstance(self.score, str) else getattr(self.score, "__name__", "")
        what = self.name or named or repr(self.score)
        return f"minimise {what}"


@dataclass(frozen=True)
class MeetTarget:
    """Trials with ``metric`` ≤ ``target`` first: of those, the largest ``maximize`` (e.g.
    ``"accuracy"``), or with ``maximize=None`` the first tried; when no trial meets the
    target, the smallest ``metric``. An undefined ``metric`` cannot be ranked."""

    metric: str
    target: float
    maximize: str | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.target):
            raise ConfigError(f"search target for {self.metric} must be finite, got {self.target}")

    def rank(self, metrics: Metrics) -> Rank | None:
        gap = float(metrics[self.metric])
        if not math.isfinite(gap):
            return None
        if gap > self.target:
            return (1.0, gap)
        if self.maximize is None:
            return (0.0, 0.0)
        v = float(metrics[self.maximize])
        return (0.0, -v if math.isfinite(v) else math.inf)

    def feasible(self, metrics: Metrics) -> bool:
        gap = float(metrics[self.metric])
        return math.isfinite(gap) and gap <= self.target

    def describe(self) -> str:
        then = f", then the largest {self.maximize}" if self.maximize else ", then the first tried"
        return f"{self.metric} <= {self.target:g}{then}; else the smallest {self.metric}"


# -- trials and results ----------------------------------------------------------------
@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What ``evaluate`` returns for one candidate: the model, its validation metrics
    (None: not scored, e.g. no validation split) and extra facts to report."""

    model: R
    metrics: Metrics | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Trial(Generic[C]):
    """One evaluated candidate (its model is kept only by the best trial's result)."""

    index: int
    candidate: C
    metrics: Metrics | None
    info: Mapping[str, Any]
    rank: Rank | None
    feasible: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the candidate, the metrics, whether it met the criterion, the facts."""
        return {
            "index": self.index,
            "candidate": self.candidate,
            "metrics": None if self.metrics is None else dict(self.metrics),
            "feasible": self.feasible,
            **dict(self.info),
            "time_s": self.seconds,
        }


@dataclass(frozen=True)
class SearchResult(Generic[C, R]):
    """Every trial in the order tried, the best one and its model, and why the search stopped."""

    trials: tuple[Trial[C], ...]
    best: Trial[C]
    model: R
    criterion: str
    stopped: str

    @property
    def candidate(self) -> C:
        return self.best.candidate

    @property
    def ranked(self) -> bool:
        """Whether the best trial was ranked by the criterion (False: no trial could be)."""
        return self.best.rank is not None

    @property
    def feasible(self) -> bool:
        """Whether the best trial meets the criterion's requirement (e.g. a gap target)."""
        return self.best.feasible

    def report(self) -> dict[str, Any]:
        """JSON-ready: the criterion, the best trial's index, why it stopped, every trial."""
        return {
            "criterion": self.criterion,
            "best": self.best.index,
            "feasible": self.feasible,
            "stopped": self.stopped,
            "trials": [t.to_dict() for t in self.trials],
        }


@dataclass(frozen=True)
class Budget:
    """At most ``max_trials`` evaluations and about ``max_seconds`` of wall time (the
    trial under way finishes); None: no limit. At least one trial always runs. A time
    limit makes the result depend on the machine, a trial limit does not."""

    max_trials: int | None = None
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.max_trials is not None and self.max_trials < 1:
            raise ConfigError(f"search budget max_trials must be >= 1, got {self.max_trials}")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise ConfigError(f"search budget max_seconds must be > 0, got {self.max_seconds}")

    def spent(self, trials: int, seconds: float) -> str | None:
        """Why no further trial may start (None: it may)."""
        if self.max_trials is not None and trials >= self.max_trials:
            return f"budget: {self.max_trials} trials"
        if self.max_seconds is not None and trials > 0 and seconds >= self.max_seconds:
            return f"budget: {self.max_seconds:g} s"
        return None


class _Search(Generic[C, R]):
    """The bookkeeping both searches share: evaluate, rank, keep the best model only."""

    def __init__(
        self,
        evaluate: Callable[[C], Outcome[R]],
        criterion: Criterion,
        budget: Budget,
        label: str,
        tiebreak: Callable[[C], float] | None = None,
    ) -> None:
        self.evaluate, self.criterion, self.budget, self.label = evaluate, criterion, budget, label
        self.tiebreak = tiebreak
        self.trials: list[Trial[C]] = []
        self.best: tuple[tuple[Any, ...], Trial[C], R] | None = None
        self.t0 = time.perf_counter()

    def stop_reason(self) -> str | None:
        return self.budget.spent(len(self.trials), time.perf_counter() - self.t0)

    def run(self, candidate: C) -> Trial[C]:
        start = time.perf_counter()
        out = self.evaluate(candidate)
        m = out.metrics
        rank = None if m is None else self.criterion.rank(m)
        trial = Trial(
            index=len(self.trials),
            candidate=candidate,
            metrics=m,
            info=out.info,
            rank=rank,
            feasible=m is not None and self.criterion.feasible(m),
            seconds=time.perf_counter() - start,
        )
        self.trials.append(trial)
        log.info("%s trial %d: %r -> %s", self.label, trial.index, candidate, trial.to_dict())
        # ranked trials before unranked ones; ties by ``tiebreak``, then to the one tried first
        order = (self.tiebreak(candidate) if self.tiebreak else 0.0, trial.index)
        key = (0, rank, *order) if rank is not None else (1, (), *order)
        if self.best is None or key < self.best[0]:
            self.best = (key, trial, out.model)
        return trial

    def result(self, stopped: str) -> SearchResult[C, R]:
        if self.best is None:
            raise ConfigError(f"{self.label}: the search has no candidates to try")
        _, best, model = self.best
        return SearchResult(tuple(self.trials), best, model, self.criterion.describe(), stopped)


def run_search(
    candidates: Iterable[C],
    evaluate: Callable[[C], Outcome[R]],
    criterion: Criterion,
    *,
    budget: Budget | None = None,
    label: str = "search",
) -> SearchResult[C, R]:
    """Evaluate ``candidates`` in order (within ``budget``) and keep the best by ``criterion``.

    ``label`` names the search in log lines and errors. An empty ``candidates`` raises
    :class:`~fairnn.errors.ConfigError`.
    """
    s: _Search[C, R] = _Search(evaluate, criterion, budget or Budget(), label)
    for candidate in candidates:
        reason = s.stop_reason()
        if reason is not None:
            return s.result(reason)
        s.run(candidate)
    return s.result("every candidate tried")


def bisect(
    evaluate: Callable[[float], Outcome[R]],
    lo: float,
    hi: float,
    criterion: Criterion,
    *,
    increasing: bool = True,
    log_scale: bool = False,
    budget: Budget | None = None,
    tol: float | None = None,
    label: str = "bisection",
) -> SearchResult[float, R]:
    """Search the scalar in [``lo``, ``hi``] for where ``criterion`` starts to be met.

    Assumes the trials meet it (:meth:`Criterion.feasible`) on one side of a boundary:
    above it with ``increasing=True`` (a fairness weight λ: the larger, the smaller the
    gap), below it otherwise. The end that should miss is tried first (if it meets the
    criterion the search stops: nothing lighter is needed), then the other end (if it
    misses, no value in the range meets it), then midpoints (geometric with
    ``log_scale``) of the interval that holds the boundary, until ``budget`` (default 8
    trials) or until the interval is narrower than ``tol`` (a ratio hi/lo − 1 with
    ``log_scale``). The best trial is chosen by ``criterion`` among all tried, ties to
    the value nearest the end tried first, so with ``MeetTarget(gap, target,
    maximize="accuracy")`` it is the most accurate trial that met the target (or the
    smallest gap, when none did).
    """
    _check_ends(lo, hi, 2, log=log_scale)
    budget = budget or Budget(max_trials=8)
    miss, meet = (lo, hi) if increasing else (hi, lo)
    first = miss
    s: _Search[float, R] = _Search(evaluate, criterion, budget, label, lambda x: abs(x - first))

    def width(a: float, b: float) -> float:
        a, b = min(a, b), max(a, b)
        return b / a - 1.0 if log_scale else b - a

    if s.run(miss).feasible:
        return s.result("the first end meets the criterion")
    if lo == hi:
        return s.result("lo == hi")
    reason = s.stop_reason()
    if reason is not None:
        return s.result(reason)
    if not s.run(meet).feasible:
        return s.result("the second end misses the criterion")
    while True:
        if tol is not None and width(miss, meet) <= tol:
            return s.result(f"interval narrower than tol={tol:g}")
        reason = s.stop_reason()
        if reason is not None:
            return s.result(reason)
        mid = math.sqrt(miss * meet) if log_scale else (miss + meet) / 2.0
        if mid in (miss, meet):  # floating point: the interval cannot shrink further
            return s.result("interval cannot be split further")
        if s.run(mid).feasible:
            meet = mid
        else:
            miss = mid
