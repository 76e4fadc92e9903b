"""Recipes: how a registered dataset's raw frame becomes :class:`~fairnn.datasets.core.Splits`.

A recipe is one function ``(frame, spec, options) -> Splits`` registered under a name
with :func:`register_recipe`. ``frame`` is the tidy raw frame of
:meth:`DatasetSpec.raw_frame`, ``spec`` the :class:`DatasetSpec`, ``options`` a
:class:`RecipeOptions` (seed, sensitive attribute(s), split sizes, ``include_sensitive``
and recipe-specific ``extra`` keyword options). Adding a recipe usually means calling
:func:`clean_splits` with other choices, or building a
:class:`~fairnn.datasets.preprocess.Preprocessor` and calling
:func:`~fairnn.datasets.splits.build_splits`::

    @register_recipe("my-recipe")
    def my_recipe(frame, spec, opts):
        \"\"\"What it does and where it comes from.\"\"\"
        return clean_splits(frame, spec, opts, recipe="my-recipe", scaling="minmax")

Registered now: ``clean`` (the default), ``runner`` (Fair Mixup/RUNNER's Adult
preprocessing; other datasets: clean preprocessing with RUNNER's sensitive attribute),
``runner-fixed`` (the per-feature-edges variant; not the original), and ``fairbinn`` /
``fairbinn-paper`` (FairBiNN's Adult and Health data; the two differ only in the training
protocol, :mod:`fairnn.experiments.protocols`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairnn.datasets.core import Splits
from fairnn.datasets.preprocess import Preprocessor, RunnerAdultPreprocessor, Scaling
from fairnn.datasets.registry import DatasetSpec
from fairnn.datasets.splits import (
    DEFAULT_TEST_SIZE,
    DEFAULT_VAL_SIZE,
    build_splits,
    check_fractions,
    group_label_counts,
    stratified_indices,
)
from fairnn.errors import ColumnError, ConfigError, DatasetError
from fairnn.registry import Registry


@dataclass(frozen=True)
class RecipeOptions:
    """What the caller of :func:`fairnn.datasets.load_dataset` asked for.

    ``sensitive`` is ``None`` for the recipe's default. ``extra`` holds the keyword
    options a particular recipe understands (``clean``: ``extra_features``,
    ``drop_features``).
    """

    seed: int = 0
    sensitive: tuple[str, ...] | None = None
    include_sensitive: bool = False
    val_size: float = DEFAULT_VAL_SIZE
    test_size: float = DEFAULT_TEST_SIZE
    extra: Mapping[str, Any] = field(default_factory=dict)


Recipe = Callable[[pd.DataFrame, DatasetSpec, RecipeOptions], Splits]
#: every recipe by name
RECIPES: Registry[Recipe] = Registry("recipe", cutoff=0.5)


def register_recipe(name: str, *, replace: bool = False) -> Callable[[Recipe], Recipe]:
    """Decorator: register ``fn(frame, spec, options) -> Splits`` as recipe ``name``."""
    return RECIPES.register(name, replace=replace)


def list_recipes() -> list[str]:
    return RECIPES.names()


def get_recipe(name: str) -> Recipe:
    """The recipe registered as ``name``; an unknown name raises with the known ones."""
    return RECIPES.get(name)


def recipe_doc(name: str) -> str:
    """The docstring of a recipe (what it does, its sources)."""
    return (get_recipe(name).__doc__ or "").strip()


def _check_extra(opts: RecipeOptions, allowed: Sequence[str], recipe: str) -> None:
    unknown = sorted(set(opts.extra) - set(allowed))
    if unknown:
        ok = ", ".join(allowed) if allowed else "none"
        raise ConfigError(f"recipe {recipe!r} does not take option(s) {unknown}; it takes: {ok}")


def resolve_sensitive(
    frame: pd.DataFrame, spec: DatasetSpec, sensitive: Sequence[str] | None
) -> tuple[str, ...]:
    """The grouping attribute(s): ``sensitive`` or the spec's default, checked against the frame."""
    attrs = tuple(spec.sensitive if sensitive is None else sensitive)
    missing = [a for a in attrs if a not in frame.columns]
    if missing:
        raise ColumnError(
            f"{spec.name}: sensitive column(s) {missing} not found. Documented sensitive attributes: "
            f"{list(spec.sensitive_options)}. Available columns: {[str(c) for c in frame.columns]}."
        )
    return attrs


def clean_splits(
    frame: pd.DataFrame,
    spec: DatasetSpec,
    opts: RecipeOptions,
    *,
    recipe: str = "clean",
    sensitive: Sequence[str] | None = None,
    sources: Mapping[str, Sequence[str]] | None = None,
    positive_label: Any = None,
    scaling: Scaling = "standard",
    notes: Sequence[str] = (),
    extra_info: Mapping[str, Any] | None = None,
) -> Splits:
    """The clean pipeline for a registered dataset (reusable by other recipes).

    ``X`` holds ``spec.features`` (+ ``extra_features``, - ``drop_features``) minus the
    grouping attribute(s) and the raw columns they are derived from, unless
    ``include_sensitive``. Other sensitive attributes of the dataset that remain in
    ``X`` are flagged ``sensitive=True``. Encodings are pinned by ``spec.categorical``
    and ``spec.continuous``; the split is stratified on (label, group) by ``opts.seed``.
    """
    _check_extra(opts, ("extra_features", "drop_features"), recipe)
    check_fractions(opts.val_size, opts.test_size)
    attrs = resolve_sensitive(frame, spec, sensitive if sensitive is not None else opts.sensitive)
    src_map = dict(spec.sensitive_sources)
    if sources:
        src_map.update({k: tuple(v) for k, v in sources.items()})
    derived_from = [c for a in attrs for c in src_map.get(a, ())]

    extra = [str(c) for c in opts.extra.get("extra_features", ()) or ()]
    drop = [str(c) for c in opts.extra.get("drop_features", ()) or ()]
    for c in [*extra, *drop]:
        if c not in frame.columns:
            raise ColumnError(
                f"{spec.name}: column {c!r} (extra_features/drop_features) not found; available "
                f"columns: {[str(x) for x in frame.columns]}"
            )
    bad = [c for c in extra if c == spec.label or c in attrs]
    if bad:
        raise ConfigError(
            f"extra_features may not name the label or the grouping attribute ({bad}); use "
            "include_sensitive=True to keep the sensitive attribute in X"
        )
    features = [c for c in spec.features if c not in drop]
    if not opts.include_sensitive:
        features = [c for c in features if c not in attrs and c not in derived_from]
    features += [c for c in extra if c not in features]
    flagged = sorted({*spec.sensitive_options, *derived_from} & set(features))
    in_x = set(features) | (set(attrs) if opts.include_sensitive else set())
    pre = Preprocessor(
        spec.label,
        list(attrs),
        task=spec.task,
        positive_label=spec.positive_label if positive_label is None else positive_label,
        features=features,
        categorical=[c for c in spec.categorical if c in in_x],
        continuous=[c for c in spec.continuous if c in in_x],
        include_sensitive=opts.include_sensitive,
        flag_sensitive=flagged,
        scaling=scaling,
    )
    info: dict[str, Any] = {
        "dataset": spec.name,
        "recipe": recipe,
        "options": {
            k: list(v) if isinstance(v, list | tuple) else v for k, v in opts.extra.items()
        },
        "sensitive_sources": derived_from,
        "flagged_sensitive_features": flagged,
        "notes": [*spec.notes, *notes],
    }
    info.update(extra_info or {})
    return build_splits(
        frame,
        pre,
        seed=opts.seed,
        val_size=opts.val_size,
        test_size=opts.test_size,
        name=spec.name,
        info=info,
    )


@register_recipe("clean")
def clean(frame: pd.DataFrame, spec: DatasetSpec, opts: RecipeOptions) -> Splits:
    """fairnn's default preprocessing (documented per dataset in docs/datasets.md).

    Rows as the dataset's parser leaves them (its documented filters); the default
    feature set of the spec (``extra_features=[...]``/``drop_features=[...]`` adjust
    it); continuous columns standardised with train statistics; two-valued columns as
    one 0/1 column; other categoricals one-hot (category set from the whole frame);
    the grouping attribute(s) and their source columns out of ``X`` unless
    ``include_sensitive=True``; a split of 60/20/20 (by default) stratified on
    (label, group), drawn by ``seed``.
    """
    return clean_splits(frame, spec, opts)


# ---------------------------------------------------------------------------
# RUNNER (ICSE 2024) / Fair Mixup (ICLR 2021)

RUNNER_SOURCE = (
    "Ace0001/RUNNER @62ec0b3 dataset.py (= chingyaoc/fair-mixup adult/dataset.py, from IBM SenSR); "
    "see fairnn methods notes runner.md section 7"
)


def _runner_adult(
    frame: pd.DataFrame, opts: RecipeOptions, *, per_feature_edges: bool, recipe: str
) -> Splits:
    _check_extra(opts, (), recipe)
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


# ---------------------------------------------------------------------------
# FairBiNN (NeurIPS 2024)

FAIRBINN_SOURCE = (
    "yazdanimehdi/FairBiNN @d9679ba data_loading/load_adult.py, data_loading/load_health.py; "
    "see docs/methods/fairbinn.md"
)
#: Adult's columns as FairBiNN's loader reads them, fnlwgt dropped (file order).
FAIRBINN_ADULT_FEATURES = (
    "age",
    "workclass",
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
)
FAIRBINN_ADULT_CATEGORICAL = (
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "native-country",
)
FAIRBINN_ADULT_CONTINUOUS = (
    "age",
    "education-num",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
)


def _fairbinn_adult(frame: pd.DataFrame, opts: RecipeOptions, recipe: str) -> Splits:
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
        + (frame["income"].to_numpy() == ">50K").astype(np.int64)
    )[official_train]
    # val: val_size of the official training rows, stratified on (label, group) by seed
    rest, _, held = stratified_indices(
        strata, seed=opts.seed, val_size=0.0, test_size=opts.val_size
    )
    tr, va = official_train[rest], official_train[held]
    pre = Preprocessor(
        "income",
        ["sex"],
        task="binary",
        positive_label=">50K",
        features=list(FAIRBINN_ADULT_FEATURES),
        categorical=[*FAIRBINN_ADULT_CATEGORICAL, "sex"],
        continuous=list(FAIRBINN_ADULT_CONTINUOUS),
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
    _check_extra(opts, (), recipe)
    if spec.name == "adult":
        return _fairbinn_adult(frame, opts, recipe)
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
