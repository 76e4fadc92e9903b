"""Every registered metric passes :func:`fairnn.metrics.check.check_metric`; the check
catches a wrong entry; the generated functions look hand-written; multiclass gaps."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import warnings

import numpy as np
import pytest

import fairnn.metrics as M
from fairnn.errors import InvalidValueError
from fairnn.metrics import differentiable as D
from fairnn.metrics import functional
from fairnn.metrics.bootstrap import bootstrap_counts
from fairnn.metrics.check import check_metric, random_inputs

#: the metrics with a fairlearn or scikit-learn equivalent (the check compares them)
WITH_REFERENCE = {
    "accuracy", "balanced_accuracy", "ap", "auc", "mse", "mae", "r2", "dp_gap", "dp_ratio",
    "eodds_gap_sum", "eodds_gap_max", "eopp_gap", "fnr_gap", "fpr_gap", "dp_gap_ovr",
    "eodds_gap_sum_ovr",
}  # fmt: skip


@pytest.mark.parametrize("name", M.METRICS.names())
def test_every_registered_metric_passes_the_contract(name):
    checked = check_metric(M.METRICS[name])
    assert ("twin" in checked) == (M.METRICS[name].twin is not None)
    assert ("reference" in checked) == (name in WITH_REFERENCE)


def test_check_metric_catches_a_wrong_entry():
    spec = M.METRICS["eodds_gap_sum"]
    with pytest.raises(AssertionError, match="eodds_gap_sum: its twin on hard 0/1 scores"):
        check_metric(dataclasses.replace(spec, twin=D.eodds_gap_max_soft))

    def eodds_gap_sum(y_true, y_pred, *, sensitive_features, sample_weight=None):
        """The max form under the sum's name."""
        return M.eodds_gap_max(
            y_true, y_pred, sensitive_features=sensitive_features, sample_weight=sample_weight
        )

    with pytest.raises(AssertionError, match="the function against its kernel"):
        check_metric(dataclasses.replace(spec, function=eodds_gap_sum))
    with pytest.raises(AssertionError, match="name or docstring"):
        check_metric(dataclasses.replace(spec, function=M.eodds_gap_max))
    with pytest.raises(AssertionError, match="needs_label"):
        check_metric(dataclasses.replace(spec, needs_label=False))
    with pytest.raises(AssertionError, match="the reference"):
        check_metric(spec, reference=lambda y, yh, sf, w: 0.0)


def test_generated_functions_carry_name_doc_signature_and_module():
    assert set(functional.__all__) == set(M.METRICS.names()) <= set(M.__all__)
    for name, spec in M.METRICS.items():
        fn = getattr(M, name)
        assert fn is getattr(functional, name) is spec.function
        assert fn.__name__ == fn.__qualname__ == name and fn.__module__ == "fairnn.metrics"
        assert pickle.loads(pickle.dumps(fn)) is fn
        params = inspect.signature(fn).parameters
        groups = params["sensitive_features"]
        assert groups.kind is inspect.Parameter.KEYWORD_ONLY
        assert (groups.default is inspect.Parameter.empty) == spec.is_group_metric
    assert "Demographic-parity gap" in M.dp_gap.__doc__
    assert "y_score" in inspect.signature(M.auc).parameters
    # keyword calls by the documented names, and Python's errors for bad calls
    y, p, s = [0, 1, 0, 1], [0, 1, 1, 1], [0, 0, 1, 1]
    assert M.dp_gap(y_true=y, y_pred=p, sensitive_features=s) == 0.5
    assert M.accuracy(y, p, sensitive_features=s) == 0.75  # accepted and ignored
    with pytest.raises(TypeError, match=r"dp_gap\(\): missing a required argument"):
        M.dp_gap(y, p)
    with pytest.raises(TypeError, match="y_score"):
        M.auc(y, y_pred=p)


def test_registry_is_a_registry_with_twins_and_label_needs():
    assert M.METRICS["dp_gap"] is M.METRICS.get("dp_gap")
    assert [s.name for s in M.METRICS.values()] == M.METRICS.names()
    with pytest.raises(InvalidValueError, match="Did you mean 'dp_gap'"):
        M.METRICS.get("dp_gaps")
    assert M.METRICS["dp_gap"].twin is D.dp_gap_soft
    assert M.METRICS["eodds_gap_sum"].twin is D.eodds_gap_sum_soft
    unlabelled = {n for n, s in M.METRICS.items() if not s.needs_label}
    assert unlabelled == {"dp_gap", "dp_ratio", "dp_gap_soft"}


# -- multiclass --------------------------------------------------------------------------------
def test_one_vs_rest_gaps_equal_the_binary_gaps_on_binary_data():
    d = random_inputs("binary", seed=3)
    for ovr, binary in [("dp_gap_ovr", "dp_gap"), ("eodds_gap_sum_ovr", "eodds_gap_sum")]:
        a = M.METRICS[ovr].function(d.y, d.label, sensitive_features=d.sf, sample_weight=d.w)
        b = M.METRICS[binary].function(d.y, d.label, sensitive_features=d.sf, sample_weight=d.w)
        assert a == pytest.approx(b, abs=1e-12)


def test_multiclass_evaluate_reads_class_scores_as_their_argmax():
    d = random_inputs("multiclass", seed=1)
    scores = np.random.default_rng(0).random((d.y.shape[0], 4))
    scores[np.arange(d.y.shape[0]), d.label.astype(int)] += 1.0  # argmax = d.label
    out = M.evaluate(d.y, scores, sensitive_features=d.sf, sample_weight=d.w, task="multiclass")
    assert list(out) == list(M.DEFAULT_METRICS["multiclass"])
    assert out["dp_gap_ovr"] == M.dp_gap_ovr(
        d.y, d.label, sensitive_features=d.sf, sample_weight=d.w
    )
    ci = M.evaluate_with_ci(d.y, scores, sensitive_features=d.sf, task="multiclass", n_resamples=50)
    assert ci["eodds_gap_sum_ovr"].estimate == M.eodds_gap_sum_ovr(
        d.y, d.label, sensitive_features=d.sf
    )
    assert ci["eodds_gap_sum_ovr"].low <= ci["eodds_gap_sum_ovr"].high
    with pytest.raises(InvalidValueError, match="applies to task"):
        M.evaluate(d.y, scores, sensitive_features=d.sf, metrics=["dp_gap"], task="multiclass")


def test_multiclass_undefined_rates_are_nan_not_zero():
    """A group without rows of a class has no TPR for it (the binary convention), never 0."""
    y = np.array([0, 1, 2, 0, 1, 1])
    pred = np.array([0, 1, 1, 0, 1, 2])
    s = np.array([0, 0, 0, 1, 1, 1])  # group 1 has no row of class 2
    with pytest.warns(M.UndefinedMetricWarning, match=r"eodds_gap_sum_ovr \(class 2\)"):
        assert np.isnan(M.eodds_gap_sum_ovr(y, pred, sensitive_features=s))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every selection rate is defined
        assert M.dp_gap_ovr(y, pred, sensitive_features=s) == pytest.approx((0 + 1 / 3 + 1 / 3) / 3)


def test_multiclass_input_errors():
    with pytest.raises(InvalidValueError, match="class ids"):
        M.dp_gap_ovr([0, 1, 2, 1], [0.2, 1, 2, 1], sensitive_features=[0, 0, 1, 1])
    with pytest.raises(InvalidValueError, match="1-D"):  # the functions take class ids only
        M.dp_gap_ovr([0, 1], np.eye(2), sensitive_features=[0, 1])
    with pytest.raises(InvalidValueError, match="mixes multiclass"):
        bootstrap_counts(
            ["dp_gap", "dp_gap_ovr"], [0, 1, 1, 0], [0, 1, 1, 0],
            sensitive_features=[0, 0, 1, 1], counts=[1, 1, 1, 1],
        )  # fmt: skip
    nan_scores = np.array([[0.1, 0.9], [np.nan, 0.2]])
    with pytest.raises(InvalidValueError, match="NaN or infinite class scores"):
        M.evaluate([0, 1], nan_scores, sensitive_features=[0, 1], task="multiclass")
