"""Boston Housing (Harrison & Rubinfeld 1978): file, parser and spec."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fairnn.datasets.catalog.spec import DatasetSpec, Source, register_dataset
from fairnn.datasets.files import DataFile

#: Threshold on the estimated Black share used to binarise Boston's ``B``.
BOSTON_BK_THRESHOLD = 0.1


def parse_boston(paths: Mapping[str, Source]) -> pd.DataFrame:
    """Boston Housing (Harrison & Rubinfeld 1978), from a CSV copy (506 x 14).

    The header's ``PIRATIO`` is renamed ``PTRATIO``. ``B = 1000 (Bk - 0.63)^2`` is
    inverted on its lower branch, ``Bk = 0.63 - sqrt(B / 1000)`` (so ``Bk <= 0.63``),
    and ``black_share`` is ``"high (Bk>=0.1)"`` when that estimate is at least 0.1
    (``B <= 280.9``, 49 tracts) and ``"low (Bk<0.1)"`` otherwise. The inversion is
    ambiguous above 0.63, so tracts with a majority Black share can be mislabelled;
    see docs/datasets.md.
    """
    df = pd.read_csv(paths["boston.csv"])
    df = df.rename(columns={"PIRATIO": "PTRATIO"})
    bk = 0.63 - np.sqrt(df["B"].to_numpy(dtype=np.float64) / 1000.0)
    df["black_share"] = np.where(bk >= BOSTON_BK_THRESHOLD, "high (Bk>=0.1)", "low (Bk<0.1)")
    return df


SPEC = register_dataset(
    DatasetSpec(
        name="boston",
        title="Boston Housing (Harrison & Rubinfeld 1978)",
        files=(
            DataFile(
                path="boston/boston.csv",
                url=(
                    "https://raw.githubusercontent.com/Zihao-Liu-Leo/FairNN-Co-Shiyu-Hu/"
                    "bd3ac55ee259291a85c690ce5cacfd7b2c28ef7f/boston.csv"
                ),
                canonical_url="http://lib.stat.cmu.edu/datasets/boston",
                sha256="effb9d565d614bdd7e5fe75606485713b7380acd0f58f65639c56db2bd81f972",
                md5="0e6259b7c513d456d07e69385c94abf4",
                size=35202,
                note=(
                    "A CSV copy (from the NNFF student repository); the canonical form is the "
                    "whitespace-separated housing.data without a header. Numerically equal to "
                    "mlxtend's boston_housing.csv."
                ),
            ),
        ),
        license="unknown",
        citation=(
            "D. Harrison and D. L. Rubinfeld. Hedonic prices and the demand for clean air. "
            "Journal of Environmental Economics and Management 5, 1978"
        ),
        homepage="http://lib.stat.cmu.edu/datasets/boston",
        task="regression",
        label="MEDV",
        positive_label=None,
        sensitive=("black_share",),
        sensitive_options=("black_share",),
        features=(
            "CRIM",
            "ZN",
            "INDUS",
            "CHAS",
            "NOX",
            "RM",
            "AGE",
            "DIS",
            "RAD",
            "TAX",
            "PTRATIO",
            "B",
            "LSTAT",
        ),
        categorical=("CHAS",),
        continuous=(
            "CRIM",
            "ZN",
            "INDUS",
            "NOX",
            "RM",
            "AGE",
            "DIS",
            "RAD",
            "TAX",
            "PTRATIO",
            "B",
            "LSTAT",
        ),
        sensitive_sources={"black_share": ("B",)},
        raw_rows=506,
        rows=506,
        parser=parse_boston,
        notes=(
            "Regression on MEDV (median home value, $1000s), kept in raw units.",
            "Sensitive attribute black_share: B = 1000(Bk - 0.63)^2 is inverted on its lower "
            "branch (Bk = 0.63 - sqrt(B/1000)) and thresholded at Bk >= 0.1 (B <= 280.9): "
            "'high (Bk>=0.1)' 49 tracts, 'low (Bk<0.1)' 457. Tracts with Bk > 0.63 cannot be "
            "told apart from low-share tracts (the formula is not invertible there).",
            "B is the source of black_share, so it leaves X by default (the NNFF seed gives B "
            "weight 0). Keep it as a feature with include_sensitive=True or "
            "extra_features=['B'] (flagged sensitive).",
            "PIRATIO in the CSV header is renamed PTRATIO.",
        ),
    )
)
