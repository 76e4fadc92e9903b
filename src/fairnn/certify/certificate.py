"""The certificate: what was proven, what was found, and how.

A :class:`Certificate` says, for a property (``global`` over the whole input
domain, or ``local`` around one input), a similarity metric and ε:

* ``delta_upper``: a *proven* upper bound on δ_max, the largest
  ``|f(x') - f(x'')|`` over pairs with ``d(x', x'') ≤ ε`` (the solver's dual
  bound, or a bound proven by the bound propagation when that is smaller);
* ``delta_lower``: the value of the *real* network (a float64 torch forward) at
  the ``witness`` pair, which satisfies every constraint; so
  ``delta_lower ≤ δ_max ≤ delta_upper``;
* ``status``: ``optimal`` (the solver closed its own gap), ``time_limit`` (the
  anytime result: dual bound and incumbent when the time ran out), ``bound_only``
  (no solver bound; the propagated bound is reported), ``unverified`` (a solver's
  claim was refuted by fairnn's independent check and no cross-check confirmed a bound
  in time: the propagated bound, proven by fairnn itself, is reported, and
  ``details["reason"]`` says what was refuted; ``delta_upper`` is ``inf`` only if even
  that bound fell below a real pair, which is a bug);
* ``gap``: ``(delta_upper - delta_lower) / delta_upper`` (0 when both are 0);
* ``time_s``, ``model_size``, and ``details`` (bounds time, solves, the metric's
  outer-approximation factor, refinement rounds).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


def rel_gap(upper: float, lower: float) -> float:
    """``(upper - lower) / upper``; 0 when the two agree to within the solvers' margin, 1
    when there is no finite upper bound."""
    if not math.isfinite(upper):
        return 1.0
    diff = max(upper - lower, 0.0)
    if upper <= 0 or diff <= 3e-6 * (1.0 + abs(upper)):
        return 0.0
    return diff / upper


@dataclass
class Certificate:
    """A proven ε-δ individual-fairness bound with its witness; see the module docstring."""

    property: str
    metric: dict[str, Any]
    epsilon: float
    delta_upper: float
    delta_lower: float
    witness: list[list[float]] | None
    status: str
    gap: float
    time_s: float
    model_size: dict[str, Any]
    solver: str
    output: str
    solver_gap: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.delta_upper >= self.delta_lower:
            raise AssertionError(
                f"unsound certificate: proven upper bound {self.delta_upper!r} is below the "
                f"witness value {self.delta_lower!r}; please report this as a bug"
            )

    def verified(self, delta: float) -> bool:
        """Whether the certificate proves ε-δ individual fairness at this δ."""
        return self.delta_upper <= delta

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in list(d.items()):
            if isinstance(v, float) and not math.isfinite(v):
                d[k] = None
        return d

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), default=_default, **kwargs)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Certificate:
        return cls(**d)

    def summary(self) -> str:
        w = "" if self.witness is None else " (witness pair attached)"
        return (
            f"{self.property} ε-δ-IF, metric {self.metric.get('name')}, ε = {self.epsilon:g}, "
            f"output {self.output}\n"
            f"  δ upper (proven): {self.delta_upper:.6g}\n"
            f"  δ lower (real network at the witness): {self.delta_lower:.6g}{w}\n"
            f"  status {self.status}, gap {100 * self.gap:.3g}%, {self.time_s:.2f}s, "
            f"solver {self.solver}"
            + (
                " (stopped by Ctrl-C: the bound proven so far)"
                if self.details.get("interrupted")
                else ""
            )
            + self._why()
        )

    def _why(self) -> str:
        """For ``unverified``: what was refuted, so the user sees why the bound is loose."""
        reason = (self.details or {}).get("reason")
        return f"\n  why unverified: {reason}" if self.status == "unverified" and reason else ""

    def __str__(self) -> str:
        return self.summary()


@dataclass
class LocalCertificates:
    """Local certificates for a batch of inputs, with a summary."""

    certificates: list[Certificate]
    epsilon: float
    metric: dict[str, Any]
    time_s: float

    def __len__(self) -> int:
        return len(self.certificates)

    def __iter__(self):
        return iter(self.certificates)

    def __getitem__(self, i: int) -> Certificate:
        return self.certificates[i]

    @property
    def delta_upper(self) -> np.ndarray:
        return np.array([c.delta_upper for c in self.certificates])

    @property
    def delta_lower(self) -> np.ndarray:
        return np.array([c.delta_lower for c in self.certificates])

    def verified_fraction(self, delta: float) -> float:
        return float(np.mean(self.delta_upper <= delta)) if self.certificates else 0.0

    def summary_dict(self) -> dict[str, Any]:
        up, lo = self.delta_upper, self.delta_lower
        n = len(self.certificates)
        exact = sum(c.gap <= 1e-6 for c in self.certificates)
        return {
            "property": "local",
            "points": n,
            "epsilon": self.epsilon,
            "metric": self.metric,
            "delta_upper_max": float(up.max()) if n else None,
            "delta_upper_mean": float(up.mean()) if n else None,
            "delta_lower_max": float(lo.max()) if n else None,
            "exact": int(exact),
            # points whose solver claim was refuted (each one's details["reason"] says how)
            "unverified": sum(c.status == "unverified" for c in self.certificates),
            "time_s": self.time_s,
            "per_second": n / self.time_s if self.time_s > 0 else None,
        }

    def to_dict(self) -> dict[str, Any]:
        d = self.summary_dict()
        d["certificates"] = [c.to_dict() for c in self.certificates]
        return d


def _default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
