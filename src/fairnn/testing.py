"""Importable contracts, as scikit-learn's ``check_estimator``: one call tests a new entry.

* :func:`check_method`: the contract every registered method passes (the suite runs it
  over the method registry in ``tests/test_methods_contract.py``);
* ``check_activation`` (:mod:`fairnn.certify.ops.check`) and ``check_metric``
  (:mod:`fairnn.metrics.check`), loaded on first use.

Each check raises ``AssertionError`` naming what the entry got wrong.
"""

from __future__ import annotations

import importlib
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fairnn.datasets.core import TabularData
from fairnn.methods import FittedModel, Method, MethodParams, get_method
from fairnn.training import TrainConfig

if TYPE_CHECKING:
    from fairnn.certify.ops.check import check_activation
    from fairnn.metrics.check import check_metric

__all__ = ["adult_sample", "check_activation", "check_method", "check_metric", "check_repair"]

#: (parameters at a setting where the method should reduce a gap, that gap's metric), or
#: None for a method with no group gap to reduce (say why where it is declared)
FairSetting = tuple[dict[str, Any], str] | None
#: the short training of the contract
QUICK = TrainConfig(epochs=3, batch_size=256, progress=False)
_LAZY = {"check_activation": "fairnn.certify.ops.check", "check_metric": "fairnn.metrics.check"}


def __getattr__(name: str) -> Any:
    """``check_activation`` and ``check_metric`` import their modules on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def adult_sample(
    seed: int = 0, sizes: tuple[int, int, int] = (3000, 1500, 3000)
) -> tuple[TabularData, TabularData, TabularData]:
    """Random rows of Adult's clean train, val and test splits (the bundled copy serves)."""
    from fairnn.datasets import load_dataset

    splits = load_dataset("adult", seed=seed)
    rng = np.random.default_rng(seed)
    parts = (splits.train, splits.val, splits.test)
    train, val, test = (
        d.subset(rng.choice(len(d), n, replace=False)) for d, n in zip(parts, sizes, strict=True)
    )
    return train, val, test


def check_method(
    method: str | type[Method[Any]],
    fair_setting: FairSetting,
    *,
    data: tuple[TabularData, TabularData, TabularData] | None = None,
    config: TrainConfig = QUICK,
    seed: int = 7,
    tmp_dir: str | Path | None = None,
) -> FittedModel:
    """Check that ``method`` keeps the contract of a fairnn method; return its fitted model.

    ``fair_setting`` declares where the method should help: ``(params, gap_metric)``, or
    None (for a method with no group gap to reduce). ``data`` is ``(train, val, test)``
    (default: :func:`adult_sample`). Checked: the class declares a name, a stage and its
    ``Params``; the setting's parameters are valid and its metric is a group gap; ``fit``
    at that setting gives probabilities in [0, 1] and 0/1 decisions; the same seed gives the
    same model; save and load give the same predictions, method and parameters; and a
    method that can repair returns a new model from :meth:`Method.repair` and leaves the
    model it was given (weights, flags and attributes) as it was.
    """
    cls = get_method(method) if isinstance(method, str) else method
    name = getattr(cls, "name", None)
    assert isinstance(name, str) and name, f"{cls!r} declares no name"
    assert getattr(cls, "stage", None) in ("pre", "in", "post"), f"{name}: stage is not pre/in/post"
    assert issubclass(cls.Params, MethodParams), f"{name}: Params is not a MethodParams"
    params = _check_fair_setting(name, fair_setting)
    train, val, test = data if data is not None else adult_sample()

    a = cls(**params).fit(train, val, config=config, seed=seed)
    b = cls(**params).fit(train, val, config=config, seed=seed)
    p = a.predict_proba(test)
    assert p.shape == (len(test),), f"{name}: predict_proba has shape {p.shape}"
    assert np.all(np.isfinite(p)) and p.min() >= 0 and p.max() <= 1, f"{name}: not probabilities"
    assert np.array_equal(p, b.predict_proba(test)), f"{name}: same seed must give the same model"
    assert set(np.unique(a.predict(test))) <= {0, 1}, f"{name}: decisions are not 0/1"

    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp_dir if tmp_dir is not None else tmp) / name
        a.save(where)
        loaded = FittedModel.load(where)
    assert np.array_equal(loaded.predict_proba(test), p), (
        f"{name}: a loaded model predicts otherwise"
    )
    assert loaded.method == name and loaded.params == a.params, (
        f"{name}: method or params not saved"
    )

    if cls.repairs():
        check_repair(cls(**params), a, train, val, test, config=config, seed=seed)
    return a


def _check_fair_setting(name: str, setting: FairSetting) -> dict[str, Any]:
    """The setting's parameters, after checking that the setting is well formed."""
    if setting is None:
        return {}
    from fairnn.metrics import METRICS

    assert isinstance(setting, tuple) and len(setting) == 2, (
        f"{name}: a fair setting is (params, gap_metric) or None, got {setting!r}"
    )
    params, gap = setting
    assert isinstance(params, dict), f"{name}: the fair setting's params must be a dict"
    spec = METRICS.get(gap) if gap in METRICS else None
    assert spec is not None and spec.is_group_metric and not spec.higher_is_better, (
        f"{name}: the fair setting's metric {gap!r} is not a group gap (lower is better)"
    )
    return params


def _snapshot(fitted: FittedModel) -> dict[str, Any]:
    """What repair must not change: weights, parameter flags, modes and attributes."""
    net = fitted.network
    fields = ("method", "params", "seed", "threshold", "task", "label", "dataset", "training")
    return {
        "network": net,
        "state": {k: v.detach().clone() for k, v in net.state_dict().items()},
        "flags": [q.requires_grad for q in net.parameters()],
        "modes": [m.training for m in net.modules()],
        "fields": json.dumps({k: getattr(fitted, k) for k in fields}, default=str, sort_keys=True),
        "decision": None if fitted.decision is None else fitted.decision.to_dict(),
        "preprocessor": fitted.preprocessor,
        "groups": fitted.groups,
        "features": fitted.features,
    }


def check_repair(
    method: Method[Any],
    fitted: FittedModel,
    train: TabularData,
    val: TabularData | None,
    test: TabularData,
    *,
    config: TrainConfig = QUICK,
    seed: int = 0,
) -> FittedModel:
    """``method.repair(fitted, ...)`` returns a new model that predicts probabilities on
    ``test`` and leaves ``fitted`` as it was: the same network, weights, parameter flags,
    train/eval modes, attributes and decision rule. Returns the repaired model."""
    before = _snapshot(fitted)
    repaired = method.repair(fitted, train, val, config=config, seed=seed)
    name = method.name
    assert isinstance(repaired, FittedModel), f"{name}: repair returned {type(repaired).__name__}"
    assert repaired is not fitted, f"{name}: repair must return a new model, not its input"
    after = _snapshot(fitted)
    for key in ("network", "preprocessor", "groups", "features"):
        assert after[key] is before[key], f"{name}: repair replaced the input model's {key}"
    assert before["state"].keys() == after["state"].keys(), f"{name}: repair changed the state keys"
    changed = [k for k, v in before["state"].items() if not torch.equal(v, after["state"][k])]
    assert not changed, f"{name}: repair changed the input model's weights {changed[:5]}"
    for key in ("flags", "modes", "fields", "decision"):
        assert after[key] == before[key], f"{name}: repair changed the input model's {key}"
    p = repaired.predict_proba(test)
    assert np.all(np.isfinite(p)) and p.min() >= 0 and p.max() <= 1, (
        f"{name}: the repaired model's predict_proba gives no probabilities"
    )
    return repaired
