"""A run is a spec (dataset, recipe, method, parameters, seed, training) and a result.

The spec's hash is its key: the same spec always gets the same ``run_id``, so
a results store can skip what is done. Settings that do not change the result
(device, progress bars) are left out of the hash.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from fairnn.datasets.recipes import DEFAULT_RECIPE
from fairnn.datasets.sources import DataSpec
from fairnn.defaults import BASELINE_METHOD
from fairnn.methods.base import validate_model
from fairnn.validation import ConfigModel

Mode = Literal["dp", "eo"]


class Constraint(ConfigModel, what="constraint"):
    """Evaluate under a fairness constraint (the MinDiff paper's evaluation, §4).

    Per-group thresholds are chosen on validation to maximise accuracy subject to
    |Δ``gap``| ≤ ``gamma`` (``fnr``: the paper's |ΔFNR| ≤ 0.01) and applied to every
    split (:mod:`fairnn.metrics.thresholds`).
    """

    model_config = ConfigDict(extra="forbid")

    gap: Literal["fnr", "fpr"] = "fnr"
    gamma: float = Field(0.01, ge=0, le=1)


class TargetGap(ConfigModel, what="target gap"):
    """Search the method's fairness weight for a validation gap of at most ``target``
    (:mod:`fairnn.experiments.target_gap`): a log-grid of ``grid`` weights from ``lo`` to
    ``hi`` (default: the method's default weight ÷100 to ×10), then bisection, at most
    ``budget`` fits in all."""

    model_config = ConfigDict(extra="forbid")

    target: float = Field(ge=0, le=2, description="the largest validation gap accepted")
    budget: int = Field(6, ge=1, le=100, description="the most models fitted")
    grid: int = Field(3, ge=1, description="weights in the first log-grid")
    lo: float | None = Field(None, gt=0, description="the smallest weight tried")
    hi: float | None = Field(None, gt=0, description="the largest weight tried")

    @model_validator(mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        return {"target": v} if isinstance(v, int | float) and not isinstance(v, bool) else v


class RunSpec(ConfigModel, what="run setting"):
    """Everything that decides a run's result: the data (:attr:`data`), the method and
    its parameters, the fairness notion, training and architecture.

    The data fields stay flat (``dataset``, ``recipe``, ``seed``, ``label``, ...), as
    sweep files, the results store and the run's key (its hash) have them.
    """

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(description="a registered dataset name or a path to a CSV/parquet file")
    recipe: str = DEFAULT_RECIPE
    method: str = BASELINE_METHOD
    params: dict[str, Any] = Field(default_factory=dict)
    mode: Mode = "dp"
    seed: int = Field(0, ge=0)
    label: str | None = None
    sensitive: list[str] | None = None
    categorical: list[str] | None = Field(None, description="own data: columns forced categorical")
    continuous: list[str] | None = Field(None, description="own data: columns forced continuous")
    positive_label: str | int | float | None = Field(
        None, description="own data: the positive label value"
    )
    train: dict[str, Any] = Field(default_factory=dict, description="TrainConfig overrides")
    architecture: dict[str, Any] = Field(default_factory=dict)
    constraint: Constraint | None = Field(
        None, description="also report errors under per-group thresholds (MinDiff §4)"
    )
    val_file: str | None = Field(None, description="own split: validation table (dataset: train)")
    test_file: str | None = Field(None, description="own split: test table")
    split_column: str | None = Field(None, description="own split: the column naming the split")
    drop: list[str] | None = Field(None, description="own data: columns left out of the inputs")
    sensitive_as_input: bool | None = Field(
        None, description="own data: the sensitive column(s) are also inputs (default no)"
    )
    group_names: dict[str, dict[str, str]] | None = Field(
        None, description="own data: display names of groups, {column: {value: name}}"
    )
    target_gap: TargetGap | None = Field(
        None, description="search the fairness weight for this validation gap"
    )

    @model_serializer(mode="wrap")
    def _without_unset_split(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A seeded split's spec dumps as it did before own splits (stored specs, JSON)."""
        d = handler(self)
        for name in (*_OWN_SPLIT, "target_gap"):
            if d.get(name, 0) is None:
                del d[name]
        return d

    @classmethod
    def make(cls, **values: Any) -> RunSpec:
        return validate_model(cls, values, "run setting")

    @property
    def data(self) -> DataSpec:
        """The run's data: the spec's fields that decide its splits."""
        return DataSpec(**{k: getattr(self, k) for k in DATA_FIELDS})

    def key(self) -> str:
        """A stable hash of the spec (device and progress settings excluded)."""
        d = self.model_dump(mode="json")
        d["train"] = {k: v for k, v in d["train"].items() if k not in _NOT_HASHED}
        if d["constraint"] is None:  # keys of runs stored before the field existed stay valid
            del d["constraint"]
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


_NOT_HASHED = {"device", "progress", "eval_batch_size"}
#: an own split's fields and the column choices added with them: left out of a spec's
#: dump (and so of its key) while unset
_OWN_SPLIT = (
    "val_file",
    "test_file",
    "split_column",
    "drop",
    "sensitive_as_input",
    "group_names",
)
#: the run's fields that are its data's (:class:`DataSpec`; a run has no ``features``)
DATA_FIELDS = tuple(k for k in DataSpec.model_fields if k in RunSpec.model_fields)
