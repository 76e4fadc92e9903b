"""UCI default of credit card clients (Taiwan): file, parser and spec."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from fairnn.datasets.catalog.spec import UCI_LICENSE, DatasetSpec, Source, register_dataset
from fairnn.datasets.files import DataFile
from fairnn.errors import DatasetError

CREDIT_LABEL = "default payment next month"
CREDIT_EDUCATION = {
    1: "graduate school",
    2: "university",
    3: "high school",
    4: "others",
    5: "unknown (5)",
    6: "unknown (6)",
    0: "undocumented (0)",
}
CREDIT_MARRIAGE = {1: "married", 2: "single", 3: "others", 0: "undocumented (0)"}


def parse_credit(paths: Mapping[str, Source]) -> pd.DataFrame:
    """UCI "default of credit card clients" (Yeh & Lien 2009), from a CSV conversion of the ``.xls``.

    ``header=1`` (the file has the ``X1..X23,Y`` row first), ``ID`` as the index.
    ``SEX`` becomes ``male`` (1) / ``female`` (2); ``EDUCATION`` and ``MARRIAGE`` codes
    become strings, keeping the undocumented codes (EDUCATION 0, 5, 6; MARRIAGE 0) as
    their own categories instead of merging them.
    """
    df = pd.read_csv(paths["default_of_credit_card_clients.csv"], header=1, index_col=0)
    df.columns = [str(c).strip() for c in df.columns]
    df = df.reset_index(drop=True)
    df["SEX"] = df["SEX"].map({1: "male", 2: "female"})
    df["EDUCATION"] = df["EDUCATION"].map(CREDIT_EDUCATION)
    df["MARRIAGE"] = df["MARRIAGE"].map(CREDIT_MARRIAGE)
    if df[["SEX", "EDUCATION", "MARRIAGE"]].isna().any().any():
        raise DatasetError("credit file holds an unexpected SEX/EDUCATION/MARRIAGE code")
    return df


# LIMIT_BAL, AGE, then the six repayment statuses, bill amounts and payments (UCI's X1, X5-X23).
CREDIT_CONTINUOUS = (
    "LIMIT_BAL",
    "AGE",
    *(f"PAY_{k}" for k in (0, 2, 3, 4, 5, 6)),
    *(f"BILL_AMT{k}" for k in range(1, 7)),
    *(f"PAY_AMT{k}" for k in range(1, 7)),
)


SPEC = register_dataset(
    DatasetSpec(
        name="credit",
        title="UCI default of credit card clients (Taiwan)",
        files=(
            DataFile(
                path="credit/default_of_credit_card_clients.csv",
                url=(
                    "https://raw.githubusercontent.com/joymallyac/Fair-SMOTE/"
                    "e2c6fbaa806bddbee075e85bf4fa450cce2923ad/data/"
                    "default_of_credit_card_clients.csv"
                ),
                canonical_url=(
                    "https://archive.ics.uci.edu/ml/machine-learning-databases/00350/"
                    "default%20of%20credit%20card%20clients.xls"
                ),
                sha256="f987aec2784ea6439c2bc1868f246b45e5e6e410165dce25dc132a302924caa1",
                md5="df7d0f0eed324a7f49330d10fa631074",
                size=2867297,
                note=(
                    "UCI distributes an .xls; this is a CSV conversion of it (from the Fair-SMOTE "
                    "repository), so the sha256 is of the CSV and the download URL is the CSV's."
                ),
            ),
        ),
        license=UCI_LICENSE,
        citation=(
            "I-Cheng Yeh. Default of Credit Card Clients. UCI Machine Learning Repository, 2009. "
            "https://doi.org/10.24432/C55S3H; Yeh & Lien, Expert Systems with Applications "
            "36(2), 2009"
        ),
        homepage="https://archive.ics.uci.edu/dataset/350/default+of+credit+card+clients",
        task="binary",
        label=CREDIT_LABEL,
        positive_label=1,
        sensitive=("SEX",),
        sensitive_options=("SEX",),
        features=("LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", *CREDIT_CONTINUOUS[1:]),
        categorical=("SEX", "EDUCATION", "MARRIAGE"),
        continuous=CREDIT_CONTINUOUS,
        raw_rows=30000,
        rows=30000,
        parser=parse_credit,
        notes=(
            "The UCI original is an .xls ('default of credit card clients.xls'); fairnn verifies "
            "the CSV conversion held by the mirror (sha256 of the CSV) and downloads that CSV from "
            "the Fair-SMOTE repository at a pinned commit. It was not checked cell by cell "
            "against the .xls.",
            "Label 'default payment next month': 1 = default (6,636 rows) is positive.",
            "SEX 1 = male, 2 = female. EDUCATION/MARRIAGE are categorical; undocumented codes "
            "keep their own category. PAY_0..PAY_6 (repayment status, -2..8) are ordinal and "
            "standardised as integers.",
        ),
    )
)
