"""fairnn.datasets: registered fairness datasets, recipes and your own data as tensors.

>>> from fairnn.datasets import load_dataset
>>> splits = load_dataset("adult", seed=0)              # doctest: +SKIP
>>> splits.train.X.shape, splits.groups.labels          # doctest: +SKIP
((27132, 85), ('Female', 'Male'))

- :func:`load_dataset` (registered data, by recipe and seed), :func:`from_frame` (your
  own DataFrame, same preprocessing), :func:`load_raw` (the tidy raw frame),
  :func:`read_table` (CSV or parquet).
- :func:`resolve` (any data: a :class:`DataSpec`, a name, a table path, a DataFrame,
  arrays) as splits; see :mod:`fairnn.datasets.sources`.
- :func:`list_datasets`, :func:`get_spec`, :func:`dataset_info`; recipes:
  :func:`list_recipes`, :func:`register_recipe`.
- Files: ``$FAIRNN_DATA_DIR/<dataset>/<file>``, the cache (``$FAIRNN_CACHE_DIR``),
  the bundled Adult and German copies, or a verified download (off with
  ``FAIRNN_OFFLINE=1``); see :mod:`fairnn.datasets.files`.

Per-dataset choices and sources are documented in ``docs/datasets.md``.
"""

from __future__ import annotations

from fairnn.datasets.api import (
    dataset_info,
    from_frame,
    load_dataset,
    load_raw,
    read_table,
)
from fairnn.datasets.core import (
    Feature,
    FeatureMeta,
    GroupInfo,
    LazyImages,
    Splits,
    TabularData,
    TensorData,
)
from fairnn.datasets.files import DataFile
from fairnn.datasets.preprocess import (
    Preprocessor,
    preprocessor_from_dict,
)
from fairnn.datasets.recipes import (
    RecipeOptions,
    clean_splits,
    get_recipe,
    list_recipes,
    register_recipe,
)
from fairnn.datasets.registry import DatasetSpec, get_spec, list_datasets, register_dataset
from fairnn.datasets.sources import DataSpec, resolve
from fairnn.datasets.splits import build_splits, stratified_indices

__all__ = [
    "DataFile",
    "DataSpec",
    "DatasetSpec",
    "Feature",
    "FeatureMeta",
    "GroupInfo",
    "LazyImages",
    "Preprocessor",
    "RecipeOptions",
    "Splits",
    "TabularData",
    "TensorData",
    "build_splits",
    "clean_splits",
    "dataset_info",
    "from_frame",
    "get_recipe",
    "get_spec",
    "list_datasets",
    "list_recipes",
    "load_dataset",
    "load_raw",
    "preprocessor_from_dict",
    "read_table",
    "register_dataset",
    "register_recipe",
    "resolve",
    "stratified_indices",
]
