"""Input validation and conversion shared by every metric.

Everything a metric receives goes through here once: labels, predictions and
scores become 1-D ``float64`` numpy arrays; sensitive features become integer
group codes plus the group labels they stand for; sample weights are checked.
Every problem raises :class:`fairnn.errors.InvalidValueError` with a message
that names the argument, says what was found, and what to do.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from fairnn.errors import InvalidValueError

__all__ = [
    "Groups",
    "UndefinedMetricWarning",
    "check_binary",
    "check_class_ids",
    "check_finite",
    "check_same_length",
    "encode_groups",
    "to_1d_float",
    "to_class_ids",
    "validate_weights",
]

_MAX_LISTED = 10


class UndefinedMetricWarning(UserWarning):
    """A metric, or one group's rate inside a gap, is undefined on the given data.

    Raised as a warning (not an error) because it depends on the data, not on
    the call: e.g. a group with no positives has no true-positive rate, so that
    group is ignored for the TPR part of a gap; AUC needs both classes.
    """


_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _warn(message: str) -> None:
    """Warn with :class:`UndefinedMetricWarning`, attributed to the first caller outside this package."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PKG_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UndefinedMetricWarning, stacklevel=level)


def _list_values(values: np.ndarray) -> str:
    shown = [v.item() if hasattr(v, "item") else v for v in values[:_MAX_LISTED]]
    more = f" and {len(values) - _MAX_LISTED} more" if len(values) > _MAX_LISTED else ""
    return f"{shown}{more}"


def _to_numpy(x: Any) -> np.ndarray:
    """Any array-like (list, numpy, pandas, torch) as a numpy array, no dtype change."""
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.to(torch.float32)
        return t.numpy()
    if isinstance(x, pd.DataFrame | pd.Series | pd.Index):
        return x.to_numpy()
    return np.asarray(x)


def to_1d_float(x: Any, name: str) -> np.ndarray:
    """Convert ``x`` (list, numpy, pandas, torch) to a 1-D ``float64`` numpy array.

    Accepts shape ``(n,)`` or ``(n, 1)``; a pandas DataFrame must have one
    column. Booleans become 0/1. Raises :class:`InvalidValueError` for ``None``,
    scalars, other shapes, empty input and non-numeric values.
    """
    if x is None:
        raise InvalidValueError(f"{name} is None; pass an array-like of numbers.")
    if isinstance(x, pd.DataFrame):
        if x.shape[1] != 1:
            raise InvalidValueError(
                f"{name} is a DataFrame with {x.shape[1]} columns; pass a single column "
                f"(a Series or 1-D array)."
            )
        x = x.iloc[:, 0]
    if isinstance(x, pd.Series) and not isinstance(x.dtype, np.dtype):
        # pandas extension dtypes (nullable Int64, boolean, ...): missing -> NaN
        try:
            x = x.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as err:
            raise InvalidValueError(
                f"{name} must be numeric; its dtype is {x.dtype}. Map the labels to 0/1 "
                f"(e.g. y == '>50K') before computing metrics."
            ) from err
    arr = _to_numpy(x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        what = "a scalar" if arr.ndim == 0 else f"an array of shape {arr.shape}"
        raise InvalidValueError(f"{name} must be 1-D (shape (n,) or (n, 1)); got {what}.")
    if arr.shape[0] == 0:
        raise InvalidValueError(f"{name} is empty; metrics need at least one row.")
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64, copy=False)
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError) as err:
        bad = next((v for v in arr if not _is_number(v)), arr[0])
        raise InvalidValueError(
            f"{name} must be numeric; found non-numeric values such as {bad!r}. Map the "
            f"labels to 0/1 (e.g. y == '>50K') before computing metrics."
        ) from err


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise if ``arr`` holds NaN or ±inf, naming ``name`` and the counts."""
    finite = np.isfinite(arr)
    if finite.all():
        return
    n_nan = int(np.isnan(arr).sum())
    n_inf = int((~finite).sum()) - n_nan
    first = int(np.flatnonzero(~finite)[0])
    parts = []
    if n_nan:
        parts.append(f"{n_nan} NaN")
    if n_inf:
        parts.append(f"{n_inf} infinite")
    raise InvalidValueError(
        f"{name} contains {' and '.join(parts)} value(s) out of {arr.shape[0]} (first at "
        f"index {first}); drop or impute those rows before computing metrics."
    )


def check_binary(arr: np.ndarray, name: str, *, context: str = "", hint: str = "") -> None:
    """Raise unless every value of ``arr`` is 0 or 1, listing the values found."""
    ok = (arr == 0) | (arr == 1)
    if ok.all():
        return
    found = np.unique(arr[np.isfinite(arr)])
    where = f" for {context}" if context else ""
    fix = hint or "map them to 0/1 first (1 = positive class)"
    raise InvalidValueError(
        f"{name} must contain only 0 and 1{where}; found values {_list_values(found)}; {fix}."
    )


def check_class_ids(arr: np.ndarray, name: str, *, context: str = "") -> None:
    """Raise unless every value of ``arr`` is a whole number (a class id), listing others."""
    ok = arr == np.round(arr)
    if ok.all():
        return
    found = np.unique(arr[~ok])
    where = f" for {context}" if context else ""
    raise InvalidValueError(
        f"{name} must hold class ids (whole numbers){where}; found values "
        f"{_list_values(found)}; pass the class of each row, e.g. scores.argmax(1)."
    )


def to_class_ids(x: Any, name: str) -> Any:
    """Class scores ``(n, K)`` (K > 1) as the id of their largest column; other input as is.

    The multiclass counterpart of thresholding a score: ties go to the first column.
    """
    arr = _to_numpy(x)
    if arr.ndim != 2 or arr.shape[1] < 2:
        return x
    arr = arr.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if bad.size:
        raise InvalidValueError(
            f"{name} has NaN or infinite class scores in {bad.size} row(s) (first at index "
            f"{int(bad[0])}); drop or impute those rows before computing metrics."
        )
    return arr.argmax(axis=1)


def check_same_length(**arrays: np.ndarray | None) -> int:
    """Raise unless all given (non-None) arrays have the same length; return it."""
    lengths = {k: int(v.shape[0]) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        names = " and ".join(lengths)
        raise InvalidValueError(
            f"{names} must have the same length (one entry per row); {desc} rows."
        )
    return next(iter(lengths.values()))


def validate_weights(sample_weight: Any, n: int, *, name: str = "sample_weight") -> np.ndarray:
    """Return ``sample_weight`` as a float array of length ``n`` (ones when ``None``).

    Weights must be finite and non-negative and sum to a positive number.
    """
    if sample_weight is None:
        return np.ones(n, dtype=np.float64)
    w = to_1d_float(sample_weight, name)
    if w.shape[0] != n:
        raise InvalidValueError(
            f"{name} must have one weight per row; {name} has {w.shape[0]} entries but "
            f"y_true has {n} rows."
        )
    check_finite(w, name)
    neg = w < 0
    if neg.any():
        raise InvalidValueError(
            f"{name} has {int(neg.sum())} negative value(s) (smallest {w.min():g}); weights "
            f"must be >= 0. Use 0 to drop a row."
        )
    if not w.sum() > 0:
        raise InvalidValueError(f"{name} sums to 0; at least one row needs a positive weight.")
    return w


@dataclass
class Groups:
    """Sensitive features encoded as group ids.

    ``codes[i]`` is the group of row ``i`` (``0 .. n_groups - 1``); ``labels[g]``
    is what group ``g`` stands for: the raw value for one sensitive feature, a
    tuple of raw values for several (their intersection). Only combinations
    that occur in the data are groups. ``names`` are the feature names (pandas
    names if given, else ``sensitive_feature_<i>`` as fairlearn does).
    """

    codes: np.ndarray
    labels: list[Any]
    names: list[str]
    _onehot: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_groups(self) -> int:
        return len(self.labels)

    @property
    def onehot(self) -> np.ndarray:
        """``(n, n_groups)`` float indicator matrix, cached."""
        if self._onehot is None:
            oh = np.zeros((self.codes.shape[0], self.n_groups), dtype=np.float64)
            oh[np.arange(self.codes.shape[0]), self.codes] = 1.0
            self._onehot = oh
        return self._onehot

    def label_str(self, g: int) -> str:
        """Readable label of group ``g`` (``name=value, ...`` for intersections)."""
        lab = self.labels[g]
        if len(self.names) == 1:
            return str(lab)
        return ", ".join(f"{n}={v}" for n, v in zip(self.names, lab, strict=True))

    def describe(self, gs: Sequence[int] | np.ndarray) -> str:
        return "[" + "; ".join(self.label_str(int(g)) for g in gs) + "]"

    def subset(self, rows: np.ndarray) -> Groups:
        """The same group labelling restricted to ``rows`` (ids kept, none dropped)."""
        return Groups(self.codes[rows], self.labels, self.names)


def _is_column(x: Any) -> bool:
    return isinstance(x, np.ndarray | pd.Series | pd.Index | torch.Tensor)


def _columns(sf: Any, name: str, n: int) -> tuple[list[np.ndarray], list[str]]:
    """Split ``sf`` into its 1-D columns and their names."""
    if isinstance(sf, pd.DataFrame):
        names = [str(c) for c in sf.columns]
        return [sf.iloc[:, j].to_numpy() for j in range(sf.shape[1])], names
    if isinstance(sf, pd.Series):
        return [sf.to_numpy()], [str(sf.name) if sf.name is not None else "sensitive_feature_0"]
    if isinstance(sf, Mapping):
        cols = [_to_numpy(v) for v in sf.values()]
        return cols, [str(k) for k in sf]
    if isinstance(sf, list | tuple) and len(sf) > 0 and all(_is_column(c) for c in sf):
        cols = [_to_numpy(c) for c in sf]
        if all(c.ndim == 1 and c.shape[0] == n for c in cols):
            return cols, [
                str(c.name)
                if isinstance(c, pd.Series) and c.name is not None
                else f"sensitive_feature_{j}"
                for j, c in enumerate(sf)
            ]
    arr = _to_numpy(sf)
    if arr.ndim == 1:
        return [arr], ["sensitive_feature_0"]
    if arr.ndim == 2:
        return [arr[:, j] for j in range(arr.shape[1])], [
            f"sensitive_feature_{j}" for j in range(arr.shape[1])
        ]
    raise InvalidValueError(
        f"{name} must be 1-D (one label per row) or 2-D (one column per sensitive "
        f"attribute); got an array of shape {arr.shape}."
    )


def _factorize(col: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    if col.ndim != 1:
        raise InvalidValueError(f"each column of {name} must be 1-D; got shape {col.shape}.")
    missing = pd.isna(col)
    if missing.any():
        raise InvalidValueError(
            f"{name} has {int(missing.sum())} missing value(s) (None/NaN) (first at index "
            f"{int(np.flatnonzero(missing)[0])}); give them an explicit group label or drop "
            f"those rows."
        )
    try:
        codes, uniques = pd.factorize(col, sort=True)
    except TypeError:  # mixed, unorderable labels: keep first-seen order
        codes, uniques = pd.factorize(col, sort=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def encode_groups(
    sensitive_features: Any,
    n: int,
    *,
    name: str = "sensitive_features",
    min_groups: int = 2,
    n_name: str = "y_true",
) -> Groups:
    """Encode ``sensitive_features`` as integer group ids.

    ``sensitive_features`` may be 1-D (any hashable labels: strings, ints,
    bools; a list, numpy array, pandas Series or torch tensor) or 2-D: a
    DataFrame, an ``(n, k)`` array, a list of lists (one inner list per row),
    a list/tuple of 1-D arrays, Series or tensors (one per attribute), or a
    dict ``{name: column}``. With several columns each group is one observed
    combination of values (their intersection), as in fairlearn. Groups are
    sorted by label where labels are orderable.

    Raises if the length differs from ``n``, a label is missing (None/NaN), or
    there are fewer than ``min_groups`` groups.
    """
    if sensitive_features is None:
        raise InvalidValueError(
            f"{name} is required for group metrics; pass one group label per row."
        )
    cols, names = _columns(sensitive_features, name, n)
    for c in cols:
        if c.shape[0] != n:
            raise InvalidValueError(
                f"{name} and {n_name} must have the same length (one entry per row); "
                f"{name} has {c.shape[0]} rows, {n_name} has {n}."
            )
    per_col = [_factorize(c, name) for c in cols]
    if len(per_col) == 1:
        codes, uniques = per_col[0]
        labels = [_py(u) for u in uniques]
        # drop nothing: factorize only returns observed values
    else:
        dims = tuple(len(u) for _, u in per_col)
        flat = np.ravel_multi_index(tuple(c for c, _ in per_col), dims)
        observed, codes = np.unique(flat, return_inverse=True)
        idx = np.unravel_index(observed, dims)
        labels = [
            tuple(_py(per_col[j][1][idx[j][g]]) for j in range(len(per_col)))
            for g in range(observed.shape[0])
        ]
        codes = codes.astype(np.int64)
    if len(labels) < min_groups:
        found = labels[0] if labels else None
        raise InvalidValueError(
            f"{name} has only {len(labels)} distinct group ({found!r}); a gap between "
            f"groups needs at least two groups. Check the column, or compute a "
            f"performance metric instead."
        )
    return Groups(codes=codes, labels=labels, names=names)
