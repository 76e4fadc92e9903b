"""Floating-point margins: the one place every proven bound is widened before it is used.

A bound computed in floating point (by interval arithmetic, an LP or a MILP solver) can
be off from the exact value it stands for: by rounding, and by the solvers'
feasibility tolerances (HiGHS: 1e-7 primal, 1e-6 integrality). Every bound that
leaves the bound propagation or a solver is therefore widened by :func:`pad_up`
(upper bounds) or :func:`pad_down` (lower bounds)::

    pad_up(v)   = v + BOUND_MARGIN · (1 + |v|)        BOUND_MARGIN = 1e-6
    pad_down(v) = v - BOUND_MARGIN · (1 + |v|)

(an absolute part for values near 0 and a relative part for large ones). Interval
arithmetic alone is off by far less than this (:func:`gamma` bounds the rounding of a
sum of ``n`` products, ``n·u / (1 - n·u)`` with ``u = 2^-53``), so on the propagated
bounds the margin is a wide safety factor; on solver bounds it covers the tolerances.

A number read from a solver's printed log is rounded to the digits printed;
:func:`printed_error` is half a unit in its last printed digit, added on top (CBC
prints its "best possible" bound with 8 significant digits).
"""

from __future__ import annotations

import math
import re

__all__ = ["BOUND_MARGIN", "UNIT_ROUNDOFF", "gamma", "pad_down", "pad_up", "printed_error"]

#: absolute + relative margin added to every bound leaving propagation or a solver
BOUND_MARGIN = 1e-6
#: the unit roundoff of float64 (round to nearest)
UNIT_ROUNDOFF = 2.0**-53


def pad_up(v: float) -> float:
    """An upper bound ``v`` widened by the floating-point margin (``v + 1e-6·(1 + |v|)``)."""
    return v + BOUND_MARGIN * (1.0 + abs(v))


def pad_down(v: float) -> float:
    """A lower bound ``v`` widened by the floating-point margin (``v - 1e-6·(1 + |v|)``)."""
    return v - BOUND_MARGIN * (1.0 + abs(v))


def gamma(n: int) -> float:
    """Higham's ``γ_n = n·u / (1 - n·u)``: the relative error bound of a float64 sum (or
    dot product) of ``n`` terms, taken against the sum of the terms' magnitudes."""
    nu = (n + 1) * UNIT_ROUNDOFF
    return nu / (1.0 - nu)


_DECIMAL = re.compile(r"^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")


def printed_error(text: str) -> float:
    """Half a unit in the last digit of a printed decimal number (``"1.273"``: 5e-4,
    ``"-0.28477539"``: 5e-9, ``"1.2e-05"``: 5e-7): how far the printed value can be from
    the value it was rounded from. ``inf`` for text that is not a plain decimal."""
    m = _DECIMAL.match(text.strip())
    if m is None or not (m.group(1) or m.group(2)):
        return math.inf
    decimals = len(m.group(2) or "")
    exponent = int(m.group(3) or 0)
    return 0.5 * 10.0 ** (exponent - decimals)
