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

This module registers :data:`~fairnn.defaults.DEFAULT_RECIPE` (``clean``); papers
register theirs from their wings (``fairnn.papers.<paper>.data``: RUNNER's ``runner``
and ``runner-fixed``, FairBiNN's ``fairbinn`` and ``fairbinn-paper``), loaded when
:data:`RECIPES` is first read (:func:`fairnn.registry.discover`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fairnn.datasets.core import Splits
from fairnn.datasets.preprocess import Preprocessor, Scaling
from fairnn.datasets.registry import DatasetSpec
from fairnn.datasets.splits import (
    DEFAULT_TEST_SIZE,
    DEFAULT_VAL_SIZE,
    build_splits,
    check_fractions,
)
from fairnn.defaults import DEFAULT_RECIPE
from fairnn.errors import ColumnError, ConfigError
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
#: every recipe by name; papers' wings register theirs (``fairnn.papers.<paper>.data``)
RECIPES: Registry[Recipe] = Registry("recipe", cutoff=0.5, discover="data")


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


def check_extra(opts: RecipeOptions, allowed: Sequence[str], recipe: str) -> None:
    """Refuse ``opts.extra`` keys that ``recipe`` does not take (``allowed``)."""
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
    recipe: str = DEFAULT_RECIPE,
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
    check_extra(opts, ("extra_features", "drop_features"), recipe)
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


@register_recipe(DEFAULT_RECIPE)
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
