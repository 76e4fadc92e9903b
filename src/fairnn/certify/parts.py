"""The pair set of a global certificate cut into parts, one per choice of the discrete
columns that may switch between the two copies.

When the metric lets a one-hot block change (a sensitive attribute with weight 0: Adult's
race block) or a binary column flip, the pairs of the global problem fall into parts: copy
1 in category ``a`` and copy 2 in category ``b`` of each such block (both values of each
such binary column). On one part the first layer's difference ``W(x' - x'')`` is nearly a
fixed vector (``W_a - W_b`` plus the small continuous steps), so the symbolic difference
bounds (:mod:`fairnn.certify.symbolic`) are far tighter than over all pairs at once, many
parts are settled by their bound alone (at or below a real pair), and the MILP of each
remaining part (:func:`~fairnn.certify.encoding.encode` with ``pair_boxes``) is much easier
than the MILP of the whole problem. The parts cover every pair (each pair has its copies'
categories), so the largest part bound is a bound on the whole.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from fairnn.certify.domain import Domain

__all__ = ["group_values", "moving_blocks", "pair_parts", "switching"]


def moving_blocks(domain: Domain, dlo: np.ndarray, dhi: np.ndarray) -> list[list[int]]:
    """The one-hot blocks with a column whose difference bound ``[dlo, dhi]`` is not 0: the
    blocks the second copy may change."""
    moves = (dhi > 0) | (dlo < 0)
    return [list(b) for b in domain.blocks if moves[list(b)].any()]


def switching(domain: Domain, dlo: np.ndarray, dhi: np.ndarray) -> list[list[int]]:
    """The discrete groups of columns that may differ between the copies: the
    :func:`moving_blocks` and each binary column whose difference bound is not 0."""
    moves = (dhi > 0) | (dlo < 0)
    flips = [[j] for j, k in enumerate(domain.kind) if k == "binary" and moves[j]]
    return moving_blocks(domain, dlo, dhi) + flips


def group_values(domain: Domain, group: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each value a switching group can take, as the (lower, upper) of its columns."""
    if len(group) == 1 and domain.kind[group[0]] == "binary":
        j = group[0]
        return [(np.array([v]), np.array([v])) for v in (domain.lower[j], domain.upper[j])]
    out = []
    for c in group:
        if domain.upper[c] < 0.5:  # a category the domain excludes
            continue
        v = np.array([1.0 if i == c else 0.0 for i in group])
        out.append((v, v))
    return out


def pair_parts(
    domain: Domain, dlo: np.ndarray, dhi: np.ndarray, most: int = 128
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """``(lo1, hi1, lo2, hi2)``, one row per part (copy 1's and copy 2's box), or None when
    nothing switches or there would be more than ``most`` parts. The parts are every
    combination of (copy 1's value, copy 2's value) of every switching group; their union
    is the whole pair set."""
    groups = switching(domain, dlo, dhi)
    if not groups:
        return None
    options = [group_values(domain, g) for g in groups]
    if math.prod(len(o) ** 2 for o in options) > most:
        return None
    rows: list[tuple[np.ndarray, ...]] = []
    for pick in itertools.product(*[list(itertools.product(o, o)) for o in options]):
        lo1, hi1 = domain.lower.copy(), domain.upper.copy()
        lo2, hi2 = domain.lower.copy(), domain.upper.copy()
        for group, ((l1, h1), (l2, h2)) in zip(groups, pick, strict=True):
            lo1[group], hi1[group], lo2[group], hi2[group] = l1, h1, l2, h2
        # a part whose copies' difference the metric forbids holds no pair (e.g. a block
        # with some columns the metric lets change and some it does not): left out
        if np.all(np.maximum(dlo, lo1 - hi2) <= np.minimum(dhi, hi1 - lo2)):
            rows.append((lo1, hi1, lo2, hi2))
    if not rows:
        return None
    return tuple(np.array(a) for a in zip(*rows, strict=True))  # type: ignore[return-value]
