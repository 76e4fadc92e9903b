"""fairlearn interop: MetricFrame conversion both ways; fairnn estimators in ThresholdOptimizer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

fairlearn = pytest.importorskip("fairlearn")
from fairlearn.metrics import (  # noqa: E402
    MetricFrame,
    demographic_parity_difference,
    selection_rate,
    true_positive_rate,
)
from fairlearn.postprocessing import ThresholdOptimizer  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402

from fairnn.errors import InvalidValueError  # noqa: E402
from fairnn.interop import from_fairlearn, to_fairlearn  # noqa: E402
from fairnn.metrics import GroupMetricFrame  # noqa: E402
from fairnn.sklearn import FairClassifier  # noqa: E402
from tests.effects import paired_effect  # noqa: E402
from tests.synthetic import biased_arrays  # noqa: E402

TINY = {"hidden": (16,), "epochs": 8, "batch_size": 64, "lr": 0.01, "random_state": 0}


def _rows(n=500, seed=1):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    race = rng.choice(["a", "b", "c"], n)
    y = rng.integers(0, 2, n)
    score = np.clip(0.3 * y + 0.2 * (sex == "M") + rng.random(n) * 0.5, 0, 1)
    w = rng.uniform(0.5, 2.0, n)
    return y, score, pd.Series(sex, name="sex"), pd.DataFrame({"sex": sex, "race": race}), w


METRICS = ["selection_rate", "tpr", "fpr", "fnr", "tnr", "accuracy", "balanced_accuracy",
           "mean_score", "ap", "auc"]  # fmt: skip


@pytest.mark.parametrize("intersect", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_to_fairlearn_recomputes_the_same_table(intersect, weighted):
    y, score, sex, both, w = _rows()
    sf = both if intersect else sex
    frame = GroupMetricFrame(
        METRICS, y, score, sensitive_features=sf, sample_weight=w if weighted else None,
        threshold=0.45,
    )  # fmt: skip
    mf = to_fairlearn(frame)
    assert isinstance(mf, MetricFrame)
    ours, theirs = frame.by_group, mf.by_group
    assert list(theirs.index.names) == list(ours.index.names)
    for m in METRICS:
        np.testing.assert_allclose(theirs[m].to_numpy(float), ours[m].to_numpy(float), atol=1e-9)
        assert abs(mf.overall[m] - frame.overall[m]) < 1e-9
    assert (theirs["count"].to_numpy() == ours["count"].to_numpy()).all()
    diff = mf.difference()
    for m in METRICS:
        assert abs(diff[m] - frame.difference()[m]) < 1e-9


def test_from_fairlearn_renames_and_keeps_values():
    y, score, sex, _, _ = _rows()
    pred = (score > 0.5).astype(int)
    mf = MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": true_positive_rate,
                 "accuracy_score": accuracy_score},
        y_true=y, y_pred=pred, sensitive_features=sex,
    )  # fmt: skip
    frame = from_fairlearn(mf)
    assert frame.metrics == ["selection_rate", "tpr", "accuracy"]
    np.testing.assert_allclose(frame.by_group["tpr"], mf.by_group["tpr"])
    assert abs(frame.difference()["selection_rate"] - mf.difference()["selection_rate"]) < 1e-12
    assert (
        abs(
            frame.difference()["selection_rate"]
            - demographic_parity_difference(y, pred, sensitive_features=sex)
        )
        < 1e-12
    )
    assert "| F |" in frame.to_markdown()
    # round trip: fairnn -> fairlearn -> fairnn keeps every value
    native = GroupMetricFrame(["tpr", "fpr"], y, score, sensitive_features=sex)
    back = GroupMetricFrame.from_fairlearn(native.to_fairlearn())
    pd.testing.assert_frame_equal(
        back.by_group[["tpr", "fpr"]], native.by_group[["tpr", "fpr"]], check_exact=False
    )
    assert back.to_dict()["by_group"]["M"]["count"] == native.to_dict()["by_group"]["M"]["count"]
    with pytest.raises(InvalidValueError, match="no rows to recompute"):
        back.to_fairlearn()


def _task(n=800, seed=0):
    X, y, a = biased_arrays(n, 3, seed, shift=1.2)
    return X, y, np.where(a == 1, "M", "F")


def test_threshold_optimizer_wraps_fairnn_estimators():
    """Over three random states, paired with the plain estimator (tests/effects.py). Measured
    over eight: ΔDP 0.345 ± 0.01 plain, 0.003 ± 0.005 thresholded (t = 91)."""
    X, y, a = _task()
    gaps_to, gaps_plain = [], []
    for seed in range(3):
        # unfitted: ThresholdOptimizer clones and fits the fairnn estimator itself
        to = ThresholdOptimizer(
            estimator=FairClassifier(**{**TINY, "random_state": seed}),
            constraints="demographic_parity", predict_method="predict_proba", prefit=False,
        )  # fmt: skip
        to.fit(X, y, sensitive_features=a)
        pred = to.predict(X, sensitive_features=a, random_state=seed)
        gaps_to.append(demographic_parity_difference(y, pred, sensitive_features=a))
        plain = FairClassifier(**{**TINY, "random_state": seed}).fit(X, y)
        gaps_plain.append(demographic_parity_difference(y, plain.predict(X), sensitive_features=a))
    assert min(gaps_plain) > 0.2, gaps_plain
    paired_effect(gaps_to, gaps_plain, t_min=3.0)
    # prefit: a fairnn fairness method (gapreg) post-processed further
    fair = FairClassifier("gapreg", lam=1.0, **TINY).fit(X, y, sensitive_features=a)
    to2 = ThresholdOptimizer(
        estimator=fair, constraints="equalized_odds", predict_method="predict_proba",
        prefit=True,
    )  # fmt: skip
    to2.fit(X, y, sensitive_features=a)
    assert set(np.unique(to2.predict(X, sensitive_features=a, random_state=0))) <= {0, 1}
    # a FittedModel (loaded, or a user's module) as a prefit estimator
    wrapped = FairClassifier.from_fitted(fair.model_)
    np.testing.assert_array_equal(wrapped.predict_proba(X), fair.predict_proba(X))
    ThresholdOptimizer(estimator=wrapped, prefit=True, predict_method="predict_proba").fit(
        X, y, sensitive_features=a
    )
