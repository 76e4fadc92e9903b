"""Optimizers for the training loop and its plugins.

Every optimizer fairnn creates comes from :func:`make_optimizer`, so they all
use torch's fused kernels where those exist: one kernel per step for all
parameters instead of a handful of small tensor operations per parameter. For the
200-200 MLP on Adult that makes training about 1.2× faster on one CPU thread and
1.1× on two (medians, ``benchmarks/train_speed.py``). Fused and unfused Adam compute the same update up
to floating-point rounding (``tests/training/test_training.py`` checks they agree), so a
model trained with one differs from one trained with the other only by the drift
that rounding causes over many steps.

Constructing any ``torch.optim`` optimizer imports ``torch._dynamo`` (about 1 s of CPU,
once per process): ``Optimizer.__init__`` calls ``add_param_group``, which torch wraps in
``torch._disable_dynamo``, and ``step`` imports it again. torch 2.13 has no public switch
that skips it for fused, foreach or per-parameter updates alike, and a plain torch loop pays
the same (``benchmarks/startup.py``), so fairnn keeps torch's optimizers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import torch

Kind = Literal["adam", "adamw", "sgd"]


def _fusable(params: list[Any]) -> bool:
    tensors = [p for g in params for p in (g["params"] if isinstance(g, dict) else [g])]
    return bool(tensors) and all(
        t.is_floating_point() and t.device.type in ("cpu", "cuda") for t in tensors
    )


def make_optimizer(
    kind: Kind,
    params: Iterable[Any],
    *,
    lr: float,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    fused: bool | None = None,
) -> torch.optim.Optimizer:
    """``torch.optim.Adam``/``AdamW``/``SGD`` over ``params`` (tensors or parameter groups).

    ``fused=None`` fuses when every parameter is a floating-point tensor on a CPU or
    CUDA device; ``False`` keeps torch's per-parameter update (``benchmarks/train_speed.py``
    times both).
    """
    params = list(params)
    fused = (_fusable(params) or None) if fused is None else (fused or None)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fused)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=fused)
    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, fused=fused)
