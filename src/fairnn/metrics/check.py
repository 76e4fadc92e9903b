"""The contract of a registered metric: :func:`check_metric` (re-exported by :mod:`fairnn.testing`).

As scikit-learn's ``check_estimator`` (and torchmetrics' ``MetricTester``: functional,
kernel and differentiability), one call checks one :class:`~fairnn.metrics.MetricSpec`
on seeded random data in which every group holds every class, so no rate is undefined:

* the spec agrees with its kernel (input kind, group need, label need) and its
  function is the generated one (name, docstring, signature);
* the function returns the kernel's value, and :func:`~fairnn.metrics.evaluate` returns it
  for every task of the spec;
* the value does not depend on the order of the rows;
* a metric that does not need labels gives the same value with ``y_true=None``;
* the torch twin, if any, equals the numpy value on hard 0/1 scores (and on any score for
  a score metric) within 1e-6 and has a finite, non-zero gradient;
* the value equals the fairlearn (gaps) or scikit-learn (performance) reference where one
  exists and the library is installed (both are optional), or ``reference``.

A failed check raises ``AssertionError`` naming the metric and what went wrong.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from fairnn.metrics._factory import Y_NAME
from fairnn.metrics._kernels import KERNELS, prepare
from fairnn.metrics.registry import METRICS, MetricSpec, Task, evaluate

__all__ = ["check_metric"]

#: ``reference(y_true, y_hat, sensitive_features, sample_weight) -> float``
Reference = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], float]

TOL = 1e-9  # the same code on the same rows (order aside), or a library reference
TWIN_TOL = 1e-6  # torch float64 against numpy
N_GROUPS, N_CLASSES = 3, 4


@dataclass(frozen=True)
class Inputs:
    """Random inputs for one task: labels, the prediction a metric reads, groups, weights."""

    y: np.ndarray
    label: np.ndarray  # hard predictions: 0/1 (binary), class ids (multiclass)
    score: np.ndarray  # scores (binary) or predictions (regression); ``label`` if multiclass
    sf: np.ndarray  # group labels (strings)
    codes: np.ndarray  # group ids 0 .. N_GROUPS - 1
    w: np.ndarray

    def y_hat(self, spec: MetricSpec) -> np.ndarray:
        return self.label if spec.input == "label" else self.score

    def permuted(self, order: np.ndarray) -> Inputs:
        return Inputs(*(getattr(self, f.name)[order] for f in fields(self)))


def random_inputs(task: Task, seed: int = 0, n: int = 240) -> Inputs:
    """``n`` random rows (plus a block that puts every class in every group), seeded."""
    rng = np.random.default_rng(seed)
    k = N_CLASSES if task == "multiclass" else 2
    codes = np.concatenate([np.repeat(np.arange(N_GROUPS), k), rng.integers(0, N_GROUPS, n)])
    m = codes.shape[0]
    cls = np.concatenate([np.tile(np.arange(k), N_GROUPS), rng.integers(0, k, n)])
    sf = np.array([f"g{c}" for c in codes], dtype=object)
    w = rng.uniform(0.1, 3.0, m)
    if task == "regression":
        y = rng.normal(size=m) + 0.3 * codes
        pred = y + rng.normal(scale=0.5, size=m)
        return Inputs(y, pred, pred, sf, codes, w)
    y = cls.astype(np.float64)
    if task == "multiclass":
        keep = rng.random(m) < 0.6
        pred = np.where(keep, cls, rng.integers(0, k, m)).astype(np.float64)
        return Inputs(y, pred, pred, sf, codes, w)
    score = np.clip(rng.random(m) * 0.6 + 0.1 * codes / N_GROUPS + 0.25 * y, 0.0, 1.0)
    return Inputs(y, (score > 0.5).astype(np.float64), score, sf, codes, w)


def check_metric(
    spec: MetricSpec | str, *, seed: int = 0, reference: Reference | None = None
) -> list[str]:
    """Check one registered metric (a :class:`MetricSpec` or its name); list what was checked.

    ``reference`` replaces the built-in fairlearn / scikit-learn reference (a function of
    ``(y_true, y_hat, sensitive_features, sample_weight)``, where ``y_hat`` is what the
    metric reads).
    """
    if isinstance(spec, str):
        spec = METRICS.get(spec)
    name = spec.name
    checked = ["spec", "function"]
    _check_spec(spec)
    data = random_inputs(spec.task, seed)
    value = _call(spec, data)
    assert math.isfinite(value), f"{name}: {value} on data where every rate is defined"
    _close(name, "the function against its kernel", value, _kernel_value(spec, data), 0.0)
    for task in spec.tasks:
        d = data if task == spec.task else random_inputs(task, seed)
        got = evaluate(
            d.y, d.y_hat(spec), sensitive_features=d.sf, sample_weight=d.w, metrics=[name],
            task=task,
        )[name]  # fmt: skip
        _close(name, f"evaluate(task={task!r}) against the function", got, _call(spec, d), TOL)
    checked.append("evaluate")
    order = np.random.default_rng(seed + 1).permutation(data.y.shape[0])
    _close(name, "a row permutation", _call(spec, data.permuted(order)), value, TOL)
    checked.append("row order")
    if not spec.needs_label:
        _close(name, "y_true=None (it needs no labels)", _call(spec, data, y=None), value, 0.0)
        checked.append("no labels")
    if spec.twin is not None:
        _check_twin(spec, data)
        checked.append("twin")
    ref = reference or _builtin_reference(name)
    if ref is not None:
        expected = ref(data.y, data.y_hat(spec), data.sf, data.w)
        _close(name, "the reference (fairlearn / scikit-learn)", value, expected, TOL)
        checked.append("reference")
    return checked


# -- the checks ----------------------------------------------------------------------------
def _check_spec(spec: MetricSpec) -> None:
    name = spec.name
    assert name in METRICS and name in KERNELS, f"{name}: not registered, or without a kernel"
    kernel = KERNELS[name]
    assert spec.input == kernel.input, f"{name}: input {spec.input!r} but kernel {kernel.input!r}"
    assert spec.needs_label == kernel.needs_y_true, f"{name}: needs_label disagrees with kernel"
    assert spec.tasks and spec.description, f"{name}: no tasks or no description"
    assert spec.task != "multiclass" or kernel.multiclass, f"{name}: multiclass task, binary kernel"
    fn = spec.function
    assert fn.__name__ == name and fn.__doc__, f"{name}: function name or docstring missing"
    params = list(inspect.signature(fn).parameters)
    expected = ["y_true", Y_NAME[spec.input], "sensitive_features", "sample_weight"]
    assert params == expected, f"{name}: parameters {params}, expected {expected}"


def _call(spec: MetricSpec, d: Inputs, y: Any = ...) -> float:
    out = spec.function(
        d.y if y is ... else y, d.y_hat(spec), sensitive_features=d.sf, sample_weight=d.w
    )
    assert type(out) is float, f"{spec.name}: returned {type(out).__name__}, not float"
    return out


def _kernel_value(spec: MetricSpec, d: Inputs) -> float:
    kernel = KERNELS[spec.name]
    p, w = prepare(
        {spec.name: kernel},
        d.y,
        d.y_hat(spec),
        y_name=Y_NAME[spec.input],
        sensitive_features=d.sf,
        sample_weight=d.w,
    )
    return float(kernel.kernel(p, w[None, :], False)[0])


def _check_twin(spec: MetricSpec, d: Inputs) -> None:
    import torch

    name = spec.name
    y, s, w = (torch.tensor(a) for a in (d.y, d.codes, d.w))
    hard = torch.tensor((d.y_hat(spec) > 0.5) * 1.0, dtype=torch.float64)
    want = spec.function(d.y, hard.numpy(), sensitive_features=d.sf, sample_weight=d.w)
    got = spec.apply_twin(hard, y, s, weight=w).item()
    _close(name, "its twin on hard 0/1 scores", got, want, TWIN_TOL)
    scores = torch.tensor(d.score, dtype=torch.float64, requires_grad=True)
    out = spec.apply_twin(scores, y, s, weight=w)
    if spec.input == "score":
        _close(name, "its twin on scores", out.item(), _call(spec, d), TWIN_TOL)
    assert out.requires_grad, f"{name}: the twin's value is not attached to the graph"
    (grad,) = torch.autograd.grad(out, scores)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0, f"{name}: twin gradient {grad}"


def _close(name: str, what: str, got: float, want: float, tol: float) -> None:
    ok = math.isfinite(got) and math.isfinite(want) and abs(got - want) <= tol
    assert ok, f"{name}: {what}: got {got!r}, expected {want!r} (tolerance {tol:g})"


# -- references ----------------------------------------------------------------------------
def _builtin_reference(name: str) -> Reference | None:
    """fairlearn's or scikit-learn's value of ``name``, or None (no equivalent, not installed)."""
    try:
        if name in _SKLEARN:
            import sklearn.metrics as skm

            fn = getattr(skm, _SKLEARN[name])
            return lambda y, yh, sf, w: float(fn(y, yh, sample_weight=w))
        if name in _GAPS:
            import fairlearn.metrics  # noqa: F401 (optional: skip when absent)

            return _GAPS[name]
    except ImportError:
        return None
    return None


_SKLEARN = {
    "accuracy": "accuracy_score",
    "balanced_accuracy": "balanced_accuracy_score",
    "ap": "average_precision_score",
    "auc": "roc_auc_score",
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "r2": "r2_score",
}


def _difference(rate: str, y: np.ndarray, yh: np.ndarray, sf: np.ndarray, w: np.ndarray) -> float:
    """fairlearn's ``MetricFrame(rate).difference()``: max - min of a rate across groups."""
    import fairlearn.metrics as flm

    frame = flm.MetricFrame(
        metrics=getattr(flm, rate), y_true=y, y_pred=yh, sensitive_features=sf,
        sample_params={"sample_weight": w},
    )  # fmt: skip
    return float(frame.difference())


def _eodds_sum(y: np.ndarray, yh: np.ndarray, sf: np.ndarray, w: np.ndarray) -> float:
    return _difference("true_positive_rate", y, yh, sf, w) + _difference(
        "false_positive_rate", y, yh, sf, w
    )


def _fairlearn(fn_name: str) -> Reference:
    def ref(y: np.ndarray, yh: np.ndarray, sf: np.ndarray, w: np.ndarray) -> float:
        import fairlearn.metrics as flm

        return float(getattr(flm, fn_name)(y, yh, sensitive_features=sf, sample_weight=w))

    return ref


def _one_vs_rest(binary: Reference) -> Reference:
    """The mean over classes of ``binary`` on ``1[y == c]``, ``1[y_hat == c]``."""

    def ref(y: np.ndarray, yh: np.ndarray, sf: np.ndarray, w: np.ndarray) -> float:
        classes = np.unique(np.concatenate([y, yh]))
        return float(np.mean([binary((y == c) * 1.0, (yh == c) * 1.0, sf, w) for c in classes]))

    return ref


_GAPS: dict[str, Reference] = {
    "dp_gap": _fairlearn("demographic_parity_difference"),
    "dp_ratio": _fairlearn("demographic_parity_ratio"),
    "eodds_gap_max": _fairlearn("equalized_odds_difference"),
    "eopp_gap": _fairlearn("equal_opportunity_difference"),
    "eodds_gap_sum": _eodds_sum,
    "fnr_gap": lambda y, yh, sf, w: _difference("false_negative_rate", y, yh, sf, w),
    "fpr_gap": lambda y, yh, sf, w: _difference("false_positive_rate", y, yh, sf, w),
    "dp_gap_ovr": _one_vs_rest(_fairlearn("demographic_parity_difference")),
    "eodds_gap_sum_ovr": _one_vs_rest(_eodds_sum),
}
