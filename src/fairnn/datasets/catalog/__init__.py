"""The datasets fairnn knows by name: one module per dataset (its files, parser and spec).

Importing the catalog registers every entry in :data:`DATASETS`, as fairlearn's
``datasets/_fetch_*.py`` and lcifr's ``datasets/<name>.py`` keep one file per dataset:

* tabular: :mod:`.adult`, :mod:`.bank`, :mod:`.boston`, :mod:`.compas`, :mod:`.credit`,
  :mod:`.german`, :mod:`.health` (user-supplied), :mod:`.lsac`;
* images: :mod:`.vision` (cmnist, wbmnist, celeba, waterbirds); text: :mod:`.text`
  (civilcomments, synthetic-toxicity).

Adding a dataset: a module here that calls ``register_dataset(DatasetSpec(...))`` (with
its parser) or ``register_dataset(tensor_spec(..., loader=...))``, one import line
below, and one line in ``tests/datasets/test_datasets_contract.py``, which runs
:func:`fairnn.testing.check_dataset` on it. The per-dataset choices are documented in
``docs/datasets.md`` and in each spec's ``notes``; the files, hashes and quirks come
from the offline mirror's ``SOURCES.md``.
"""

from __future__ import annotations

from fairnn.datasets.catalog import (  # noqa: F401  (each module registers its entries)
    adult,
    bank,
    boston,
    compas,
    credit,
    german,
    health,
    lsac,
    text,
    vision,
)
from fairnn.datasets.catalog.spec import (
    DATASETS,
    UCI_LICENSE,
    DatasetSpec,
    Parser,
    Source,
    get_spec,
    list_datasets,
    register_dataset,
    tensor_spec,
)

__all__ = [
    "DATASETS",
    "UCI_LICENSE",
    "DatasetSpec",
    "Parser",
    "Source",
    "get_spec",
    "list_datasets",
    "register_dataset",
    "tensor_spec",
]
