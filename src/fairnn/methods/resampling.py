"""NNFF resampling (Liu & Hu, the NNFF report in seed 002, §5.2 "Resampling Steps" and
Algorithm 2 "Resampling"; code Zihao-Liu-Leo/FairNN-Co-Shiyu-Hu ``fairnn.py``,
``resample``).

Algorithm 2, with ``f_s`` the sensitive attribute and ``f_o`` the output:

1. standardise both: ``s̃ = (f_s − μ_s)/σ_s``, ``ỹ = (f_o − μ_o)/σ_o``;
2. pseudo weights that emphasise the outliers of the sensitive attribute:
   ``w′ = |s̃| + 1``;
3. the pseudo mean output, as if the attribute were independent of the rest:
   ``f′ = Σ(ỹ · w′) / Σ w′``;
4. weights that emphasise the inliers of the output around it:
   ``w = w′ / (|ỹ − f′| + 1)``;

then rows are drawn with replacement, with probability proportional to ``w``,
to the original size (seeded), and kept in index order, as the code does. It
works for a binary label and for a continuous target (the report's Boston
MEDV) alike.

Differences from the code, and decisions where the report is silent:

* ``σ`` is the population standard deviation (ddof 0), as in the code
  (``np.std``); a constant column standardises to 0.
* The code's ``f_s`` is Boston's raw ``B`` column. fairnn's Boston recipe
  turns ``B`` into the group ``black_share`` and drops it from the inputs, so
  ``f_s`` is, by default, the group: with two groups the group id (0/1)
  itself. Group ids are nominal, so with more than two groups ``|s̃|`` of a
  row is that of the standardised indicator of *its own* group,
  ``sqrt((1 − p_g)/p_g)`` for a group of share ``p_g``; for two groups this
  equals ``|s̃|`` of the 0/1 id exactly, so the rule is one rule. With
  ``sensitive_feature="B"`` a numeric input column is used instead, which
  reproduces the code (standardising is affine invariant, so the scaled
  column gives the raw column's weights); load Boston with ``B`` kept as a
  feature (``extra_features=["B"]``) for that.
* User sample weights travel with the drawn rows.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from fairnn.datasets.core import TabularData
from fairnn.errors import ConfigError
from fairnn.methods.base import Method, MethodParams, register


def standardise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    sd = v.std()
    return np.zeros_like(v) if sd == 0 else (v - v.mean()) / sd


def nnff_weights(
    f_s: np.ndarray, f_o: np.ndarray, *, s_abs: np.ndarray | None = None
) -> np.ndarray:
    """Algorithm 2's resampling weights ``w`` for attribute ``f_s`` and output ``f_o``.

    ``s_abs`` replaces ``|s̃|`` when given (the group rule for more than two groups).
    """
    s_t = np.abs(standardise(f_s)) if s_abs is None else np.asarray(s_abs, dtype=np.float64)
    o_t = standardise(f_o)
    w_pseudo = s_t + 1.0
    f_mean = float((o_t * w_pseudo).sum() / w_pseudo.sum())
    return w_pseudo / (np.abs(o_t - f_mean) + 1.0)


def group_abs_standardised(s: np.ndarray, n_groups: int) -> np.ndarray:
    """``|s̃|`` of each row's own-group indicator: ``sqrt((1 − p_g)/p_g)``."""
    s = np.asarray(s, dtype=np.int64)
    p = np.bincount(s, minlength=n_groups) / len(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.sqrt((1.0 - p) / p)
    return z[s]


class ResamplingParams(MethodParams):
    sensitive_feature: str | None = Field(
        None,
        description="a numeric input column to use as f_s (default: the group)",
    )


@register
class Resampling(Method[ResamplingParams]):
    """Resample with replacement by Algorithm 2's weights (NNFF report, seed 002)."""

    name = "resampling"
    aliases = ("nnff", "nnff_resampling")
    stage = "pre"
    paper = "Liu & Hu, NNFF report (seed 002), §5.2 and Algorithm 2 (Resampling)"

    def weights(self, train: TabularData) -> np.ndarray:
        """Algorithm 2's weight for every training row."""
        p = self.params
        X, y, s = train.numpy()
        if p.sensitive_feature is not None:
            names = train.features.names
            if p.sensitive_feature not in names:
                raise ConfigError(
                    f"method 'resampling' parameter 'sensitive_feature': {p.sensitive_feature!r} "
                    f"is not an input column; columns: {', '.join(names[:20])}"
                    + (", ..." if len(names) > 20 else "")
                )
            return nnff_weights(X[:, names.index(p.sensitive_feature)], y)
        return nnff_weights(s, y, s_abs=group_abs_standardised(s, train.groups.n_groups))

    def prepare(self, train: TabularData, seed: int) -> TabularData:
        w = self.weights(train)
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(train), size=len(train), replace=True, p=w / w.sum())
        return train.subset(np.sort(idx))
