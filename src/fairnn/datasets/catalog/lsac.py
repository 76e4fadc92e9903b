"""LSAC law school (Kusner et al. 2017 law_data.csv): file, parser and spec."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from fairnn.datasets.catalog.spec import DatasetSpec, Source, register_dataset
from fairnn.datasets.files import DataFile
from fairnn.errors import DatasetError


def parse_lsac(paths: Mapping[str, Source]) -> pd.DataFrame:
    """Kusner et al. (2017) ``law_data.csv`` (from the LSAC National Longitudinal Bar Passage Study).

    ``index_col=0``. ``sex`` 1/2 becomes ``female``/``male`` (Kusner et al.'s R code:
    ``female = sex == 1``, ``male = sex == 2``). ``race`` keeps its eight strings.
    """
    df = pd.read_csv(paths["law_data.csv"], index_col=0).reset_index(drop=True)
    df["sex"] = df["sex"].map({1: "female", 2: "male"})
    if df["sex"].isna().any():
        raise DatasetError("law_data.csv holds an unexpected sex code")
    return df


SPEC = register_dataset(
    DatasetSpec(
        name="lsac",
        title="LSAC law school (Kusner et al. 2017 law_data.csv)",
        files=(
            DataFile(
                path="lsac/law_data.csv",
                url=(
                    "https://raw.githubusercontent.com/Xu-xinxin/Counterfactual-fairness/"
                    "74d672a3d6fb9d23678fbf632deef293ccaa3e26/law_data.csv"
                ),
                canonical_url="https://www.dropbox.com/s/ca74he84aw6ed3z/law_data.csv?dl=0",
                sha256="778f7e055d7be170197b73c98d6ce7f18b4f38d5ca1093c6af10bb9fcd75181d",
                md5="a73d72265a6b57ccfd17812f5aa648e4",
                size=960094,
                note=(
                    "Kusner et al. link the file on Dropbox without a checksum; the sha256 is of "
                    "the copy in Xu-xinxin/Counterfactual-fairness, not verified against Dropbox."
                ),
            ),
        ),
        license="unknown (derived from the LSAC National Longitudinal Bar Passage Study, Wightman 1998)",
        citation=(
            "Matt J. Kusner, Joshua Loftus, Chris Russell and Ricardo Silva. Counterfactual "
            "Fairness. NeurIPS 2017; data: Linda F. Wightman, LSAC National Longitudinal Bar "
            "Passage Study, 1998"
        ),
        homepage="https://github.com/mkusner/counterfactual-fairness",
        task="binary",
        label="first_pf",
        positive_label=1,
        sensitive=("race",),
        sensitive_options=("race", "sex"),
        features=("race", "sex", "LSAT", "UGPA", "region_first"),
        categorical=("race", "sex", "region_first"),
        continuous=("LSAT", "UGPA"),
        optional_features={
            "ZFYA": (
                "first-year law-school grade (standardised): measured after admission and a strong "
                "predictor of first_pf, so it would turn the task into predicting bar passage from "
                "law-school results; Kusner et al. use it as their target"
            ),
            "sander_index": "a deterministic combination of LSAT and UGPA (redundant)",
        },
        raw_rows=21791,
        rows=21791,
        parser=parse_lsac,
        notes=(
            "Label first_pf: 1 = passed the bar exam at the first attempt (19,360 rows) is positive.",
            "Features: LSAT, UGPA, region_first (categorical, 11 codes; 'PO' has one row) and the "
            "sensitive attribute not used for grouping. ZFYA and sander_index are optional.",
            "sex 1/2 -> female/male as in Kusner et al.'s R code. race keeps its eight values.",
        ),
    )
)
