"""Heritage Health (user-supplied health.csv, LAFTR / FairBiNN format): parser and spec."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fairnn.datasets.catalog.spec import DatasetSpec, Source, register_dataset
from fairnn.datasets.files import DataFile
from fairnn.errors import DatasetError

#: The Heritage Health Prize member-year features of the health.csv that LAFTR
#: (Madras et al. 2018), MIFR/FCRL and FairBiNN read, after FairBiNN's drops (ids,
#: year, DaysInHospital, trainset, the age and sex one-hots, the Charlson columns):
#: 123 columns. The fairbinn recipe uses whatever columns remain in the user's file.
HEALTH_FEATURES: tuple[str, ...] = (
    "ClaimsTruncated",
    "age_MISS",
    "sexMISS",
    "no_Claims",
    "no_Providers",
    "no_Vendors",
    "no_PCPs",
    "no_PlaceSvcs",
    "no_Specialities",
    "no_PrimaryConditionGroups",
    "no_ProcedureGroups",
    "PayDelay_max",
    "PayDelay_min",
    "PayDelay_ave",
    "PayDelay_stdev",
    "LOS_max",
    "LOS_min",
    "LOS_ave",
    "LOS_stdev",
    "LOS_TOT_UNKNOWN",
    "LOS_TOT_SUPRESSED",
    "LOS_TOT_KNOWN",
    "dsfs_max",
    "dsfs_min",
    "dsfs_range",
    "dsfs_ave",
    "dsfs_stdev",
    *(f"pcg{i}" for i in range(1, 47)),
    *(f"sp{i}" for i in range(1, 14)),
    *(f"pg{i}" for i in range(1, 19)),
    *(f"ps{i}" for i in range(1, 10)),
    "drugCount_max",
    "drugCount_min",
    "drugCount_ave",
    "drugcount_months",
    "labCount_max",
    "labCount_min",
    "labCount_ave",
    "labcount_months",
    "labNull",
    "drugNull",
)
HEALTH_AGE_COLUMNS: tuple[str, ...] = tuple(f"age_{i}5" for i in range(9))
HEALTH_AGE_LABELS: tuple[str, ...] = (*(f"{10 * i}-{10 * i + 9}" for i in range(8)), "80+")
HEALTH_CHARLSON = tuple(f"CharlsonIndexI_{k}" for k in ("max", "min", "ave", "range", "stdev"))
HEALTH_LABEL = "charlson_positive"


def parse_health(paths: Mapping[str, Source]) -> pd.DataFrame:
    """Heritage Health as preprocessed for LAFTR/FairBiNN: the user's ``health.csv``.

    FairBiNN's ``load_health.py`` filter: rows with ``YEAR_t == 'Y3'``, ``sexMISS == 0``
    and ``age_MISS == 0``. Derived columns: ``age`` (the 9 ten-year buckets of the
    ``age_05 … age_85`` one-hots, labelled ``0-9`` … ``80+``; the sensitive attribute),
    ``age_bucket`` (the same bucket as an integer 0–8, the feature FairBiNN appends),
    ``sex`` (``male``/``female`` from ``sexMALE``/``sexFEMALE``) and the label
    ``charlson_positive`` (1 when ``CharlsonIndexI_max > 0``). Dropped: ``MemberID_t``,
    ``YEAR_t``, ``DaysInHospital``, ``trainset``, the age and sex one-hots and every
    ``CharlsonIndexI_*`` column (they define the label). Every other column is kept.
    """
    src = paths["health.csv"]
    df = pd.read_csv(src)
    required = ["YEAR_t", "sexMISS", "age_MISS", "sexMALE", "sexFEMALE", "CharlsonIndexI_max"]
    missing = [c for c in [*required, *HEALTH_AGE_COLUMNS] if c not in df.columns]
    if missing:
        raise DatasetError(
            f"health.csv ({src}) is not in the LAFTR/FairBiNN format: column(s) {missing} are "
            "missing. Expected the Heritage Health Prize member-year table with YEAR_t, the "
            "age_05 … age_85 and age_MISS one-hots, sexMALE/sexFEMALE/sexMISS and "
            "CharlsonIndexI_max (see docs/datasets.md#health)."
        )
    keep = (df["YEAR_t"].astype(str) == "Y3") & (df["sexMISS"] == 0) & (df["age_MISS"] == 0)
    df = df.loc[keep].reset_index(drop=True)
    if len(df) == 0:
        raise DatasetError(
            f"health.csv ({src}) has no rows with YEAR_t == 'Y3', sexMISS == 0 and age_MISS == 0"
        )
    bucket = df[list(HEALTH_AGE_COLUMNS)].to_numpy().argmax(axis=1)
    is_male = df[["sexMALE", "sexFEMALE"]].to_numpy().argmax(axis=1) == 0
    label = (pd.to_numeric(df["CharlsonIndexI_max"], errors="coerce") > 0).astype(np.int64)
    drop = [
        "MemberID_t",
        "YEAR_t",
        "DaysInHospital",
        "trainset",
        "sexMALE",
        "sexFEMALE",
        *HEALTH_AGE_COLUMNS,
        *HEALTH_CHARLSON,
    ]
    derived = pd.DataFrame(
        {
            "age_bucket": bucket.astype(np.int64),
            "sex": np.where(is_male, "male", "female"),
            "age": np.asarray(HEALTH_AGE_LABELS, dtype=object)[bucket],
            HEALTH_LABEL: label.to_numpy(),
        }
    )
    return pd.concat([df.drop(columns=[c for c in drop if c in df.columns]), derived], axis=1)


SPEC = register_dataset(
    DatasetSpec(
        name="health",
        title="Heritage Health (health.csv as preprocessed for LAFTR / FairBiNN; user-supplied)",
        files=(
            DataFile(
                path="health/health.csv",
                sha256=None,
                url=None,
                canonical_url="https://www.kaggle.com/c/hhp",
                note=(
                    "the Heritage Health Prize data are distributed under the competition's "
                    "terms, and the member-year health.csv that LAFTR, MIFR/FCRL and FairBiNN read "
                    "is not published with a checksum; get it from those projects' instructions "
                    "(the Kaggle Heritage Health Prize data, https://www.kaggle.com/c/hhp)"
                ),
            ),
        ),
        license="Heritage Health Prize competition terms (not redistributable by fairnn)",
        citation=(
            "Heritage Provider Network Health Prize (Kaggle, 2011-2013); the health.csv "
            "preprocessing of Madras et al., Learning Adversarially Fair and Transferable "
            "Representations (ICML 2018), as read by FairBiNN's data_loading/load_health.py"
        ),
        homepage="https://www.kaggle.com/c/hhp",
        task="binary",
        label=HEALTH_LABEL,
        positive_label=1,
        sensitive=("age",),
        sensitive_options=("age", "sex"),
        features=(*HEALTH_FEATURES, "age_bucket", "sex"),
        categorical=("age", "sex"),
        continuous=(*HEALTH_FEATURES, "age_bucket"),
        sensitive_sources={"age": ("age_bucket",)},
        raw_rows=None,
        rows=None,
        parser=parse_health,
        notes=(
            "User-supplied: put health.csv at $FAIRNN_DATA_DIR/health/health.csv or pass path=.",
            "Rows: YEAR_t == 'Y3', sexMISS == 0, age_MISS == 0 (FairBiNN's filter); row count "
            "unknown to fairnn (the FairBiNN paper reports about 51,000 patients).",
            "Label charlson_positive: CharlsonIndexI_max > 0. Sensitive attribute age: 9 ten-year "
            "buckets (0-9 … 80+); sex is the alternative.",
        ),
    )
)
