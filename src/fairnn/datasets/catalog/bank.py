"""UCI Bank Marketing (bank-additional, 10% sample): file, parser and spec."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fairnn.datasets.catalog.spec import UCI_LICENSE, DatasetSpec, Source, register_dataset
from fairnn.datasets.files import DataFile


def parse_bank(paths: Mapping[str, Source]) -> pd.DataFrame:
    """UCI Bank Marketing (Moro et al. 2014), ``bank-additional.csv`` (the 10% sample).

    ``sep=';'``. ``unknown`` stays a category of its own (no rows dropped).
    ``age_group`` is ``<25`` or ``>=25`` (AIF360's ``BankDataset`` convention).
    """
    df = pd.read_csv(paths["bank-additional.csv"], sep=";")
    df["age_group"] = np.where(df["age"] >= 25, ">=25", "<25")
    return df


SPEC = register_dataset(
    DatasetSpec(
        name="bank",
        title="UCI Bank Marketing (bank-additional, 10% sample)",
        files=(
            DataFile(
                path="bank/bank-additional.csv",
                url=(
                    "https://raw.githubusercontent.com/rcpsl/Certifair/"
                    "666140aed9cca60714cc0b3db89c5d767fdb3576/aif360/data/raw/bank/"
                    "bank-additional.csv"
                ),
                canonical_url=(
                    "https://archive.ics.uci.edu/ml/machine-learning-databases/00222/"
                    "bank-additional.zip"
                ),
                sha256="7e59cf650004d65d1c9d6b08553bad2ee9a9ad70d594f536e3c584ee6ed5df50",
                md5="ee09b855dd692f74099ac5cba74f3e54",
                size=583898,
                note=(
                    "UCI distributes bank-additional.zip; this is its member "
                    "bank-additional/bank-additional.csv, downloaded from a pinned copy."
                ),
            ),
        ),
        license=UCI_LICENSE,
        citation=(
            "S. Moro, P. Cortez and P. Rita. A Data-Driven Approach to Predict the Success of Bank "
            "Telemarketing. Decision Support Systems 62, 2014; UCI Machine Learning Repository, "
            "https://doi.org/10.24432/C5K306"
        ),
        homepage="https://archive.ics.uci.edu/dataset/222/bank+marketing",
        task="binary",
        label="y",
        positive_label="yes",
        sensitive=("age_group",),
        sensitive_options=("age_group",),
        features=(
            "age",
            "job",
            "marital",
            "education",
            "default",
            "housing",
            "loan",
            "contact",
            "month",
            "day_of_week",
            "campaign",
            "pdays",
            "previous",
            "poutcome",
            "emp.var.rate",
            "cons.price.idx",
            "cons.conf.idx",
            "euribor3m",
            "nr.employed",
        ),
        categorical=(
            "job",
            "marital",
            "education",
            "default",
            "housing",
            "loan",
            "contact",
            "month",
            "day_of_week",
            "poutcome",
        ),
        continuous=(
            "age",
            "campaign",
            "pdays",
            "previous",
            "emp.var.rate",
            "cons.price.idx",
            "cons.conf.idx",
            "euribor3m",
            "nr.employed",
        ),
        sensitive_sources={"age_group": ("age",)},
        optional_features={
            "duration": (
                "call duration: known only after the call, and it decides the outcome (UCI: "
                "'should be discarded if the intention is to have a realistic predictive model')"
            ),
        },
        raw_rows=4119,
        rows=4119,
        parser=parse_bank,
        notes=(
            "This is the 10% sample bank-additional.csv (4,119 rows), not bank-additional-full.csv "
            "(41,188 rows), which is not available offline.",
            "duration is dropped from the features (it leaks the outcome).",
            "Sensitive attribute age_group: <25 (98 rows) vs >=25, AIF360's convention; age leaves "
            "X when grouping by it.",
            "'unknown' is kept as a category; pdays = 999 (not contacted before) is kept as a "
            "number, as in AIF360.",
        ),
    )
)
