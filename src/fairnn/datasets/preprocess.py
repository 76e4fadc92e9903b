"""Turning a raw frame into tensors: :class:`Preprocessor` (the ``clean`` preprocessing)
and the registry of preprocessor types, :data:`PREPROCESSORS`.

A preprocessor is fitted once, transforms any raw frame with the same columns into a
:class:`~fairnn.datasets.core.TabularData`, and serialises to a JSON-friendly dict
(``to_dict``/``from_dict``) whose ``type`` key names its class in :data:`PREPROCESSORS`;
:func:`preprocessor_from_dict` looks it up there, so that a saved model can score new
raw data. Papers register their own encodings (RUNNER's 120-feature Adult encoding is
:mod:`fairnn.papers.runner.data`); the helpers :func:`check_columns`,
:func:`value_codes`, :func:`nonfinite_report` and :func:`raise_nonfinite` give them the
same checks and messages.

:class:`Preprocessor` separates *schema* from *statistics*:

- the schema (which columns, how each is encoded, the category set of each
  categorical column, the group labels, the label values) may be read from the whole
  raw frame, so every split gets the same one-hot layout and the same group ids;
- the statistics (means, standard deviations, min/max, feature bounds) come from the
  training rows only.

Encodings: continuous columns are standardised (``(x - mean) / std``, train
statistics; ``scaling="minmax"`` maps the train range to [0, 1] instead) and marked
``integer`` when every value is a whole number; a two-valued column becomes one 0/1
``binary`` column (the larger value, in sorted order, is 1); any other categorical
column becomes a one-hot block. Feature bounds are the train minimum and maximum in
scaled space; validation and test rows may fall outside them and nothing is clipped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from fairnn.datasets.core import Feature, FeatureMeta, GroupInfo, TabularData, Task
from fairnn.errors import ColumnError, ConfigError, InvalidValueError
from fairnn.registry import Registry

log = logging.getLogger(__name__)

ValueType = Literal["bool", "number", "str"]
ColumnKind = Literal["continuous", "integer", "binary", "categorical"]
Scaling = Literal["standard", "minmax"]

PREPROCESSOR_TYPE = "fairnn.preprocessor.tabular"
FORMAT_VERSION = 1
#: preprocessor classes by the ``type`` their ``to_dict()`` writes (:func:`preprocessor_from_dict`);
#: papers' wings register theirs (``fairnn.papers.<paper>.data``)
PREPROCESSORS: Registry[type[Any]] = Registry("preprocessor type", discover="data")

#: Numeric columns with whole-number values and at most this many distinct values are
#: treated as categorical by the automatic detection (two values -> binary).
DEFAULT_MAX_CATEGORIES = 10

#: A sensitive column may have at most this many distinct values (groups).
MAX_GROUPS = 50

#: An integer column with more distinct codes than this, treated as continuous by the
#: automatic detection, gets a warning: its codes may be categories (occupation, birthplace).
MANY_CODES = 50

_TRUE_WORDS = {"yes": "no", "true": "false", "y": "n", "positive": "negative"}


# ---------------------------------------------------------------------------
# small value helpers


def _value_type(s: pd.Series) -> ValueType:
    """How values of ``s`` are compared: as booleans, numbers or strings.

    A pandas categorical column is judged by the dtype of its categories.
    """
    dtype = s.dtype.categories.dtype if isinstance(s.dtype, pd.CategoricalDtype) else s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "str"


def _json_scalar(v: Any) -> Any:
    """A JSON-native version of a category / label value."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else v
    return str(v)


def _label_text(v: Any) -> str:
    v = _json_scalar(v)
    return str(v)


def _normalise(s: pd.Series, vtype: ValueType) -> np.ndarray:
    """Values of ``s`` in the comparable form of ``vtype`` (vectorised; callers check NaN first).

    Strings compare as ``str``, numbers as float64 (non-numbers become NaN, which
    matches nothing), booleans as ``bool`` (``"true"``/``"1"`` etc. are accepted).
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if vtype == "str":
        return s.astype(str).to_numpy(dtype=object)
    if vtype == "number":
        return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=bool).astype(object)
    words = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}
    return s.astype(str).str.strip().str.lower().map(words).to_numpy(dtype=object)


def _index_for(values: Sequence[Any], vtype: ValueType) -> pd.Index:
    if vtype == "number":
        return pd.Index(np.asarray(values, dtype=np.float64))
    if vtype == "bool":
        return pd.Index(list(values), dtype=object)
    return pd.Index([str(v) for v in values], dtype=object)


def value_codes(
    s: pd.Series, values: Sequence[Any], vtype: ValueType, *, what: str, column: str
) -> np.ndarray:
    """Position of each value of ``s`` in ``values``; unknown values raise with the column name."""
    norm = _normalise(s, vtype)
    idx = _index_for(values, vtype)
    target = pd.Index(norm, dtype=np.float64 if vtype == "number" else object)
    codes = np.asarray(idx.get_indexer(target))
    bad = codes < 0
    if bad.any():
        unseen = pd.unique(s[bad].astype(object))
        shown = ", ".join(repr(_json_scalar(v)) for v in unseen[:10])
        known = ", ".join(repr(v) for v in list(values)[:20])
        raise InvalidValueError(
            f"{what} {column!r} has {int(bad.sum())} value(s) not seen when the preprocessor was "
            f"fitted: {shown}. Known values: {known}. Fix: map them to a known value or drop those "
            "rows, or refit the preprocessor on data that includes them."
        )
    return codes


def _sorted_values(s: pd.Series, vtype: ValueType) -> list[Any]:
    vals = pd.unique(s.dropna().astype(object))
    if vtype == "number":
        return [_json_scalar(v) for v in sorted(float(v) for v in vals)]
    if vtype == "bool":
        return sorted({bool(v) for v in vals})
    return sorted({str(v) for v in vals})


def nonfinite_report(s: pd.Series) -> tuple[int, int]:
    """(missing, infinite) counts of a column."""
    n_nan = int(s.isna().sum())
    n_inf = 0
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        arr = s.to_numpy(dtype=np.float64, na_value=np.nan)
        n_inf = int(np.isinf(arr).sum())
    return n_nan, n_inf


def raise_nonfinite(column: str, n_nan: int, n_inf: int, *, role: str = "feature") -> None:
    parts = []
    if n_nan:
        parts.append(f"{n_nan} missing (NaN)")
    if n_inf:
        parts.append(f"{n_inf} infinite")
    raise InvalidValueError(
        f"{role} column {column!r} has {' and '.join(parts)} value(s). Fix: drop those rows "
        "(from_frame(..., dropna=True) or df.dropna()) or impute them before loading."
    )


def check_columns(df: pd.DataFrame, columns: Sequence[str], role: str) -> None:
    repeated = df.columns[df.columns.duplicated()].unique()
    if len(repeated):
        raise ColumnError(
            f"the table has duplicate column names {[str(c) for c in repeated]}. Fix: rename "
            "them so that every column has its own name (e.g. df.columns = [...])"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        avail = ", ".join(repr(str(c)) for c in df.columns)
        raise ColumnError(
            f"{role} column(s) {', '.join(repr(c) for c in missing)} not found. "
            f"Available columns: {avail}."
        )


# ---------------------------------------------------------------------------
# the clean preprocessor


@dataclass
class ColumnState:
    """How one raw feature column is encoded (fitted state; JSON-friendly)."""

    name: str
    kind: ColumnKind
    value_type: ValueType = "number"
    categories: list[Any] = field(default_factory=list)
    offset: float = 0.0
    scale: float = 1.0
    lower: float = 0.0
    upper: float = 0.0
    sensitive: bool = False

    @property
    def width(self) -> int:
        return len(self.categories) if self.kind == "categorical" else 1

    def feature_names(self) -> list[str]:
        if self.kind == "categorical":
            return [f"{self.name}={_label_text(c)}" for c in self.categories]
        if self.kind == "binary":
            if [_json_scalar(c) for c in self.categories] in ([0, 1], [False, True]):
                return [self.name]
            return [f"{self.name}={_label_text(self.categories[1])}"]
        return [self.name]

    def features(self) -> list[Feature]:
        names = self.feature_names()
        if self.kind in ("continuous", "integer"):
            return [
                Feature(
                    name=names[0],
                    source=self.name,
                    kind=self.kind,
                    lower=self.lower,
                    upper=self.upper,
                    sensitive=self.sensitive,
                    offset=self.offset,
                    scale=self.scale,
                )
            ]
        if self.kind == "binary":
            return [
                Feature(
                    name=names[0],
                    source=self.name,
                    kind="binary",
                    category=_label_text(self.categories[1]),
                    sensitive=self.sensitive,
                )
            ]
        return [
            Feature(
                name=n,
                source=self.name,
                kind="onehot",
                block=self.name,
                category=_label_text(c),
                sensitive=self.sensitive,
            )
            for n, c in zip(names, self.categories, strict=True)
        ]


@PREPROCESSORS.register(PREPROCESSOR_TYPE)
class Preprocessor:
    """The ``clean`` preprocessing: schema from the whole frame, statistics from train only.

    Parameters
    ----------
    label:
        The label column.
    sensitive:
        The sensitive column(s). Several columns give intersection groups, labelled
        ``"A & B"``. Group ids follow the sorted order of the group labels (values
        sorted per attribute, then lexicographically over attributes); only
        combinations present in the schema frame become groups.
    task:
        ``"binary"`` or ``"regression"``; ``None`` infers it (a label with non-integer
        float values is regression, anything else binary).
    positive_label:
        The label value that becomes ``y = 1``. Needed when the label has more than two
        values (one-vs-rest) or two values other than 0/1, False/True, no/yes.
    features:
        Raw feature columns, in order. Default: every column except the label, the
        sensitive columns and ``exclude``.
    exclude:
        Columns never used as features (e.g. the source of a derived sensitive
        attribute).
    categorical, continuous:
        Overrides of the automatic detection (object/string/category/bool columns and
        whole-number columns with at most ``max_categories`` values are categorical;
        other numeric columns continuous).
    include_sensitive:
        Keep the sensitive columns in ``X`` (marked ``sensitive=True``). Default False.
    flag_sensitive:
        Further feature columns to mark ``sensitive=True`` (they stay in ``X``).
    scaling:
        ``"standard"`` (default) or ``"minmax"`` for continuous columns.
    """

    def __init__(
        self,
        label: str,
        sensitive: str | Sequence[str],
        *,
        task: Task | None = None,
        positive_label: Any = None,
        features: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        categorical: Sequence[str] | None = None,
        continuous: Sequence[str] | None = None,
        include_sensitive: bool = False,
        flag_sensitive: Sequence[str] = (),
        scaling: Scaling = "standard",
        max_categories: int = DEFAULT_MAX_CATEGORIES,
        group_names: Mapping[str, Mapping[Any, str]] | None = None,
    ) -> None:
        if isinstance(sensitive, str):
            sensitive = [sensitive]
        if not sensitive:
            raise ConfigError("at least one sensitive column is needed (sensitive=...)")
        if task not in (None, "binary", "regression"):
            raise ConfigError(f"task must be 'binary', 'regression' or None, got {task!r}")
        if scaling not in ("standard", "minmax"):
            raise ConfigError(f"scaling must be 'standard' or 'minmax', got {scaling!r}")
        self.label = str(label)
        self.sensitive = [str(c) for c in sensitive]
        if self.label in self.sensitive:
            raise ConfigError(f"column {self.label!r} cannot be both the label and sensitive")
        self.task: Task | None = task
        self.positive_label = _json_scalar(positive_label) if positive_label is not None else None
        self.requested_features = None if features is None else [str(c) for c in features]
        self.exclude = [str(c) for c in exclude]
        self.categorical = [str(c) for c in (categorical or [])]
        self.continuous = [str(c) for c in (continuous or [])]
        overlap = set(self.categorical) & set(self.continuous)
        if overlap:
            raise ConfigError(
                f"column(s) {sorted(overlap)} are listed as both categorical and continuous"
            )
        self.include_sensitive = bool(include_sensitive)
        self.flag_sensitive = [str(c) for c in flag_sensitive]
        self.scaling: Scaling = scaling
        self.max_categories = int(max_categories)
        self.group_names = {
            str(a): {_label_text(v): str(n) for v, n in names.items()}
            for a, names in (group_names or {}).items()
        }
        unknown = sorted(set(self.group_names) - set(self.sensitive))
        if unknown:
            raise ConfigError(
                f"group names are given for {unknown}, which are not sensitive columns "
                f"({self.sensitive}); name groups of a sensitive column, e.g. SEX=1:male,2:female"
            )
        # fitted state
        self.columns: list[ColumnState] = []
        self.label_value_type: ValueType = "number"
        self.label_values: list[Any] | None = None
        self.group_value_types: list[ValueType] = []
        self.group_values: list[list[Any]] = []
        self.group_combos: list[tuple[int, ...]] = []
        self.group_labels: list[str] = []
        self.schema_fitted = False
        self.stats_fitted = False
        #: the constant feature columns :meth:`fit_schema` dropped, and what it warned
        self.constant: list[str] = []
        self.warnings: list[str] = []

    # -- columns -----------------------------------------------------------

    def feature_columns(self, df: pd.DataFrame) -> list[str]:
        """The raw feature columns this preprocessor reads from ``df`` (validated)."""
        check_columns(df, [self.label], "label")
        check_columns(df, self.sensitive, "sensitive")
        if self.requested_features is not None:
            cols = list(self.requested_features)
            check_columns(df, cols, "feature")
            if self.label in cols:
                raise ConfigError(f"the label column {self.label!r} cannot be a feature")
            sens_in = [c for c in cols if c in self.sensitive]
            if sens_in and not self.include_sensitive:
                raise ConfigError(
                    f"feature list includes the sensitive column(s) {sens_in}; pass "
                    "include_sensitive=True to keep them in X, or remove them from features"
                )
            if self.include_sensitive:
                cols += [c for c in self.sensitive if c not in cols]
        else:
            skip = {self.label, *self.exclude}
            if not self.include_sensitive:
                skip |= set(self.sensitive)
            cols = [str(c) for c in df.columns if str(c) not in skip]
        for c in self.categorical + self.continuous:
            if c not in df.columns:
                check_columns(df, [c], "categorical/continuous override")
        return cols

    def input_columns(self, df: pd.DataFrame) -> list[str]:
        """Features, label and sensitive columns: every column the preprocessor reads."""
        cols = self.feature_columns(df)
        return cols + [c for c in [self.label, *self.sensitive] if c not in cols]

    def _detect(self, s: pd.Series) -> ColumnKind:
        name = str(s.name)
        vtype = _value_type(s)
        if name in self.categorical:
            return "binary" if s.nunique(dropna=True) == 2 else "categorical"
        if name in self.continuous:
            if vtype != "number":
                raise ColumnError(
                    f"column {name!r} is listed as continuous but holds non-numeric values "
                    f"(dtype {s.dtype}); list it under categorical=[...] instead"
                )
            return "integer" if _is_whole(s) else "continuous"
        if vtype in ("bool", "str") or isinstance(s.dtype, pd.CategoricalDtype):
            return "binary" if s.nunique(dropna=True) == 2 else "categorical"
        n_unique = s.nunique(dropna=True)
        if n_unique <= 2:
            return "binary"
        whole = _is_whole(s)
        if whole and n_unique <= self.max_categories:
            return "categorical"
        return "integer" if whole else "continuous"

    # -- fitting -------------------------------------------------------------

    def fit(self, df: pd.DataFrame, schema: pd.DataFrame | None = None) -> Preprocessor:
        """Fit the schema on ``schema`` (default ``df``) and the statistics on ``df`` (the train rows)."""
        self.fit_schema(df if schema is None else schema)
        self.fit_stats(df)
        return self

    def fit_schema(self, frame: pd.DataFrame) -> Preprocessor:
        """Column kinds, category sets, group labels and label values from the whole frame.

        Constant feature columns (one value, or all missing) carry no information and
        are dropped with a warning when the features are inferred from the table; an
        explicit ``features=[...]`` list (a recipe's fixed input layout, as a paper's
        network expects it) is kept as given. A text column that also holds numbers is
        encoded as categorical with a warning.
        """
        if len(frame) == 0:
            raise InvalidValueError("cannot fit a preprocessor on a frame with no rows")
        cols = self.feature_columns(frame)
        constant = []
        if self.requested_features is None:
            constant = [c for c in cols if frame[c].nunique(dropna=False) <= 1]
        self.constant = constant
        self.warnings = []
        if constant:
            self._warn(
                f"dropping {len(constant)} constant feature column(s), which carry no "
                f"information: {', '.join(_describe_constant(frame[c]) for c in constant)}"
            )
            cols = [c for c in cols if c not in constant]
        if not cols:
            raise ColumnError(
                "no feature columns left after removing the label and sensitive columns"
                + (f" and the constant ones {constant}" if constant else "")
                + f"; columns: {list(map(str, frame.columns))}"
            )
        flagged = set(self.sensitive) | set(self.flag_sensitive)
        states: list[ColumnState] = []
        for c in cols:
            s = frame[c]
            n_nan, n_inf = nonfinite_report(s)
            if n_nan or n_inf:
                raise_nonfinite(c, n_nan, n_inf)
            kind = self._detect(s)
            vtype = _value_type(s)
            n_codes = s.nunique(dropna=True) if kind == "integer" else 0
            if n_codes > MANY_CODES and c not in self.continuous:
                self._warn(
                    f"{c} has {n_codes} integer codes, treated as continuous; if they are "
                    f"categories, pass --categorical {c} (categorical=[{c!r}] in Python)"
                )
            if vtype == "str" and kind in ("binary", "categorical"):
                _warn_if_numbers_in_text(s, self.max_categories)
            st = ColumnState(name=c, kind=kind, value_type=vtype, sensitive=c in flagged)
            if kind in ("binary", "categorical"):
                st.categories = _sorted_values(s, vtype)
            states.append(st)
        self.columns = states
        self._fit_label(frame)
        self._fit_groups(frame)
        self.schema_fitted = True
        return self

    def _warn(self, message: str) -> None:
        """Log ``message`` and keep it in :attr:`warnings` (``fairnn datasets info`` shows them)."""
        log.warning("%s", message)
        self.warnings.append(message)

    def _fit_label(self, frame: pd.DataFrame) -> None:
        s = frame[self.label]
        n_nan, n_inf = nonfinite_report(s)
        if n_nan or n_inf:
            raise_nonfinite(self.label, n_nan, n_inf, role="label")
        vtype = _value_type(s)
        self.label_value_type = vtype
        values = _sorted_values(s, vtype)
        task = self.task
        if task is None:
            numeric = vtype == "number" and not isinstance(s.dtype, pd.CategoricalDtype)
            if self.positive_label is None and numeric and not _is_whole(s):
                task = "regression"
            else:
                task = "binary"
        self.task = task
        if task == "regression":
            if vtype != "number":
                raise InvalidValueError(
                    f"label column {self.label!r} must be numeric for a regression task "
                    f"(dtype {s.dtype})"
                )
            self.label_values = None
            return
        if len(values) < 2 and self.positive_label is None:
            raise InvalidValueError(
                f"label column {self.label!r} has a single value {values!r}; a binary task needs two"
            )
        shown = ", ".join(repr(v) for v in values[:20]) + (" ..." if len(values) > 20 else "")
        if self.positive_label is not None:
            known = {_label_text(v) for v in values}
            if _label_text(self.positive_label) not in known:
                raise InvalidValueError(
                    f"positive_label={self.positive_label!r} is not a value of label column "
                    f"{self.label!r}; its values are: {shown}"
                )
            if vtype == "number":
                self.positive_label = _json_scalar(float(self.positive_label))
            elif vtype == "bool":
                self.positive_label = _label_text(self.positive_label).lower() in ("true", "1")
            elif vtype == "str":
                self.positive_label = str(self.positive_label)
            self.label_values = None if len(values) > 2 else values
            return
        if len(values) > 2:
            raise InvalidValueError(
                f"label column {self.label!r} has {len(values)} distinct values ({shown}) but a "
                f"binary task needs two. Fix: pass positive_label=<one of them> to predict that "
                "value against the rest, or task='regression' for a numeric target."
            )
        self.positive_label = _infer_positive(values, self.label)
        self.label_values = values

    def _fit_groups(self, frame: pd.DataFrame) -> None:
        types: list[ValueType] = []
        values: list[list[Any]] = []
        codes: list[np.ndarray] = []
        for c in self.sensitive:
            s = frame[c]
            if s.isna().any():
                raise InvalidValueError(
                    f"sensitive column {c!r} has {int(s.isna().sum())} missing value(s). Fix: drop "
                    "those rows (from_frame(..., dropna=True)) or fill them with an explicit "
                    "'unknown' group."
                )
            vtype = _value_type(s)
            vals = _sorted_values(s, vtype)
            if len(vals) < 2:
                raise InvalidValueError(
                    f"sensitive column {c!r} has a single group ({_label_text(vals[0])!r} for all "
                    f"{len(s)} rows); fairness needs at least two groups. Fix: choose another "
                    "sensitive column or check the filtering of your data."
                )
            if len(vals) > MAX_GROUPS or (len(vals) > 2 and 2 * len(vals) > len(s)):
                fix = (
                    f"bin it into a few groups, e.g. df['{c}_group'] = pd.cut(df['{c}'], "
                    f"bins=4).astype(str), and use '{c}_group' as the sensitive column"
                    if vtype == "number"
                    else "merge rare values into an 'other' group, or choose another column"
                )
                raise InvalidValueError(
                    f"sensitive column {c!r} has {len(vals)} distinct values in {len(s)} rows, too "
                    f"many to be groups (at most {MAX_GROUPS}, with at least 2 rows each on "
                    f"average). Fix: {fix}."
                )
            types.append(vtype)
            values.append(vals)
            codes.append(value_codes(s, vals, vtype, what="sensitive column", column=c))
        radix = [len(v) for v in values]
        combined = np.ravel_multi_index(tuple(codes), radix) if len(codes) > 1 else codes[0]
        present = np.unique(combined)
        combos = [tuple(int(i) for i in np.unravel_index(int(p), radix)) for p in present]
        self.group_value_types = types
        self.group_values = values
        self.group_combos = combos
        self.group_labels = [
            " & ".join(self._group_name(a, values[a][i]) for a, i in enumerate(combo))
            for combo in combos
        ]

    def _group_name(self, attribute: int, value: Any) -> str:
        """The display name of ``value`` of the ``attribute``-th sensitive column: its
        ``group_names`` entry, else the value itself."""
        text = _label_text(value)
        return self.group_names.get(self.sensitive[attribute], {}).get(text, text)

    def fit_stats(self, train: pd.DataFrame) -> Preprocessor:
        """Means/standard deviations (or min/max) and feature bounds from the train rows only."""
        if not self.schema_fitted:
            self.fit_schema(train)
        if len(train) == 0:
            raise InvalidValueError("cannot fit a preprocessor on zero training rows")
        for st in self.columns:
            if st.kind not in ("continuous", "integer"):
                continue
            x = _numeric(train[st.name], st.name)
            if self.scaling == "standard":
                offset = float(x.mean())
                scale = float(x.std())  # population std (ddof=0), as sklearn's StandardScaler
            else:
                offset = float(x.min())
                scale = float(x.max() - x.min())
            if not math.isfinite(scale) or scale == 0.0:
                scale = 1.0
            st.offset, st.scale = offset, scale
            z = ((x - offset) / scale).astype(np.float32)
            st.lower, st.upper = float(z.min()), float(z.max())
        self.stats_fitted = True
        return self

    # -- transforming --------------------------------------------------------

    def _require_fitted(self) -> None:
        if not (self.schema_fitted and self.stats_fitted):
            raise ConfigError("the preprocessor is not fitted; call fit(train_df) first")

    def transform_features(self, df: pd.DataFrame) -> torch.Tensor:
        """``X`` (float32) for the rows of ``df``; the label and sensitive columns are not needed."""
        self._require_fitted()
        check_columns(df, [st.name for st in self.columns], "feature")
        n = len(df)
        blocks: list[np.ndarray] = []
        for st in self.columns:
            s = df[st.name]
            n_nan, n_inf = nonfinite_report(s)
            if n_nan or n_inf:
                raise_nonfinite(st.name, n_nan, n_inf)
            if st.kind in ("continuous", "integer"):
                x = _numeric(s, st.name)
                blocks.append(((x - st.offset) / st.scale)[:, None])
            elif st.kind == "binary":
                c = value_codes(
                    s, st.categories, st.value_type, what="feature column", column=st.name
                )
                blocks.append(c.astype(np.float64)[:, None])
            else:
                c = value_codes(
                    s, st.categories, st.value_type, what="feature column", column=st.name
                )
                onehot = np.zeros((n, len(st.categories)), dtype=np.float64)
                onehot[np.arange(n), c] = 1.0
                blocks.append(onehot)
        X = np.concatenate(blocks, axis=1) if blocks else np.zeros((n, 0))
        return torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))

    def encode_label(self, df: pd.DataFrame) -> np.ndarray:
        """``y`` as float32: 0/1 for a binary task, the raw value for regression."""
        if not self.schema_fitted:
            raise ConfigError("the preprocessor is not fitted; call fit(train_df) first")
        check_columns(df, [self.label], "label")
        s = df[self.label]
        n_nan, n_inf = nonfinite_report(s)
        if n_nan or n_inf:
            raise_nonfinite(self.label, n_nan, n_inf, role="label")
        if self.task == "regression":
            return _numeric(s, self.label).astype(np.float32)
        if self.label_values is not None:
            value_codes(
                s, self.label_values, self.label_value_type, what="label column", column=self.label
            )
        norm = _normalise(s, self.label_value_type)
        if self.label_value_type == "number":
            y = norm == float(self.positive_label)
        elif self.label_value_type == "bool":
            y = norm == bool(self.positive_label)
        else:
            y = norm == str(self.positive_label)
        return np.asarray(y, dtype=np.float32)

    def encode_groups(self, df: pd.DataFrame) -> np.ndarray:
        """``s``: the int64 group id of every row (intersection of the sensitive columns)."""
        if not self.schema_fitted:
            raise ConfigError("the preprocessor is not fitted; call fit(train_df) first")
        check_columns(df, self.sensitive, "sensitive")
        codes = []
        for c, vals, vtype in zip(
            self.sensitive, self.group_values, self.group_value_types, strict=True
        ):
            s = df[c]
            if s.isna().any():
                raise InvalidValueError(
                    f"sensitive column {c!r} has {int(s.isna().sum())} missing value(s); drop or "
                    "fill those rows"
                )
            codes.append(value_codes(s, vals, vtype, what="sensitive column", column=c))
        radix = [len(v) for v in self.group_values]
        if len(codes) == 1:
            return codes[0].astype(np.int64)
        combined = np.ravel_multi_index(tuple(codes), radix)
        lookup = np.full(int(np.prod(radix)), -1, dtype=np.int64)
        for gid, combo in enumerate(self.group_combos):
            lookup[np.ravel_multi_index(combo, radix)] = gid
        s_ids = lookup[combined]
        if (s_ids < 0).any():
            bad = int((s_ids < 0).sum())
            raise InvalidValueError(
                f"{bad} row(s) belong to a combination of {self.sensitive} that was not present "
                f"when the preprocessor was fitted; known groups: {self.group_labels}"
            )
        return s_ids

    def transform(self, df: pd.DataFrame, *, name: str = "") -> TabularData:
        """Rows of ``df`` as a :class:`TabularData` (needs the label and sensitive columns)."""
        X = self.transform_features(df)
        y = torch.from_numpy(self.encode_label(df))
        s = torch.from_numpy(self.encode_groups(df))
        return TabularData(
            X=X,
            y=y,
            s=s,
            features=self.features,
            groups=self.groups,
            task=self.task or "binary",
            label=self.label,
            name=name,
        )

    # -- metadata ------------------------------------------------------------

    @property
    def features(self) -> FeatureMeta:
        self._require_fitted()
        return FeatureMeta(tuple(f for st in self.columns for f in st.features()))

    @property
    def groups(self) -> GroupInfo:
        if not self.schema_fitted:
            raise ConfigError("the preprocessor is not fitted; call fit(train_df) first")
        return GroupInfo(tuple(self.sensitive), tuple(self.group_labels))

    @property
    def raw_features(self) -> list[str]:
        """The raw feature columns, in the order their encodings appear in ``X``."""
        return [st.name for st in self.columns]

    def __repr__(self) -> str:
        state = "fitted" if self.stats_fitted else "unfitted"
        return (
            f"Preprocessor(label={self.label!r}, sensitive={self.sensitive}, task={self.task!r}, "
            f"{len(self.columns)} columns, {state})"
        )

    # -- serialisation -------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; :meth:`from_dict` rebuilds an identical preprocessor."""
        self._require_fitted()
        return {
            "type": PREPROCESSOR_TYPE,
            "version": FORMAT_VERSION,
            "label": self.label,
            "sensitive": list(self.sensitive),
            "task": self.task,
            "positive_label": self.positive_label,
            "label_value_type": self.label_value_type,
            "label_values": None if self.label_values is None else list(self.label_values),
            "include_sensitive": self.include_sensitive,
            "flag_sensitive": list(self.flag_sensitive),
            "scaling": self.scaling,
            "max_categories": self.max_categories,
            "columns": [_column_to_dict(st) for st in self.columns],
            "groups": {
                "attributes": list(self.sensitive),
                "value_types": list(self.group_value_types),
                "values": [list(v) for v in self.group_values],
                "combos": [list(c) for c in self.group_combos],
                "labels": list(self.group_labels),
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocessor:
        """Rebuild from :meth:`to_dict`. The dict of another registered type is handed to
        that type's ``from_dict`` (prefer :func:`preprocessor_from_dict`)."""
        if d.get("type") != PREPROCESSOR_TYPE and str(d.get("type")) in PREPROCESSORS:
            return preprocessor_from_dict(d)  # type: ignore[no-any-return]
        if d.get("type") != PREPROCESSOR_TYPE:
            raise ConfigError(f"not a fairnn tabular preprocessor dict (type {d.get('type')!r})")
        if int(d.get("version", 0)) > FORMAT_VERSION:
            raise ConfigError(
                f"preprocessor format version {d.get('version')} is newer than this fairnn "
                f"({FORMAT_VERSION}); upgrade fairnn"
            )
        cols = [ColumnState(**c) for c in d["columns"]]
        pre = cls(
            d["label"],
            d["sensitive"],
            task=d["task"],
            positive_label=d["positive_label"],
            features=[c.name for c in cols],
            include_sensitive=d["include_sensitive"],
            flag_sensitive=d.get("flag_sensitive", []),
            scaling=d["scaling"],
            max_categories=d.get("max_categories", DEFAULT_MAX_CATEGORIES),
        )
        pre.columns = cols
        pre.label_value_type = d["label_value_type"]
        pre.label_values = d["label_values"]
        g = d["groups"]
        pre.group_value_types = list(g["value_types"])
        pre.group_values = [list(v) for v in g["values"]]
        pre.group_combos = [tuple(c) for c in g["combos"]]
        pre.group_labels = list(g["labels"])
        pre.schema_fitted = pre.stats_fitted = True
        return pre


def _column_to_dict(st: ColumnState) -> dict[str, Any]:
    d = asdict(st)
    d["categories"] = [_json_scalar(c) for c in st.categories]
    return d


def _describe_constant(s: pd.Series) -> str:
    v = s.iloc[0]
    return f"{s.name!r} (all missing)" if pd.isna(v) else f"{s.name!r} (always {_json_scalar(v)!r})"


def _warn_if_numbers_in_text(s: pd.Series, max_categories: int) -> None:
    """Warn about a text column that holds numbers: mixed with text (e.g. ``"?"`` for a
    missing value in a numeric column), or numbers stored as text with many values."""
    values = pd.Series(pd.unique(s.dropna().astype(object)), dtype=object)
    parsed = pd.to_numeric(values.astype(str), errors="coerce").notna().to_numpy()
    is_number = parsed & np.array([not isinstance(v, bool) for v in values], dtype=bool)
    n_num = int(is_number.sum())
    if n_num == 0 or (n_num == len(values) and n_num <= max_categories):
        return
    fix = (
        f"if it is numeric, convert it (pd.to_numeric(df[{s.name!r}], errors='coerce')) and drop "
        "or impute the rows that fail"
    )
    if n_num == len(values):
        log.warning(
            "feature column %r holds numbers stored as text (dtype %s); it is one-hot encoded as "
            "%d categories. Fix: %s",
            s.name,
            s.dtype,
            len(values),
            fix,
        )
        return
    text = [str(v) for v in values[~is_number][:3]]
    log.warning(
        "feature column %r mixes numbers and text (%d numeric and %d text values, e.g. %s); it is "
        "encoded as categorical with %d categories. Fix: %s",
        s.name,
        n_num,
        len(values) - n_num,
        text,
        len(values),
        fix,
    )


def _is_whole(s: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(s.dtype):
        return True
    if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return False
    x = s.to_numpy(dtype=np.float64, na_value=np.nan)
    x = x[np.isfinite(x)]
    return bool(np.all(x == np.round(x)))


def _numeric(s: pd.Series, column: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64)
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(x)
    if bad.any():
        examples = pd.unique(s[bad].astype(object))[:5]
        raise InvalidValueError(
            f"column {column!r} should be numeric but has {int(bad.sum())} non-numeric or "
            f"non-finite value(s), e.g. {list(examples)}. Fix: clean or drop those rows."
        )
    return x


def _infer_positive(values: list[Any], label: str) -> Any:
    """The positive value of a two-valued label, when it is unambiguous."""
    norm = [_json_scalar(v) for v in values]
    if norm in ([0, 1], [False, True], [-1, 1]):
        return norm[1]
    low = [str(v).strip().lower() for v in values]
    for pos, neg in _TRUE_WORDS.items():
        if sorted(low) == sorted([pos, neg]):
            return values[low.index(pos)]
    raise InvalidValueError(
        f"label column {label!r} has the two values {values!r}; say which one is the positive "
        f"outcome with positive_label=, e.g. positive_label={values[1]!r}"
    )


# ---------------------------------------------------------------------------
# scikit-learn's StandardScaler statistics, without importing scikit-learn


def standard_scaler_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and scales exactly as scikit-learn's ``StandardScaler().fit(x)`` sets them.

    The same float64 two-pass sums (Chan, Golub & LeVeque), NaNs ignored, scale 1 for a
    (near-)constant column; computed here so that preprocessing does not import
    scikit-learn (about 1 s of CPU at start-up).
    """
    x = np.asarray(x, dtype=np.float64)
    count = x.shape[0] - np.isnan(x).sum(axis=0).astype(np.float64)
    mean = np.nansum(x, axis=0) / count
    centred = x - mean
    correction = np.nansum(centred, axis=0)
    var = (np.nansum(centred**2, axis=0) - correction**2 / count) / count
    eps = np.finfo(np.float64).eps
    constant = var <= count * eps * var + (count * mean * eps) ** 2
    scale = np.sqrt(var)
    scale[constant] = 1.0
    return mean, scale


def preprocessor_from_dict(d: dict[str, Any]) -> Any:
    """Rebuild any fairnn preprocessor from its ``to_dict()`` form (its class in
    :data:`PREPROCESSORS`, by ``type``)."""
    return PREPROCESSORS.get(str(d.get("type"))).from_dict(d)
