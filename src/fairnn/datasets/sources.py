"""Where a run's data comes from: one :class:`DataSpec` and one :func:`resolve`.

Training, audit, repair, certification, sweeps and the reproduction studies all turn
"the data" into :class:`~fairnn.datasets.core.Splits` here. The data is

* a **registered dataset** by name (``adult``), loaded under a ``recipe`` and a
  ``seed`` (:func:`~fairnn.datasets.load_dataset`);
* a **table** (a CSV/parquet path, or a DataFrame) with its ``label`` and
  ``sensitive`` column(s) named. Under the default recipe it is preprocessed as
  :func:`~fairnn.datasets.from_frame` does (one-hot, standardised, ``categorical`` and
  ``continuous`` force a column's kind); under :data:`NUMERIC` its feature columns
  already are a model's numeric inputs and are used as they are (``features`` picks
  and orders them);
* data already in memory: :class:`Splits` (used as they are), a
  :class:`~fairnn.datasets.core.TabularData` or arrays ``(X, y, sensitive_features)``
  (numbers used as they are), split by ``seed``.

A table's rows are split 60/20/20 by ``seed`` unless the user brings their own split
(:mod:`fairnn.datasets.own_split`), used exactly: three tables (``{"train": F, "val": F,
"test": F}``; a :class:`DataSpec` holds the training file as ``dataset`` and the others
as ``val_file`` and ``test_file``), or one table whose ``split_column`` names each row's
split. The files' checksums go into the model file and are checked when it reads them
again.

A :class:`DataSpec` is the identity of the data (what decides the splits): a training
run's :class:`~fairnn.experiments.spec.RunSpec` produces one (``RunSpec.data``), and a
model file records one (:meth:`DataSpec.record`, read back with
:meth:`DataSpec.from_record`) so that ``fairnn audit MODEL`` rebuilds the very splits
the model was trained on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ConfigDict, Field, field_validator

from fairnn.datasets.api import (
    COMPRESSION_SUFFIXES,
    CSV_SUFFIXES,
    PARQUET_SUFFIXES,
    check_recipe,
    from_frame,
    load_dataset,
    load_raw,
    read_table,
)
from fairnn.datasets.arrays import numeric_splits, table_as_numeric, tabular_from_arrays
from fairnn.datasets.columns import (
    COLUMN_CHOICES,
    drop_columns,
    parse_group_names,
    split_columns,
)
from fairnn.datasets.core import Splits, TabularData
from fairnn.datasets.own_split import (
    OWN_SPLIT_FIELDS,
    check_groups,
    own_split_rows,
    split_mapping,
)
from fairnn.datasets.recipes import (
    DEFAULT_RECIPE,
    RecipeOptions,
    check_extra,
    register_recipe,
    resolve_sensitive,
)
from fairnn.datasets.registry import DatasetSpec, get_spec
from fairnn.errors import ColumnError, ConfigError, DataNotFoundError
from fairnn.validation import ConfigModel

__all__ = [
    "NUMERIC",
    "TABLE_SUFFIXES",
    "DataSpec",
    "data_fields",
    "is_table",
    "looks_like_path",
    "raw_frame",
    "resolve",
]

#: the endings that make a data argument a table path rather than a dataset name: the
#: formats :func:`~fairnn.datasets.read_table` reads, and their compressed forms
TABLE_SUFFIXES: tuple[str, ...] = tuple(
    sorted({*CSV_SUFFIXES, *PARQUET_SUFFIXES, *COMPRESSION_SUFFIXES})
)
#: the recipe of a table whose feature columns are already a model's numeric inputs
NUMERIC = "numeric"


def looks_like_path(dataset: str) -> bool:
    """Whether ``dataset`` names a table file rather than a registered dataset: it exists,
    has a table's ending (:data:`TABLE_SUFFIXES`) or holds a ``/``."""
    return Path(dataset).exists() or dataset.lower().endswith(TABLE_SUFFIXES) or "/" in dataset


def is_table(source: Any) -> bool:
    """Whether ``source`` is a table: a DataFrame, a path (:func:`looks_like_path`), or
    your own split's mapping ``{"train": ..., "val": ..., "test": ...}`` of them."""
    if isinstance(source, pd.DataFrame | Mapping):
        return True
    return isinstance(source, str | os.PathLike) and looks_like_path(os.fspath(source))


def raw_frame(source: str | os.PathLike[str]) -> pd.DataFrame:
    """The raw rows of a table path (:func:`~fairnn.datasets.read_table`) or of a
    registered dataset (its tidy raw frame, :func:`~fairnn.datasets.load_raw`)."""
    text = os.fspath(source)
    return read_table(text) if looks_like_path(text) else load_raw(text)


class DataSpec(ConfigModel, what="data setting"):
    """The identity of a run's data: everything that decides its train/val/test splits."""

    model_config = ConfigDict(extra="forbid")

    dataset: str | None = Field(
        description="a registered dataset name or the path of a CSV/parquet table; "
        "None: a table in memory (a DataFrame)"
    )
    recipe: str = Field(
        DEFAULT_RECIPE,
        description="a registered dataset's recipe; a table: the default (preprocessed) or "
        f"{NUMERIC!r} (its columns are a model's inputs)",
    )
    seed: int = Field(0, ge=0, description="draws the split")
    label: str | None = Field(None, description="a table's label column (image data: the target)")
    sensitive: list[str] | None = Field(
        None, description="the grouping column(s); a registered dataset: default its own"
    )
    categorical: list[str] | None = Field(None, description="a table: columns forced categorical")
    continuous: list[str] | None = Field(None, description="a table: columns forced continuous")
    drop: list[str] | None = Field(None, description="a table: columns left out of the inputs")
    sensitive_as_input: bool | None = Field(
        None, description="a table: the sensitive column(s) are also model inputs (default no)"
    )
    group_names: dict[str, dict[str, str]] | None = Field(
        None, description="a table: display names of groups, {column: {value: name}}"
    )
    features: list[str] | None = Field(
        None, description=f"a {NUMERIC} table: the input columns, in the model's order"
    )
    positive_label: str | bool | int | float | None = Field(
        None, description="a table: the label value that counts as positive"
    )
    val_file: str | None = Field(
        None, description="own split: the validation table (dataset: the training table)"
    )
    test_file: str | None = Field(None, description="own split: the test table")
    split_column: str | None = Field(
        None, description="own split: the column naming each row's split (train/val/test)"
    )
    checksums: dict[str, str] | None = Field(
        None, description="own split: the sha256 of each file, checked when they are read again"
    )

    @field_validator("dataset", "val_file", "test_file", mode="before")
    @classmethod
    def _path_as_text(cls, v: Any) -> Any:
        return os.fspath(v) if isinstance(v, os.PathLike) else v

    @property
    def own_split(self) -> bool:
        """Whether the user brought their own split (three files, or a split column)."""
        return any(v is not None for v in (self.split_column, self.val_file, self.test_file))

    @field_validator("sensitive", "features", mode="before")
    @classmethod
    def _one_column(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("group_names", mode="before")
    @classmethod
    def _group_names(cls, v: Any) -> Any:
        return parse_group_names(v)

    @field_validator("categorical", "continuous", "drop", mode="before")
    @classmethod
    def _column_list(cls, v: Any) -> Any:
        """``"a,b"`` or ``["a,b", "c"]``: the columns a, b (and c)."""
        return split_columns(v)

    @property
    def is_table(self) -> bool:
        """Whether the data is a table (a path, or a DataFrame: ``dataset`` None)."""
        return self.dataset is None or looks_like_path(self.dataset)

    def _name(self) -> str:
        return "the DataFrame" if self.dataset is None else repr(self.dataset)

    def check(self, *, exists: bool = False) -> None:
        """Raise what loading would raise about the source, without reading any data.

        A table needs its label and sensitive column(s) named (and, with ``exists``, the
        file must be there); a registered dataset must exist and refuses the table-only
        fields (it fixes its label, positive value and column kinds).
        """
        if self.is_table:
            self._check_table(exists)
        else:
            self._check_registered()
        if self.own_split:
            self._check_own_split(exists)

    def check_recipe(self) -> None:
        """Raise unless a registered dataset can load under ``recipe`` (a table: any)."""
        if not self.is_table:
            check_recipe(str(self.dataset), self.recipe)

    def _check_table(self, exists: bool) -> None:
        path = None if self.dataset is None else Path(self.dataset)
        if exists and path is not None and not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise DataNotFoundError(
                f"dataset {self.dataset!r} {what}; give a CSV or parquet file or a registered "
                "dataset name (fairnn datasets)"
            )
        label, sensitive = self.table_columns()
        kept = [c for c in self.drop or () if c in (label, *sensitive, self.split_column)]
        if kept:
            raise ConfigError(
                f"--drop {kept} names the label, a sensitive or the split column; drop only "
                "input columns (--no-sensitive-as-input keeps sensitive ones out of the inputs)"
            )
        if self.recipe == NUMERIC and self.group_names is not None:
            raise ConfigError(
                f"--group-names applies to a preprocessed table, not to recipe {NUMERIC!r} "
                "(a model's own inputs): drop it"
            )

    def _check_own_split(self, exists: bool) -> None:
        if not self.is_table:
            raise ConfigError(
                f"--train/--val/--test and --split-column apply only to your own table; the "
                f"registered dataset {self.dataset!r} is split by --seed: drop them"
            )
        files = (self.val_file, self.test_file)
        if self.split_column is not None and any(f is not None for f in files):
            raise ConfigError(
                "give your own split either as three files (--train F --val F --test F) or as "
                "one file with --split-column C, not both"
            )
        if self.split_column is None and None in files:
            given = "--val" if self.val_file is not None else "--test"
            raise ConfigError(
                f"{given} needs its two partners: give --train F --val F --test F (the "
                "training, validation and test tables), or one --data F with --split-column C"
            )
        if self.split_column in (self.label, *(self.sensitive or ())):
            raise ConfigError(
                f"--split-column {self.split_column!r} is also the label or a sensitive "
                "column; name the column that holds train/val/test"
            )
        for name, path in (("--val", self.val_file), ("--test", self.test_file)):
            if exists and path is not None and not Path(path).is_file():
                raise DataNotFoundError(
                    f"{name} {path!r} does not exist; give a CSV or parquet file"
                )

    def table_columns(self) -> tuple[str, list[str]]:
        """A table's label and sensitive column(s); a ColumnError when they are not named."""
        if self.label is None or not self.sensitive:
            raise ColumnError(
                f"{self._name()} is your own table: name its label and sensitive column(s) "
                "with --label COL --sensitive COL (label=..., sensitive=... in Python)"
            )
        return self.label, self.sensitive

    def _check_registered(self) -> None:
        image_or_text = get_spec(str(self.dataset)).loader is not None  # --label: the target
        given = [
            f"--{name.replace('_', '-')}"
            for name in (
                "label",
                "positive_label",
                "categorical",
                "continuous",
                "features",
                "drop",
                "sensitive_as_input",
                "group_names",
            )
            if getattr(self, name) is not None and not (name == "label" and image_or_text)
        ]
        if given:
            raise ConfigError(
                f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} only to your own "
                f"table (--data FILE.csv); the registered dataset {self.dataset!r} fixes its "
                "label, positive value and column kinds: drop the option(s) (`fairnn datasets "
                f"info {self.dataset}` shows them)"
            )

    def numeric_rows(self, frame: pd.DataFrame, name: str) -> TabularData:
        """Every row of ``frame`` as a :data:`NUMERIC` table: the ``features`` columns
        (default all but the label and sensitive ones; with ``sensitive_as_input`` all
        but the label) as the model's inputs, unsplit."""
        label, sensitive = self.table_columns()
        features = self.features
        if features is None and self.sensitive_as_input:
            features = [str(c) for c in frame.columns if c != label]
        return table_as_numeric(
            frame,
            label=label,
            sensitive=sensitive,
            features=features,
            positive_label=self.positive_label,
            name=name,
        )

    def record(self) -> dict[str, Any]:
        """The data fields a model file records (its sidecar's ``dataset``), as JSON values.

        ``source`` is :attr:`dataset`; a :data:`NUMERIC` table records its ``features``
        and no column kinds, any other data its column kinds and no ``features``. An own
        split records its files or column (the checksums come from the splits' info).
        """
        unused = ("categorical", "continuous") if self.recipe == NUMERIC else ("features",)
        out: dict[str, Any] = {"source": self.dataset}
        for name in type(self).model_fields:
            if name in (*OWN_SPLIT_FIELDS, *COLUMN_CHOICES) and getattr(self, name) is None:
                continue  # unset: the record stays as it was before these fields
            if name != "dataset" and name not in unused:
                value = getattr(self, name)
                out[name] = list(value) if isinstance(value, list) else value
        return out

    @classmethod
    def from_record(
        cls, record: Mapping[str, Any], *, sensitive: Sequence[str] = (), seed: int = 0
    ) -> DataSpec:
        """The spec of a model file's data record (:meth:`record`; older files hold more).

        ``sensitive`` (the model's group attributes) and ``seed`` stand in where the
        record leaves them out; a dataset's default grouping is recorded as none, so
        ``sensitive`` names it, except for a :data:`NUMERIC` table, which records its own.
        """
        values = {k: record[k] for k in cls.model_fields if k != "dataset" and k in record}
        values["dataset"] = record.get("source")
        values["seed"] = int(values.get("seed", seed))
        values.setdefault("recipe", DEFAULT_RECIPE)
        if sensitive and values["recipe"] != NUMERIC:
            values["sensitive"] = list(sensitive)
        return cls.model_validate(values)


ArraysArg = tuple[Any, Any, Any]
Source = (
    DataSpec
    | str
    | os.PathLike[str]
    | pd.DataFrame
    | Mapping[str, Any]
    | Splits
    | TabularData
    | ArraysArg
)


def resolve(source: Source, /, **options: Any) -> Splits:
    """The train/val/test splits of ``source`` (see the module docstring for the kinds).

    ``options`` are :class:`DataSpec` fields (``recipe``, ``seed``, ``label``,
    ``sensitive``, ``categorical``, ``continuous``, ``features``, ``positive_label``,
    ``split_column``) and describe a name, a path, a DataFrame or your own split as a
    mapping ``{"train": ..., "val": ..., "test": ...}`` of paths or of DataFrames; a :class:`DataSpec` or :class:`Splits` takes
    none, a TabularData only ``seed``, arrays ``(X, y, sensitive_features)`` also
    ``label``, ``features`` (the column names) and ``positive_label``. A field that does
    not apply raises :class:`~fairnn.errors.ConfigError` naming it.
    """
    if isinstance(source, Splits):
        _only(options, (), "Splits")
        return source
    if isinstance(source, DataSpec):
        _only(options, (), "a DataSpec")
        return _resolve_spec(source)
    if isinstance(source, TabularData):
        spec = _only(options, ("seed",), "a TabularData")
        return numeric_splits(source, seed=spec.seed, info={"source": None, "seed": spec.seed})
    if isinstance(source, tuple):
        return _resolve_arrays(source, options)
    if isinstance(source, pd.DataFrame):
        return _resolve_spec(DataSpec(dataset=None, **options), frame=source)
    if isinstance(source, Mapping):
        parts = split_mapping(source)
        if all(isinstance(p, pd.DataFrame) for p in parts.values()):
            return _resolve_spec(DataSpec(dataset=None, **options), frames=parts)
        return _resolve_spec(DataSpec(**own_files(parts), **options))
    if isinstance(source, str | os.PathLike):
        return _resolve_spec(DataSpec(dataset=source, **options))
    raise ConfigError(
        f"data must be a DataSpec, a dataset name, a CSV/parquet path, a DataFrame, a mapping "
        f"{{train, val, test}} of paths or DataFrames, Splits, a TabularData or arrays "
        f"(X, y, sensitive_features); got {type(source).__name__}"
    )


def data_fields(data: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """A data argument as :class:`DataSpec` fields: a name or path is ``dataset``; your own
    split's mapping of three paths gives ``dataset`` (train), ``val_file`` and ``test_file``."""
    if isinstance(data, Mapping):
        return own_files(data)
    return {"dataset": os.fspath(data) if isinstance(data, os.PathLike) else data}


def own_files(parts: Mapping[str, Any]) -> dict[str, str]:
    """Three tables' paths (``{"train": F, "val": F, "test": F}``, see
    :func:`~fairnn.datasets.own_split.split_mapping`) as :class:`DataSpec` fields."""
    paths = split_mapping(parts)
    for split, path in paths.items():
        if not isinstance(path, str | os.PathLike):
            raise ConfigError(
                f"your own split's {split!r} must be a CSV/parquet path (or all three "
                f"DataFrames), got {type(path).__name__}"
            )
    return {
        "dataset": os.fspath(paths["train"]),
        "val_file": os.fspath(paths["val"]),
        "test_file": os.fspath(paths["test"]),
    }


def _only(options: Mapping[str, Any], allowed: Sequence[str], what: str) -> DataSpec:
    """``options`` as a DataSpec, refusing the fields ``what`` does not take (but defaults)."""
    spec = DataSpec(dataset=None, **options)
    given = [
        k
        for k in options
        if k not in allowed and getattr(spec, k) != DataSpec.model_fields[k].default
    ]
    if given:
        ok = ", ".join(allowed) if allowed else "none"
        raise ConfigError(
            f"data setting {given[0]!r} does not apply to {what}, which fixes it (fields it "
            f"takes: {ok}); drop it"
        )
    return spec


def _resolve_arrays(arrays: tuple[Any, ...], options: Mapping[str, Any]) -> Splits:
    if len(arrays) != 3:
        raise ConfigError(
            f"arrays must be (X, y, sensitive_features), got a tuple of {len(arrays)}"
        )
    spec = _only(options, ("seed", "label", "features", "positive_label"), "arrays")
    X, y, sensitive = arrays
    if spec.positive_label is not None:
        y = pd.Series(y).to_numpy() == spec.positive_label
    data = tabular_from_arrays(
        X, y, sensitive, feature_names=spec.features, label=spec.label or "label", name="arrays"
    )
    return numeric_splits(data, seed=spec.seed, info={"source": None, "seed": spec.seed})


def _resolve_spec(
    spec: DataSpec,
    frame: pd.DataFrame | None = None,
    frames: Mapping[str, pd.DataFrame] | None = None,
) -> Splits:
    spec.check()
    if not spec.is_table:
        extra = {}
        if spec.label is not None:  # image/text data (check passed): --label picks the target
            extra["target"] = spec.label
        return load_dataset(
            str(spec.dataset),
            recipe=spec.recipe,
            seed=spec.seed,
            sensitive=spec.sensitive or None,
            **extra,
        )
    label, sensitive = spec.table_columns()
    name = "frame" if spec.dataset is None else Path(spec.dataset).stem
    if not spec.own_split and frames is None:  # split by the seed
        if frame is None:
            frame = read_table(str(spec.dataset))
        frame = drop_columns(frame, spec.drop)
        if spec.recipe == NUMERIC:
            data = spec.numeric_rows(frame, name)
            return numeric_splits(data, seed=spec.seed, info=spec.record())
        return _from_table(spec, frame, label, sensitive, name)
    own = own_split_rows(spec, frame=frame, frames=frames)
    rows = drop_columns(own.frame, spec.drop)
    if spec.recipe == NUMERIC:
        data = spec.numeric_rows(rows, name)
        splits = numeric_splits(data, indices=own.indices, info=spec.record())
    else:
        splits = _from_table(spec, rows, label, sensitive, name, indices=own.indices)
    splits.info.update(own.info)
    check_groups(splits, own.where)
    return splits


def _from_table(
    spec: DataSpec,
    frame: pd.DataFrame,
    label: str,
    sensitive: list[str],
    name: str,
    **split: Any,
) -> Splits:
    """A table preprocessed as :func:`~fairnn.datasets.from_frame` does (``split``: its
    own rows' ``indices``, else drawn by the spec's seed)."""
    return from_frame(
        frame,
        label=label,
        sensitive=sensitive,
        categorical=spec.categorical,
        continuous=spec.continuous,
        positive_label=spec.positive_label,
        include_sensitive=bool(spec.sensitive_as_input),
        group_names=spec.group_names,
        seed=spec.seed,
        name=name,
        source=spec.dataset,
        **split,
    )


@register_recipe(NUMERIC)
def numeric(frame: pd.DataFrame, spec: DatasetSpec, opts: RecipeOptions) -> Splits:
    """The feature columns used as they are: they already are a model's numeric inputs.

    No scaling, no one-hot: the recipe of a table a user's own model takes
    (``fairnn audit --model-file M --data TABLE``). On a registered dataset it takes the
    dataset's features (each must be numeric, or a ColumnError names the others; the
    grouping attribute(s) stay out of ``X`` unless ``include_sensitive``), its label
    mapped to 0/1 by its positive value, and a split stratified on (label, group) drawn
    by the seed.
    """
    check_extra(opts, (), NUMERIC)
    attrs = list(resolve_sensitive(frame, spec, opts.sensitive))
    features = [c for c in spec.features if opts.include_sensitive or c not in attrs]
    columns = DataSpec(
        dataset=spec.name,
        recipe=NUMERIC,
        label=spec.label,
        sensitive=attrs,
        features=features,
        positive_label=spec.positive_label,
    )
    data = columns.numeric_rows(frame, spec.name)
    info = {"dataset": spec.name, "recipe": NUMERIC, "sensitive": attrs, "features": features}
    return numeric_splits(
        data, seed=opts.seed, val_size=opts.val_size, test_size=opts.test_size, info=info
    )
