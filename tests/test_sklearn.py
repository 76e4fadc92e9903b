"""fairnn.sklearn.FairClassifier: scikit-learn's estimator checks and real use with groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from fairnn.errors import ConfigError, InvalidValueError
from fairnn.metrics import dp_gap
from fairnn.sklearn import FairClassifier
from tests.effects import paired_effect
from tests.synthetic import biased_arrays

TINY = {"hidden": (16,), "epochs": 5, "batch_size": 64, "lr": 0.01, "random_state": 0}


class GroupsFromFirstColumn(FairClassifier):
    """Test-only: scikit-learn's checks call fit(X, y) without groups, so this subclass
    derives them (first column above its median) to run the whole suite through a
    fairness method's code path (gap penalty on the groups)."""

    def _groups(self, sensitive_features, X):
        if sensitive_features is None:
            high = X[:, 0] > np.median(X[:, 0])
            sensitive_features = high if 0 < high.sum() < len(high) else np.arange(len(X)) % 2
        return super()._groups(sensitive_features, X)


SW_EQUIVALENCE = "check_sample_weight_equivalence_on_dense_data"


def expected_failures(estimator):
    """Documented exclusions (docs/guides/sklearn.md).

    ``check_sample_weight_equivalence_on_dense_data`` compares weight k with k copies of
    a row to rtol 1e-7, float32's own resolution. FairClassifier trains in float32, so
    whether the two fits agree to the last bit depends on the order of the sums inside
    the BLAS kernels, which MKL chooses by CPU model: the check passed on AMD EPYC and
    failed on another machine with the same library versions (reproduced here with
    ``MKL_CBWR=COMPATIBLE``). It is excluded for every estimator and replaced by
    ``test_sample_weight_is_equivalent_to_repeating_rows`` below at float32 tolerance.
    Where rows are drawn by count rather than weight (``validation_fraction > 0`` puts
    copies of one row on both sides; the test-only subclass derives groups from the
    data's median) the equivalence does not hold at any tolerance.
    """
    return {SW_EQUIVALENCE: "holds to float32 precision, not to rtol 1e-7 (see docstring)"}


@parametrize_with_checks(
    [
        FairClassifier(**TINY),
        FairClassifier(validation_fraction=0.25, **TINY),
        GroupsFromFirstColumn("gapreg", lam=0.5, **TINY),
    ],
    expected_failed_checks=expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n=400, seed=0):
    X, y, a = biased_arrays(n, 4, seed)
    frame = pd.DataFrame(X, columns=["f0", "f1", "f2", "f3"])
    return (
        frame,
        pd.Series(np.where(y == 1, "yes", "no")),
        pd.Series(np.where(a == 1, "m", "f"), name="sex"),
    )


def test_method_params_are_estimator_params():
    est = FairClassifier("gapreg", lam=0.3, mode="eo", epochs=3)
    assert est.get_params()["lam"] == 0.3 and est.get_params()["mode"] == "eo"
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin is not est
    est.set_params(lam=2.0, epochs=4)
    assert est.get_params()["lam"] == 2.0 and est.epochs == 4
    assert "lam=2.0" in repr(est)


def test_fit_on_dataframes_reduces_the_gap_and_keeps_labels():
    """Over four random states, paired with the plain estimator (tests/effects.py): a lower
    ΔDP, and an accuracy above the majority rate (0.70). Measured over eight: ΔDP 0.10 ± 0.04
    against 0.42 ± 0.015, accuracy 0.77 ± 0.02. At lam = 3 every seed predicted "yes" for
    every row: ΔDP 0 at the majority rate, which the old single-seed check accepted."""
    X, y, a = _data()
    plain, fair = [], []
    for seed in range(4):
        cfg = {**TINY, "epochs": 10, "random_state": seed}
        plain.append(FairClassifier(**cfg).fit(X, y, sensitive_features=a))
        fair.append(FairClassifier("gapreg", lam=0.85, **cfg).fit(X, y, sensitive_features=a))
    est = fair[0]
    assert list(est.classes_) == ["no", "yes"] and set(est.predict(X)) == {"no", "yes"}
    assert list(est.feature_names_in_) == ["f0", "f1", "f2", "f3"]
    assert est.groups_ == ("f", "m")
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(1), 1)
    gap = lambda m: dp_gap(y == "yes", m.predict(X) == "yes", sensitive_features=a)  # noqa: E731
    paired_effect([gap(m) for m in fair], [gap(m) for m in plain], t_min=3.0)
    majority = max((y == "yes").mean(), (y == "no").mean())
    # paired_effect(lower, higher): the accuracy is above the majority rate
    paired_effect([majority] * len(fair), [m.score(X, y) for m in fair], t_min=3.0)


@pytest.mark.parametrize("seed", range(4))
def test_sample_weight_is_equivalent_to_repeating_rows(seed):
    """scikit-learn's check at float32 tolerance: weight k equals k copies, weight 0 equals
    dropping the row (one batch, so only the order of float32 sums differs). The control
    (the same rows without their weights) moves the probabilities by far more."""
    rng = np.random.RandomState(seed)
    X, y = rng.rand(15, 30), rng.randint(0, 2, size=15)
    sw = rng.randint(0, 5, size=15)
    sw[:2] = [0, 3]
    repeated = FairClassifier(**TINY).fit(X.repeat(sw, axis=0), y.repeat(sw))
    order = rng.permutation(15)
    weighted = FairClassifier(**TINY).fit(X[order], y[order], sample_weight=sw[order])
    unweighted = FairClassifier(**TINY).fit(X, y)
    p_rep, p_w = repeated.predict_proba(X), weighted.predict_proba(X)
    np.testing.assert_allclose(p_w, p_rep, rtol=0, atol=1e-5)
    assert np.abs(unweighted.predict_proba(X) - p_rep).max() > 1e-3


def test_sample_weight_reaches_reweighing():
    X, y, a = _data()
    w = np.where(a == "m", 2.0, 1.0)
    base = FairClassifier("reweighing", **TINY).fit(X, y, sensitive_features=a)
    weighted = FairClassifier("reweighing", **TINY).fit(X, y, sensitive_features=a, sample_weight=w)
    assert not np.allclose(base.predict_proba(X), weighted.predict_proba(X))
    again = FairClassifier("reweighing", **TINY).fit(X, y, sensitive_features=a, sample_weight=w)
    assert np.array_equal(again.predict_proba(X), weighted.predict_proba(X))


def test_pipeline_and_grid_search_route_sensitive_features():
    X, y, a = _data()
    with sklearn.config_context(enable_metadata_routing=True):
        est = (
            FairClassifier("gapreg", **TINY)
            .set_fit_request(sensitive_features=True)
            .set_score_request(sensitive_features=True)
        )
        pipe = make_pipeline(StandardScaler(), est)
        grid = GridSearchCV(pipe, {"fairclassifier__lam": [0.0, 5.0]}, cv=2)
        grid.fit(X, y, sensitive_features=a)
    assert grid.best_params_["fairclassifier__lam"] in (0.0, 5.0)
    lams = [p["fairclassifier__lam"] for p in grid.cv_results_["params"]]
    assert lams == [0.0, 5.0]
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert grid.predict(X).shape == (len(X),)


def test_errors_name_the_fix():
    X, y, a = _data(100)
    with pytest.raises(ConfigError, match="sensitive_features"):
        FairClassifier("gapreg", **TINY).fit(X, y)
    with pytest.raises(InvalidValueError, match="only one group"):
        FairClassifier("gapreg", **TINY).fit(X, y, sensitive_features=np.zeros(len(y)))
    with pytest.raises(InvalidValueError, match="50 rows but X has 100"):
        FairClassifier("gapreg", **TINY).fit(X, y, sensitive_features=a[:50])
    with pytest.raises(ConfigError, match="lamb"):
        FairClassifier("gapreg", lamb=1.0, **TINY).fit(X, y, sensitive_features=a)
    with pytest.raises(ConfigError, match="unknown method"):
        FairClassifier("gapregg", **TINY).fit(X, y, sensitive_features=a)
    roc = FairClassifier("roc", theta=0.7, **TINY).fit(X, y, sensitive_features=a)
    with pytest.raises(InvalidValueError, match="s=|sensitive"):
        roc.predict(X)
    assert set(roc.predict(X, sensitive_features=a)) <= {"no", "yes"}
    with pytest.raises(InvalidValueError, match="unseen"):
        roc.predict(X, sensitive_features=np.array(["x"] * len(X)))
