"""Train/validation/test splits by seed, stratified on (label, group).

:func:`stratified_indices` draws the split; :func:`build_splits` runs the whole
``clean`` pipeline on a raw frame: schema from the whole frame, split, statistics
from the training rows only, then the three :class:`~fairnn.datasets.core.TabularData`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairnn.datasets.core import Splits, TabularData
from fairnn.datasets.preprocess import Preprocessor
from fairnn.errors import ConfigError, InvalidValueError
from fairnn.validation import check_seed

DEFAULT_VAL_SIZE = 0.2
DEFAULT_TEST_SIZE = 0.2
#: Fewest rows :func:`build_splits` splits into train/val/test.
MIN_ROWS = 10


def check_fractions(val_size: float, test_size: float) -> None:
    """``0 <= val_size``, ``0 < test_size`` and ``val_size + test_size < 1``."""
    for name, v in (("val_size", val_size), ("test_size", test_size)):
        if not isinstance(v, int | float) or isinstance(v, bool) or not np.isfinite(v):
            raise ConfigError(f"{name} must be a number between 0 and 1, got {v!r}")
    if not 0.0 <= val_size < 1.0:
        raise ConfigError(f"val_size must be in [0, 1), got {val_size}")
    if not 0.0 < test_size < 1.0:
        raise ConfigError(f"test_size must be in (0, 1), got {test_size}")
    if val_size + test_size >= 1.0:
        raise ConfigError(
            f"val_size + test_size must leave rows for training; got {val_size} + {test_size} >= 1"
        )


def stratified_indices(
    strata: np.ndarray,
    *,
    seed: int,
    val_size: float = DEFAULT_VAL_SIZE,
    test_size: float = DEFAULT_TEST_SIZE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of train, val and test, stratified on ``strata`` (one integer per row).

    Within each stratum (in sorted order) the rows are permuted with
    ``numpy.random.default_rng(seed)``; ``round(n * test_size)`` go to test and
    ``round(n * val_size)`` to val (half rounds up), the rest to train. A stratum of
    one or two rows therefore stays in train. Each returned array is sorted, so the
    splits keep the row order of the frame.
    """
    check_fractions(val_size, test_size)
    check_seed(seed)
    strata = np.asarray(strata)
    rng = np.random.default_rng(seed)
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    order = np.argsort(strata, kind="stable")
    keys, starts = np.unique(strata[order], return_index=True)
    bounds = [*starts.tolist(), len(strata)]
    for k in range(len(keys)):  # one iteration per stratum, not per row
        idx = rng.permutation(order[bounds[k] : bounds[k + 1]])
        n = len(idx)
        n_test = int(np.floor(n * test_size + 0.5))
        n_val = min(int(np.floor(n * val_size + 0.5)), n - n_test)
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test : n_test + n_val])
        parts[0].append(idx[n_test + n_val :])
    train, val, test = (
        np.sort(np.concatenate(p)) if p else np.zeros(0, dtype=np.int64) for p in parts
    )
    return train.astype(np.int64), val.astype(np.int64), test.astype(np.int64)


def group_label_counts(data: TabularData) -> dict[str, dict[str, int]]:
    """Rows per group (and per label for binary tasks), for ``Splits.info``."""
    _, y, s = data.numpy()
    out: dict[str, dict[str, int]] = {}
    for g, label in enumerate(data.groups.labels):
        m = s == g
        row = {"rows": int(m.sum())}
        if data.task == "binary":
            row["positive"] = int((y[m] == 1).sum())
        out[label] = row
    return out


def _check_not_empty(
    what: str,
    strata: np.ndarray,
    val: np.ndarray,
    test: np.ndarray,
    val_size: float,
    test_size: float,
    cells: str,
) -> None:
    """Refuse a stratified split that leaves validation or test without rows."""
    for split, idx, frac in (("val", val, val_size), ("test", test, test_size)):
        if frac > 0 and len(idx) == 0:
            need = math.ceil(0.5 / frac)  # a stratum of n rows gives round(n * frac) rows
            raise InvalidValueError(
                f"the {split} split of {what} gets no rows: its {len(strata)} rows fall into "
                f"{len(np.unique(strata))} {cells}, and each needs at least {need} "
                f"rows to give one to {split} (with {split}_size={frac}). Fix: use more rows, or "
                "fewer or larger groups"
            )


def build_splits(
    frame: pd.DataFrame,
    pre: Preprocessor,
    *,
    seed: int = 0,
    val_size: float = DEFAULT_VAL_SIZE,
    test_size: float = DEFAULT_TEST_SIZE,
    name: str = "",
    indices: tuple[Sequence[int], Sequence[int], Sequence[int]] | None = None,
    info: Mapping[str, Any] | None = None,
) -> Splits:
    """Split ``frame`` and preprocess it with ``pre`` (schema: whole frame; statistics: train).

    The split is stratified on (label, group) for a binary task and on the group for
    regression, unless explicit row ``indices`` (train, val, test) are given.
    """
    frame = frame.reset_index(drop=True)
    what = (info or {}).get("source") or name or "the data"
    if indices is None and len(frame) < MIN_ROWS:
        dropped = (info or {}).get("dropped_rows") or 0
        after = f" after dropping {dropped} with missing values" if dropped else ""
        raise InvalidValueError(
            f"{what} has {len(frame)} data row(s){after}; splitting it into train, validation "
            f"and test needs at least {MIN_ROWS} (more for a useful model). Fix: use a larger table"
        )
    pre.fit_schema(frame)
    y = pre.encode_label(frame)
    s = pre.encode_groups(frame)
    if indices is None:
        strata = s * 2 + y.astype(np.int64) if pre.task == "binary" else s
        tr, va, te = stratified_indices(strata, seed=seed, val_size=val_size, test_size=test_size)
        split_kind = (
            "stratified on (label, group)" if pre.task == "binary" else "stratified on group"
        )
        cells = "(label, group) cells" if pre.task == "binary" else "groups"
        _check_not_empty(what, strata, va, te, val_size, test_size, cells)
    else:
        tr, va, te = (np.asarray(i, dtype=np.int64) for i in indices)
        split_kind = "given indices"
    if len(tr) == 0:
        raise ConfigError(f"the split leaves no training rows ({len(frame)} rows in total)")
    pre.fit_stats(frame.iloc[tr])
    prefix = f"{name}/" if name else ""
    train = pre.transform(frame.iloc[tr], name=f"{prefix}train")
    val = pre.transform(frame.iloc[va], name=f"{prefix}val")
    test = pre.transform(frame.iloc[te], name=f"{prefix}test")
    base: dict[str, Any] = {
        "task": pre.task,
        "label": pre.label,
        "positive_label": pre.positive_label,
        "sensitive": list(pre.sensitive),
        "group_labels": list(pre.group_labels),
        "raw_features": pre.raw_features,
        "n_features": train.n_features,
        "include_sensitive": pre.include_sensitive,
        "seed": seed,
        "val_size": val_size,
        "test_size": test_size,
        "split": split_kind,
        "rows": {"total": len(frame), "train": len(train), "val": len(val), "test": len(test)},
        "groups": {
            k: group_label_counts(v) for k, v in (("train", train), ("val", val), ("test", test))
        },
    }
    base.update(info or {})
    return Splits(train=train, val=val, test=test, preprocessor=pre, info=base)
