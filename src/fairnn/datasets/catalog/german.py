"""UCI Statlog German Credit: file, parser and spec."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fairnn.datasets.catalog.spec import UCI_LICENSE, DatasetSpec, Source, register_dataset
from fairnn.datasets.files import DataFile
from fairnn.errors import DatasetError

GERMAN_COLUMNS = (
    "checking_status",  # 1  status of existing checking account (A11-A14)
    "duration",  # 2  duration in months
    "credit_history",  # 3  (A30-A34)
    "purpose",  # 4  (A40-A410)
    "credit_amount",  # 5
    "savings",  # 6  savings account/bonds (A61-A65)
    "employment_since",  # 7  present employment since (A71-A75)
    "installment_rate",  # 8  installment rate in % of disposable income
    "personal_status_sex",  # 9  personal status and sex (A91-A95)
    "other_debtors",  # 10 other debtors / guarantors (A101-A103)
    "residence_since",  # 11 present residence since
    "property",  # 12 (A121-A124)
    "age",  # 13 age in years
    "other_installment_plans",  # 14 (A141-A143)
    "housing",  # 15 (A151-A153)
    "existing_credits",  # 16 number of existing credits at this bank
    "job",  # 17 (A171-A174)
    "num_dependents",  # 18 number of people liable to provide maintenance for
    "telephone",  # 19 (A191-A192)
    "foreign_worker",  # 20 (A201-A202)
    "credit_risk",  # 21 class: 1 good, 2 bad
)
GERMAN_SEX = {"A91": "male", "A92": "female", "A93": "male", "A94": "male", "A95": "female"}


def parse_german(paths: Mapping[str, Source]) -> pd.DataFrame:
    """UCI Statlog German Credit (Hofmann 1994), ``german.data``, with column names from ``german.doc``.

    The label ``credit_risk`` is ``good`` (class 1, positive) or ``bad`` (class 2).
    ``sex`` is derived from attribute 9 (A91/A93/A94 male; A92/A95 female) and
    ``age_group`` is ``<=25`` or ``>25``. Categorical values keep their UCI codes
    (``A11`` ...); see ``german.doc`` for their meaning.
    """
    df = pd.read_csv(paths["german.data"], sep=" ", header=None, names=list(GERMAN_COLUMNS))
    df["credit_risk"] = df["credit_risk"].map({1: "good", 2: "bad"})
    df["sex"] = df["personal_status_sex"].map(GERMAN_SEX)
    df["age_group"] = np.where(df["age"] > 25, ">25", "<=25")
    if df[["credit_risk", "sex"]].isna().any().any():
        raise DatasetError("german.data holds an unexpected class or personal-status code")
    return df


SPEC = register_dataset(
    DatasetSpec(
        name="german",
        title="UCI Statlog (German Credit Data)",
        files=(
            DataFile(
                path="german/german.data",
                url=(
                    "https://archive.ics.uci.edu/ml/machine-learning-databases/statlog/german/"
                    "german.data"
                ),
                sha256="b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871",
                md5="6b94c2e35480e671545e52a808a8a549",
                size=79793,
                bundled=True,
            ),
        ),
        license=UCI_LICENSE,
        citation=(
            "Hans Hofmann. Statlog (German Credit Data). UCI Machine Learning Repository, 1994. "
            "https://doi.org/10.24432/C5NC77"
        ),
        homepage="https://archive.ics.uci.edu/dataset/144/statlog+german+credit+data",
        task="binary",
        label="credit_risk",
        positive_label="good",
        sensitive=("sex",),
        sensitive_options=("sex", "age_group"),
        features=(
            "checking_status",
            "duration",
            "credit_history",
            "purpose",
            "credit_amount",
            "savings",
            "employment_since",
            "installment_rate",
            "other_debtors",
            "residence_since",
            "property",
            "age",
            "other_installment_plans",
            "housing",
            "existing_credits",
            "job",
            "num_dependents",
            "telephone",
            "foreign_worker",
            "sex",
        ),
        categorical=(
            "checking_status",
            "credit_history",
            "purpose",
            "savings",
            "employment_since",
            "other_debtors",
            "property",
            "other_installment_plans",
            "housing",
            "job",
            "num_dependents",
            "telephone",
            "foreign_worker",
            "sex",
            "age_group",
        ),
        continuous=(
            "duration",
            "credit_amount",
            "installment_rate",
            "residence_since",
            "age",
            "existing_credits",
        ),
        sensitive_sources={"sex": ("personal_status_sex",), "age_group": ("age",)},
        optional_features={
            "personal_status_sex": "attribute 9 encodes sex (it is the source of `sex`)",
        },
        raw_rows=1000,
        rows=1000,
        parser=parse_german,
        notes=(
            "Label credit_risk: good (class 1, 700 rows) is positive; bad (class 2, 300 rows).",
            "sex is derived from attribute 9 (A91/A93/A94 male, A92/A95 female); attribute 9 "
            "itself is never a feature because it encodes sex.",
            "age_group (<=25 vs >25) is the alternative sensitive attribute; when grouping by it, "
            "age leaves X too (it determines the group) unless include_sensitive=True.",
            "When grouping by sex, age stays a feature and age_group is not added (it is a "
            "function of age); when grouping by age_group, sex stays a feature, flagged sensitive.",
        ),
    )
)
