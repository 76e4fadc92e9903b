"""Decision rules: how a fitted model turns scores (and groups) into 0/1 decisions.

The default rule is one threshold for everyone (``ŷ = 1[p > 0.5]``). Post-processing
methods that act on decisions rather than on the network (reject-option
classification, per-group thresholds) attach a :class:`DecisionRule` to the
:class:`~fairnn.methods.fitted.FittedModel`; it is saved in the model's JSON
sidecar under ``"decision"`` and rebuilt on load from :data:`DECISION_RULES`, where
:func:`register_rule` puts every rule class under its ``kind``.
A rule that reads the group (``needs_groups``) makes ``predict`` require ``s``.

Without a rule the model decides at its ``threshold`` (``TrainConfig.threshold`` when it
was trained; :func:`with_threshold` changes it for an audit or a repair).
:func:`decision_report` says how a model decides and what that gives on each split (the
threshold, the share of positive decisions and the true-positive rate): the
``decision`` object of ``fairnn train``, ``audit`` and ``repair`` JSON.
Each rule also has a torch twin, :meth:`DecisionRule.as_module` (``(p, s) -> decision``
with the same float64 comparisons as ``decide``), which :mod:`fairnn.export` puts
into exported models; :class:`ThresholdModule` is the twin of the default rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
import torch
from torch import nn

from fairnn.errors import ConfigError, InvalidValueError, ModelFileError
from fairnn.registry import Registry
from fairnn.validation import check_number

if TYPE_CHECKING:
    from fairnn.datasets.core import TabularData


class DecisionRule:
    """Base class: subclasses set ``kind`` and implement ``decide``, ``to_dict``,
    ``from_dict`` and ``as_module``, and are registered with :func:`register_rule`."""

    kind: ClassVar[str]
    needs_groups: ClassVar[bool] = True
    #: the key of the model's ``training`` record where the method that chose this rule
    #: says how (e.g. ROC's θ search); None when there is none
    record: ClassVar[str | None] = None

    def with_threshold(self, threshold: float) -> DecisionRule:
        """This rule deciding around another single ``threshold``; rules whose thresholds
        are their own (per group) refuse."""
        raise ConfigError(
            f"this model decides with a {self.kind!r} rule, whose thresholds are its own; "
            "--threshold does not apply to it: drop --threshold"
        )

    def decide(self, scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        """0/1 decisions (int64) for ``scores``; ``groups`` are integer group ids."""
        raise NotImplementedError

    def as_module(self) -> nn.Module:
        """The torch twin of :meth:`decide`: ``forward(p, s)`` on float64 probabilities ``p``
        and int64 group ids ``s`` returns the int64 decisions."""
        raise ConfigError(
            f"the decision rule {self.kind!r} has no export yet; exportable rules: one "
            f"threshold, {', '.join(DECISION_RULES.names())}"
        )

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DecisionRule:
        raise NotImplementedError


R = TypeVar("R", bound=type[DecisionRule])
#: every decision rule class by its ``kind`` (the sidecar's ``decision.kind``)
DECISION_RULES: Registry[type[DecisionRule]] = Registry("decision rule", error=ModelFileError)


def register_rule(cls: R) -> R:
    """Class decorator: model files name the rule by ``cls.kind``."""
    DECISION_RULES.register(cls.kind, cls)
    return cls


def rule_from_dict(d: dict[str, Any]) -> DecisionRule:
    return DECISION_RULES.get(str(d.get("kind"))).from_dict(d)


class ThresholdModule(nn.Module):
    """The default rule's torch twin: ``1[p > threshold]``."""

    def __init__(self, threshold: float) -> None:
        super().__init__()
        self.register_buffer("threshold", torch.tensor(float(threshold), dtype=torch.float64))

    def forward(self, p: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return (p > self.threshold).long()


class GroupThresholdsModule(nn.Module):
    """:class:`GroupThresholds`' torch twin: ``1[p > t_s]``."""

    def __init__(self, thresholds: Any) -> None:
        super().__init__()
        self.register_buffer("thresholds", torch.as_tensor(thresholds, dtype=torch.float64))

    def forward(self, p: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return (p > self.thresholds[s]).long()


def check_threshold(value: Any, name: str = "threshold") -> float:
    """``value`` as a float when it is a finite decision threshold in (0, 1).

    Decisions are ``1[p > t]``: at 0 or 1 and beyond, every decision is the same.
    Raises :class:`InvalidValueError` naming ``name``.
    """
    check_number(value, name, gt=0, lt=1, error=InvalidValueError)
    return float(value)


def check_groups(groups: np.ndarray | None, n: int, n_groups: int, rule: str) -> np.ndarray:
    if groups is None:
        raise InvalidValueError(
            f"this model decides with a {rule} rule, which reads the sensitive attribute: "
            "pass the group ids (s=...) or a TabularData"
        )
    g = np.asarray(groups)
    if g.shape != (n,):
        raise InvalidValueError(f"s has shape {g.shape} but there are {n} scores")
    if g.size and (g.min() < 0 or g.max() >= n_groups):
        raise InvalidValueError(f"s holds group ids outside 0..{n_groups - 1}")
    return g.astype(np.int64)


@register_rule
class GroupThresholds(DecisionRule):
    """One threshold per group: ``ŷ = 1[p > t_g]`` (the MinDiff paper's evaluation, §4)."""

    kind = "group_thresholds"

    def __init__(self, thresholds: list[float] | np.ndarray) -> None:
        values = list(thresholds) if isinstance(thresholds, list | tuple | np.ndarray) else []
        if not values:
            raise InvalidValueError(f"thresholds must be a list of numbers, got {thresholds!r}")
        self.thresholds = np.array(
            [check_threshold(t, f"thresholds[{i}]") for i, t in enumerate(values)]
        )

    def decide(self, scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        g = check_groups(groups, len(scores), len(self.thresholds), self.kind)
        return (scores > self.thresholds[g]).astype(np.int64)

    def as_module(self) -> nn.Module:
        return GroupThresholdsModule(self.thresholds)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "thresholds": self.thresholds.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroupThresholds:
        return cls(d["thresholds"])


#: a :class:`~fairnn.methods.fitted.FittedModel` (which imports this module)
Fitted = TypeVar("Fitted")


def with_threshold(fitted: Fitted, threshold: float) -> Fitted:
    """A copy of the :class:`~fairnn.methods.fitted.FittedModel` ``fitted`` deciding at
    ``threshold`` (its rule too, when it has one that decides around a single threshold);
    ``fitted`` is left as it was."""
    t = check_threshold(threshold, "--threshold")
    rule: DecisionRule | None = getattr(fitted, "decision", None)
    moved = None if rule is None else rule.with_threshold(t)
    return replace(fitted, threshold=t, decision=moved)


def decision_report(
    fitted: Any,
    splits: Iterable[tuple[str, TabularData]],
    decided: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Any] | None:
    """How the :class:`~fairnn.methods.fitted.FittedModel` ``fitted`` decides, and per
    split the threshold it used, the share of positive decisions (``selection_rate``) and
    the true-positive rate (``tpr``; None where a split has no rows or no positives); None
    for a model that does not decide (regression, multiclass).

    ``rule`` is ``"threshold"`` (``1[p > threshold]``) or the decision rule's kind with its
    fields; ``threshold`` is None for a rule with one threshold per group; ``chosen`` is how
    a method chose the rule (ROC: θ, the θ range searched on validation, the validation gap
    before and after, and any warning). ``decided`` holds splits' decisions already made
    (``fitted.predict``), so they are not made again.
    """
    if fitted.task != "binary":
        return None
    rule = fitted.decision
    # the one threshold decisions are made at (None: the rule's thresholds are per group)
    single = fitted.threshold if rule is None else getattr(rule, "threshold", None)
    out: dict[str, Any] = {"rule": "threshold", "threshold": single}
    if rule is not None:
        fields = rule.to_dict()
        out = {"rule": fields.pop("kind"), "threshold": single, **fields}
        chosen = fitted.training.get(rule.record) if rule.record else None
        if isinstance(chosen, dict):
            out["chosen"] = {k: v for k, v in chosen.items() if k not in (*out, "val_gaps")}
    per_split: dict[str, dict[str, float | None]] = {}
    for name, data in splits:
        y = data.y.detach().cpu().numpy()
        d = decided[name] if decided and name in decided else fitted.predict(data)
        positives = y > 0.5
        per_split[name] = {
            "threshold": single,
            "selection_rate": float(d.mean()) if len(y) else None,
            "tpr": float(d[positives].mean()) if positives.any() else None,
        }
    out["splits"] = per_split
    return out
