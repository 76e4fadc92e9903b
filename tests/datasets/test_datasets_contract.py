"""The dataset contract, :func:`fairnn.testing.check_dataset`, over every registered dataset.

Adding a dataset to the catalog means adding one line to ``CASES``; a test fails until
every registered dataset has one. Datasets whose files are not present (user-supplied
ones, or any but the bundled Adult and German without the mirror) are skipped with the
reason. The second half checks that ``check_dataset`` itself catches broken data.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch

import fairnn.datasets
from fairnn.datasets import dataset_info, list_datasets, load_dataset
from fairnn.testing import DATASET_CHECKS, check_dataset

#: image/text loaders take ``**options`` and ignore what they do not know
LOADER_IGNORES = {
    "bad_sensitive": "the image/text loaders ignore `sensitive` (their group is fixed)",
    "bad_option": "the image/text loaders accept and ignore unknown options (**_)",
}

#: every registered dataset: ``check_dataset`` keyword arguments (loader options for a row
#: subset of a large set, sub-checks known to fail with the reason)
CASES: dict[str, dict[str, Any]] = {
    "adult": {},
    "bank": {},
    "boston": {},
    "compas": {},
    "credit": {},
    "german": {},
    "health": {},
    "lsac": {},
    "cmnist": {"expected_failures": LOADER_IGNORES},
    "wbmnist": {"expected_failures": LOADER_IGNORES},
    "celeba": {"options": {"limit": 300}, "expected_failures": LOADER_IGNORES},
    "waterbirds": {"options": {"limit": 300}, "expected_failures": LOADER_IGNORES},
    "civilcomments": {"options": {"limit": 2000}, "expected_failures": LOADER_IGNORES},
    "synthetic-toxicity": {"expected_failures": LOADER_IGNORES},
}


def test_every_registered_dataset_has_a_contract_case():
    assert sorted(CASES) == list_datasets()


@pytest.mark.parametrize("name", sorted(CASES))
def test_registered_dataset_keeps_the_contract(name):
    info = dataset_info(name)
    if not info["present"]:
        missing = [f["path"] for f in info["files"]]
        pytest.skip(f"{name}: its files are not present ({missing}); see docs/datasets.md")
    splits = check_dataset(name, **CASES[name])
    assert splits.info["dataset"] == name


# -- check_dataset catches broken data ---------------------------------------------------------
def _loader(change):
    """A loader of German's splits (re-drawn per seed) with ``change(splits, seed)`` applied."""

    def load(seed: int = 0):
        splits = load_dataset("german", seed=seed)
        return change(splits, seed) or splits

    return load


def _with(split, **fields):
    return replace(split, **fields)


def test_a_loader_of_good_splits_passes():
    splits = check_dataset(_loader(lambda s, seed: None))
    assert len(splits.train) == 600


@pytest.mark.parametrize(
    ("change", "check"),
    [
        (
            lambda s, seed: setattr(s, "val", _with(s.val, X=s.val.X.clone().fill_(np.nan))),
            "finite",
        ),
        (lambda s, seed: setattr(s, "train", _with(s.train, X=s.train.X * 1e3)), "bounds"),
        (lambda s, seed: setattr(s, "test", _with(s.test, y=s.test.y * 2)), "label"),
        (
            lambda s, seed: setattr(s, "train", _with(s.train, s=torch.zeros_like(s.train.s))),
            "groups",
        ),
        (lambda s, seed: s.info.update(rows={**s.info["rows"], "total": 1001}), "splits"),
        (lambda s, seed: setattr(s, "val", _with(s.val, X=s.val.X.double())), "dtypes"),
        (
            lambda s, seed: setattr(s, "train", s.train.subset(torch.randperm(len(s.train)))),
            "deterministic",
        ),
    ],
)
def test_broken_splits_fail_the_check_that_covers_them(change, check):
    with pytest.raises(AssertionError, match=f"check '{check}'"):
        check_dataset(_loader(change))


def test_rows_shared_between_splits_are_caught_against_the_parsed_frame(monkeypatch):
    real = fairnn.datasets.load_dataset

    def leaky(name, **kw):
        splits = real(name, **kw)
        val, train = splits.val, splits.train
        j = int((train.s == val.s[0]).nonzero()[0])  # same group: group sizes stay right
        X, y = val.X.clone(), val.y.clone()
        X[0], y[0] = train.X[j], train.y[j]
        splits.val = _with(val, X=X, y=y)  # val's first row is now a training row
        return splits

    monkeypatch.setattr(fairnn.datasets, "load_dataset", leaky)
    with pytest.raises(AssertionError, match="check 'splits'.*partition"):
        check_dataset("german")


def test_expected_failures_must_fail_and_be_known_checks():
    with pytest.raises(AssertionError, match="remove it from expected_failures"):
        check_dataset("german", expected_failures={"bad_seed": "claimed"})
    with pytest.raises(AssertionError, match="unknown dataset check"):
        check_dataset("german", expected_failures={"no_such_check": "?"})
    assert "splits" in DATASET_CHECKS and len(set(DATASET_CHECKS)) == len(DATASET_CHECKS)


def test_max_rows_checks_values_on_a_subset():
    # a NaN outside the sampled rows is not seen; the full check sees it
    sampled = np.random.default_rng(0).choice(600, 100, replace=False)
    bad_row = int(np.setdiff1d(np.arange(600), sampled)[0])

    def change(s, seed):
        X = s.train.X.clone()
        X[bad_row, 0] = float("nan")
        s.train = _with(s.train, X=X)

    check_dataset(_loader(change), max_rows=100)
    with pytest.raises(AssertionError, match="check 'finite'"):
        check_dataset(_loader(change))
