"""The registry of named datasets (old import path): the entries now live in
:mod:`fairnn.datasets.catalog`, one module per dataset.

Every name this module held is re-exported here, so ``from fairnn.datasets.registry
import DatasetSpec, get_spec, HEALTH_FEATURES`` keeps working; new code imports from
:mod:`fairnn.datasets.catalog` (the spec and registry) or the dataset's module
(``fairnn.datasets.catalog.health``).
"""

from __future__ import annotations

from fairnn.datasets.catalog.adult import ADULT_COLUMNS, parse_adult
from fairnn.datasets.catalog.bank import parse_bank
from fairnn.datasets.catalog.boston import BOSTON_BK_THRESHOLD, parse_boston
from fairnn.datasets.catalog.compas import parse_compas
from fairnn.datasets.catalog.credit import (
    CREDIT_EDUCATION,
    CREDIT_LABEL,
    CREDIT_MARRIAGE,
    parse_credit,
)
from fairnn.datasets.catalog.german import GERMAN_COLUMNS, GERMAN_SEX, parse_german
from fairnn.datasets.catalog.health import (
    HEALTH_AGE_COLUMNS,
    HEALTH_AGE_LABELS,
    HEALTH_CHARLSON,
    HEALTH_FEATURES,
    HEALTH_LABEL,
    parse_health,
)
from fairnn.datasets.catalog.lsac import parse_lsac
from fairnn.datasets.catalog.spec import (
    DATASETS,
    UCI_LICENSE,
    DatasetSpec,
    Parser,
    Source,
    get_spec,
    list_datasets,
    register_dataset,
)
from fairnn.datasets.catalog.vision import MNIST_CITATION, MNIST_FILE

__all__ = [
    "ADULT_COLUMNS",
    "BOSTON_BK_THRESHOLD",
    "CREDIT_EDUCATION",
    "CREDIT_LABEL",
    "CREDIT_MARRIAGE",
    "DATASETS",
    "GERMAN_COLUMNS",
    "GERMAN_SEX",
    "HEALTH_AGE_COLUMNS",
    "HEALTH_AGE_LABELS",
    "HEALTH_CHARLSON",
    "HEALTH_FEATURES",
    "HEALTH_LABEL",
    "MNIST_CITATION",
    "MNIST_FILE",
    "UCI_LICENSE",
    "DatasetSpec",
    "Parser",
    "Source",
    "get_spec",
    "list_datasets",
    "parse_adult",
    "parse_bank",
    "parse_boston",
    "parse_compas",
    "parse_credit",
    "parse_german",
    "parse_health",
    "parse_lsac",
    "register_dataset",
]
