"""MinDiff: the primary loss plus a weighted MMD between two groups' predictions.

Prost, Qian, Chen, Chi, Chen & Beutel, "Toward a better trade-off between performance
and fairness with kernel-based distribution matching" (2019), as implemented in
TensorFlow Model Remediation (``MMDLoss``), and as trained in Veldanda, Brugere, Chen,
Dutta, Mishler, Garg, "Fairness via In-Processing in the Over-parameterized Regime: A
Cautionary Tale with MinDiff Loss" (TMLR 2023), §3 (official code
``akshajkumarv/MinDiff``, ``*/min_diff.py``)::

    L = BCE(main batch) + mindiff_weight · MMD(σ(f(x_a)), σ(f(x_b)))

* the MMD is TF's: K_aa − 2·K_ab + K_bb over sigmoid probabilities, biased (diagonal
  pairs kept), no square root (:func:`fairnn.nn.penalties.mmd`); Gaussian
  exp(−Δ²/l²) or Laplacian exp(−|Δ|/l) kernel with ``kernel_length`` l = 0.1;
* it is computed on a **slice**: ``positive`` (y = 1 only: FNR parity / equal
  opportunity, the paper's setting), ``negative`` (y = 0: FPR parity), ``all`` (DP), or
  ``both`` (positive + negative terms: equalized odds);
* the two sets are the slice's rows of the ``sensitive_group`` and of the other
  group(s); each set is drawn by its **own sampler**, at the main batch size (or
  ``mindiff_batch_size``), cycled independently of the main batches, and forwarded in
  the same pass as the main batch (the official code concatenates them);
* sample weights of the training rows weight the MMD pairs (w_i·w_j), as TF does.

The regularizers the paper pairs with MinDiff (L2, flooding, early stopping) are
:class:`~fairnn.training.TrainConfig` fields (``weight_decay``, ``flood_level``,
``select``/``patience``) and apply to every in-processing method.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from fairnn.datasets.core import TabularData
from fairnn.errors import ConfigError, InvalidValueError
from fairnn.methods.base import Method, MethodParams, register
from fairnn.nn.penalties import mmd
from fairnn.training.hooks import Batch, Forward, LoopState, Plugin
from fairnn.training.samplers import RandomSampler

Slice = Literal["positive", "negative", "all", "both"]
SLICES: dict[str, tuple[tuple[str, float | None], ...]] = {
    "positive": (("positive", 1.0),),
    "negative": (("negative", 0.0),),
    "all": (("all", None),),
    "both": (("positive", 1.0), ("negative", 0.0)),
}


class MinDiffParams(MethodParams):
    mindiff_weight: float = Field(
        1.0,
        ge=0,
        description="w, the MMD term's weight (TF's loss_weight, 1.0; the paper's code: 0.5)",
    )
    kernel: Literal["gaussian", "laplacian"] = Field("gaussian", description="MMD kernel")
    kernel_length: float = Field(0.1, gt=0, description="kernel length l (TF default 0.1)")
    slice: Slice = Field(
        "positive",
        description="rows compared: positive (FNR parity), negative (FPR), all (DP), both (EO)",
    )
    sensitive_group: int | None = Field(
        None,
        ge=0,
        description="group id compared with the rest (default: group 1 vs 0, two groups only)",
    )
    mindiff_batch_size: int | None = Field(
        None, ge=1, description="rows per MinDiff set per step (default: the main batch size)"
    )


class MinDiffPenalty(Plugin):
    """w · MMD between the sensitive group's and the others' predictions on each slice."""

    def __init__(self, p: MinDiffParams) -> None:
        self.p = p
        self._drawn: dict[str, torch.Tensor] = {}

    def setup(self, state: LoopState) -> None:
        train, p = state.train, self.p
        if train.task != "binary":
            raise ConfigError("mindiff compares predicted probabilities: it needs a binary task")
        n_groups = train.groups.n_groups
        if p.sensitive_group is None:
            if n_groups != 2:
                raise ConfigError(
                    f"mindiff compares two sets, but the data has {n_groups} groups "
                    f"({', '.join(train.groups.labels)}); set sensitive_group to the id of the "
                    "group to compare with all others"
                )
            sensitive = 1
        else:
            sensitive = p.sensitive_group
            if sensitive >= n_groups:
                raise ConfigError(
                    f"sensitive_group={sensitive} but the group ids are 0..{n_groups - 1} "
                    f"({', '.join(train.groups.labels)})"
                )
        w = train.sample_weight
        if w is not None and bool((w < 0).any()):
            raise InvalidValueError("mindiff: sample weights must be >= 0 (TF's MMDLoss rule)")
        self.weights = w
        seed = int(torch.randint(0, 2**62, (1,), generator=state.generator))
        gen = torch.Generator().manual_seed(seed)
        batch = p.mindiff_batch_size or state.config.batch_size
        in_group = (train.s == sensitive).cpu()
        y = train.y.cpu()
        self.sets: dict[str, tuple[torch.Tensor, RandomSampler]] = {}
        self.slices: list[str] = []
        for name, label in SLICES[p.slice]:
            in_slice = torch.ones_like(in_group) if label is None else (y == label)
            for side, mask in (("a", in_group & in_slice), ("b", ~in_group & in_slice)):
                rows = torch.nonzero(mask).flatten()
                if rows.numel() == 0:
                    who = train.groups.labels[sensitive] if side == "a" else "the other groups"
                    raise InvalidValueError(
                        f"mindiff slice={p.slice!r}: the training data has no {name} rows in "
                        f"{who}; choose another slice or sensitive_group"
                    )
                key = f"mindiff_{name}_{side}"
                self.sets[key] = (rows.to(state.device), RandomSampler(len(rows), batch, gen))
            self.slices.append(name)

    def extra_rows(self, batch: Batch, state: LoopState) -> dict[str, torch.Tensor]:
        self._drawn = {
            key: rows[sampler.draw().to(rows.device)] for key, (rows, sampler) in self.sets.items()
        }
        return self._drawn

    def loss_terms(self, batch: Batch, fwd: Forward, state: LoopState) -> dict[str, torch.Tensor]:
        total = fwd.logits.new_zeros(())
        for name in self.slices:
            ka, kb = f"mindiff_{name}_a", f"mindiff_{name}_b"
            wa = wb = None
            if self.weights is not None:
                wa, wb = self.weights[self._drawn[ka]], self.weights[self._drawn[kb]]
            total = total + mmd(
                torch.sigmoid(fwd.extra[ka]),
                torch.sigmoid(fwd.extra[kb]),
                self.p.kernel,
                self.p.kernel_length,
                wa,
                wb,
            )
        return {"mindiff": self.p.mindiff_weight * total}


@register
class MinDiff(Method[MinDiffParams]):
    """BCE + w · MMD between groups on a slice (MinDiff; Veldanda et al., TMLR 2023, §3)."""

    name = "mindiff"
    fairness_weight = "mindiff_weight"
    aliases = ("MinDiff", "min_diff")
    stage = "in"
    paper = (
        "Prost et al. 2019 (MinDiff, TF Model Remediation MMDLoss); Veldanda et al., "
        "'Fairness via In-Processing in the Over-parameterized Regime', TMLR 2023, §3"
    )
    notion_param = "notion"  # the slice says which rates are matched; --mode is not read

    def plugins(self, train: TabularData, val: TabularData | None) -> list[Plugin]:
        return [MinDiffPenalty(self.params)]
