"""Reweighing (Kamiran & Calders, "Data preprocessing techniques for classification
without discrimination", KAIS 33(1):1–33, 2012; the "Reweighing" technique among
its pre-processing solutions, with Massaging and Sampling).

Every row of the (group, label) cell ``(s, y)`` gets the weight

    w(s, y) = P(s) · P(y) / P(s, y),

the ratio of the cell's probability if group and label were independent to its
observed probability. Under these weights the weighted (s, y) table factorises
(``P_w(s, y) = P(s) · P(y)``), so the label carries no information about the
group. The weights reach the loss through ``TabularData.sample_weight`` (the
training loop takes the weighted mean of the per-row loss).

Differences from the reference implementations, and why:

* With user-supplied sample weights the probabilities are weighted sums, and
  the final weight is the user's weight times ``w(s, y)``, as AIF360's
  ``Reweighing`` does with instance weights; so the *weighted* table is
  independent whatever the user's weights were. RUNNER (seed 000) uses AIF360's
  formula with unit weights, which is the same thing.
* Any number of groups (the paper has two): the formula is per cell.
* Binary labels only, as in the paper.
"""

from __future__ import annotations

import numpy as np

from fairnn.datasets.core import TabularData
from fairnn.methods.base import Method, MethodParams, register
from fairnn.methods.oversample import cell_ids, require_binary


def reweighing_weights(
    s: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """``P(s)·P(y)/P(s, y)`` for every row (probabilities weighted by ``sample_weight``).

    Returns the per-row cell weight only; multiply by ``sample_weight`` for the
    weight a row trains with.
    """
    s = np.asarray(s, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    u = np.ones(len(s)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    n_s, n_y = int(s.max()) + 1, int(y.max()) + 1
    joint = np.zeros((n_s, n_y))
    np.add.at(joint, (s, y), u)
    total = joint.sum()
    p_sy = joint / total
    p_s, p_y = p_sy.sum(1), p_sy.sum(0)
    return p_s[s] * p_y[y] / p_sy[s, y]


class ReweighingParams(MethodParams):
    """Reweighing has no parameters: the weights follow from the (group, label) table."""


@register
class Reweighing(Method[ReweighingParams]):
    """Weight every (group, label) cell by P(s)P(y)/P(s, y) (Kamiran & Calders 2012)."""

    name = "reweighing"
    aliases = ("Reweighing", "rw")
    stage = "pre"
    paper = "Kamiran & Calders, KAIS 2012 (Reweighing); AIF360 Reweighing"

    def prepare(self, train: TabularData, seed: int) -> TabularData:
        require_binary(train, self.name)
        cells = cell_ids(train)
        user = None if train.sample_weight is None else train.sample_weight.cpu().numpy()
        w = reweighing_weights(cells // 2, cells % 2, user)
        if user is not None:
            w = w * user
        return train.with_weights(w.astype(np.float32))
