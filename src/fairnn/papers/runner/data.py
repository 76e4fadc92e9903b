"""RUNNER's data (ICSE 2024; runner.md section 7): the ``runner`` and ``runner-fixed``
recipes and the Fair Mixup/RUNNER 120-feature Adult encoding,
:class:`RunnerAdultPreprocessor`, registered as preprocessor type :data:`RUNNER_TYPE`.

The encoding is fitted once, transforms any raw Adult frame and serialises with
``to_dict``/``from_dict``, so that a saved model scores new raw rows
(:func:`fairnn.datasets.preprocess.preprocessor_from_dict` finds it by its ``type``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from fairnn.datasets.core import Feature, FeatureMeta, GroupInfo, Splits, TabularData, Task
from fairnn.datasets.preprocess import (
    FORMAT_VERSION,
    PREPROCESSORS,
    check_columns,
    nonfinite_report,
    raise_nonfinite,
    standard_scaler_stats,
    value_codes,
)
from fairnn.datasets.recipes import RecipeOptions, check_extra, clean_splits, register_recipe
from fairnn.datasets.registry import DatasetSpec
from fairnn.datasets.splits import check_fractions, group_label_counts
from fairnn.errors import ConfigError, DatasetError

RUNNER_TYPE = "fairnn.preprocessor.runner_adult"
RUNNER_SOURCE = (
    "Ace0001/RUNNER @62ec0b3 dataset.py (= chingyaoc/fair-mixup adult/dataset.py, from IBM SenSR); "
    "see fairnn methods notes runner.md section 7"
)

# ---------------------------------------------------------------------------
# the 120-feature Adult encoding

RUNNER_CONTINUOUS = ("age", "education-num", "capital-gain", "capital-loss", "hours-per-week")
RUNNER_DUMMY_COLUMNS = ("workclass", "marital-status", "occupation", "relationship")
RUNNER_NUM_BINS = 10


def runner_quantile_edges(values: np.ndarray, num_bins: int = RUNNER_NUM_BINS) -> np.ndarray:
    """Decile edges exactly as Fair Mixup's ``_quantization_binning`` computes them."""
    qtls = np.arange(0.0, 1.0 + 1 / num_bins, 1 / num_bins)
    return np.quantile(values, qtls, axis=0)


def runner_quantize(
    values: np.ndarray, edges: np.ndarray, num_bins: int = RUNNER_NUM_BINS
) -> np.ndarray:
    """Bin index per value: the number of edges <= x, clipped to 1..num_bins, minus 1."""
    q = np.digitize(values, edges)
    return (np.clip(q, 1, num_bins) - 1).astype(np.int64)


@PREPROCESSORS.register(RUNNER_TYPE)
class RunnerAdultPreprocessor:
    """Fair Mixup / RUNNER's 120-feature Adult encoding (``dataset.py`` of Ace0001/RUNNER,
    itself from chingyaoc/fair-mixup and IBM SenSR), reproduced column for column.

    - 40 inputs before quantisation: the 5 continuous columns, then
      ``pd.get_dummies`` of workclass, marital-status, occupation, relationship (categories
      sorted), then ``race_ White``; ``sex_ Male`` is the sensitive attribute and not an
      input; native-country, the other race dummies, fnlwgt and education are dropped.
    - A StandardScaler on the 5 continuous columns, fitted on the 80% part (train + val).
    - ``per_feature_edges=False`` (the original): the 11 decile edges of the standardised
      *age* of the training rows are reused for all five continuous columns (the
      quirk: capital-gain and capital-loss fall almost entirely into one bin).
      ``per_feature_edges=True`` is fairnn's fixed variant (``runner-fixed``), not the
      original.
    - Each continuous value becomes a 10-way one-hot, each binary column a 2-way one-hot
      (``[1, 0]`` for 0, ``[0, 1]`` for 1): 5*10 + 35*2 = 120 features.
    """

    def __init__(self, *, per_feature_edges: bool = False) -> None:
        self.per_feature_edges = bool(per_feature_edges)
        self.dummies: list[tuple[str, str]] = []
        self.mean: list[float] = []
        self.scale: list[float] = []
        self.edges: list[list[float]] = []
        self.fitted = False

    @property
    def task(self) -> Task:
        return "binary"

    def fit(
        self, scaler_rows: pd.DataFrame, train_rows: pd.DataFrame, schema: pd.DataFrame
    ) -> RunnerAdultPreprocessor:
        """Dummy categories from ``schema`` (the whole frame), the scaler from ``scaler_rows``
        (RUNNER: train + val), the bin edges from ``train_rows``."""
        check_columns(schema, [*RUNNER_CONTINUOUS, *RUNNER_DUMMY_COLUMNS, "race", "sex"], "Adult")
        self.dummies = [
            (c, str(v))
            for c in RUNNER_DUMMY_COLUMNS
            for v in sorted(schema[c].astype(str).unique())
        ] + [("race", "White")]
        # RUNNER's sklearn StandardScaler, computed the same way without importing sklearn
        mean, scale = standard_scaler_stats(
            scaler_rows[list(RUNNER_CONTINUOUS)].to_numpy(dtype=np.float64)
        )
        self.mean = [float(v) for v in mean]
        self.scale = [float(v) for v in scale]
        z = self._standardise(train_rows)
        if self.per_feature_edges:
            self.edges = [runner_quantile_edges(z[:, i]).tolist() for i in range(z.shape[1])]
        else:
            age_edges = runner_quantile_edges(z[:, 0]).tolist()
            self.edges = [list(age_edges) for _ in RUNNER_CONTINUOUS]
        self.fitted = True
        return self

    def _standardise(self, df: pd.DataFrame) -> np.ndarray:
        x = df[list(RUNNER_CONTINUOUS)].to_numpy(dtype=np.float64)
        return (x - np.asarray(self.mean)) / np.asarray(self.scale)

    def transform_features(self, df: pd.DataFrame) -> torch.Tensor:
        if not self.fitted:
            raise ConfigError("the preprocessor is not fitted")
        check_columns(df, [*RUNNER_CONTINUOUS, *RUNNER_DUMMY_COLUMNS, "race"], "feature")
        for c in [*RUNNER_CONTINUOUS, *RUNNER_DUMMY_COLUMNS, "race"]:
            n_nan, n_inf = nonfinite_report(df[c])
            if n_nan or n_inf:
                raise_nonfinite(c, n_nan, n_inf)
        for c in RUNNER_DUMMY_COLUMNS:
            known = [v for col, v in self.dummies if col == c]
            value_codes(df[c], known, "str", what="feature column", column=c)
        n = len(df)
        z = self._standardise(df)
        blocks: list[np.ndarray] = []
        eye10 = np.eye(RUNNER_NUM_BINS)
        for i in range(len(RUNNER_CONTINUOUS)):
            q = runner_quantize(z[:, i], np.asarray(self.edges[i]))
            blocks.append(eye10[q])
        eye2 = np.eye(2)
        for col, val in self.dummies:
            bit = (df[col].astype(str).to_numpy() == val).astype(np.int64)
            blocks.append(eye2[bit])
        X = np.concatenate(blocks, axis=1) if n else np.zeros((0, self.n_features))
        return torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))

    @property
    def n_features(self) -> int:
        return RUNNER_NUM_BINS * len(RUNNER_CONTINUOUS) + 2 * len(self.dummies)

    def encode_label(self, df: pd.DataFrame) -> np.ndarray:
        check_columns(df, ["income"], "label")
        vals = df["income"].astype(str).str.rstrip(".")
        value_codes(vals, ["<=50K", ">50K"], "str", what="label column", column="income")
        return (vals == ">50K").to_numpy(dtype=np.float32)

    def encode_groups(self, df: pd.DataFrame) -> np.ndarray:
        check_columns(df, ["sex"], "sensitive")
        return value_codes(
            df["sex"], ["Female", "Male"], "str", what="sensitive column", column="sex"
        )

    def transform(self, df: pd.DataFrame, *, name: str = "") -> TabularData:
        return TabularData(
            X=self.transform_features(df),
            y=torch.from_numpy(self.encode_label(df)),
            s=torch.from_numpy(self.encode_groups(df).astype(np.int64)),
            features=self.features,
            groups=self.groups,
            task="binary",
            label="income",
            name=name,
        )

    @property
    def features(self) -> FeatureMeta:
        feats: list[Feature] = []
        for c in RUNNER_CONTINUOUS:
            for k in range(RUNNER_NUM_BINS):
                feats.append(
                    Feature(
                        name=f"{c}_bin{k}", source=c, kind="onehot", block=c, category=f"bin{k}"
                    )
                )
        for col, val in self.dummies:
            dummy = f"{col}_ {val}"  # pandas.get_dummies name of the untrimmed UCI value
            for bit in (0, 1):
                feats.append(
                    Feature(
                        name=f"{dummy}={bit}",
                        source=col,
                        kind="onehot",
                        block=dummy,
                        category=str(bit),
                        sensitive=col == "race",
                    )
                )
        return FeatureMeta(tuple(feats))

    @property
    def groups(self) -> GroupInfo:
        return GroupInfo(("sex",), ("Female", "Male"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": RUNNER_TYPE,
            "version": FORMAT_VERSION,
            "per_feature_edges": self.per_feature_edges,
            "dummies": [list(d) for d in self.dummies],
            "mean": list(self.mean),
            "scale": list(self.scale),
            "edges": [list(e) for e in self.edges],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunnerAdultPreprocessor:
        if d.get("type") != RUNNER_TYPE:
            raise ConfigError(f"not a RUNNER Adult preprocessor dict (type {d.get('type')!r})")
        pre = cls(per_feature_edges=d["per_feature_edges"])
        pre.dummies = [(str(a), str(b)) for a, b in d["dummies"]]
        pre.mean = [float(v) for v in d["mean"]]
        pre.scale = [float(v) for v in d["scale"]]
        pre.edges = [[float(v) for v in e] for e in d["edges"]]
        pre.fitted = True
        return pre


# ---------------------------------------------------------------------------
# the recipes


def _runner_adult(
    frame: pd.DataFrame, opts: RecipeOptions, *, per_feature_edges: bool, recipe: str
) -> Splits:
    check_extra(opts, (), recipe)
    if opts.sensitive not in (None, ("sex",)):
        raise ConfigError(
            f"the {recipe} recipe on adult groups by sex, as RUNNER does; got sensitive="
            f"{list(opts.sensitive or ())}. Use recipe='clean' for another attribute."
        )
    if opts.include_sensitive:
        raise ConfigError(
            f"the {recipe} recipe removes sex from the inputs, as RUNNER does; use recipe='clean' "
            "with include_sensitive=True to keep it"
        )
    check_fractions(opts.val_size, opts.test_size)
    if abs(opts.val_size - opts.test_size) > 1e-12:
        raise ConfigError(
            f"the {recipe} recipe takes val = the first |test| rows of the shuffled training part, "
            f"so val_size must equal test_size (got {opts.val_size} and {opts.test_size})"
        )
    frame = frame.reset_index(drop=True)
    n = len(frame)
    # aif360 StructuredDataset.split([0.8], shuffle=True, seed=seed):
    # np.random.seed(seed); order = np.random.permutation(n); first int(0.8 * n) rows.
    order = np.random.RandomState(opts.seed).permutation(n)
    n_first = int((1.0 - opts.test_size) * n)
    part80, te = order[:n_first], order[n_first:]
    va, tr = part80[: len(te)], part80[len(te) :]
    pre = RunnerAdultPreprocessor(per_feature_edges=per_feature_edges)
    pre.fit(frame.iloc[part80], frame.iloc[tr], schema=frame)
    train = pre.transform(frame.iloc[tr], name="adult/train")
    val = pre.transform(frame.iloc[va], name="adult/val")
    test = pre.transform(frame.iloc[te], name="adult/test")
    faithful = not per_feature_edges
    info: dict[str, Any] = {
        "dataset": "adult",
        "recipe": recipe,
        "faithful": faithful,
        "reference": RUNNER_SOURCE,
        "task": "binary",
        "label": "income",
        "positive_label": ">50K",
        "sensitive": ["sex"],
        "group_labels": ["Female", "Male"],
        "n_features": train.n_features,
        "include_sensitive": False,
        "seed": opts.seed,
        "val_size": opts.val_size,
        "test_size": opts.test_size,
        "split": "aif360 split([1 - test_size], shuffle=True, seed); val = first |test| rows",
        "rows": {"total": n, "train": len(train), "val": len(val), "test": len(test)},
        "groups": {
            k: group_label_counts(v) for k, v in (("train", train), ("val", val), ("test", test))
        },
        "notes": [
            "StandardScaler on the 5 continuous columns is fitted on train + val (RUNNER's 80% part).",
            (
                "Bin edges are per feature (fairnn's fix; NOT the original RUNNER preprocessing)."
                if per_feature_edges
                else "Bin edges are the deciles of standardised age on the training rows, reused for "
                "all five continuous columns (the original quirk)."
            ),
            "race_ White stays an input (flagged sensitive); sex is the group (Female=0, Male=1).",
        ],
    }
    return Splits(train=train, val=val, test=test, preprocessor=pre, info=info)


def _runner_other(frame: pd.DataFrame, spec: DatasetSpec, opts: RecipeOptions) -> Splits:
    common = (
        "RUNNER's preprocessing for this dataset is not released (runner.md section 7, 'Other "
        "datasets'): fairnn uses its clean preprocessing with the sensitive attribute below and a "
        "60/20/20 split stratified on (label, group). Unverified against RUNNER."
    )
    if spec.name == "compas":
        if opts.sensitive not in (None, ("race",)):
            raise ConfigError(
                "the runner recipe on compas groups by race (Caucasian vs African-American)"
            )
        sub = frame[frame["race"].isin(["African-American", "Caucasian"])].reset_index(drop=True)
        return clean_splits(
            sub,
            spec,
            opts,
            recipe="runner",
            sensitive=("race",),
            notes=(common, "Rows: African-American and Caucasian only (FairNeuron), 5,278 rows."),
            extra_info={"faithful": False},
        )
    if spec.name == "german":
        if opts.sensitive not in (None, ("age_group",)):
            raise ConfigError("the runner recipe on german groups by age (>25 vs <=25)")
        return clean_splits(
            frame,
            spec,
            opts,
            recipe="runner",
            sensitive=("age_group",),
            positive_label="bad",
            notes=(
                common,
                "RUNNER's 'Credit' follows FairNeuron, whose Credit data is German Credit with "
                "sensitive attribute age > 25 and label = class 2 (bad credit): y = 1 means bad.",
            ),
            extra_info={"faithful": False},
        )
    if spec.name == "credit":
        if opts.sensitive not in (None, ("SEX",)):
            raise ConfigError("the runner recipe on credit groups by SEX")
        return clean_splits(
            frame,
            spec,
            opts,
            recipe="runner",
            sensitive=("SEX",),
            notes=(
                common,
                "Caution: FairNeuron's (and so probably RUNNER's) 'Credit' is German Credit; see "
                "load_dataset('german', recipe='runner'). This Taiwan-credit variant with SEX is "
                "a fairnn convenience, not a RUNNER setting.",
            ),
            extra_info={"faithful": False},
        )
    if spec.name == "lsac":
        if opts.sensitive not in (None, ("race_binary",)):
            raise ConfigError(
                "the runner recipe on lsac groups by race_binary (White vs Non-White)"
            )
        sub = frame.copy()
        sub["race_binary"] = np.where(sub["race"] == "White", "White", "Non-White")
        return clean_splits(
            sub,
            spec,
            opts,
            recipe="runner",
            sensitive=("race_binary",),
            sources={"race_binary": ("race",)},
            notes=(
                common,
                "RUNNER does not state LSAC's sensitive attribute; fairnn uses race as White vs "
                "Non-White (all 21,791 rows), so that the two-group RUNNER penalties apply.",
            ),
            extra_info={"faithful": False},
        )
    raise DatasetError(
        f"the runner recipe is defined for adult, compas, credit, german and lsac, not {spec.name!r}; "
        "use recipe='clean'"
    )


@register_recipe("runner")
def runner(frame: pd.DataFrame, spec: DatasetSpec, opts: RecipeOptions) -> Splits:
    """Fair Mixup / RUNNER (ICSE 2024) preprocessing (runner.md section 7).

    adult (faithful, from Ace0001/RUNNER ``dataset.py`` = chingyaoc/fair-mixup, derived
    from IBM SenSR): 45,222 rows (adult.data + adult.test, rows with '?' dropped);
    sensitive ``sex`` (Female=0, Male=1) removed from the inputs; race reduced to
    ``race_ White``; native-country, fnlwgt and education dropped; a StandardScaler
    on the 5 continuous columns fitted on the 80% part (train + val); decile bin edges
    of the *standardised age of the training rows* reused for all five continuous
    columns (the quirk); a 10-way one-hot per continuous column and a 2-way one-hot per
    binary column: 120 features. Split: aif360 ``split([0.8], shuffle=True, seed)`` into
    80% / 20% test, then val = the first |test| rows of the shuffled 80% part
    (60/20/20).

    compas, german, credit, lsac: RUNNER's preprocessing is not released. fairnn uses
    its clean preprocessing and a 60/20/20 split stratified on (label, group), with
    RUNNER's sensitive attribute as far as it is known (via FairNeuron, which RUNNER
    follows): compas race, Caucasian vs African-American only (5,278 rows); german
    (FairNeuron's "Credit") age > 25, label = bad credit; lsac not stated, fairnn uses
    race White vs Non-White; credit (Taiwan) SEX, a fairnn convenience and not RUNNER's
    setting. ``Splits.info['faithful']`` is False for these.
    """
    if spec.name == "adult":
        return _runner_adult(frame, opts, per_feature_edges=False, recipe="runner")
    return _runner_other(frame, spec, opts)


@register_recipe("runner-fixed")
def runner_fixed(frame: pd.DataFrame, spec: DatasetSpec, opts: RecipeOptions) -> Splits:
    """RUNNER's Adult preprocessing with per-feature decile edges: NOT the original.

    Identical to ``runner`` on adult except that each continuous column gets the
    deciles of its own standardised training values as bin edges, instead of reusing
    age's. This fixes education-num and hours-per-week, but not capital-gain and
    capital-loss: more than 90% of their values are 0, so nine of their eleven deciles
    coincide and, with RUNNER's "number of edges <= x, clipped" rule, every row falls
    into the last bin (the original quirk at least separates the non-zero values).
    Adult only.
    """
    if spec.name != "adult":
        raise DatasetError(
            "the runner-fixed recipe is defined for adult only; use recipe='runner' or 'clean'"
        )
    return _runner_adult(frame, opts, per_feature_edges=True, recipe="runner-fixed")
