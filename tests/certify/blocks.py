"""A small input layout for certification tests: three continuous columns in [-1, 1] and a
one-hot block of three categories."""

from __future__ import annotations

import numpy as np

D = 6
BLOCK = (3, 4, 5)  # a one-hot block of three categories


def box() -> tuple[np.ndarray, np.ndarray]:
    """The domain's box: [-1, 1] for the continuous columns, [0, 1] for the block."""
    lo, hi = -np.ones(D), np.ones(D)
    lo[list(BLOCK)], hi[list(BLOCK)] = 0.0, 1.0
    return lo, hi


def onehot(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random rows of the block (one category each)."""
    out = np.zeros((n, len(BLOCK)))
    out[np.arange(n), rng.integers(0, len(BLOCK), n)] = 1.0
    return out
