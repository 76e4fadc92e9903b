"""Numeric arrays as a :class:`~fairnn.datasets.core.TabularData`, features used as they are.

:func:`from_frame` preprocesses raw columns (one-hot, standardisation). The two
entry points that meet data someone else prepared (the scikit-learn estimator,
and a model the user trained on their own encoding) must not: the numbers are
the model's inputs. :func:`tabular_from_arrays` checks them (2-D, finite, a 0/1
label, at least two groups, matching lengths), encodes the sensitive features
into group ids (several columns: their intersection, labelled ``"a & b"``) and
records every column as a continuous feature bounded by its observed range.
:func:`numeric_splits` splits such data into train/val/test, stratified on
(label, group), for the repair and audit paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from fairnn.datasets.core import Feature, FeatureMeta, GroupInfo, Splits, TabularData
from fairnn.datasets.splits import DEFAULT_TEST_SIZE, DEFAULT_VAL_SIZE, stratified_indices
from fairnn.errors import ColumnError, InvalidValueError

__all__ = ["encode_sensitive", "numeric_splits", "tabular_from_arrays", "table_as_numeric"]


def _as_columns(sensitive_features: Any, n: int) -> tuple[list[str], list[np.ndarray]]:
    """Sensitive features as (attribute names, one object array per attribute)."""
    sf = sensitive_features
    if sf is None:
        raise InvalidValueError(
            "sensitive_features is missing: pass one value per row (a list, array or Series), "
            "or a DataFrame / 2-D array for intersections of several attributes"
        )
    if isinstance(sf, pd.DataFrame):
        names = [str(c) for c in sf.columns]
        cols = [sf[c].to_numpy(dtype=object) for c in sf.columns]
    elif isinstance(sf, pd.Series):
        names = [str(sf.name) if sf.name is not None else "sensitive"]
        cols = [sf.to_numpy(dtype=object)]
    else:
        arr = np.asarray(sf.detach().cpu().numpy() if isinstance(sf, torch.Tensor) else sf)
        if arr.ndim == 1:
            names, cols = ["sensitive"], [arr.astype(object)]
        elif arr.ndim == 2:
            names = [f"sensitive_{j}" for j in range(arr.shape[1])]
            cols = [arr[:, j].astype(object) for j in range(arr.shape[1])]
        else:
            raise InvalidValueError(
                f"sensitive_features must be 1-D (one attribute) or 2-D (several), got shape "
                f"{arr.shape}"
            )
    for name, col in zip(names, cols, strict=True):
        if col.shape[0] != n:
            raise InvalidValueError(
                f"sensitive_features has {col.shape[0]} rows but X has {n}; pass one value per row"
            )
        missing = pd.isna(pd.Series(col)).to_numpy()
        if missing.any():
            raise InvalidValueError(
                f"sensitive feature {name!r} has {int(missing.sum())} missing value(s); drop or "
                "fill those rows"
            )
    return names, cols


def encode_sensitive(
    sensitive_features: Any, n: int, labels: Sequence[str] | None = None
) -> tuple[np.ndarray, GroupInfo]:
    """Group ids and their :class:`GroupInfo` for ``n`` rows.

    Without ``labels`` the groups are the observed values (intersections of several
    columns), sorted, and there must be at least two. With ``labels`` (a fitted
    model's groups) every row must belong to one of them.
    """
    names, cols = _as_columns(sensitive_features, n)
    text = [np.array([str(v) for v in col], dtype=object) for col in cols]
    joined = (
        text[0]
        if len(text) == 1
        else np.array([" & ".join(t) for t in zip(*text, strict=True)], dtype=object)
    )
    if labels is None:
        found = sorted(set(joined.tolist()))
        if len(found) < 2:
            raise InvalidValueError(
                f"sensitive_features has only one group ({found[0] if found else 'none'!r}); "
                "fairness needs at least two groups: check the column, or the rows you selected"
            )
        labels = found
    lookup = {lab: i for i, lab in enumerate(labels)}
    s = np.fromiter((lookup.get(v, -1) for v in joined), dtype=np.int64, count=n)
    if (s < 0).any():
        unknown = sorted(set(joined[s < 0].tolist()))[:5]
        raise InvalidValueError(
            f"sensitive_features holds group(s) {unknown} unseen when the model was fitted; "
            f"known groups: {list(labels)}"
        )
    return s, GroupInfo(tuple(names), tuple(str(lab) for lab in labels))


def _float_matrix(X: Any, feature_names: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns] if feature_names is None else list(feature_names)
        bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c].dtype)]
        if bad:
            raise ColumnError(
                f"column(s) {[str(c) for c in bad[:5]]} are not numeric; a model's inputs must be "
                "numbers: encode them first (or use fairnn.datasets.from_frame, which does)"
            )
        arr = X.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        arr = np.asarray(X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X)
        if arr.ndim != 2:
            raise InvalidValueError(f"X must be 2-D (rows, features), got shape {arr.shape}")
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as e:
            raise InvalidValueError(f"X must hold numbers: {e}") from None
        names = (
            [f"x{i}" for i in range(arr.shape[1])] if feature_names is None else list(feature_names)
        )
    if len(names) != arr.shape[1]:
        raise InvalidValueError(
            f"{len(names)} feature names for {arr.shape[1]} columns of X; pass one name per column"
        )
    bad_cols = np.flatnonzero(~np.isfinite(arr).all(0))
    if bad_cols.size:
        raise InvalidValueError(
            f"X contains NaN or inf in column(s) {[names[i] for i in bad_cols[:5]]}; impute or "
            "drop those rows"
        )
    return arr, names


def _binary_label(y: Any, n: int, label: str) -> np.ndarray:
    arr = np.asarray(y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InvalidValueError(
            f"the label {label!r} must have shape ({n},) to match X, got {arr.shape}"
        )
    try:
        yf = arr.astype(np.float64)
    except (TypeError, ValueError):
        yf = np.array([np.nan])
    if not np.isfinite(yf).all() or not set(np.unique(yf).tolist()) <= {0.0, 1.0}:
        vals = pd.unique(pd.Series(arr.tolist())).tolist()[:10]
        raise InvalidValueError(
            f"the label {label!r} must be 0/1 (binary), found values {vals}; map the positive "
            "class to 1 (e.g. positive_label=...) and drop rows without a label"
        )
    return yf


def tabular_from_arrays(
    X: Any,
    y: Any,
    sensitive_features: Any,
    *,
    feature_names: Sequence[str] | None = None,
    group_labels: Sequence[str] | None = None,
    sample_weight: Any = None,
    label: str = "label",
    name: str = "arrays",
) -> TabularData:
    """``X`` (numbers, used as they are), 0/1 ``y`` and sensitive features as a TabularData."""
    arr, names = _float_matrix(X, feature_names)
    n = arr.shape[0]
    if n == 0:
        raise InvalidValueError("X has no rows")
    yf = _binary_label(y, n, label)
    s, groups = encode_sensitive(sensitive_features, n, group_labels)
    lo, hi = arr.min(0), arr.max(0)
    features = FeatureMeta(
        tuple(
            Feature(nm, nm, "continuous", lower=float(a), upper=float(b))
            for nm, a, b in zip(names, lo, hi, strict=True)
        )
    )
    w = None
    if sample_weight is not None:
        w_arr = np.asarray(sample_weight, dtype=np.float64)
        if w_arr.shape != (n,):
            raise InvalidValueError(f"sample_weight must have shape ({n},), got {w_arr.shape}")
        if not np.isfinite(w_arr).all() or (w_arr < 0).any():
            raise InvalidValueError("sample_weight must be finite and non-negative")
        w = torch.as_tensor(w_arr, dtype=torch.float32)
    return TabularData(
        X=torch.tensor(arr, dtype=torch.float32),
        y=torch.tensor(yf, dtype=torch.float32),
        s=torch.as_tensor(s),
        features=features,
        groups=groups,
        label=label,
        sample_weight=w,
        name=name,
    )


def table_as_numeric(
    frame: pd.DataFrame,
    *,
    label: str,
    sensitive: str | Sequence[str],
    features: Sequence[str] | None = None,
    positive_label: Any = None,
    name: str = "table",
) -> TabularData:
    """A table whose feature columns are already a model's numeric inputs.

    ``features`` picks and orders the input columns (default: every column but the
    label and the sensitive ones, in file order). The label is mapped to 0/1 with
    ``positive_label`` when given.
    """
    sens = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    missing = [c for c in [label, *sens, *(features or [])] if c not in frame.columns]
    if missing:
        raise ColumnError(
            f"column(s) {missing} are not in the table; its columns are {list(frame.columns)[:20]}"
        )
    cols = (
        list(features)
        if features is not None
        else [c for c in frame.columns if c != label and c not in sens]
    )
    yraw = frame[label]
    if yraw.isna().any():
        raise InvalidValueError(
            f"the label {label!r} has {int(yraw.isna().sum())} missing value(s); drop those rows"
        )
    y = (yraw == positive_label).astype(np.float64) if positive_label is not None else yraw
    sf = frame[sens[0]] if len(sens) == 1 else frame[sens]
    return tabular_from_arrays(frame[cols], y, sf, label=label, name=name)


def numeric_splits(
    data: TabularData,
    *,
    seed: int = 0,
    val_size: float = DEFAULT_VAL_SIZE,
    test_size: float = DEFAULT_TEST_SIZE,
    info: dict[str, Any] | None = None,
    indices: tuple[Sequence[int], Sequence[int], Sequence[int]] | None = None,
) -> Splits:
    """train/val/test of ``data``, stratified on (label, group) and drawn by ``seed``, or
    the rows ``indices`` (train, val, test) name: the user's own split."""
    if indices is None:
        strata = data.s.numpy() * 2 + data.y.numpy().astype(np.int64)
        indices = stratified_indices(strata, seed=seed, val_size=val_size, test_size=test_size)
    tr, va, te = (np.asarray(i, dtype=np.int64) for i in indices)
    base = data.name or "table"
    parts = [data.subset(idx) for idx in (tr, va, te)]
    for part, split in zip(parts, ("train", "val", "test"), strict=True):
        part.name = f"{base}/{split}"
    return Splits(*parts, preprocessor=None, info=dict(info or {}))
