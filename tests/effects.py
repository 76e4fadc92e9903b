"""Assert a learning effect over seeds, with a margin taken from the seeds' own spread.

A single seed's training path depends on the order of floating-point sums, which
changes with the CPU's BLAS kernels (MKL picks them by CPU model), the thread count
and library releases; one seed's effect can then shrink below any fixed ratio. Paired
over several seeds, the effect's mean is stable while its standard error says how far
it can move. ``paired_effect`` asserts that the mean paired difference is at least
``t_min`` standard errors above zero: it holds wherever the effect is real and fails
when the effect is gone (mean difference ≈ 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def paired_effect(better: Sequence[float], worse: Sequence[float], t_min: float) -> float:
    """Assert mean(worse - better) > t_min * its standard error; return the t statistic."""
    diffs = [w - b for b, w in zip(better, worse, strict=True)]
    n = len(diffs)
    assert n >= 3, "a paired effect needs at least three seeds"
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    if sd > 0:
        t = mean / (sd / math.sqrt(n))
    else:  # every seed gave the same difference; none at all is no effect
        t = math.copysign(math.inf, mean) if mean != 0 else 0.0
    assert t > t_min, (
        f"paired effect over {n} seeds: mean difference {mean:.4g}, t = {t:.2f} <= {t_min}; "
        f"differences {[round(d, 4) for d in diffs]}"
    )
    return t
