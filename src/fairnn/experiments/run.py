"""Run one spec end to end: load data, fit the method, score every split, save.

The CLI's ``train`` and, later, sweeps call :func:`run_spec`; it returns a
:class:`RunResult` whose ``to_json()`` is the object ``fairnn train --json``
prints.
"""

from __future__ import annotations

import copy
import functools
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairnn.datasets.core import Splits
from fairnn.datasets.sources import TABLE_SUFFIXES as TABLE_SUFFIXES  # old path, one release
from fairnn.datasets.sources import looks_like_path as looks_like_path  # old path, one release
from fairnn.datasets.sources import resolve
from fairnn.defaults import BASELINE_METHOD
from fairnn.errors import ConfigError, FairnnError
from fairnn.experiments.protocols import protocol, protocol_params
from fairnn.experiments.spec import Constraint, RunSpec
from fairnn.methods.base import Architecture, Method, get_method, validate_model
from fairnn.methods.decision import decision_report
from fairnn.methods.fitted import FittedModel, check_out
from fairnn.metrics.degenerate import degenerate_splits, selection_rate
from fairnn.notion import NOTIONS
from fairnn.training.config import TrainConfig


@dataclass
class RunResult:
    run_id: str
    spec: RunSpec
    metrics: dict[str, dict[str, float]]
    time_s: float
    model_path: str | None
    fitted: FittedModel | None = field(default=None, repr=False)
    splits: Splits | None = field(default=None, repr=False)
    #: the fairness-weight search that chose this run (:mod:`fairnn.experiments.target_gap`)
    target_gap: dict[str, Any] | None = None
    #: each binary split's 0/1 decisions, computed once for the metrics and the report
    decided: dict[str, Any] | None = field(default=None, repr=False)

    @functools.cached_property
    def decision(self) -> dict[str, Any] | None:
        """How the model decides, per split (:func:`~fairnn.methods.decision.decision_report`)."""
        if self.fitted is None or self.splits is None:
            return None
        return decision_report(self.fitted, self.splits, decided=self.decided)

    @property
    def degenerate(self) -> dict[str, str]:
        """Why the model predicts (nearly) one class, per split it is judged on (val, test;
        :mod:`fairnn.metrics.degenerate`); empty when it does not."""
        return degenerate_splits(self.metrics)

    def to_json(self) -> dict[str, Any]:
        extra = {"target_gap": self.target_gap} if self.target_gap is not None else {}
        return {
            "run_id": self.run_id,
            "dataset": self.spec.dataset,
            "recipe": self.spec.recipe,
            "method": self.spec.method,
            "params": self.fitted.params if self.fitted is not None else self.spec.params,
            "mode": self.spec.mode,
            "seed": self.spec.seed,
            "metrics": self.metrics,
            "decision": self.decision,
            "degenerate": bool(self.degenerate),
            "time_s": self.time_s,
            "model_path": self.model_path,
            **extra,
        }


def load_splits(spec: RunSpec) -> Splits:
    """The spec's data: a registered dataset by name, or the user's own table."""
    return resolve(spec.data)


def spec_problem(spec: RunSpec) -> tuple[str, FairnnError] | None:
    """The first error ``spec`` would raise before training, as ``(part, error)``, or None.

    Checked without reading data or training: the dataset (a registered name, with a
    close match when unknown, or an existing table with its label and sensitive columns
    named), the recipe for that dataset, the method and its parameters, the training
    settings and the architecture. ``part`` is ``dataset``, ``recipe``, ``method``,
    ``train`` or ``architecture``.
    """
    data = spec.data
    checks: list[tuple[str, Any]] = [
        ("dataset", lambda: data.check(exists=True)),
        ("recipe", data.check_recipe),
        ("method", lambda: get_method(spec.method)(**method_params(spec))),
        ("train", lambda: train_config(spec)),
        ("architecture", lambda: validate_model(Architecture, spec.architecture, "architecture")),
    ]
    for part, check in checks:
        try:
            check()
        except FairnnError as e:
            return part, e
    return None


def method_params(spec: RunSpec) -> dict[str, Any]:
    """The spec's parameters, with ``mode`` filled in for methods that take one.

    Parameters the recipe's paper fixes (RUNNER's λ and k tables) fill in what
    the spec leaves out.
    """
    cls = get_method(spec.method)
    params = {**protocol_params(spec.recipe, spec.mode, spec.method, spec.dataset), **spec.params}
    key = cls.notion_param
    if key in cls.Params.model_fields and key not in params:
        params[key] = spec.mode
    return params


def resolve_mode(method: str, mode: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Split a command line's ``--mode`` between the fairness notion and the method's own mode.

    ``dp``/``eo`` is the fairness notion. A method whose own ``mode`` parameter is not
    the notion (FairBiNN: ``reg``/``bilevel``/``adv``/``hybrid``) receives any other
    value as that parameter; the notion then comes from the method's notion parameter
    when given, else ``dp``. Returns ``(notion, params)``.
    """
    cls = get_method(method)
    params = dict(params)
    fields = cls.Params.model_fields
    notion_key = cls.notion_param if cls.notion_param in fields else None
    if mode in NOTIONS:
        return (params.get(notion_key, mode) if notion_key else mode), params
    if cls.notion_param != "mode" and "mode" in fields:
        params["mode"] = mode
        return (params.get(notion_key, "dp") if notion_key else "dp"), params
    raise ConfigError(f"--mode must be dp or eo, got {mode!r}")


def train_config(spec: RunSpec, overrides: dict[str, Any] | None = None) -> TrainConfig:
    values = protocol(spec.recipe, spec.mode, spec.method)
    values.update(spec.train)
    values.update(overrides or {})
    return TrainConfig.make(**values)


_BASES: OrderedDict[str, tuple[FittedModel, Any]] = OrderedDict()
_BASES_KEPT = 4


def _base_model(
    spec: RunSpec, method: Method, splits: Splits, config: TrainConfig
) -> tuple[FittedModel, Any]:
    """The trained base model of a post-processing run: a copy, cached in this process.

    A post-processing method's ``fit`` trains the base model exactly as vanilla does
    (:meth:`Method.fit_base`), so runs that differ only in the method's parameters
    share it (keyed by the spec without method and parameters, and the training
    settings). The base ignores the fairness notion except through the training
    settings (which the key holds), so a DP run and an EO run share it. The cache keeps
    the last few; ``splits`` must be the spec's own.
    """
    base = spec.model_copy(update={"method": BASELINE_METHOD, "params": {}, "mode": "dp"})
    key = base.key() + config.model_dump_json(exclude={"device", "progress", "eval_batch_size"})
    key += f"|{len(splits.train)}|{float(splits.train.y.sum())}"
    if key not in _BASES:
        _BASES[key] = method.fit_base(
            splits.train, splits.val, config=config, seed=spec.seed, architecture=spec.architecture
        )
        while len(_BASES) > _BASES_KEPT:
            _BASES.popitem(last=False)
    _BASES.move_to_end(key)
    fitted, data = _BASES[key]
    # repair leaves its input alone but may keep its network (ROC's rule, a trigger in front of
    # it), and callers may move or change the model they get: hand out a copy, not the cache's
    fitted = copy.deepcopy(fitted)
    fitted.method, fitted.params = method.name, method.params.model_dump(mode="json")
    return fitted, data


def constrained_metrics(
    fitted: FittedModel, splits: Splits, constraint: Constraint
) -> dict[str, dict[str, float]]:
    """The MinDiff paper's evaluation (§4) for every split.

    Per-group thresholds are chosen on validation (maximum accuracy with
    |Δrate| ≤ γ) and applied to each split: ``constrained_error`` and
    ``constrained_gap`` (the constrained rate's gap at those thresholds);
    ``constrained_feasible`` says whether validation met the constraint. ``bce`` is
    the split's mean log loss, so that an interpolating model (zero training loss)
    shows. Two groups only.
    """
    import numpy as np

    from fairnn.metrics.thresholds import apply_thresholds, constrained_thresholds

    if splits.val.groups.n_groups != 2:
        raise ConfigError(
            f"the constrained evaluation compares two groups; this data has "
            f"{splits.val.groups.n_groups} ({', '.join(splits.val.groups.labels)})"
        )
    scores = {name: fitted.predict_proba(data) for name, data in splits}
    val = splits.val
    chosen = constrained_thresholds(
        val.y.cpu().numpy(),
        scores["val"],
        val.s.cpu().numpy(),
        gamma=constraint.gamma,
        constraint=constraint.gap,
    )
    out: dict[str, dict[str, float]] = {}
    for name, data in splits:
        y, p = data.y.cpu().numpy(), np.clip(scores[name], 1e-7, 1 - 1e-7)
        r = apply_thresholds(
            y, p, data.s.cpu().numpy(), chosen.thresholds, constraint=constraint.gap
        )
        out[name] = {
            "constrained_error": r["error"],
            "constrained_gap": r["gap"],
            "bce": float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()),
        }
    out["val"]["constrained_feasible"] = float(chosen.feasible)
    return out


def run_spec(
    spec: RunSpec,
    *,
    out: str | Path | None = None,
    splits: Splits | None = None,
    runtime: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> RunResult:
    """Fit ``spec`` and evaluate it on train, val and test.

    ``runtime`` holds settings that do not change the result (``device``,
    ``progress``). ``splits`` skips loading when the caller already has them.
    With ``out``, the model is saved there (safetensors + JSON sidecar; checked before
    training; an existing model folder is replaced only with ``overwrite``).
    """
    if spec.target_gap is not None:
        raise ConfigError(
            "this spec searches its fairness weight (target_gap): run it with "
            "fairnn.experiments.target_gap.run_spec_or_search"
        )
    t0 = time.perf_counter()
    if out is not None:
        check_out(out, overwrite=overwrite)
    method = get_method(spec.method)(**method_params(spec))
    config = train_config(spec, runtime)
    validate_model(Architecture, spec.architecture, "architecture")  # before any data loads
    splits = splits if splits is not None else load_splits(spec)
    if method.stage == "post":  # the same base model serves every post-processing run
        fitted, data = _base_model(spec, method, splits, config)
        fitted = method.repair(fitted, data, splits.val, config=config, seed=spec.seed)
    else:
        fitted = method.fit(
            splits.train, splits.val, config=config, seed=spec.seed, architecture=spec.architecture
        )
    fitted.preprocessor = splits.preprocessor
    fitted.dataset = {**splits.info, **spec.data.record(), "mode": spec.mode}
    metrics = {name: fitted.evaluate(data) for name, data in splits}
    decided = {name: fitted.predict(data) for name, data in splits if data.task == "binary"}
    for name, d in decided.items():  # the share of positive decisions: is it degenerate?
        metrics[name]["selection_rate"] = selection_rate(d)
    if spec.constraint is not None:
        for name, extra in constrained_metrics(fitted, splits, spec.constraint).items():
            metrics[name].update(extra)
    elapsed = time.perf_counter() - t0
    model_path = str(fitted.save(out, overwrite=overwrite)) if out is not None else None
    return RunResult(
        spec.key(), spec, metrics, elapsed, model_path, fitted, splits, decided=decided
    )
