"""Fair-SMOTE (Chakraborty, Majumder & Menzies, "Bias in machine learning software:
why? how? what to do?", ESEC/FSE 2021, the Fair-SMOTE section and its
pseudocode; code joymallyac/Fair-SMOTE ``Generate_Samples.py``,
``Fair-SMOTE/Adult_Sex.py`` and ``Fair_Situation_Testing/``).

Two steps, both on the training split:

1. **Balance the (label, group) cells by synthesis.** Every non-empty cell is
   grown to the size of the largest. Each synthetic row starts from a random
   *parent* of the cell and its two nearest neighbours ``c1``, ``c2`` in the
   same cell (scikit-learn ``NearestNeighbors`` on the model inputs; the
   nearest hit is the parent itself, so the next two are used, as in the
   code). Column by column, with probability ``cr`` (crossover frequency,
   0.8) the value changes, otherwise the parent's is kept:

   * continuous and integer columns: ``parent + f · (c1 − c2)`` (mutation
     amount ``f`` = 0.8), clipped to the feature's bounds; integer columns are
     rounded in raw units;
   * binary columns and whole one-hot blocks: taken from one of the three rows
     at random, so a block always stays a valid one-hot vector (never an
     average of vectors).

2. **Situation testing.** A logistic regression is fitted on the balanced data
   with the group as an input (``[X, onehot(s)]``); each row's group is then
   changed, and rows whose predicted label changes are dropped.

Differences from the official code, and why:

* The code mutates every numeric column (its ``cr`` check is only on boolean
  columns) and takes ``abs()`` of the result, because its data are MinMax
  scaled to [0, 1]. fairnn applies ``cr`` to every column (a column changes
  with probability ``cr``), our reading of the paper's crossover frequency
  (the paper's full text was not at hand to check its pseudocode), and clips
  to the feature's recorded bounds instead of ``abs()`` (a standardised
  feature may be negative). Its boolean branch flips
  the parent's value; its string branch (sex, race) picks one of the three rows:
  fairnn does the latter for every categorical value (binary or one-hot).
* The code (Adult) drops all categorical features and bins age before
  balancing; fairnn keeps the recipe's features and keeps one-hot blocks valid.
* The code's situation test uses liblinear logistic regression on the raw
  columns; fairnn uses scikit-learn's default (lbfgs, C = 1) on the model
  inputs. Input columns derived from the grouping attribute (rare; recipes
  drop them) are left out of that regression, since flipping the group would
  not change them.
* **More than two groups** (the paper flips a binary attribute): a row is
  dropped when changing its group to *any* other group changes the
  prediction. Cells with fewer than three rows use the neighbours they have
  (a one-row cell yields copies of that row); empty cells stay empty (a
  warning is logged).
* Binary labels only (the cells are (label, group) pairs).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import torch
from pydantic import Field

from fairnn.datasets.core import TabularData
from fairnn.methods.base import Method, MethodParams, register
from fairnn.methods.oversample import cell_ids, require_binary, warn_empty_cells

log = logging.getLogger(__name__)


class FairSmoteParams(MethodParams):
    cr: float = Field(0.8, ge=0, le=1, description="crossover frequency: P(a column changes)")
    f: float = Field(0.8, gt=0, le=1, description="mutation amount: parent + f·(c1 − c2)")
    situation_testing: bool = Field(
        True, description="drop rows whose prediction flips with the group"
    )


def _column_roles(data: TabularData) -> tuple[list[int], list[int], list[list[int]], list[int]]:
    """(numeric, binary, one-hot blocks, copied-from-parent) column indices."""
    feats = data.features
    attrs = set(data.groups.attributes)
    copied = [i for i, f in enumerate(feats) if f.source in attrs]
    blocks = [[i for i in cols if i not in copied] for cols in feats.blocks().values()]
    blocks = [b for b in blocks if b]
    numeric = [
        i for i, f in enumerate(feats) if f.kind in ("continuous", "integer") and i not in copied
    ]
    binary = [i for i, f in enumerate(feats) if f.kind == "binary" and i not in copied]
    return numeric, binary, blocks, copied


def synthesize(
    data: TabularData, rng: np.random.Generator, cr: float = 0.8, f: float = 0.8
) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic rows that grow every non-empty (label, group) cell to the largest.

    Returns ``(X_new, parent)``: the new rows and, for each, the index of its
    parent row in ``data`` (its cell, label and weight follow the parent).
    """
    from sklearn.neighbors import NearestNeighbors  # scikit-learn loads only when used

    X = data.X.detach().cpu().numpy().astype(np.float64)
    cells = cell_ids(data)
    counts = np.bincount(cells)
    target = int(counts.max())
    numeric, binary, blocks, _ = _column_roles(data)
    feats = data.features
    lower, upper = feats.lower, feats.upper
    integer = [i for i in numeric if feats[i].kind == "integer"]
    out_X, out_parent = [], []
    for c in np.flatnonzero(counts):
        rows = np.flatnonzero(cells == c)
        need = target - len(rows)
        if need == 0:
            continue
        Xc = X[rows]
        k = min(3, len(rows))
        parents = rng.integers(len(rows), size=need)
        nbrs = NearestNeighbors(n_neighbors=k).fit(Xc)
        hits = nbrs.kneighbors(Xc[parents], n_neighbors=k, return_distance=False)
        c1, c2 = hits[:, min(1, k - 1)], hits[:, min(2, k - 1)]
        P, A, B = Xc[parents], Xc[c1], Xc[c2]
        new = P.copy()
        if numeric:
            change = rng.random((need, len(numeric))) < cr
            mutated = P[:, numeric] + f * (A[:, numeric] - B[:, numeric])
            new[:, numeric] = np.where(change, mutated, P[:, numeric])
        # categorical values (binary columns and whole one-hot blocks) come from
        # one of the three rows: 0 parent, 1 c1, 2 c2
        trio = np.stack([P, A, B])
        for cols in [[i] for i in binary] + blocks:
            change = rng.random(need) < cr
            pick = np.where(change, rng.integers(3, size=need), 0)
            new[:, cols] = trio[pick, np.arange(need)][:, cols]
        for i in integer:
            fe = feats[i]
            raw = np.round(new[:, i] * fe.scale + fe.offset)
            new[:, i] = (raw - fe.offset) / fe.scale
        new[:, numeric] = np.clip(new[:, numeric], lower[numeric], upper[numeric])
        out_X.append(new)
        out_parent.append(rows[parents])
    if not out_X:
        return np.zeros((0, X.shape[1])), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_X), np.concatenate(out_parent).astype(np.int64)


def situation_test(data: TabularData) -> np.ndarray:
    """Boolean mask of the rows to keep: the prediction does not depend on the group.

    A logistic regression on ``[X, onehot(s)]`` (without input columns derived
    from the grouping attribute); a row is dropped when assigning it any other
    group changes its predicted label.
    """
    from sklearn.linear_model import LogisticRegression  # scikit-learn loads only when used

    X, y, s = data.numpy()
    _, _, _, copied = _column_roles(data)
    keep_cols = [i for i in range(X.shape[1]) if i not in copied]
    k = data.groups.n_groups
    base = X[:, keep_cols].astype(np.float64)

    def design(groups: np.ndarray) -> np.ndarray:
        return np.hstack([base, np.eye(k)[groups]])

    clf = LogisticRegression(C=1.0, max_iter=1000)
    clf.fit(design(s), y.astype(np.int64))
    pred = clf.predict(design(s))
    keep = np.ones(len(s), dtype=bool)
    for g in range(k):
        other = s != g
        if not other.any():
            continue
        flipped = clf.predict(design(np.full(len(s), g)))
        keep &= ~(other & (flipped != pred))
    return keep


@register
class FairSmote(Method[FairSmoteParams]):
    """Balance (label, group) cells with SMOTE-like synthesis, then situation testing."""

    name = "fairsmote"
    aliases = ("Fair-SMOTE", "FairSmote", "fair_smote")
    stage = "pre"
    paper = "Chakraborty, Majumder & Menzies, ESEC/FSE 2021 (Fair-SMOTE)"

    def prepare(self, train: TabularData, seed: int) -> TabularData:
        p = self.params
        require_binary(train, self.name)
        warn_empty_cells(train, cell_ids(train), self.name)
        rng = np.random.default_rng(seed)
        X_new, parent = synthesize(train, rng, p.cr, p.f)
        idx = torch.as_tensor(parent, device=train.X.device)
        w = train.sample_weight
        balanced = replace(
            train,
            X=torch.cat(
                [train.X, torch.as_tensor(X_new, dtype=train.X.dtype, device=train.X.device)]
            ),
            y=torch.cat([train.y, train.y[idx]]),
            s=torch.cat([train.s, train.s[idx]]),
            sample_weight=None if w is None else torch.cat([w, w[idx]]),
        )
        if not p.situation_testing:
            return balanced
        keep = situation_test(balanced)
        log.info(
            "fairsmote: %d synthetic rows; situation testing drops %d of %d",
            len(parent),
            int((~keep).sum()),
            len(keep),
        )
        return balanced.subset(np.flatnonzero(keep))
