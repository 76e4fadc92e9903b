"""FairNeuron (Gao et al., "FairNeuron: improving deep neural network fairness with
adversary games on selective neurons", ICSE 2022; code Antimony5292/FairNeuron
``FN/utils/path_analysis.py``, ``FN/FairNeuron.py``, ``FN/Evaluate.py``).

Three steps:

1. **Path analysis** of a trained MLP, per sample. Starting from the output
   unit and working back one layer at a time, each neuron ``j`` on the path
   keeps its incoming contributions ``W[j, k] · z_k``, largest first, until
   their running sum reaches ``γ · z_j``; the neurons ``k`` those edges come
   from are on the path in turn. A sample's *path set* is the set of edges
   ``(layer, k, j)`` so kept, from the last hidden layer down to the first
   (the edges from the inputs are not traced, as in the code). Like the code,
   ``z`` is a neuron's pre-activation (its ``Linear`` output, bias included;
   the code hooks the ``Linear`` modules).
2. **Sample separation.** Samples are grouped by identical path sets; a path
   set that occurs at most ``max(θ · count of the most common path set, 1)``
   times is rare, and its samples are *biased*.
3. **Selective dropout retraining.** A fresh network is trained with dropout
   (rate ``p`` = 0.1, after the first hidden layer, as ``Net`` in the code) on
   for the biased samples and off for the others.

θ ∈ [1e-4, 1] (log scale) and γ ∈ [0.5, 1] (RUNNER README, seed 000, after the
FairNeuron paper); the code grid-searches θ ∈ {0.1, 0.01, 3e-3, 1e-3, 3e-4,
1e-4} × γ ∈ {0.95, 0.9, 0.85, 0.8, 0.7, 0.6} and keeps the pair that
minimises ``ΔDP + ΔEO + (1 − DP ratio) − 0.01 · accuracy`` on validation data,
where its EO is the TPR gap (fairnn's ``eopp_gap``). fairnn runs that rule over
a **small default grid**, θ ∈ {0.1, 1e-3} × γ ∈ {0.9, 0.7} (4 retrainings of
10 epochs: about 30 s on Adult on one CPU core, with the 20 base epochs of
the clean protocol), or over ``trials`` random pairs (θ log-uniform, γ
uniform, seeded). One value each for ``theta`` and ``gamma`` means no search.
Measured on Adult (docs/methods/baselines.md), it does not lower ΔDP below
vanilla's: the selective dropout changes the gaps by about as much as a
different seed does.

How it fits fairnn: FairNeuron is **post-processing** (``stage = "post"``), a
repair of a trained MLP. ``fit`` trains the base model as vanilla does
(:meth:`~fairnn.methods.base.Method.fit_base`, so sweeps share it with the other
post-processing runs) and calls :meth:`FairNeuron.repair`, which ``fairnn repair
MODEL_DIR --method fairneuron`` also runs on a saved MLP: it analyses the model
and retrains each (θ, γ) candidate with the one training loop. A
:class:`PartialDropout` plugin sets, before each forward pass, which rows of the
batch are biased, and :class:`PartialDropoutMLP` (an MLP whose first hidden
layer drops out only for those rows, in training) applies it. The search over
the candidates is :func:`fairnn.training.search.run_search` with
``Minimize(selection_score)``. The kept network is a plain
:class:`~fairnn.nn.MLP` (same weights), so the model saves and loads like any
other, and ``repair`` returns a new model (the input is left as it was).

Differences from the official code, and why:

* **The tracing rule is the code's, vectorised.** The code loops over samples
  in Python; fairnn traces a chunk of samples at once with the same rule
  (edges in decreasing order of contribution, ties in index order, the edge
  that reaches ``γ · z_j`` kept, every edge kept when none does; negative
  pre-activations count as they are). A "cleaner" rule, with post-activation
  contributions and a sign-aware target at a negative logit, was tried and
  rejected: on fairnn's 200-wide MLPs it made 86 % of Adult's path sets
  unique, so every θ ≤ 0.01 marked the same 78 % of rows biased and θ lost its
  meaning (and it was ten times slower); the code's rule gives short paths to
  most negative predictions, common path sets, and a biased fraction that
  falls with θ (about 66 % at θ = 0.1 to 36 % at θ = 1e-4 on Adult).
* **Retraining.** The code trains, per epoch, all biased batches in train
  mode and then all benign batches in eval mode, with MSE on the raw output,
  Adam at lr 1e-2 for 50 epochs; fairnn mixes both kinds of rows in the
  loop's batches with a per-row dropout mask, and uses the loop's loss
  (BCE), learning rate and selection rule; the retraining runs
  ``retrain_epochs`` = 10 epochs (RUNNER README: "FairNeuron, 10 epochs"
  for tabular data).
* **Search.** The code searches on 80 % of the *validation* split and scores
  on another 10 %, then retrains on the training split 10 times; fairnn trains
  every candidate on the training split, scores it on the validation split
  and keeps the best, so the search is the final training. fairnn's DP ratio
  is min/max over groups (at most 1); the code divides group 0's rate by
  group 1's.
* Hashing: path sets are compared through two 40-bit random keys per edge
  (summed per sample), instead of Python sets; two different sets collide
  with probability about 2⁻⁸⁰.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from pydantic import Field, field_validator
from torch import nn

from fairnn.datasets.core import TabularData
from fairnn.errors import ConfigError
from fairnn.methods.base import Method, MethodParams, register
from fairnn.methods.fitted import FittedModel
from fairnn.nn.mlp import MLP, MLPConfig
from fairnn.training.config import TrainConfig
from fairnn.training.hooks import Batch, LoopState, Plugin
from fairnn.training.inference import predict_logits
from fairnn.training.loop import TrainResult, fit
from fairnn.training.search import Minimize, Outcome, Trial, run_search

THETA_RANGE = (1e-4, 1.0)
GAMMA_RANGE = (0.5, 1.0)
_KEY_BITS = 40


# -- path analysis -------------------------------------------------------------
@torch.no_grad()
def trace_paths(
    model: MLP, X: torch.Tensor, gamma: float
) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The activation paths of the rows of ``X``, one traced layer at a time.

    Yields ``(t, rows, units, selected)`` from the output layer back to the
    second linear layer: ``t`` indexes ``model.linear_layers``; ``rows``,
    ``units`` (each ``(P,)``) list the (sample, output unit of layer ``t``)
    pairs on the path; ``selected`` ``(P, in_t)`` marks the input units ``k``
    whose edges ``k → unit`` are kept.

    The rule is the official code's: a unit's value ``z_j`` is its
    pre-activation (the ``Linear`` output, bias included), the contributions
    are ``W[j, k] · z_k`` with the previous layer's pre-activations, taken in
    decreasing order, each kept, until their running sum reaches ``γ · z_j``
    (the edge that reaches it is kept; if none does, all are).
    """
    was_training = model.training
    model.eval()
    try:
        pre: list[torch.Tensor] = []
        h = X
        for layer in model.hidden_layers:
            z = layer(h)
            pre.append(z)
            h = model.act(z)
        logits = model.output(h)
    finally:
        model.train(was_training)
    layers = model.linear_layers
    n = X.shape[0]
    if logits.shape[1] == 1:
        active = torch.ones(n, 1, dtype=torch.bool, device=X.device)
    else:
        active = nn.functional.one_hot(logits.argmax(1), logits.shape[1]).bool()
    values = [*pre, logits]
    for t in range(len(layers) - 1, 0, -1):
        a = pre[t - 1]
        W = layers[t].weight
        rows, units = active.nonzero(as_tuple=True)
        target = gamma * values[t][rows, units]
        vals, order = (W[units] * a[rows]).sort(dim=1, descending=True, stable=True)
        reached = torch.cummax(vals.cumsum(1), dim=1).values >= target[:, None]
        # keep edge i unless an earlier running sum already reached the target
        keep_sorted = torch.ones_like(reached)
        keep_sorted[:, 1:] = ~reached[:, :-1]
        selected = torch.zeros_like(keep_sorted).scatter_(1, order, keep_sorted)
        yield t, rows, units, selected
        hits = torch.zeros(n, a.shape[1], device=X.device)
        hits.index_add_(0, rows, selected.to(hits.dtype))
        active = hits > 0


def path_sets(model: MLP, X: torch.Tensor, gamma: float) -> list[frozenset[tuple[int, int, int]]]:
    """Each row's path set as explicit edges ``(t, k, j)``: unit ``k`` → unit ``j`` of layer ``t``.

    For inspection and tests; :func:`path_hashes` does the same at scale.
    """
    edges: list[set[tuple[int, int, int]]] = [set() for _ in range(X.shape[0])]
    for t, rows, units, selected in trace_paths(model, X, gamma):
        p, k = selected.nonzero(as_tuple=True)
        for r, j, kk in zip(rows[p].tolist(), units[p].tolist(), k.tolist(), strict=True):
            edges[r].add((t, kk, j))
    return [frozenset(e) for e in edges]


def _edge_keys(model: MLP) -> list[torch.Tensor]:
    """Two random 40-bit keys per edge of every traced layer (fixed seed: same keys every run)."""
    g = torch.Generator().manual_seed(0x5EED)
    return [
        torch.randint(0, 2**_KEY_BITS, (2, *layer.weight.shape), generator=g, dtype=torch.int64)
        for layer in model.linear_layers
    ]


@torch.no_grad()
def path_hashes(model: MLP, X: torch.Tensor, gamma: float, chunk: int = 512) -> torch.Tensor:
    """``(n, 2)`` int64 fingerprints of each row's path set (equal sets, equal rows)."""
    keys = [k.to(X.device) for k in _edge_keys(model)]
    out = torch.zeros(X.shape[0], 2, dtype=torch.int64, device=X.device)
    for start in range(0, X.shape[0], chunk):
        xb = X[start : start + chunk]
        h = torch.zeros(xb.shape[0], 2, dtype=torch.int64, device=X.device)
        for t, rows, units, selected in trace_paths(model, xb, gamma):
            sel = selected.to(torch.int64)
            for i in range(2):
                h[:, i].index_add_(0, rows, (keys[t][i][units] * sel).sum(1))
        out[start : start + chunk] = h
    return out


def rare_paths(hashes: torch.Tensor, theta: float) -> torch.Tensor:
    """Boolean mask of the rows whose path set occurs ≤ max(θ · most common count, 1) times."""
    _, inverse, counts = torch.unique(hashes, dim=0, return_inverse=True, return_counts=True)
    limit = max(theta * float(counts.max()), 1.0)
    return counts[inverse].to(torch.float64) <= limit


# -- selective dropout in the one loop -----------------------------------------
class PartialDropoutMLP(MLP):
    """An MLP whose first hidden layer drops out (rate ``p``) only for flagged rows.

    ``row_mask`` (bool, one per row of the next batch) is set before each
    forward pass by :class:`PartialDropout`; in eval mode, or without a mask,
    it is exactly an :class:`MLP` with the same state dict.
    """

    def __init__(self, config: MLPConfig, p: float) -> None:
        super().__init__(
            config.in_features,
            config.hidden,
            config.activation,
            config.dropout,
            config.out_features,
        )
        self.p = float(p)
        self.row_mask: torch.Tensor | None = None

    def forward(
        self, x: torch.Tensor, return_hidden: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        hidden: list[torch.Tensor] = []
        h = x
        for i, layer in enumerate(self.hidden_layers):
            h = self.act(layer(h))
            if return_hidden:
                hidden.append(h)
            if i == 0 and self.training and self.row_mask is not None and self.p > 0:
                keep = (torch.rand_like(h) >= self.p).to(h.dtype) / (1.0 - self.p)
                h = torch.where(self.row_mask[:, None], h * keep, h)
            h = self.drop(h)
        out = self.output(h)
        if self.config.out_features == 1:
            out = out.squeeze(-1)
        return (out, hidden) if return_hidden else out

    def plain(self) -> MLP:
        """The same weights in a plain :class:`MLP` (what is saved and served)."""
        mlp = MLP.from_config(self.config)
        mlp.load_state_dict(self.state_dict())
        return mlp.to(next(self.parameters()).device).eval()


class PartialDropout(Plugin):
    """Tells a :class:`PartialDropoutMLP` which rows of each batch are biased."""

    def __init__(self, biased: torch.Tensor) -> None:
        self.biased = biased.bool()

    def setup(self, state: LoopState) -> None:
        if not isinstance(state.model, PartialDropoutMLP):
            raise ConfigError("the PartialDropout plugin needs a PartialDropoutMLP")
        self.biased = self.biased.to(state.device)

    def before_forward(self, batch: Batch, state: LoopState) -> None:
        state.model.row_mask = self.biased[batch.idx]  # type: ignore[union-attr]


# -- the method -------------------------------------------------------------------
def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, int | float) else v


class FairNeuronParams(MethodParams):
    theta: list[float] = Field(
        [0.1, 1e-3],
        description="θ: rare path sets occur ≤ θ × the most common one's count; in [1e-4, 1]",
    )
    gamma: list[float] = Field(
        [0.9, 0.7],
        description="γ: a neuron's kept contributions reach γ of its value; in [0.5, 1]",
    )
    p: float = Field(0.1, gt=0, lt=1, description="dropout rate for the biased samples")
    retrain_epochs: int = Field(10, ge=1, description="epochs of each selective-dropout retraining")
    trials: int = Field(
        0, ge=0, description="random (θ, γ) pairs to try instead of the θ × γ grid (0: the grid)"
    )

    @field_validator("theta", "gamma", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return _as_list(v)

    @field_validator("theta")
    @classmethod
    def _theta(cls, v: list[float]) -> list[float]:
        return _check_range(v, THETA_RANGE)

    @field_validator("gamma")
    @classmethod
    def _gamma(cls, v: list[float]) -> list[float]:
        return _check_range(v, GAMMA_RANGE)


def _check_range(v: list[float], bounds: tuple[float, float]) -> list[float]:
    if not v:
        raise ValueError("give at least one value")
    bad = [x for x in v if not bounds[0] <= x <= bounds[1]]
    if bad:
        raise ValueError(f"values must be in [{bounds[0]:g}, {bounds[1]:g}], got {bad}")
    return [float(x) for x in v]


def selection_score(m: Mapping[str, float]) -> float:
    """FairNeuron's rule: ΔDP + ΔTPR + (1 − DP ratio) − 0.01 · accuracy (lower is better)."""
    score = m["dp_gap"] + m["eopp_gap"] - 0.01 * m["accuracy"]
    if math.isfinite(m["dp_ratio"]):
        score += 1.0 - m["dp_ratio"]
    return score if math.isfinite(score) else math.inf


#: the selection rule's name in reports
SELECTION = "ΔDP + ΔTPR + (1 − DP ratio) − 0.01·accuracy"


@register
class FairNeuron(Method[FairNeuronParams]):
    """Path analysis, rare-path samples, selective dropout retraining (Gao et al., ICSE 2022).

    Post-processing of a trained MLP: :meth:`fit` trains the base model as vanilla does
    (:meth:`Method.fit_base`), then :meth:`repair` analyses it and retrains it.
    """

    name = "fairneuron"
    aliases = ("FairNeuron", "fn")
    stage = "post"
    #: set explicitly: a neuron-level repair, which needs an MLP (``fairnn.experiments.byo``
    #: converts a user's module to one for the methods that declare it)
    can_repair = True
    paper = "Gao et al., FairNeuron, ICSE 2022 (path analysis + selective dropout)"

    def candidates(self, seed: int) -> list[tuple[float, float]]:
        p = self.params
        if p.trials:
            rng = np.random.default_rng(seed)
            lo, hi = np.log10(THETA_RANGE[0]), np.log10(THETA_RANGE[1])
            return [
                (float(10 ** rng.uniform(lo, hi)), float(rng.uniform(*GAMMA_RANGE)))
                for _ in range(p.trials)
            ]
        return [(t, g) for t in p.theta for g in p.gamma]

    def repair(
        self,
        fitted: FittedModel,
        train: TabularData,
        val: TabularData | None = None,
        *,
        config: TrainConfig | None = None,
        seed: int = 0,
    ) -> FittedModel:
        """Path analysis of ``fitted`` on ``train``, then selective-dropout retraining of
        each (θ, γ) candidate; the best by :func:`selection_score` on ``val`` is kept."""
        p = self.params
        network = fitted.network
        if not isinstance(network, MLP):
            raise ConfigError(
                f"method 'fairneuron' analyses MLPs; this model is a {type(network).__name__}"
            )
        if train.task != "binary":
            raise ConfigError(
                "method 'fairneuron' selects by classification gaps and needs a binary label; "
                f"this data has a {train.task} target"
            )
        pairs = self.candidates(seed)
        if len(pairs) > 1 and val is None:
            raise ConfigError(
                "method 'fairneuron' chooses (θ, γ) on a validation split; pass val or give a "
                "single theta and gamma"
            )
        config = (config or TrainConfig()).model_copy(update={"epochs": p.retrain_epochs})
        X = train.X.to(next(network.parameters()).device)
        hashes = {g: path_hashes(network, X, g) for g in sorted({g for _, g in pairs})}

        def retrain(pair: tuple[float, float]) -> Outcome[tuple[MLP, TrainResult]]:
            biased = rare_paths(hashes[pair[1]], pair[0])
            torch.manual_seed(seed)
            net = PartialDropoutMLP(network.config, p.p)
            result = fit(net, train, val, config, plugins=[PartialDropout(biased)], seed=seed)
            plain = net.plain()
            info = {
                "biased_fraction": float(biased.double().mean()),
                "best_epoch": result.best_epoch,
            }
            metrics = None if val is None else _val_metrics(plain, val)
            return Outcome((plain, result), metrics, info)

        found = run_search(pairs, retrain, Minimize(selection_score, SELECTION), label=self.name)
        plain, result = found.model
        trials = [_record(t) for t in found.trials]
        training = {
            **fitted.training,
            "fairneuron": {
                "theta": found.candidate[0],
                "gamma": found.candidate[1],
                "trials": trials,
                "retrain": {
                    "config": config.model_dump(mode="json"),
                    "best_epoch": result.best_epoch,
                    "history": result.history,
                },
            },
        }
        return replace(
            fitted,
            network=plain,
            method=self.name,
            params=self.params.model_dump(mode="json"),
            training=training,
        )


def _record(trial: Trial[tuple[float, float]]) -> dict[str, Any]:
    """A trial as the model file records it: θ, γ, biased fraction, best epoch, val, score."""
    record: dict[str, Any] = {"theta": trial.candidate[0], "gamma": trial.candidate[1]}
    record.update(trial.info)
    if trial.metrics is not None:
        record.update(val=dict(trial.metrics), score=selection_score(trial.metrics))
    return record


def _val_metrics(model: nn.Module, val: TabularData) -> dict[str, float]:
    from fairnn.metrics import evaluate

    device = next(model.parameters()).device
    scores = torch.sigmoid(predict_logits(model, val.X.to(device))).cpu().double().numpy()
    return evaluate(
        val.y.cpu().numpy(),
        scores,
        sensitive_features=val.group_labels(),
        metrics=["dp_gap", "eopp_gap", "dp_ratio", "accuracy"],
    )
