"""Tests of fairnn.metrics against fairlearn and scikit-learn (references, test-only)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
import torch
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import fairnn.metrics as M
from fairnn.errors import FairnnError, InvalidValueError
from fairnn.metrics import differentiable as D

TOL = 1e-9
ADULT = Path("/work/shared/data/adult/adult.data")
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]  # fmt: skip

LABEL_GAPS = [
    "dp_gap",
    "dp_ratio",
    "eodds_gap_sum",
    "eodds_gap_max",
    "eopp_gap",
    "fnr_gap",
    "fpr_gap",
]
SOFT_GAPS = ["dp_gap_soft", "eodds_gap_sum_soft", "eodds_gap_max_soft", "eopp_gap_soft"]
HYP = settings(max_examples=50, deadline=None)


# --------------------------------------------------------------------------- references


def _mf(fn, y, p, sf, w):
    return MetricFrame(
        metrics=fn,
        y_true=y,
        y_pred=p,
        sensitive_features=sf,
        sample_params=None if w is None else {"sample_weight": w},
    )


def fairlearn_reference(y, p, sf, w=None) -> dict[str, float]:
    """Every hard-prediction gap, computed by fairlearn."""
    kw = {"sensitive_features": sf, "sample_weight": w}
    tpr = _mf(true_positive_rate, y, p, sf, w).difference()
    fpr = _mf(false_positive_rate, y, p, sf, w).difference()
    return {
        "dp_gap": demographic_parity_difference(y, p, **kw),
        "dp_ratio": demographic_parity_ratio(y, p, **kw),
        "eodds_gap_max": equalized_odds_difference(y, p, **kw),
        "eodds_gap_sum": tpr + fpr,
        "eopp_gap": equal_opportunity_difference(y, p, **kw),
        "fnr_gap": _mf(false_negative_rate, y, p, sf, w).difference(),
        "fpr_gap": fpr,
    }


def soft_reference(y, score, codes, w=None) -> dict[str, float]:
    """Score gaps by a plain pandas groupby (no fairnn code)."""
    w = np.ones(len(score)) if w is None else np.asarray(w, float)
    df = pd.DataFrame({"y": y, "f": score * w, "w": w, "g": codes})

    def gap(d):
        s = d.groupby("g")[["f", "w"]].sum()
        s = s[s.w > 0]
        m = s.f / s.w
        return m.max() - m.min()

    g0, g1 = gap(df[df.y == 0]), gap(df[df.y == 1])
    return {
        "dp_gap_soft": gap(df),
        "eodds_gap_sum_soft": g0 + g1,
        "eodds_gap_max_soft": max(g0, g1),
        "eopp_gap_soft": g1,
    }


def sklearn_reference(y, score, pred, w=None) -> dict[str, float]:
    kw = {"sample_weight": w}
    return {
        "accuracy": skm.accuracy_score(y, pred, **kw),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred, **kw),
        "ap": skm.average_precision_score(y, score, **kw),
        "auc": skm.roc_auc_score(y, score, **kw),
    }


def make_data(n, n_groups, seed, *, labels=None, weights=False, ties=False):
    """Random binary data in which every group has both classes."""
    rng = np.random.default_rng(seed)
    codes = np.concatenate([np.repeat(np.arange(n_groups), 2), rng.integers(0, n_groups, n)])
    y = rng.integers(0, 2, codes.shape[0])
    y[: 2 * n_groups : 2], y[1 : 2 * n_groups : 2] = 0, 1
    score = np.clip(rng.random(codes.shape[0]) * 0.6 + 0.15 * codes / n_groups + 0.2 * y, 0, 1)
    if ties:
        score = np.round(score, 1)
    pred = (score > 0.5).astype(int)
    sf = codes if labels is None else np.asarray(labels, dtype=object)[codes]
    w = rng.uniform(0.1, 3.0, codes.shape[0]) if weights else None
    return y, score, pred, sf, codes, w


def call(name, y, yhat, sf, w=None):
    return M.METRICS[name].function(y, yhat, sensitive_features=sf, sample_weight=w)


def assert_close(a, b, tol=TOL):
    assert a == pytest.approx(b, abs=tol, rel=0), (a, b)


# ------------------------------------------------------------------ against fairlearn

SCENARIOS = {
    "2 groups": dict(n_groups=2),
    "3 groups": dict(n_groups=3),
    "5 groups": dict(n_groups=5),
    "string labels": dict(n_groups=3, labels=["Female", "Male", "Other"]),
}


@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_label_gaps_match_fairlearn(scenario, weights):
    y, score, pred, sf, _, w = make_data(400, seed=1, weights=weights, **SCENARIOS[scenario])
    ref = fairlearn_reference(y, pred, sf, w)
    for name in LABEL_GAPS:
        assert_close(call(name, y, pred, sf, w), ref[name])
    # the sum is twice fairlearn's agg="mean"
    mean = equalized_odds_difference(y, pred, sensitive_features=sf, sample_weight=w, agg="mean")
    assert_close(call("eodds_gap_sum", y, pred, sf, w), 2 * mean)


@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
def test_intersectional_2d_matches_fairlearn(weights):
    rng = np.random.default_rng(3)
    n = 600
    df = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "race": rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    y = rng.integers(0, 2, n)
    pred = (rng.random(n) < 0.3 + 0.2 * (df.sex == "M") + 0.1 * y).astype(int)
    w = rng.uniform(0.5, 2, n) if weights else None
    ref = fairlearn_reference(y, pred, df, w)
    forms = {
        "DataFrame": df,
        "ndarray (n,2)": df.to_numpy(),
        "list of arrays": [df.sex.to_numpy(), df.race.to_numpy()],
        "list of rows": df.to_numpy().tolist(),
        "dict": {"sex": df.sex.to_numpy(), "race": df.race.to_numpy()},
    }
    for form, sf in forms.items():
        for name in LABEL_GAPS:
            assert call(name, y, pred, sf, w) == pytest.approx(ref[name], abs=TOL), (form, name)
    # intersections are real: 6 groups, not 2 + 3
    fr = M.GroupMetricFrame("selection_rate", y, pred, sensitive_features=df)
    assert fr.by_group.shape[0] == 6
    assert list(fr.by_group.index.names) == ["sex", "race"]


def test_unobserved_intersection_is_not_a_group():
    sf = pd.DataFrame({"a": ["x", "x", "y", "y", "x"], "b": [0, 1, 0, 0, 1]})  # (y, 1) absent
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([1, 0, 1, 1, 1])
    assert_close(
        M.dp_gap(y, p, sensitive_features=sf),
        demographic_parity_difference(y, p, sensitive_features=sf),
    )
    assert M.GroupMetricFrame("selection_rate", y, p, sensitive_features=sf).by_group.shape[0] == 3


@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_performance_matches_sklearn(weights, ties):
    y, score, pred, sf, _, w = make_data(500, 3, seed=2, weights=weights, ties=ties)
    ref = sklearn_reference(y, score, pred, w)
    for name in ["accuracy", "balanced_accuracy"]:
        assert_close(call(name, y, pred, sf, w), ref[name])
    for name in ["ap", "auc"]:
        assert_close(call(name, y, score, sf, w), ref[name])


@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
def test_regression_matches_sklearn(weights):
    rng = np.random.default_rng(4)
    y = rng.normal(size=300) * 3 + 10
    pred = y + rng.normal(size=300)
    w = rng.uniform(0.1, 2, 300) if weights else None
    assert_close(M.mse(y, pred, sample_weight=w), skm.mean_squared_error(y, pred, sample_weight=w))
    assert_close(M.mae(y, pred, sample_weight=w), skm.mean_absolute_error(y, pred, sample_weight=w))
    assert_close(M.r2(y, pred, sample_weight=w), skm.r2_score(y, pred, sample_weight=w))
    # sklearn's force_finite conventions for constant y_true
    assert (
        M.r2([2.0, 2.0, 2.0], [2.0, 2.0, 2.0])
        == skm.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 2.0])
        == 1.0
    )
    assert (
        M.r2([2.0, 2.0, 2.0], [1.0, 2.0, 2.0])
        == skm.r2_score([2.0, 2.0, 2.0], [1.0, 2.0, 2.0])
        == 0.0
    )


@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
def test_soft_gaps_match_groupby(weights):
    y, score, _, sf, codes, w = make_data(400, 4, seed=5, weights=weights, labels=list("abcd"))
    ref = soft_reference(y, score, codes, w)
    for name in SOFT_GAPS:
        assert_close(call(name, y, score, sf, w), ref[name])
    # dp_gap_soft on continuous regression predictions, y_true unused
    reg = np.random.default_rng(0).normal(size=y.shape[0]) * 5
    assert_close(
        M.dp_gap_soft(None, reg, sensitive_features=sf),
        soft_reference(y, reg, codes)["dp_gap_soft"],
    )


# ------------------------------------------------------------------------- hypothesis


@st.composite
def binary_data(draw):
    n_groups = draw(st.integers(2, 4))
    n_extra = draw(st.integers(0, 40))
    codes = np.array(
        [g for g in range(n_groups) for _ in range(2)]
        + draw(st.lists(st.integers(0, n_groups - 1), min_size=n_extra, max_size=n_extra))
    )
    n = codes.shape[0]
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    y[0 : 2 * n_groups : 2], y[1 : 2 * n_groups : 2] = 0, 1  # both classes in every group
    pred = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    score = np.array(
        draw(
            st.lists(
                st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 1.0]) | st.floats(0, 1),
                min_size=n,
                max_size=n,
            )
        )
    )
    w = None
    if draw(st.booleans()):
        w = np.array(draw(st.lists(st.floats(0.05, 10), min_size=n, max_size=n)))
    labels = draw(st.sampled_from([None, ["g0", "g1", "g2", "g3"], [10, -3, 7, 2]]))
    sf = codes if labels is None else np.asarray(labels, dtype=object)[codes]
    return y, pred, score, sf, codes, w


@HYP
@given(binary_data())
def test_hypothesis_label_gaps_vs_fairlearn(data):
    y, pred, _, sf, _, w = data
    ref = fairlearn_reference(y, pred, sf, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", M.UndefinedMetricWarning)
        for name in LABEL_GAPS:
            got = call(name, y, pred, sf, w)
            if name == "dp_ratio" and math.isnan(ref[name]):
                assert math.isnan(got)
            else:
                assert_close(got, ref[name])


@HYP
@given(binary_data())
def test_hypothesis_scores_vs_sklearn_and_groupby(data):
    y, pred, score, sf, codes, w = data
    ref = sklearn_reference(y, score, pred, w)
    for name in ["accuracy", "balanced_accuracy"]:
        assert_close(call(name, y, pred, sf, w), ref[name])
    for name in ["ap", "auc"]:
        assert_close(call(name, y, score, sf, w), ref[name])
    soft = soft_reference(y, score, codes, w)
    for name in SOFT_GAPS:
        assert_close(call(name, y, score, sf, w), soft[name])


@HYP
@given(binary_data())
def test_hypothesis_torch_twins_equal_numpy(data):
    y, pred, score, sf, codes, w = data
    t_w = None if w is None else torch.tensor(w)
    s = torch.tensor(codes)
    ty = torch.tensor(y)
    twins = [(n, spec) for n, spec in M.METRICS.items() if spec.twin is not None]
    assert {n for n, _ in twins} >= set(SOFT_GAPS)
    for name, spec in twins:
        # a score metric's twin is the metric; a label metric's twin equals it on hard 0/1 scores
        x = score if spec.input == "score" else pred
        t_x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        val = spec.apply_twin(t_x, ty, s, weight=t_w)
        assert abs(val.item() - call(name, y, x, sf, w)) < 1e-6, name
        (grad,) = torch.autograd.grad(val, t_x)
        assert torch.isfinite(grad).all()


# ---------------------------------------------------------------- real predictions


@pytest.fixture(scope="module")
def adult_predictions():
    if not ADULT.exists():
        pytest.skip(f"Adult data not found at {ADULT}; the shared data mirror is absent")
    from sklearn.linear_model import LogisticRegression

    df = pd.read_csv(ADULT, header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?")
    df = df.dropna().reset_index(drop=True)
    X = df[["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]].to_numpy(
        float
    )
    X = (X - X.mean(0)) / X.std(0)
    y = (df["income"] == ">50K").to_numpy(int)
    rng = np.random.default_rng(0)
    train = rng.random(len(df)) < 0.7
    model = LogisticRegression(max_iter=1000).fit(X[train], y[train])
    test = ~train
    score = model.predict_proba(X[test])[:, 1]
    return y[test], score, df.loc[test, ["sex", "race"]].reset_index(drop=True)


def test_adult_all_metrics_match_references(adult_predictions):
    y, score, sex_race = adult_predictions
    sex = sex_race["sex"].to_numpy()
    sex_white = pd.DataFrame({"sex": sex, "white": sex_race["race"] == "White"})
    pred = (score > 0.5).astype(int)
    w = np.random.default_rng(1).uniform(0.5, 2.0, y.shape[0])
    for sf in (sex, sex_white):
        for weight in (None, w):
            ref = {
                **fairlearn_reference(y, pred, sf, weight),
                **sklearn_reference(y, score, pred, weight),
            }
            out = M.evaluate(y, score, sensitive_features=sf, sample_weight=weight, metrics=[*ref])
            for name, value in out.items():
                assert_close(value, ref[name])
    # the model is unfair by sex: a real gap to measure
    assert M.dp_gap(y, pred, sensitive_features=sex) > 0.05
    # sex x race (10 groups): in this split (Female, Other) has no positive, so its TPR is
    # undefined. fairlearn reports TPR = 0 there; fairnn ignores the group and warns.
    with pytest.warns(M.UndefinedMetricWarning, match=r"sex=Female, race=Other"):
        got = M.eopp_gap(y, pred, sensitive_features=sex_race)
    keep = ~((sex_race["sex"] == "Female") & (sex_race["race"] == "Other")).to_numpy()
    ref = equal_opportunity_difference(y[keep], pred[keep], sensitive_features=sex_race[keep])
    assert_close(got, ref)
    assert M.dp_gap(y, pred, sensitive_features=sex_race) == pytest.approx(
        demographic_parity_difference(y, pred, sensitive_features=sex_race), abs=TOL
    )


def test_adult_bootstrap(adult_predictions):
    y, score, sex_race = adult_predictions
    sex = sex_race["sex"]
    cis = M.evaluate_with_ci(y, score, sensitive_features=sex, n_resamples=200, seed=3)
    est = M.evaluate(y, score, sensitive_features=sex)
    assert set(cis) == set(est)
    for name, ci in cis.items():
        assert ci.estimate == est[name]
        assert ci.low <= ci.estimate <= ci.high, name
        assert ci.std > 0


# ----------------------------------------------------------------------- bad inputs


def test_shape_mismatch_names_both_arguments():
    with pytest.raises(InvalidValueError, match=r"y_true.*y_pred.*4.*3"):
        M.dp_gap([0, 1, 0, 1], [0, 1, 1], sensitive_features=[0, 0, 1, 1])
    with pytest.raises(InvalidValueError, match=r"sensitive_features.*3 rows.*y_true has 4"):
        M.dp_gap([0, 1, 0, 1], [0, 1, 1, 0], sensitive_features=[0, 0, 1])
    with pytest.raises(InvalidValueError, match="sample_weight.*3 entries"):
        M.accuracy([0, 1, 0, 1], [0, 1, 1, 0], sample_weight=[1, 1, 1])
    with pytest.raises(InvalidValueError, match=r"y_true.*y_score"):
        M.evaluate([0, 1, 0], [0.1, 0.2], sensitive_features=[0, 1, 0])


def test_nan_and_inf_name_argument_and_count():
    with pytest.raises(InvalidValueError, match=r"y_score contains 2 NaN value\(s\) out of 4"):
        M.ap([0, 1, 0, 1], [0.1, np.nan, np.nan, 0.3])
    with pytest.raises(InvalidValueError, match=r"y_true contains 1 NaN and 1 infinite"):
        M.mse([0.0, np.nan, np.inf, 1.0], [0.0, 1.0, 1.0, 1.0])
    with pytest.raises(InvalidValueError, match="y_pred contains 1 infinite"):
        M.dp_gap([0, 1, 0, 1], [0, 1, np.inf, 0], sensitive_features=[0, 0, 1, 1])


def test_single_group_needs_two():
    with pytest.raises(InvalidValueError, match="at least two groups"):
        M.dp_gap([0, 1, 0], [0, 1, 1], sensitive_features=["a", "a", "a"])
    with pytest.raises(InvalidValueError, match="at least two groups"):
        M.evaluate([0, 1, 0], [0.2, 0.7, 0.9], sensitive_features=["a", "a", "a"])


def test_non_binary_labels_list_values():
    with pytest.raises(
        InvalidValueError, match=r"y_true must contain only 0 and 1.*\[0\.0, 1\.0, 2\.0\]"
    ):
        M.eopp_gap([0, 1, 2, 1], [0, 1, 1, 0], sensitive_features=[0, 0, 1, 1])
    with pytest.raises(
        InvalidValueError, match=r"y_pred must contain only 0 and 1.*0\.7.*threshold"
    ):
        M.dp_gap([0, 1, 0, 1], [0, 0.7, 1, 0], sensitive_features=[0, 0, 1, 1])
    with pytest.raises(InvalidValueError, match=r"y_true must be numeric.*'>50K'"):
        M.accuracy(["<=50K", ">50K"], [0, 1])


def test_bad_weights():
    with pytest.raises(InvalidValueError, match=r"sample_weight has 1 negative value"):
        M.dp_gap(
            [0, 1, 0, 1], [0, 1, 1, 0], sensitive_features=[0, 0, 1, 1], sample_weight=[1, -1, 1, 1]
        )
    with pytest.raises(InvalidValueError, match="sample_weight sums to 0"):
        M.accuracy([0, 1], [0, 1], sample_weight=[0, 0])
    with pytest.raises(InvalidValueError, match="sample_weight contains 1 NaN"):
        M.accuracy([0, 1], [0, 1], sample_weight=[1, np.nan])


def test_other_bad_inputs():
    with pytest.raises(InvalidValueError, match="sensitive_features has 1 missing"):
        M.dp_gap([0, 1, 0], [0, 1, 1], sensitive_features=["a", None, "b"])
    with pytest.raises(InvalidValueError, match="sensitive_features is required"):
        M.dp_gap([0, 1, 0], [0, 1, 1], sensitive_features=None)
    with pytest.raises(InvalidValueError, match="y_pred must be 1-D"):
        M.accuracy([0, 1], [[0, 1], [1, 0]])
    with pytest.raises(InvalidValueError, match="y_true is empty"):
        M.accuracy([], [])
    with pytest.raises(InvalidValueError, match="unknown metric 'dp'"):
        M.evaluate([0, 1], [0.1, 0.9], sensitive_features=[0, 1], metrics=["dp"])
    with pytest.raises(InvalidValueError, match="task"):
        M.evaluate([0, 1], [0.1, 0.9], sensitive_features=[0, 1], metrics=["ap"], task="regression")
    with pytest.raises(InvalidValueError, match="n_resamples"):
        M.bootstrap_ci("ap", [0, 1], [0.1, 0.9], sensitive_features=None, n_resamples=1)
    # every error is both a FairnnError and a ValueError
    assert issubclass(InvalidValueError, FairnnError) and issubclass(InvalidValueError, ValueError)


# -------------------------------------------------------- undefined rates (decision)


def test_group_without_positives_is_ignored_with_warning():
    # group "c" has no positives: TPR undefined there
    y = np.array([0, 1, 1, 0, 0, 1, 1, 0, 0, 0])
    p = np.array([0, 1, 0, 1, 0, 1, 1, 1, 1, 1])
    s = np.array(["a", "a", "a", "a", "b", "b", "b", "b", "c", "c"])
    with pytest.warns(M.UndefinedMetricWarning, match=r"TPR.*undefined.*\[c\]"):
        got = M.eopp_gap(y, p, sensitive_features=s)
    keep = s != "c"
    assert_close(got, equal_opportunity_difference(y[keep], p[keep], sensitive_features=s[keep]))
    # fairlearn reports TPR=0 for "c" instead (documented divergence)
    assert equal_opportunity_difference(y, p, sensitive_features=s) == pytest.approx(1.0)
    assert got == pytest.approx(0.5)
    # FPR is defined for all three groups: eodds_gap_sum = ΔTPR (a, b) + ΔFPR (a, b, c)
    with pytest.warns(M.UndefinedMetricWarning):
        assert_close(M.eodds_gap_sum(y, p, sensitive_features=s), 0.5 + 0.5)


def test_fewer_than_two_defined_groups_gives_nan():
    y = np.array([1, 1, 0, 0])
    p = np.array([1, 0, 0, 1])
    s = np.array([0, 0, 1, 1])  # only group 0 has positives
    with pytest.warns(M.UndefinedMetricWarning, match="fewer than two groups"):
        assert math.isnan(M.eopp_gap(y, p, sensitive_features=s))
    with pytest.warns(M.UndefinedMetricWarning):
        assert math.isnan(M.eodds_gap_sum(y, p, sensitive_features=s))
    # zero-weight group: ignored, as fairlearn's NaN group is skipped
    s3 = np.array([0, 1, 1, 2])
    w = np.array([1.0, 1.0, 1.0, 0.0])
    with pytest.warns(M.UndefinedMetricWarning, match="selection rate"):
        got = M.dp_gap(y, p, sensitive_features=s3, sample_weight=w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert_close(
            got, demographic_parity_difference(y, p, sensitive_features=s3, sample_weight=w)
        )


def test_undefined_performance_metrics_are_nan():
    with pytest.warns(M.UndefinedMetricWarning, match="both classes"):
        assert math.isnan(M.auc([1, 1, 1], [0.2, 0.5, 0.9]))
    with pytest.warns(M.UndefinedMetricWarning, match="no positives"):
        assert math.isnan(M.ap([0, 0, 0], [0.2, 0.5, 0.9]))
    with pytest.warns(M.UndefinedMetricWarning, match="0/0"):
        assert math.isnan(M.dp_ratio([0, 1, 0, 1], [0, 0, 0, 0], sensitive_features=[0, 0, 1, 1]))


# --------------------------------------------------------------- input containers


def test_input_containers_agree():
    y, score, pred, sf, _, w = make_data(200, 3, seed=7, labels=["x", "y", "z"], weights=True)
    base = M.evaluate(y, score, sensitive_features=sf, sample_weight=w)
    variants = [
        (y.tolist(), score.tolist(), sf.tolist(), w.tolist()),
        (pd.Series(y), pd.Series(score), pd.Series(sf, name="grp"), pd.Series(w)),
        (
            torch.tensor(y),
            torch.tensor(score, dtype=torch.float64),
            pd.Categorical(sf),
            torch.tensor(w),
        ),
        (y.astype(bool), score.reshape(-1, 1), sf, w.reshape(-1, 1)),
    ]
    for yy, ss, gg, ww in variants:
        out = M.evaluate(yy, ss, sensitive_features=gg, sample_weight=ww)
        for k, v in base.items():
            assert_close(out[k], v)
    # integer group ids as a torch tensor
    codes = pd.factorize(sf, sort=True)[0]
    assert_close(
        M.dp_gap(y, pred, sensitive_features=torch.tensor(codes), sample_weight=w), base["dp_gap"]
    )


# -------------------------------------------------------------- registry, evaluate


def test_registry_and_evaluate_defaults():
    y, score, pred, sf, _, w = make_data(300, 3, seed=8, weights=True)
    out = M.evaluate(y, score, sensitive_features=sf, sample_weight=w)
    assert list(out) == list(M.DEFAULT_METRICS["binary"])
    assert list(out) == [
        "accuracy", "balanced_accuracy", "ap", "auc", "dp_gap", "eodds_gap_sum", "eodds_gap_max",
        "eopp_gap", "fnr_gap", "fpr_gap", "dp_gap_soft", "eodds_gap_sum_soft",
    ]  # fmt: skip
    for name, value in out.items():
        spec = M.METRICS[name]
        assert type(value) is float
        yhat = pred if spec.input == "label" else score
        assert_close(value, spec.function(y, yhat, sensitive_features=sf, sample_weight=w))
    for name, spec in M.METRICS.items():
        assert spec.name == name and spec.input in ("label", "score") and spec.tasks
        assert spec.function.__doc__ and spec.description
        assert spec.higher_is_better == (
            name in {"accuracy", "balanced_accuracy", "ap", "auc", "dp_ratio", "r2"}
        )
    # threshold: strictly greater than, as RUNNER
    edge = M.evaluate(
        [0, 1, 0, 1],
        [0.5, 0.5, 0.6, 0.4],
        sensitive_features=[0, 0, 1, 1],
        metrics=["dp_gap"],
        threshold=0.5,
    )
    assert edge == {"dp_gap": 0.5}


def test_evaluate_regression():
    rng = np.random.default_rng(9)
    y = rng.normal(size=200)
    pred = y + rng.normal(size=200) * 0.3 + np.repeat([0.0, 0.5], 100)
    s = np.repeat(["u", "v"], 100)
    out = M.evaluate(y, pred, sensitive_features=s, task="regression")
    assert list(out) == ["mse", "mae", "r2", "dp_gap_soft"]
    assert_close(out["r2"], skm.r2_score(y, pred))
    assert_close(out["dp_gap_soft"], abs(pred[:100].mean() - pred[100:].mean()))


# ------------------------------------------------------------------- group frame

FRAME_REFS = {
    "accuracy": skm.accuracy_score,
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "tnr": true_negative_rate,
}


@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("two_d", [False, True], ids=["1-D", "2-D"])
def test_group_frame_matches_fairlearn(weights, two_d):
    y, score, pred, sf, codes, w = make_data(
        500, 4, seed=10, labels=["p", "q", "r", "s"], weights=weights
    )
    if two_d:
        sf = pd.DataFrame({"first": np.asarray(sf), "second": codes % 2})
    names = [*FRAME_REFS, "mean_score", "ap", "count"]
    fr = M.GroupMetricFrame(names, y, score, sensitive_features=sf, sample_weight=w)
    sp = None if w is None else {k: {"sample_weight": w} for k in FRAME_REFS}
    ref = MetricFrame(
        metrics=FRAME_REFS, y_true=y, y_pred=pred, sensitive_features=sf, sample_params=sp
    )
    bg = fr.by_group
    ref_bg = ref.by_group.dropna(how="all")
    assert list(bg.columns) == [*FRAME_REFS, "mean_score", "ap", "count"]
    np.testing.assert_allclose(
        bg[list(FRAME_REFS)].to_numpy(float), ref_bg.to_numpy(float), atol=TOL, rtol=0
    )
    assert list(bg.index) == list(ref_bg.index)
    np.testing.assert_allclose(
        fr.overall[list(FRAME_REFS)].to_numpy(float), ref.overall.to_numpy(float), atol=TOL
    )
    for mine, theirs in [
        (fr.difference(), ref.difference()),
        (fr.ratio(), ref.ratio()),
        (fr.group_min(), ref.group_min()),
        (fr.group_max(), ref.group_max()),
        (fr.difference(method="to_overall"), ref.difference(method="to_overall")),
        (fr.ratio(method="to_overall"), ref.ratio(method="to_overall")),
    ]:
        np.testing.assert_allclose(
            mine[list(FRAME_REFS)].to_numpy(float), theirs.to_numpy(float), atol=TOL
        )
    # mean_score / ap / count per group against direct computation
    gcodes = pd.factorize(pd.MultiIndex.from_frame(sf) if two_d else sf, sort=True)[0]
    ww = np.ones_like(score) if w is None else w
    for g in range(bg.shape[0]):
        m = gcodes == g
        assert_close(bg["mean_score"].iloc[g], np.average(score[m], weights=ww[m]))
        assert_close(
            bg["ap"].iloc[g],
            skm.average_precision_score(y[m], score[m], sample_weight=None if w is None else w[m]),
        )
        assert bg["count"].iloc[g] == m.sum()
    # the frame's differences are the gap metrics
    assert_close(
        fr.difference()["selection_rate"], M.dp_gap(y, pred, sensitive_features=sf, sample_weight=w)
    )


def test_group_frame_export():
    y, score, pred, sf, _, _ = make_data(100, 2, seed=11, labels=["F", "M"])
    fr = M.GroupMetricFrame(
        ["accuracy", "tpr"], y, pred, sensitive_features=pd.Series(sf, name="sex")
    )
    md = fr.to_markdown()
    lines = md.splitlines()
    assert lines[0] == "| group | accuracy | tpr | count |"
    assert lines[1] == "|---|---:|---:|---:|"
    assert lines[2].startswith("| F | ") and lines[3].startswith("| M | ")
    assert "**overall**" in lines[4] and "**difference**" in lines[5]
    d = fr.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["sensitive_features"] == ["sex"]
    assert (
        set(d["by_group"]) == {"F", "M"}
        and d["by_group"]["F"]["count"] + d["by_group"]["M"]["count"] == 104
    )
    assert d["difference"]["tpr"] == pytest.approx(float(fr.difference()["tpr"]))
    # hard labels and scores give the same label metrics
    fr2 = M.GroupMetricFrame(
        ["accuracy", "tpr"], y, score, sensitive_features=pd.Series(sf, name="sex")
    )
    pd.testing.assert_frame_equal(fr.by_group, fr2.by_group)


# --------------------------------------------------------------------- bootstrap


def test_bootstrap_deterministic_and_covers_estimate():
    y, score, _, sf, _, _ = make_data(2000, 2, seed=12, labels=["a", "b"])
    a = M.bootstrap_ci("dp_gap", y, score, sensitive_features=sf, n_resamples=300, seed=5)
    b = M.bootstrap_ci("dp_gap", y, score, sensitive_features=sf, n_resamples=300, seed=5)
    c = M.bootstrap_ci("dp_gap", y, score, sensitive_features=sf, n_resamples=300, seed=6)
    assert a == b and a != c
    assert isinstance(a, M.CI) and a.low <= a.estimate <= a.high and a.std > 0
    assert a.estimate == M.evaluate(y, score, sensitive_features=sf, metrics=["dp_gap"])["dp_gap"]
    wide = M.bootstrap_ci(
        "dp_gap", y, score, sensitive_features=sf, n_resamples=300, seed=5, confidence=0.99
    )
    assert wide.high - wide.low > a.high - a.low


@pytest.mark.parametrize("stratify", [True, False])
def test_bootstrap_weights_equal_index_resampling(stratify):
    """The vectorised path (counts as weights) equals calling the function on resampled rows."""
    y, score, _, sf, _, w = make_data(150, 3, seed=13, weights=True)
    for name in ["eodds_gap_sum", "ap", "auc", "balanced_accuracy", "dp_gap_soft"]:
        fn = M.METRICS[name].function

        def on_rows(
            yt,
            ys,
            *,
            sensitive_features,
            sample_weight,
            _fn=fn,
            _label=M.METRICS[name].input == "label",
        ):
            yhat = (ys > 0.5).astype(float) if _label else ys
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", M.UndefinedMetricWarning)
                return _fn(
                    yt, yhat, sensitive_features=sensitive_features, sample_weight=sample_weight
                )

        kw = dict(
            sensitive_features=sf,
            sample_weight=w,
            n_resamples=40,
            seed=1,
            stratify_by_group=stratify,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", M.UndefinedMetricWarning)
            fast = M.bootstrap_ci(name, y, score, **kw)
            slow = M.bootstrap_ci(on_rows, y, score, **kw)
        np.testing.assert_allclose(fast, slow, atol=TOL, err_msg=name)


def test_bootstrap_stratified_keeps_group_sizes():
    from fairnn.metrics.bootstrap import _resample_rows, _strata

    codes = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
    for rows in _resample_rows(_strata(codes, 10, True), 10, 50, seed=0):
        for g in range(3):
            assert ((codes[rows] == g).sum(axis=1) == (codes == g).sum()).all()


# ------------------------------------------------------------------ torch twins


def test_group_means_matrix_and_absent_groups():
    torch.manual_seed(0)
    n, h = 64, 5
    acts = torch.randn(n, h, dtype=torch.float64, requires_grad=True)
    s = torch.randint(0, 3, (n,))
    s[s == 1] = 3  # group 1 absent; 4 groups declared
    w = torch.rand(n, dtype=torch.float64)
    means, present = D.group_means(acts, s, n_groups=4, weight=w, return_present=True)
    assert means.shape == (4, h) and present.tolist() == [True, False, True, True]
    for g in (0, 2, 3):
        m = s == g
        ref = (acts[m] * w[m, None]).sum(0) / w[m].sum()
        assert torch.allclose(means[g], ref, atol=1e-12)
    assert (means[1] == 0).all()
    gaps = D.max_gap(means, present)  # per-neuron gaps over present groups
    ref = means[[0, 2, 3]].amax(0) - means[[0, 2, 3]].amin(0)
    assert torch.allclose(gaps, ref)
    gaps.sum().backward()
    assert torch.isfinite(acts.grad).all()
    # twin skips the absent group: same as numpy on the present ones
    sc = torch.sigmoid(acts[:, 0]).detach().requires_grad_(True)
    val = D.dp_gap_soft(sc, s, n_groups=4)
    assert (
        abs(val.item() - M.dp_gap_soft(None, sc.detach().numpy(), sensitive_features=s.numpy()))
        < 1e-12
    )


def test_twins_degenerate_batches_are_zero_with_finite_grads():
    sc = torch.tensor([0.2, 0.9, 0.4], requires_grad=True)
    one_group = torch.tensor([1, 1, 1])
    y = torch.tensor([0, 1, 1])
    for val in [
        D.dp_gap_soft(sc, one_group),
        D.eodds_gap_sum_soft(sc, y, one_group),
        D.eopp_gap_soft(sc, torch.tensor([0, 0, 0]), torch.tensor([0, 1, 1])),
        D.dp_gap_soft(sc, one_group, weight=torch.zeros(3)),
    ]:
        assert val.item() == 0.0
        (g,) = torch.autograd.grad(val, sc, allow_unused=True)
        assert g is None or torch.isfinite(g).all()
    # only the y=0 cell lacks a second group: eodds sum = the y=1 gap
    s = torch.tensor([0, 0, 1])
    assert abs(D.eodds_gap_sum_soft(sc, y, s).item() - 0.5) < 1e-7
    # float32 (n, 1) scores and bool groups work too
    v = D.dp_gap_soft(sc.float().unsqueeze(1), torch.tensor([True, False, True]))
    assert abs(v.item() - 0.6) < 1e-6


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device in this environment")
def test_twins_on_cuda():
    sc = torch.rand(100, device="cuda", requires_grad=True)
    s = torch.randint(0, 3, (100,), device="cuda")
    y = torch.randint(0, 2, (100,), device="cuda")
    val = D.eodds_gap_sum_soft(sc, y, s, n_groups=3)
    val.backward()
    ref = M.eodds_gap_sum_soft(
        y.cpu().numpy(), sc.detach().cpu().numpy(), sensitive_features=s.cpu().numpy()
    )
    assert abs(val.item() - ref) < 1e-5 and torch.isfinite(sc.grad).all()


def test_group_frame_undefined_cells_are_nan():
    # group "a" has no negatives (FPR undefined), group "b" no positives (TPR undefined)
    fr = M.GroupMetricFrame(
        ["tpr", "fpr", "accuracy"],
        [1, 1, 0, 0],
        [1, 0, 1, 1],
        sensitive_features=["a", "a", "b", "b"],
    )
    bg = fr.by_group
    assert math.isnan(bg.loc["a", "fpr"]) and math.isnan(bg.loc["b", "tpr"])
    diff = fr.difference()
    assert math.isnan(diff["tpr"]) and math.isnan(diff["fpr"]) and diff["accuracy"] == 0.5
    assert "NaN" in fr.to_markdown() and fr.to_dict()["by_group"]["a"]["fpr"] is None
