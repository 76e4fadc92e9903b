"""fairnn.sklearn's fairness-aware scorers: values, GridSearchCV selection, errors, the guide."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import sklearn
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.metrics import accuracy_score, average_precision_score, balanced_accuracy_score
from sklearn.model_selection import cross_validate

from fairnn.errors import ConfigError
from fairnn.sklearn import FairClassifier, constrained_scorer, gap_scorer
from tests.synthetic import biased_arrays

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guides" / "sklearn.md"
TINY = {"hidden": (16,), "epochs": 2, "batch_size": 32, "lr": 0.05, "random_state": 0}


@pytest.fixture(scope="module")
def fitted():
    """A vanilla model on a biased table with string labels (classes_ = ["no", "yes"])."""
    X, y, a = biased_arrays(300, seed=1)
    labels = np.array(["no", "yes"])[y]
    return FairClassifier(**TINY).fit(X, labels), X, labels, y, a


def test_scores_equal_direct_computation(fitted):
    est, X, labels, y01, a = fitted
    pred01 = (est.predict(X) == "yes").astype(int)
    dp = demographic_parity_difference(y01, pred01, sensitive_features=a)
    assert dp > 0.05  # the table is biased, so the bound below is broken
    assert gap_scorer("dp_gap")(est, X, labels, sensitive_features=a) == pytest.approx(-dp)
    eo = equalized_odds_difference(y01, pred01, sensitive_features=a)
    assert gap_scorer("eodds_gap_max")(est, X, labels, sensitive_features=a) == pytest.approx(-eo)

    acc = accuracy_score(y01, pred01)
    loose = constrained_scorer("accuracy", max_gap=1.0, gap="dp_gap")
    assert loose(est, X, labels, sensitive_features=a) == pytest.approx(acc)
    tight = constrained_scorer("accuracy", max_gap=0.05, gap="dp_gap")
    assert tight(est, X, labels, sensitive_features=a) == pytest.approx(acc - 1000 - (dp - 0.05))

    bal = balanced_accuracy_score(y01, pred01)
    scorer = constrained_scorer("balanced_accuracy", max_gap=1.0, gap="dp_gap")
    assert scorer(est, X, labels, sensitive_features=a) == pytest.approx(bal)
    ap = average_precision_score(y01, est.predict_proba(X)[:, 1])
    scorer = constrained_scorer("ap", max_gap=1.0, gap="dp_gap")
    assert scorer(est, X, labels, sensitive_features=a) == pytest.approx(ap)

    w = np.where(a == 1, 3.0, 1.0)
    weighted = constrained_scorer("accuracy", max_gap=1.0, gap="dp_gap")
    value = weighted(est, X, labels, sensitive_features=a, sample_weight=w)
    assert value == pytest.approx(accuracy_score(y01, pred01, sample_weight=w))
    assert value != pytest.approx(acc)


def test_cross_validate_routes_the_groups(fitted):
    _, X, labels, _, a = fitted
    with sklearn.config_context(enable_metadata_routing=True):
        out = cross_validate(
            FairClassifier(**TINY).set_fit_request(sensitive_features=False),
            X,
            labels,
            cv=2,
            scoring=gap_scorer("dp_gap"),
            params={"sensitive_features": a},
            error_score="raise",
        )
    assert out["test_score"].shape == (2,)
    assert (out["test_score"] <= 0).all() and (out["test_score"] < 0).any()


def _guide_example() -> str:
    text = GUIDE.read_text()
    section = text[text.index("A worked example") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_guide_grid_search_selects_a_model_meeting_the_bound():
    """The guide's example: lam=0 is more accurate but breaks the DP bound in a fold;
    the constrained scorer picks the lam that meets it in every fold."""
    namespace: dict = {}
    with sklearn.config_context(enable_metadata_routing=False):
        exec(compile(_guide_example(), str(GUIDE), "exec"), namespace)  # noqa: S102
    grid = namespace["grid"]
    res = grid.cv_results_
    gaps = -np.array([res[f"split{i}_test_dp_gap"] for i in range(2)])  # folds x candidates
    meets = (gaps <= 0.1).all(axis=0)
    assert meets.any() and not meets.all()  # the grid has both kinds
    best = grid.best_index_
    assert meets[best] and grid.best_score_ >= 0
    assert (res["mean_test_acc_at_dp_0.1"][~meets] < 0).all()
    # the unfair candidate was the more accurate one: without the bound it would have won
    unfair = int(np.flatnonzero(~meets)[0])
    folds = np.array([res[f"split{i}_test_acc_at_dp_0.1"][unfair] for i in range(2)])
    accuracy = np.where(gaps[:, unfair] > 0.1, folds + 1000 + gaps[:, unfair] - 0.1, folds)
    assert accuracy.mean() > res["mean_test_acc_at_dp_0.1"][best]
    assert grid.best_estimator_.get_params()["lam"] == res["params"][best]["lam"]


def test_errors_name_the_fix(fitted):
    est, X, labels, _, a = fitted
    with pytest.raises(ConfigError, match=r"unknown gap 'dp'.*Known gaps: .*dp_gap"):
        gap_scorer("dp")
    with pytest.raises(
        ConfigError, match=r"unknown utility 'acc'.*utilities: accuracy, ap, auc, balanced_accuracy"
    ):
        constrained_scorer("acc", max_gap=0.1)
    with pytest.raises(ConfigError, match="unknown gap 'accuracy'"):
        gap_scorer("accuracy")  # a utility is no gap
    with pytest.raises(ConfigError, match="max_gap"):
        constrained_scorer("accuracy", max_gap=-0.1)
    with pytest.raises(ConfigError, match="penalty"):
        constrained_scorer("accuracy", max_gap=0.1, penalty=float("inf"))
    routing = r"got no sensitive_features.*enable_metadata_routing=True"
    with pytest.raises(ConfigError, match=routing):
        gap_scorer()(est, X, labels)
    with pytest.raises(ConfigError, match=routing):  # routing off: the groups never arrive
        cross_validate(
            FairClassifier(**TINY), X, labels, cv=2, scoring=gap_scorer(), error_score="raise"
        )
