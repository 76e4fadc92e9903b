"""ProPublica COMPAS two-year recidivism: file, parser and spec."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from fairnn.datasets.catalog.spec import DatasetSpec, Source, register_dataset
from fairnn.datasets.files import DataFile


def parse_compas(paths: Mapping[str, Source]) -> pd.DataFrame:
    """ProPublica's two-year COMPAS file (Angwin et al. 2016, "Machine Bias").

    ProPublica's filter: ``-30 <= days_b_screening_arrest <= 30``, ``is_recid != -1``,
    ``c_charge_degree != 'O'``, ``score_text != 'N/A'`` -> 6,172 rows. Kept: the
    label ``two_year_recid`` (1 = re-arrested within two years), ``sex``, ``race``
    (all six values) and the features ``age``, ``juv_fel_count``, ``juv_misd_count``,
    ``juv_other_count``, ``priors_count`` and ``c_charge_degree`` (F/M written as
    ``felony``/``misdemeanor``). COMPAS's own outputs (``decile_score``,
    ``score_text``, ``v_*``) and outcome columns (``is_recid``, ``r_*``, ``vr_*``,
    ``event``) are not kept: they would leak the label or the score under audit.
    """
    df = pd.read_csv(paths["compas-scores-two-years.csv"])
    days = df["days_b_screening_arrest"]
    keep = (
        (days <= 30)
        & (days >= -30)
        & (df["is_recid"] != -1)
        & (df["c_charge_degree"] != "O")
        & (df["score_text"] != "N/A")
        & df["score_text"].notna()
    )
    cols = [
        "sex",
        "age",
        "race",
        "juv_fel_count",
        "juv_misd_count",
        "juv_other_count",
        "priors_count",
        "c_charge_degree",
        "two_year_recid",
    ]
    out = df.loc[keep, cols].reset_index(drop=True)
    out["c_charge_degree"] = out["c_charge_degree"].map({"F": "felony", "M": "misdemeanor"})
    return out


SPEC = register_dataset(
    DatasetSpec(
        name="compas",
        title="ProPublica COMPAS two-year recidivism",
        files=(
            DataFile(
                path="compas/compas-scores-two-years.csv",
                url=(
                    "https://raw.githubusercontent.com/propublica/compas-analysis/"
                    "bafff5da3f2e45eca6c2d5055faad269defd135a/compas-scores-two-years.csv"
                ),
                canonical_url=(
                    "https://raw.githubusercontent.com/propublica/compas-analysis/master/"
                    "compas-scores-two-years.csv"
                ),
                sha256="c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d",
                md5="9165d40c400bba93a8cffece2b74622b",
                size=2546489,
            ),
        ),
        license="none stated (the propublica/compas-analysis repository has no LICENSE file)",
        citation=(
            "Julia Angwin, Jeff Larson, Surya Mattu and Lauren Kirchner. Machine Bias. ProPublica, "
            "2016. https://github.com/propublica/compas-analysis"
        ),
        homepage="https://github.com/propublica/compas-analysis",
        task="binary",
        label="two_year_recid",
        positive_label=1,
        sensitive=("race",),
        sensitive_options=("race", "sex"),
        features=(
            "sex",
            "age",
            "race",
            "juv_fel_count",
            "juv_misd_count",
            "juv_other_count",
            "priors_count",
            "c_charge_degree",
        ),
        categorical=("sex", "race", "c_charge_degree"),
        continuous=("age", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count"),
        raw_rows=7214,
        rows=6172,
        parser=parse_compas,
        notes=(
            "ProPublica's filter (|days_b_screening_arrest| <= 30, is_recid != -1, "
            "c_charge_degree != 'O', score_text != 'N/A') leaves 6,172 rows.",
            "Label two_year_recid: 1 = re-arrested within two years (the unfavourable outcome).",
            "The clean recipe keeps all six race values (African-American, Caucasian, Hispanic, "
            "Other, Asian, Native American); the runner recipe keeps only African-American vs "
            "Caucasian, as FairNeuron does.",
            "Leakage columns (decile_score, score_text, v_*, is_recid, r_*, vr_*, event) are "
            "never features; c_charge_desc (389 free-text values) and age_cat (a binning of age) "
            "are left out.",
        ),
    )
)
