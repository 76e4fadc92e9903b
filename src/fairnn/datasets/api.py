"""The public entry points of :mod:`fairnn.datasets` (re-exported there)."""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairnn.datasets.core import Splits, Task
from fairnn.datasets.files import (
    PathArg,
    ResolvedFile,
    cache_dir,
    find_local,
    locate_files,
)
from fairnn.datasets.files import data_dir as resolve_data_dir
from fairnn.datasets.preprocess import DEFAULT_MAX_CATEGORIES, Preprocessor, Scaling
from fairnn.datasets.recipes import DEFAULT_RECIPE, RecipeOptions, get_recipe
from fairnn.datasets.registry import DatasetSpec, get_spec, list_datasets
from fairnn.datasets.splits import (
    DEFAULT_TEST_SIZE,
    DEFAULT_VAL_SIZE,
    build_splits,
    check_fractions,
)
from fairnn.errors import (
    ColumnError,
    ConfigError,
    DataNotFoundError,
    DatasetError,
    InvalidValueError,
)
from fairnn.validation import check_seed

__all__ = [
    "dataset_info",
    "from_frame",
    "get_spec",
    "list_datasets",
    "load_dataset",
    "load_raw",
    "read_table",
]

_FRAME_CACHE: OrderedDict[tuple[Any, ...], pd.DataFrame] = OrderedDict()
_FRAME_CACHE_SIZE = 8


def _frame_key(spec: DatasetSpec, files: Mapping[str, ResolvedFile]) -> tuple[Any, ...]:
    parts: list[Any] = [spec.name]
    for name in sorted(files):
        r = files[name]
        if r.path is not None:
            st = r.path.stat()
            parts.append((str(r.path.resolve()), st.st_size, st.st_mtime_ns))
        else:
            parts.append(("memory", r.sha256))
    return tuple(parts)


def _parse(spec: DatasetSpec, files: Mapping[str, ResolvedFile]) -> pd.DataFrame:
    key = _frame_key(spec, files)
    hit = _FRAME_CACHE.get(key)
    if hit is None:
        hit = spec.raw_frame({name: r.source() for name, r in files.items()})
        _FRAME_CACHE[key] = hit
        while len(_FRAME_CACHE) > _FRAME_CACHE_SIZE:
            _FRAME_CACHE.popitem(last=False)
    else:
        _FRAME_CACHE.move_to_end(key)
    return hit.copy()


def load_raw(
    name: str,
    path: PathArg = None,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    verify: bool = True,
    download: bool = True,
) -> pd.DataFrame:
    """The tidy raw frame of a registered dataset (its documented row filters applied,
    readable sensitive columns, the label column as distributed).

    Files are located as described in :mod:`fairnn.datasets.files` and checked
    against their sha256 unless ``verify=False``.
    """
    spec = get_spec(name)
    files = locate_files(
        spec.files, path=path, data_dir_arg=data_dir, verify_hash=verify, allow_download=download
    )
    return _parse(spec, files)


def _as_tuple(sensitive: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if sensitive is None:
        return None
    if isinstance(sensitive, str):
        return (sensitive,)
    return tuple(str(s) for s in sensitive)


def load_dataset(
    name: str,
    *,
    recipe: str = DEFAULT_RECIPE,
    seed: int = 0,
    sensitive: str | Sequence[str] | None = None,
    path: PathArg = None,
    data_dir: str | os.PathLike[str] | None = None,
    include_sensitive: bool = False,
    val_size: float = DEFAULT_VAL_SIZE,
    test_size: float = DEFAULT_TEST_SIZE,
    verify: bool = True,
    download: bool = True,
    **options: Any,
) -> Splits:
    """Load a registered dataset as train/val/test under a recipe and a seed.

    Parameters
    ----------
    name:
        A name from :func:`list_datasets` (``adult``, ``bank``, ``boston``, ``compas``,
        ``credit``, ``german``, ``lsac``).
    recipe:
        ``"clean"`` (default), ``"runner"`` or ``"runner-fixed"``; see
        :mod:`fairnn.datasets.recipes` and docs/datasets.md.
    seed:
        Draws the split.
    sensitive:
        Grouping attribute(s); default the dataset's (``get_spec(name).sensitive``).
        Several attributes give intersection groups.
    path, data_dir:
        Where the files are (see :mod:`fairnn.datasets.files`); by default
        ``$FAIRNN_DATA_DIR``, the cache, the bundled copy (adult, german), a download.
    include_sensitive:
        Keep the grouping attribute(s) in ``X`` (flagged ``sensitive=True``).
    val_size, test_size:
        Fractions of rows for validation and test (default 0.2 each: 60/20/20).
    verify:
        Check every file's sha256 (default True).
    download:
        Allow a verified download when the file is nowhere local (default True;
        ``FAIRNN_OFFLINE=1`` also disables it).
    **options:
        Recipe options, e.g. ``extra_features=["ZFYA"]`` or ``drop_features=[...]``
        for ``clean``.

    Returns
    -------
    Splits
        ``train``/``val``/``test`` (each with ``name`` like ``"adult/train"``), the fitted
        ``preprocessor`` and ``info`` (dataset, recipe, seed, files with their hashes,
        row counts, groups, notes).
    """
    spec = get_spec(name)
    check_seed(seed)  # before int(seed): 1.5 is refused, not read as 1
    check_fractions(val_size, test_size)
    if spec.loader is not None:  # image and text data: the loader builds the splits
        return _load_tensor_dataset(
            spec,
            recipe,
            seed,
            sensitive,
            path,
            data_dir,
            verify,
            download,
            val_size,
            test_size,
            options,
        )
    fn = get_recipe(recipe)
    files = locate_files(
        spec.files, path=path, data_dir_arg=data_dir, verify_hash=verify, allow_download=download
    )
    frame = _parse(spec, files)
    opts = RecipeOptions(
        seed=int(seed),
        sensitive=_as_tuple(sensitive),
        include_sensitive=bool(include_sensitive),
        val_size=float(val_size),
        test_size=float(test_size),
        extra=dict(options),
    )
    splits = fn(frame, spec, opts)
    from fairnn import __version__

    splits.info.update(
        {
            "dataset": spec.name,
            "source": spec.name,
            "title": spec.title,
            "recipe": recipe,
            "seed": int(seed),
            "files": [files[f.name].describe() for f in spec.files],
            "raw_rows": spec.raw_rows,
            "parsed_rows": len(frame),
            "license": spec.license,
            "citation": spec.citation,
            "fairnn_version": __version__,
        }
    )
    return splits


def check_recipe(name: str, recipe: str) -> None:
    """Raise unless registered dataset ``name`` can be loaded under ``recipe``.

    A tabular dataset takes any registered recipe; an image or text dataset (one with a
    loader) only ``clean`` or its own name.
    """
    spec = get_spec(name)
    if spec.loader is None:
        get_recipe(recipe)
    elif recipe not in (DEFAULT_RECIPE, spec.name):
        raise ConfigError(
            f"dataset {spec.name!r} has no recipe {recipe!r}; its loader takes options instead"
        )


def _load_tensor_dataset(
    spec: DatasetSpec,
    recipe: str,
    seed: int,
    sensitive: str | Sequence[str] | None,
    path: PathArg,
    data_dir: str | os.PathLike[str] | None,
    verify: bool,
    download: bool,
    val_size: float,
    test_size: float,
    options: dict[str, Any],
) -> Splits:
    """Image and text datasets (``spec.loader``): no raw frame, no recipe."""
    check_recipe(spec.name, recipe)
    files = locate_files(
        spec.files, path=path, data_dir_arg=data_dir, verify_hash=verify, allow_download=download
    )
    sens = _as_tuple(sensitive)
    splits = spec.loader(  # type: ignore[misc]
        files,
        seed=int(seed),
        sensitive=sens[0] if sens and len(sens) == 1 else sens,
        val_size=float(val_size),
        test_size=float(test_size),
        **options,
    )
    from fairnn import __version__

    splits.info.update(
        {
            "dataset": spec.name,
            "source": spec.name,
            "title": spec.title,
            "recipe": recipe,
            "seed": int(seed),
            "files": [files[f.name].describe() for f in spec.files],
            "license": spec.license,
            "citation": spec.citation,
            "fairnn_version": __version__,
        }
    )
    return splits


def dataset_info(name: str, *, data_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """What fairnn knows about a dataset, and whether its files are present locally (and
    where), without hashing, decompressing or downloading anything."""
    spec = get_spec(name)
    info = spec.to_info()
    local = [find_local(f, data_dir_arg=data_dir) for f in spec.files]
    first = spec.files[0] if spec.files else None
    info.update(
        {
            "source_url": None if first is None else first.canonical_url or first.url,
            "download_urls": [f.url for f in spec.files],
            "bundled": spec.bundled,
            "present": all(x["present"] for x in local),
            "local": local,
            "data_dir": _str_or_none(resolve_data_dir(data_dir)),
            "cache_dir": str(cache_dir()),
        }
    )
    return info


def _str_or_none(p: Path | None) -> str | None:
    return None if p is None else str(p)


def from_frame(
    df: pd.DataFrame,
    *,
    label: str,
    sensitive: str | Sequence[str],
    categorical: Sequence[str] | None = None,
    continuous: Sequence[str] | None = None,
    positive_label: Any = None,
    seed: int = 0,
    task: Task | None = None,
    dropna: bool = False,
    features: Sequence[str] | None = None,
    include_sensitive: bool = False,
    val_size: float = DEFAULT_VAL_SIZE,
    test_size: float = DEFAULT_TEST_SIZE,
    scaling: Scaling = "standard",
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    name: str = "frame",
    source: str | None = None,
    indices: tuple[Sequence[int], Sequence[int], Sequence[int]] | None = None,
    group_names: Mapping[str, Mapping[Any, str]] | None = None,
) -> Splits:
    """Bring your own data: split and preprocess a DataFrame like a registered dataset.

    Column kinds are detected (object/string/category/bool columns and whole-number
    columns with at most ``max_categories`` distinct values are categorical, two-valued
    columns become one 0/1 column, other numeric columns are standardised) unless
    ``categorical=[...]``/``continuous=[...]`` say otherwise. The split is stratified on
    (label, group) (group only for regression) and drawn by ``seed``; statistics come
    from the training rows only.

    Missing or infinite values in the columns used raise
    :class:`~fairnn.errors.InvalidValueError` unless ``dropna=True``, which drops those
    rows first (the count is recorded in ``info['dropped_rows']``).

    ``name`` prefixes the splits' names (``"frame/train"``); ``source`` (for example the
    path the frame was read from) is recorded as ``info['source']`` so that a saved
    model can say which data it was trained on. ``indices`` (train, val, test row
    positions) is the user's own split, used as it is instead of the seed's.
    ``group_names`` (``{"SEX": {1: "male", 2: "female"}}``) names the groups in place
    of their raw values.
    """
    if not isinstance(df, pd.DataFrame):
        raise DatasetError(f"from_frame needs a pandas DataFrame, got {type(df).__name__}")
    check_fractions(val_size, test_size)
    pre = Preprocessor(
        label,
        sensitive,
        task=task,
        positive_label=positive_label,
        features=features,
        categorical=categorical,
        continuous=continuous,
        include_sensitive=include_sensitive,
        scaling=scaling,
        max_categories=max_categories,
        group_names=group_names,
    )
    used = pre.input_columns(df)
    dropped = 0
    if dropna:
        bad = np.zeros(len(df), dtype=bool)
        for c in used:
            s = df[c]
            if s.isna().all():  # an all-missing feature is dropped as constant, not its rows
                continue
            bad |= s.isna().to_numpy()
            if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
                bad |= np.isinf(s.to_numpy(dtype=np.float64, na_value=np.nan))
        dropped = int(bad.sum())
        df = df.loc[~bad]
        if indices is not None:  # the kept rows' new positions
            new = np.cumsum(~bad) - 1
            indices = tuple(new[[i for i in idx if not bad[i]]] for idx in indices)  # type: ignore[assignment]
        if len(df) == 0:
            raise InvalidValueError("dropna=True removed every row: each row has a missing value")
    splits = build_splits(
        df,
        pre,
        seed=int(seed),
        val_size=val_size,
        test_size=test_size,
        name=name,
        indices=indices,
        info={"dataset": name, "source": source, "recipe": "from_frame", "dropped_rows": dropped},
    )
    return splits


# ---------------------------------------------------------------------------
# reading tables

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
PARQUET_SUFFIXES = {".parquet", ".pq"}
COMPRESSION_SUFFIXES = {".gz", ".bz2", ".xz", ".zip", ".zst"}
NOT_TABLE_SUFFIXES = {
    ".json", ".jsonl", ".xml", ".html", ".htm", ".yaml", ".yml", ".md", ".xls", ".xlsx",
    ".xlsm", ".ods", ".pkl", ".pickle", ".joblib", ".npy", ".npz", ".h5", ".hdf5", ".hdf",
    ".feather", ".arrow", ".orc", ".avro", ".sav", ".dta", ".sas7bdat", ".db", ".sqlite",
    ".pt", ".pth", ".safetensors",
}  # fmt: skip
SUPPORTED = (
    "CSV (.csv, .tsv, .txt, optionally compressed as .gz/.bz2/.xz/.zip/.zst) or parquet "
    "(.parquet, .pq); a file with another or no extension is read when its content is parquet "
    "or delimited text"
)


def _not_supported(path: Path, why: str) -> DatasetError:
    return DatasetError(f"cannot read {path}: {why}. Supported formats: {SUPPORTED}.")


_REPEAT = re.compile(r"^(.*)\.\d+$")


def _read_csv(p: Path, **kwargs: Any) -> pd.DataFrame:
    """:func:`pandas.read_csv`, refusing a header that repeats a name (which pandas would
    silently rename ``a``, ``a.1``, ...)."""
    frame = pd.read_csv(p, **kwargs)
    cols = [str(c) for c in frame.columns]
    renamed = any((m := _REPEAT.match(c)) and m.group(1) in cols for c in cols)
    if not renamed or "header" in kwargs or "names" in kwargs:
        return frame
    header = pd.read_csv(p, **{**kwargs, "header": None, "nrows": 1, "dtype": str})
    names = [str(v) for v in header.iloc[0]]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        where = "; ".join(
            f"{n!r} in columns {[i + 1 for i, m in enumerate(names) if m == n]}" for n in repeated
        )
        raise ColumnError(
            f"{p} has duplicate column names: {where}. Fix: rename them in the file so that "
            "every column has its own name"
        )
    return frame


def read_table(path: str | os.PathLike[str], **kwargs: Any) -> pd.DataFrame:
    """Read a CSV or parquet file into a DataFrame, choosing the reader by extension or content.

    Extra keyword arguments go to :func:`pandas.read_csv` / :func:`pandas.read_parquet`.
    Anything else (Excel, JSON, pickles, ...) raises :class:`~fairnn.errors.DatasetError`
    naming the file and the supported formats; pickles are never unpickled.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        raise DatasetError(
            f"{p} is a directory; expected a CSV or parquet file (pass a file inside it)"
        )
    if not p.is_file():
        raise DataNotFoundError(f"no such file: {p}. Supported formats: {SUPPORTED}.")
    if p.stat().st_size == 0:
        raise DatasetError(f"{p} is empty (0 bytes); expected a CSV with a header row or parquet")
    suffixes = [s.lower() for s in p.suffixes]
    last = suffixes[-1] if suffixes else ""
    inner = suffixes[-2] if len(suffixes) >= 2 and last in COMPRESSION_SUFFIXES else last
    try:
        if last in PARQUET_SUFFIXES:
            return pd.read_parquet(p, **kwargs)
        if inner in CSV_SUFFIXES:
            sep = CSV_SUFFIXES[inner]
            if sep is None:
                kwargs.setdefault("sep", None)
                kwargs.setdefault("engine", "python")
            else:
                kwargs.setdefault("sep", sep)
            return _read_csv(p, **kwargs)
        if last in NOT_TABLE_SUFFIXES or inner in NOT_TABLE_SUFFIXES:
            raise _not_supported(
                p, f"the extension {''.join(p.suffixes)!r} is not a supported table format"
            )
        with p.open("rb") as fh:
            head = fh.read(65536)
        if head[:4] == b"PAR1":
            return pd.read_parquet(p, **kwargs)
        if head[:2] in (b"PK", b"\x1f\x8b") or head[:1] == b"\x80" or b"\x00" in head:
            raise _not_supported(p, "its content is binary and not parquet")
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if len(head) < 65536 or exc.start < len(head) - 4:
                raise _not_supported(p, "its content is neither parquet nor UTF-8 text") from None
        kwargs.setdefault("sep", None)
        kwargs.setdefault("engine", "python")
        return _read_csv(p, **kwargs)
    except DatasetError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, ImportError) as exc:
        raise _not_supported(p, f"{type(exc).__name__}: {exc}") from exc
