"""FairBiNN's tabular data (Yazdani-Jahromi et al., NeurIPS 2024; the official code's
``data_loading``): the ``fairbinn`` and ``fairbinn-paper`` recipes.

The two recipes load the same data; they differ in the training protocol
(:mod:`fairnn.papers.fairbinn.protocol`). On Adult the inputs are the dataset's
registered features plus its optional ``education`` column, encoded as the registered
dataset pins them (``spec.categorical``, ``spec.continuous``), min-max scaled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fairnn.datasets.core import Splits
from fairnn.datasets.preprocess import Preprocessor
from fairnn.datasets.recipes import RecipeOptions, check_extra, register_recipe
from fairnn.datasets.registry import DatasetSpec
from fairnn.datasets.splits import (
    DEFAULT_TEST_SIZE,
    build_splits,
    check_fractions,
    stratified_indices,
)
from fairnn.errors import ConfigError, DatasetError

FAIRBINN_SOURCE = (
    "yazdanimehdi/FairBiNN @d9679ba data_loading/load_adult.py, data_loading/load_health.py; "
    "see docs/methods/fairbinn.md"
)
#: Adult columns FairBiNN's loader keeps beyond the dataset's registered features
#: (fnlwgt, the other optional column, is dropped)
FAIRBINN_ADULT_EXTRA = ("education",)


def _fairbinn_adult(
    frame: pd.DataFrame, spec: DatasetSpec, opts: RecipeOptions, recipe: str
) -> Splits:
    if opts.sensitive not in (None, ("sex",)):
        raise ConfigError(
            f"the {recipe} recipe on adult groups by sex, as FairBiNN does; got sensitive="
            f"{list(opts.sensitive or ())}. Use recipe='clean' for another attribute."
        )
    if abs(opts.test_size - DEFAULT_TEST_SIZE) > 1e-12:
        raise ConfigError(
            f"the {recipe} recipe tests on the official adult.test rows (15,060), as FairBiNN "
            f"does, so test_size does not apply (got {opts.test_size}); val_size sets the share "
            "of the official training rows held out for validation"
        )
    if not 0.0 < opts.val_size < 1.0:
        raise ConfigError(
            f"val_size must be in (0, 1) for the {recipe} recipe, got {opts.val_size}"
        )
    # FairBiNN's one-hot drops native-country_Holand-Netherlands (one adult.data row, no
    # adult.test row); fairnn drops that row so that no category encodes as all zeros.
    frame = frame[frame["native-country"] != "Holand-Netherlands"].reset_index(drop=True)
    official_train = np.flatnonzero(frame["uci_split"].to_numpy() == "train")
    te = np.flatnonzero(frame["uci_split"].to_numpy() == "test")
    strata = (
        2 * (frame["sex"].to_numpy() == "Male").astype(np.int64)
        + (frame[spec.label].to_numpy() == spec.positive_label).astype(np.int64)
    )[official_train]
    # val: val_size of the official training rows, stratified on (label, group) by seed
    rest, _, held = stratified_indices(
        strata, seed=opts.seed, val_size=0.0, test_size=opts.val_size
    )
    tr, va = official_train[rest], official_train[held]
    # the registered features and FairBiNN's extra columns, in file order (fnlwgt dropped)
    kept = {*spec.features, *FAIRBINN_ADULT_EXTRA}
    features = [str(c) for c in frame.columns if c in kept]
    pre = Preprocessor(
        spec.label,
        ["sex"],
        task=spec.task,
        positive_label=spec.positive_label,
        features=features,
        categorical=[c for c in features if c in spec.categorical or c in FAIRBINN_ADULT_EXTRA],
        continuous=list(spec.continuous),
        include_sensitive=True,
        flag_sensitive=["race"],
        scaling="minmax",
    )
    info: dict[str, Any] = {
        "dataset": "adult",
        "recipe": recipe,
        "reference": FAIRBINN_SOURCE,
        "split": (
            "test = the official adult.test rows; val = val_size of the official adult.data rows, "
            "stratified on (label, group) by seed; train = the rest"
        ),
        "notes": [
            "FairBiNN's 101 inputs: fnlwgt dropped, rows with '?' dropped, sex kept as an input "
            "(and the sensitive attribute), the 7 categoricals (education included) one-hot.",
            "Min-max scaling is fitted on the training rows only and reused for val and test "
            "(FairBiNN refits its MinMaxScaler on the test file).",
            "The single Holand-Netherlands row (adult.data) is dropped; FairBiNN keeps it with "
            "an all-zero native-country block.",
            "Column order and the 0/1 orientation of sex (here Male = 1; FairBiNN: Female = 1) "
            "differ from FairBiNN's; neither changes what a network can learn.",
        ],
    }
    return build_splits(frame, pre, seed=opts.seed, name="adult", indices=(tr, va, te), info=info)


def _fairbinn_health(
    frame: pd.DataFrame, spec: DatasetSpec, opts: RecipeOptions, recipe: str
) -> Splits:
    if opts.sensitive not in (None, ("age",)):
        raise ConfigError(
            f"the {recipe} recipe on health groups by the 9 age buckets, as FairBiNN does; got "
            f"sensitive={list(opts.sensitive or ())}. Use recipe='clean' for sex."
        )
    check_fractions(opts.val_size, opts.test_size)
    label = spec.label
    features = [c for c in frame.columns if c not in (label, "age")]
    pre = Preprocessor(
        label,
        ["age"],
        task="binary",
        positive_label=spec.positive_label,
        features=features,
        categorical=["sex"],
        continuous=[c for c in features if c != "sex"],
        flag_sensitive=["age_bucket", "sex"],
        scaling="minmax",
    )
    info: dict[str, Any] = {
        "dataset": "health",
        "recipe": recipe,
        "reference": FAIRBINN_SOURCE,
        "notes": [
            "FairBiNN's Health inputs: every column left by the parser, then the age bucket "
            "(0-8) and sex as features (125 with the LAFTR file); the 9 age buckets are the groups.",
            "Min-max scaling fitted on the training rows (FairBiNN feeds unscaled values).",
            "A 60/20/20 split stratified on (label, group) by seed (FairBiNN: 80/20 with "
            "random_state=42 and no validation split).",
        ],
    }
    return build_splits(
        frame,
        pre,
        seed=opts.seed,
        val_size=opts.val_size,
        test_size=opts.test_size,
        name="health",
        info=info,
    )


def _fairbinn(frame: pd.DataFrame, spec: DatasetSpec, opts: RecipeOptions, recipe: str) -> Splits:
    check_extra(opts, (), recipe)
    if spec.name == "adult":
        return _fairbinn_adult(frame, spec, opts, recipe)
    if spec.name == "health":
        return _fairbinn_health(frame, spec, opts, recipe)
    raise DatasetError(
        f"the {recipe} recipe is defined for adult and health (FairBiNN's tabular data); "
        "use recipe='clean' for other datasets"
    )


@register_recipe("fairbinn")
def fairbinn(frame: pd.DataFrame, spec: DatasetSpec, opts: RecipeOptions) -> Splits:
    """FairBiNN's tabular data (NeurIPS 2024; yazdanimehdi/FairBiNN data_loading).

    adult: 101 inputs: fnlwgt and rows with '?' dropped; sex kept as an input and as the
    sensitive attribute; workclass, education, marital-status, occupation, relationship,
    race and native-country one-hot; the 5 numeric columns min-max scaled with the
    training rows' minimum and maximum (not refitted on test). Test is the official
    adult.test; val is ``val_size`` of the official adult.data rows (stratified, by
    seed). The one Holand-Netherlands row is dropped.

    health: the user's ``health.csv`` (see the dataset entry); the 9 age buckets are the
    groups and, with sex, also inputs; min-max scaled; 60/20/20 stratified by seed.

    The training protocol of this recipe is the official code's defaults (η 10000, batch
    200, 200 epochs); ``fairbinn-paper`` is the same data with the paper's appendix
    settings.
    """
    return _fairbinn(frame, spec, opts, "fairbinn")


@register_recipe("fairbinn-paper")
def fairbinn_paper(frame: pd.DataFrame, spec: DatasetSpec, opts: RecipeOptions) -> Splits:
    """The ``fairbinn`` data with the paper's appendix protocol (η 100, batch 100, 50 epochs)."""
    return _fairbinn(frame, spec, opts, "fairbinn-paper")
