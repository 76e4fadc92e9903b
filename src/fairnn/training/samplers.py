"""Batch samplers: they yield index tensors; the data never leaves its tensors.

* :class:`RandomSampler` walks a fresh permutation each epoch in chunks of
  ``batch_size`` (the usual minibatch SGD).
* :class:`BalancedSampler` draws a fixed number of rows from every cell (a
  group, or a (group, label) pair) at each step, without replacement within a
  draw, as RUNNER (and Fair Mixup before it) samples: 500 rows per group for
  DP, 500 per (group, label) cell for EO. A cell smaller than the count is
  drawn with replacement.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Literal, Protocol

import torch

from fairnn.datasets.core import TabularData
from fairnn.errors import ConfigError

Balance = Literal["group", "group_label"]


class Sampler(Protocol):
    """Yields one epoch of row-index tensors (int64, on the CPU) per call to ``epoch``."""

    def epoch(self) -> Iterator[torch.Tensor]: ...

    def __len__(self) -> int: ...


class RandomSampler:
    def __init__(
        self,
        n: int,
        batch_size: int,
        generator: torch.Generator,
        steps_per_epoch: int | None = None,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.n, self.batch_size, self.gen = n, min(batch_size, n), generator
        self.drop_last = drop_last
        per_pass = n // self.batch_size if drop_last else math.ceil(n / self.batch_size)
        self.steps = steps_per_epoch or per_pass
        self._perm: torch.Tensor | None = None
        self._pos = 0

    def __len__(self) -> int:
        return self.steps

    def draw(self) -> torch.Tensor:
        """The next batch, cycling through fresh permutations without end (MinDiff's
        per-group loaders, which are cycled independently of the main one)."""
        return self._next()

    def _next(self) -> torch.Tensor:
        if (
            self._perm is None
            or self._pos >= self.n
            or (self.drop_last and self._pos + self.batch_size > self.n)
        ):
            self._perm = torch.randperm(self.n, generator=self.gen)
            self._pos = 0
        idx = self._perm[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return idx

    def epoch(self) -> Iterator[torch.Tensor]:
        if self.steps == math.ceil(self.n / self.batch_size):
            self._perm = None  # a full pass starts on a fresh permutation
        for _ in range(self.steps):
            yield self._next()


class BalancedSampler:
    """``per_cell`` rows from every cell at each step (RUNNER's balanced batches)."""

    def __init__(
        self,
        data: TabularData,
        per_cell: int,
        generator: torch.Generator,
        steps_per_epoch: int,
        balance: Balance = "group",
    ) -> None:
        if per_cell < 1:
            raise ConfigError(f"per_cell must be >= 1, got {per_cell}")
        s = data.s.detach().cpu()
        if balance == "group":
            cells = s
        elif balance == "group_label":
            if data.task != "binary":
                raise ConfigError("balance='group_label' needs a binary label; use balance='group'")
            cells = s * 2 + data.y.detach().cpu().long()
        else:
            raise ConfigError(f"balance must be 'group' or 'group_label', got {balance!r}")
        self.cells = [torch.nonzero(cells == c).flatten() for c in torch.unique(cells)]
        self.per_cell, self.gen, self.steps = per_cell, generator, steps_per_epoch

    def __len__(self) -> int:
        return self.steps

    def draw(self) -> torch.Tensor:
        parts = []
        for members in self.cells:
            m = members.numel()
            if m >= self.per_cell:
                pick = torch.randperm(m, generator=self.gen)[: self.per_cell]
            else:
                pick = torch.randint(m, (self.per_cell,), generator=self.gen)
            parts.append(members[pick])
        return torch.cat(parts)

    def epoch(self) -> Iterator[torch.Tensor]:
        for _ in range(self.steps):
            yield self.draw()
