"""Decision rules: how a fitted model turns scores (and groups) into 0/1 decisions.

The default rule is one threshold for everyone (``ŷ = 1[p > 0.5]``). Post-processing
methods that act on decisions rather than on the network (reject-option
classification, per-group thresholds) attach a :class:`DecisionRule` to the
:class:`~fairnn.methods.fitted.FittedModel`; it is saved in the model's JSON
sidecar under ``"decision"`` and rebuilt on load from :data:`DECISION_RULES`.
A rule that reads the group (``needs_groups``) makes ``predict`` require ``s``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from fairnn.errors import InvalidValueError, ModelFileError
from fairnn.validation import check_number

DECISION_RULES: dict[str, type[DecisionRule]] = {}


class DecisionRule:
    """Base class: subclasses set ``kind`` and implement ``decide``, ``to_dict``, ``from_dict``."""

    kind: ClassVar[str]
    needs_groups: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            DECISION_RULES[cls.kind] = cls

    def decide(self, scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        """0/1 decisions (int64) for ``scores``; ``groups`` are integer group ids."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DecisionRule:
        raise NotImplementedError


def rule_from_dict(d: dict[str, Any]) -> DecisionRule:
    kind = d.get("kind")
    if kind not in DECISION_RULES:
        raise ModelFileError(
            f"the model file's decision rule {kind!r} is unknown to this fairnn; "
            f"known: {sorted(DECISION_RULES)}"
        )
    return DECISION_RULES[kind].from_dict(d)


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

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "thresholds": self.thresholds.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroupThresholds:
        return cls(d["thresholds"])
