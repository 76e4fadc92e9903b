"""Reject-option classification (Kamiran, Karim & Zhang, "Decision theory for
discrimination-aware classification", ICDM 2012, the "Reject Option based
Classification" (ROC) section; section numbers are not given because the
paper's text was not at hand, only its descriptions in RUNNER's and
FairNeuron's material and AIF360's implementation).

A post-processing rule on any trained model's scores ``p = P(y=1|x)``. Decisions
far from the boundary stand; in the *critical region* ``max(p, 1 − p) ≤ θ``
(for θ = 0.6, ``p ∈ [0.4, 0.6]``) the unprivileged group gets the favourable
label 1 and the privileged group the unfavourable label 0. Outside the region
the usual ``ŷ = 1[p > 0.5]`` holds. The RUNNER README (seed 000) sets θ = 0.6.
A model that decides at another threshold ``t`` (``TrainConfig.threshold``) keeps it:
the region is then centred on ``t`` (``|p − t| ≤ θ − 0.5``, with ``p`` shifted by
``t − 0.5`` in the formula above), as AIF360 centres its margin on its classification
threshold; outside it ``ŷ = 1[p > t]``.

* ``theta`` ∈ [0.5, 1]: 0.5 leaves every decision as it is, 1 gives every
  unprivileged row 1 and every privileged row 0.
* ``privileged``: a group id or label. By default, the group with the highest
  rate of the favourable label (y = 1) in the training data; with more than
  two groups every other group counts as unprivileged (the paper has two).
* The favourable label is 1.
* ``search=True``: the variant that chooses θ on the validation split, as
  AIF360's ``RejectOptionClassification`` does (it also searches the
  classification threshold; fairnn keeps 0.5). Over ``grid`` (default θ =
  0.50, 0.51, …, 0.75: FairNeuron's ``Rebuttal/ROC.py`` searches the margin
  θ − 0.5 over 26 values in [0, 0.25]) it takes the smallest θ whose validation
  gap (``metric``; default ΔDP in mode ``dp``, ΔEO = |ΔTPR| + |ΔFPR| in mode
  ``eo``) is at most ``target``; when none is, or no target is given, the θ
  with the smallest validation gap (ties: the smaller θ, the lighter touch).

What was chosen is recorded in the model's ``training["roc"]`` and reported in the
``decision`` object of ``fairnn train``/``repair`` (:func:`fairnn.methods.decision.
decision_report`): ``theta`` (the θ used, searched or given), ``searched`` (the θ range
and the number of values; ``metric`` and ``target`` beside it) and ``val_gap`` (the validation gap of the
base model's decisions and of the rule's). When the rule makes the validation gap worse
than the base model's, a warning says so (logged, and ``warning`` in the record): a θ
given by hand can overshoot, flipping more decisions than the gap needs.

The rule (:class:`RejectOption`) is stored in the model's JSON sidecar, so a
repaired model (``fairnn repair MODEL_DIR --method roc --theta 0.6``) saves,
loads and decides the same way. ``predict_proba`` is the network's, unchanged;
``predict`` and every label metric read the rule.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field, field_validator
from torch import nn

from fairnn.datasets.core import TabularData
from fairnn.errors import ConfigError
from fairnn.methods.base import Method, MethodParams, register
from fairnn.methods.decision import DecisionRule, check_groups, check_threshold, register_rule
from fairnn.methods.fitted import FittedModel
from fairnn.notion import Notion
from fairnn.training.search import MeetTarget, Minimize, Outcome, run_search

log = logging.getLogger(__name__)

#: θ values of the default search: margin θ − 0.5 in 26 steps over [0, 0.25].
DEFAULT_GRID: tuple[float, ...] = tuple(round(0.5 + 0.01 * i, 2) for i in range(26))


@register_rule
class RejectOption(DecisionRule):
    """``ŷ = 1[p > threshold]``, except in the critical region around the threshold
    (``max(q, 1 − q) ≤ θ`` with ``q = p − (threshold − 0.5)``): unprivileged 1, privileged 0."""

    kind = "reject_option"
    record = "roc"

    def __init__(
        self, theta: float, privileged: int, n_groups: int, threshold: float = 0.5
    ) -> None:
        if not 0.5 <= theta <= 1.0:
            raise ConfigError(f"reject option theta must be in [0.5, 1], got {theta}")
        if not 0 <= privileged < n_groups:
            raise ConfigError(
                f"reject option privileged group {privileged} is not in 0..{n_groups - 1}"
            )
        self.theta, self.privileged = float(theta), int(privileged)
        self.n_groups = int(n_groups)
        self.threshold = check_threshold(threshold, "reject option threshold")

    def critical(self, scores: np.ndarray) -> np.ndarray:
        # scores shifted so that the threshold sits at 0.5 (exactly p itself at 0.5)
        q = np.asarray(scores, dtype=np.float64) - (self.threshold - 0.5)
        return np.maximum(q, 1.0 - q) <= self.theta

    def with_threshold(self, threshold: float) -> RejectOption:
        return RejectOption(self.theta, self.privileged, self.n_groups, threshold)

    def decide(self, scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        p = np.asarray(scores, dtype=np.float64)
        g = check_groups(groups, len(p), self.n_groups, self.kind)
        out = (p > self.threshold).astype(np.int64)
        region = self.critical(p)
        out[region] = (g[region] != self.privileged).astype(np.int64)
        return out

    def as_module(self) -> nn.Module:
        return RejectOptionModule(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "theta": self.theta,
            "privileged": self.privileged,
            "n_groups": self.n_groups,
            "threshold": self.threshold,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RejectOption:
        return cls(d["theta"], d["privileged"], d["n_groups"], d.get("threshold", 0.5))


class RejectOptionModule(nn.Module):
    """:class:`RejectOption`'s torch twin (float64, as its ``decide``)."""

    def __init__(self, rule: RejectOption) -> None:
        super().__init__()
        for name in ("theta", "threshold"):
            self.register_buffer(name, torch.tensor(getattr(rule, name), dtype=torch.float64))
        self.register_buffer("privileged", torch.tensor(rule.privileged, dtype=torch.long))

    def forward(self, p: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        base = (p > self.threshold).long()
        q = p - (self.threshold - 0.5)
        critical = torch.maximum(q, 1.0 - q) <= self.theta
        return torch.where(critical, (s != self.privileged).long(), base)


class RocParams(MethodParams):
    theta: float = Field(0.6, ge=0.5, le=1.0, description="critical region max(p, 1−p) ≤ θ")
    privileged: int | str | None = Field(
        None, description="privileged group id or label (default: highest P(y=1) on train)"
    )
    search: bool = Field(False, description="choose θ on validation instead of using theta")
    mode: Literal["dp", "eo"] = Field("dp", description="the gap the search targets by default")
    metric: str | None = Field(None, description="gap metric for the search (default by mode)")
    target: float | None = Field(None, ge=0, description="smallest θ with val gap ≤ target")
    grid: list[float] | None = Field(None, description="θ values to search (default 0.50..0.75)")

    @field_validator("grid")
    @classmethod
    def _grid(cls, v: list[float] | None) -> list[float] | None:
        if v is not None:
            if not v:
                raise ValueError("grid is empty")
            bad = [t for t in v if not 0.5 <= t <= 1.0]
            if bad:
                raise ValueError(f"grid values must be in [0.5, 1], got {bad}")
        return v

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from fairnn.metrics import METRICS

        def binary_gap(s: Any) -> bool:
            return s.is_group_metric and not s.higher_is_better and "binary" in s.tasks

        spec = METRICS.get(v) if v in METRICS else None
        if spec is None or not binary_gap(spec):
            gaps = sorted(k for k, s in METRICS.items() if binary_gap(s))
            raise ValueError(f"metric must be a group gap (lower is better), one of {gaps}")
        return v


def resolve_privileged(privileged: int | str | None, train: TabularData) -> int:
    """The privileged group id: given, or the group with the highest P(y=1) on ``train``."""
    labels = train.groups.labels
    if privileged is None:
        y, s = train.y.detach().cpu().numpy(), train.s.detach().cpu().numpy()
        n = np.bincount(s, minlength=len(labels))
        pos = np.bincount(s, weights=y, minlength=len(labels))
        rate = np.where(n > 0, pos / np.maximum(n, 1), -np.inf)
        return int(np.argmax(rate))
    if isinstance(privileged, str):
        if privileged in labels:
            return labels.index(privileged)
        if privileged.isdigit():
            privileged = int(privileged)
        else:
            raise ConfigError(
                f"method 'roc' parameter 'privileged': {privileged!r} is not a group; "
                f"groups: {list(labels)}"
            )
    if not 0 <= privileged < len(labels):
        raise ConfigError(
            f"method 'roc' parameter 'privileged': group id {privileged} is not in "
            f"0..{len(labels) - 1} ({list(labels)})"
        )
    return int(privileged)


def search_theta(
    scores: np.ndarray,
    data: TabularData,
    privileged: int,
    metric: str,
    grid: list[float] | tuple[float, ...],
    target: float | None,
    threshold: float = 0.5,
) -> tuple[float, dict[float, float]]:
    """θ from ``grid`` for ``data`` (validation): smallest θ meeting ``target``, else least gap
    (the rule deciding around ``threshold``, the model's).

    The grid is tried in increasing θ through :func:`fairnn.training.search.run_search`,
    whose ties go to the trial tried first (the smaller θ). Returns θ and every grid
    point's gap.
    """
    from fairnn.metrics import evaluate

    y, s, labels = data.y.cpu().numpy(), data.s.cpu().numpy(), data.group_labels()

    def apply(theta: float) -> Outcome[RejectOption]:
        rule = RejectOption(theta, privileged, data.groups.n_groups, threshold)
        vals = evaluate(
            y, scores, sensitive_features=labels, metrics=[metric], y_pred=rule.decide(scores, s)
        )
        return Outcome(rule, {metric: float(vals[metric])})

    criterion = Minimize(metric) if target is None else MeetTarget(metric, target)
    found = run_search(sorted(grid), apply, criterion, label="roc θ search")
    if not found.ranked:
        raise ConfigError(f"roc search: {metric} is undefined on the validation split for every θ")
    gaps = {t.candidate: t.metrics[metric] for t in found.trials if t.metrics is not None}
    return found.candidate, gaps


@register
class RejectOptionClassification(Method[RocParams]):
    """Reject-option classification (Kamiran, Karim & Zhang, ICDM 2012)."""

    name = "roc"
    aliases = ("ROC", "reject_option")
    stage = "post"
    paper = "Kamiran, Karim & Zhang, ICDM 2012 (Reject Option based Classification)"

    def finish(
        self, fitted: FittedModel, train: TabularData, val: TabularData | None
    ) -> FittedModel:
        p = self.params
        if fitted.task != "binary":
            raise ConfigError("method 'roc' post-processes binary decisions; this model regresses")
        privileged = resolve_privileged(p.privileged, train)
        theta, info = p.theta, {"privileged": privileged}
        metric = p.metric or Notion(p.mode).gap_metric
        scores = None if val is None else fitted.predict_proba(val)
        if p.search:
            if val is None or scores is None:
                raise ConfigError(
                    "method 'roc' with search=True chooses θ on a validation split; pass val"
                )
            grid = p.grid or DEFAULT_GRID
            theta, gaps = search_theta(
                scores, val, privileged, metric, grid, p.target, fitted.threshold
            )
            info.update(
                metric=metric, target=p.target, val_gaps={str(t): g for t, g in gaps.items()}
            )
            info["searched"] = {"from": min(grid), "to": max(grid), "values": len(grid)}
        info["theta"] = theta
        rule = RejectOption(theta, privileged, train.groups.n_groups, fitted.threshold)
        if val is not None and scores is not None:
            info.update(compare_gaps(fitted, rule, scores, val, metric, p.search))
        return replace(fitted, decision=rule, training={**fitted.training, "roc": info})


def compare_gaps(
    fitted: FittedModel,
    rule: RejectOption,
    scores: np.ndarray,
    val: TabularData,
    metric: str,
    searched: bool,
) -> dict[str, Any]:
    """``val_gap``: ``metric`` on validation for the base model's decisions and for
    ``rule``'s; with ``warning`` (also logged) when the rule made the gap worse."""
    from fairnn.metrics import evaluate

    y, s, labels = val.y.cpu().numpy(), val.s.cpu().numpy(), val.group_labels()

    def gap(decided: np.ndarray) -> float:
        vals = evaluate(y, scores, sensitive_features=labels, metrics=[metric], y_pred=decided)
        return float(vals[metric])

    before, after = gap(fitted.predict(val)), gap(rule.decide(scores, s))
    out: dict[str, Any] = {"val_gap": {"metric": metric, "before": before, "after": after}}
    if after > before:
        name = {n.gap_metric: n.label for n in Notion}.get(metric, metric)
        fix = (
            "include θ values closer to 0.5 in --grid"
            if searched
            else "try --search (θ chosen on validation) or a θ closer to 0.5"
        )
        out["warning"] = (
            f"ROC at θ={rule.theta:g} made {name} worse on validation: {before:.3f} → "
            f"{after:.3f}; {fix}"
        )
        log.warning("%s", out["warning"])
    return out
