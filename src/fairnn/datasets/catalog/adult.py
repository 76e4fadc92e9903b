"""UCI Adult (Census Income): files, parser and spec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from fairnn.datasets.catalog.spec import UCI_LICENSE, DatasetSpec, Source, register_dataset
from fairnn.datasets.files import DataFile

ADULT_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
)


def parse_adult(paths: Mapping[str, Source]) -> pd.DataFrame:
    """UCI Adult (Becker & Kohavi 1996): ``adult.data`` + ``adult.test`` concatenated.

    The first line of ``adult.test`` (``|1x3 Cross validator``) is skipped and the
    trailing ``.`` of its labels stripped. ``?`` marks a missing value; rows with any
    missing value are dropped (workclass, occupation, native-country), leaving 45,222
    rows, the count of Fair Mixup/RUNNER and FFB. Row order: all of ``adult.data``,
    then ``adult.test`` (the RUNNER split depends on it). The column ``uci_split``
    (``"train"``/``"test"``) keeps the official split; it is not a feature.
    """
    kw: dict[str, Any] = dict(
        header=None, names=list(ADULT_COLUMNS), skipinitialspace=True, na_values="?"
    )
    train = pd.read_csv(paths["adult.data"], **kw)
    test = pd.read_csv(paths["adult.test"], skiprows=1, **kw)
    train["uci_split"] = "train"
    test["uci_split"] = "test"
    df = pd.concat([train, test], ignore_index=True)
    df["income"] = df["income"].str.rstrip(".")
    df = df.dropna().reset_index(drop=True)
    return df


SPEC = register_dataset(
    DatasetSpec(
        name="adult",
        title="UCI Adult (Census Income)",
        files=(
            DataFile(
                path="adult/adult.data",
                url="https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.data",
                sha256="5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
                md5="5d7c39d7b8804f071cdd1f2a7c460872",
                size=3974305,
                bundled=True,
            ),
            DataFile(
                path="adult/adult.test",
                url="https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.test",
                sha256="a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
                md5="35238206dfdf7f1fe215bbb874adecdc",
                size=2003153,
                bundled=True,
            ),
        ),
        license=UCI_LICENSE,
        citation=(
            "Barry Becker and Ronny Kohavi. Adult. UCI Machine Learning Repository, 1996. "
            "https://doi.org/10.24432/C5XW20"
        ),
        homepage="https://archive.ics.uci.edu/dataset/2/adult",
        task="binary",
        label="income",
        positive_label=">50K",
        sensitive=("sex",),
        sensitive_options=("sex", "race"),
        # every column but the survey weight, education (education-num codes it) and the label
        features=tuple(c for c in ADULT_COLUMNS if c not in ("fnlwgt", "education", "income")),
        categorical=(
            "workclass",
            "marital-status",
            "occupation",
            "relationship",
            "race",
            "sex",
            "native-country",
        ),
        continuous=(
            "age",
            "education-num",
            "capital-gain",
            "capital-loss",
            "hours-per-week",
        ),
        optional_features={
            "fnlwgt": "a census sampling weight, not an attribute of the person",
            "education": "the same information as education-num (one code per level)",
        },
        raw_rows=48842,
        rows=45222,
        parser=parse_adult,
        notes=(
            "adult.data and adult.test are concatenated; the '.' of the test labels is stripped.",
            "Rows with '?' (missing workclass, occupation or native-country) are dropped: 45,222 rows.",
            "fnlwgt and education are left out of the features (see optional_features).",
            "Default sensitive attribute: sex (Female/Male); race (5 values) is the alternative and "
            "stays a feature, flagged sensitive, when grouping by sex.",
        ),
    )
)
