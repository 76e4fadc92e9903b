"""Oversample: replicate rows of the smaller (group, label) cells until all cells are equal.

A baseline of RUNNER (Li et al., ICSE 2024; README in seed 000: "Vanilla,
Oversample, Reweighing, ... FairSmote") whose implementation is not released,
so fairnn defines it as the plain version of what its name says, the
data-level half of Fair-SMOTE without synthesis (Chakraborty et al., FSE 2021,
which rebalances the distributions so that, per sensitive group, positive and
negative examples are equal in number):

* the cells are the (group, label) pairs; every non-empty cell is grown to the
  size of the largest one;
* a cell of ``n`` rows that needs ``m`` more gets ``m // n`` full copies of
  itself plus ``m % n`` of its rows drawn without replacement (seeded), so
  every row of a cell appears either ``⌊M/n⌋`` or ``⌈M/n⌉`` times (the least
  variance of all replications that reach the size ``M``);
* an empty cell (a group with no positives, say) cannot be grown; it stays
  empty and a warning is logged;
* user sample weights travel with the replicated rows.

Binary labels only: with a continuous target there are no (group, label) cells
(use ``resampling`` for regression).
"""

from __future__ import annotations

import logging

import numpy as np

from fairnn.datasets.core import TabularData
from fairnn.errors import InvalidValueError
from fairnn.methods.base import Method, MethodParams, register

log = logging.getLogger(__name__)


def require_binary(data: TabularData, method: str) -> None:
    if data.task != "binary":
        raise InvalidValueError(
            f"method {method!r} balances (group, label) cells and needs a binary label; "
            f"{data.name or 'this dataset'} has a {data.task} target (use 'resampling' instead)"
        )


def cell_ids(data: TabularData) -> np.ndarray:
    """The (group, label) cell of every row as one integer: ``2 * group + label``."""
    s = data.s.detach().cpu().numpy().astype(np.int64)
    y = data.y.detach().cpu().numpy().astype(np.int64)
    return 2 * s + y


def cell_name(data: TabularData, cell: int) -> str:
    return f"({data.groups.labels[cell // 2]}, y={cell % 2})"


def warn_empty_cells(data: TabularData, cells: np.ndarray, method: str) -> None:
    counts = np.bincount(cells, minlength=2 * data.groups.n_groups)
    empty = [cell_name(data, int(c)) for c in np.flatnonzero(counts == 0)]
    if empty:
        log.warning("%s: cell(s) %s have no training rows and stay empty", method, ", ".join(empty))


def oversample_indices(cells: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row indices that grow every non-empty cell to the size of the largest.

    The original rows come first, in order; then, cell by cell, ``m // n``
    full copies and ``m % n`` rows drawn without replacement.
    """
    counts = np.bincount(cells)
    target = int(counts.max())
    extra = []
    for c in np.flatnonzero(counts):
        rows = np.flatnonzero(cells == c)
        need = target - len(rows)
        q, r = divmod(need, len(rows))
        extra.append(np.tile(rows, q))
        extra.append(np.sort(rng.choice(rows, size=r, replace=False)))
    return np.concatenate([np.arange(len(cells)), *extra]).astype(np.int64)


class OversampleParams(MethodParams):
    """Oversample has no parameters: the cells and their target size follow from the data."""


@register
class Oversample(Method[OversampleParams]):
    """Replicate rows until every (group, label) cell is as large as the largest."""

    name = "oversample"
    aliases = ("Oversample",)
    stage = "pre"
    paper = "RUNNER baseline (Li et al., ICSE 2024); per-(group, label) random oversampling"

    def prepare(self, train: TabularData, seed: int) -> TabularData:
        require_binary(train, self.name)
        cells = cell_ids(train)
        warn_empty_cells(train, cells, self.name)
        idx = oversample_indices(cells, np.random.default_rng(seed))
        return train.subset(idx)
