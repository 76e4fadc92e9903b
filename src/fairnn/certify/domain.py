"""The input domain a certificate quantifies over, read from the feature metadata.

Every column of the model input ``X`` lies in the box ``[lower, upper]`` that
:class:`~fairnn.datasets.core.FeatureMeta` records (model-input, i.e. scaled,
space). On top of the box:

* a ``binary`` column takes only its two end values;
* the columns of a one-hot block are binary and exactly one of them is 1;
* an ``integer`` column holds an integer in raw units, ``raw = x * scale + offset``,
  so in model space it lives on the grid ``x = (k - offset) / scale``, ``k`` an
  integer (``integers="exact"``, the default). ``integers="relax"`` lets it take
  any value in its box instead: a superset, so every certificate stays sound, and
  a cheaper problem;
* a column with ``mutable=False`` (immutable) must take the same value in both
  members of a pair: two individuals that differ in it are not compared.

The domain is the set the *global* certificate ranges over, so it must contain
every input the model will be asked about. fairnn's recipes set the box to the
training split's range; rows outside it (a validation point beyond the training
range) are outside the certificate. :meth:`Domain.widened` enlarges the box, e.g.
to a multiple of its width or to contain given points.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from fairnn.datasets.core import FeatureMeta
from fairnn.errors import InvalidValueError

IntegerMode = Literal["exact", "relax"]
#: tolerance when snapping a bound onto the integer grid (raw units; float32 metadata is
#: off by about 1e-7 relative)
_GRID_TOL = 1e-4


@dataclass(frozen=True)
class Domain:
    """Box, discrete structure and immutability of the model input.

    ``kind[i]`` is the *encoded* kind of column ``i``: ``continuous``, ``integer``
    (only with ``integers="exact"``), ``binary`` or ``onehot``. ``int_origin`` and
    ``int_step`` map an integer ``k`` to ``x = origin + k * step`` (NaN elsewhere);
    ``int_lo``/``int_hi`` are the integer range.
    """

    names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    kind: tuple[str, ...]
    blocks: tuple[tuple[int, ...], ...]
    equal: np.ndarray
    sensitive: np.ndarray
    int_origin: np.ndarray
    int_step: np.ndarray
    int_lo: np.ndarray
    int_hi: np.ndarray
    integers: IntegerMode = "exact"

    # -- construction -------------------------------------------------------
    @classmethod
    def from_features(cls, features: FeatureMeta, integers: IntegerMode = "exact") -> Domain:
        if integers not in ("exact", "relax"):
            raise InvalidValueError(f"integers must be 'exact' or 'relax', got {integers!r}")
        d = features.dim
        lower = features.lower.astype(np.float64)
        upper = features.upper.astype(np.float64)
        kinds: list[str] = []
        origin = np.full(d, np.nan)
        step = np.full(d, np.nan)
        ilo = np.zeros(d)
        ihi = np.zeros(d)
        for i, f in enumerate(features):
            kind = f.kind
            if kind == "integer" and integers == "exact":
                if not (np.isfinite(f.scale) and f.scale > 0):
                    kind = "continuous"  # no usable grid: treat as continuous (a superset)
                else:
                    lo_raw = lower[i] * f.scale + f.offset
                    hi_raw = upper[i] * f.scale + f.offset
                    k_lo = np.ceil(lo_raw - _GRID_TOL)
                    k_hi = np.floor(hi_raw + _GRID_TOL)
                    if k_lo > k_hi:
                        kind = "continuous"
                    else:
                        origin[i] = -f.offset / f.scale
                        step[i] = 1.0 / f.scale
                        ilo[i], ihi[i] = k_lo, k_hi
                        # the box becomes the hull of the grid points (same set)
                        lower[i] = origin[i] + k_lo * step[i]
                        upper[i] = origin[i] + k_hi * step[i]
            elif kind == "integer":
                kind = "continuous"
            kinds.append(kind)
        blocks = tuple(tuple(v) for v in features.blocks().values())
        return cls(
            names=tuple(features.names),
            lower=lower,
            upper=upper,
            kind=tuple(kinds),
            blocks=blocks,
            equal=np.array([not f.mutable for f in features], dtype=bool),
            sensitive=np.array([f.sensitive for f in features], dtype=bool),
            int_origin=origin,
            int_step=step,
            int_lo=ilo,
            int_hi=ihi,
            integers=integers,
        )

    @classmethod
    def box(cls, lower: np.ndarray, upper: np.ndarray, names: tuple[str, ...] | None = None):
        """A purely continuous box domain (for tests and hand-made models)."""
        lo = np.asarray(lower, dtype=np.float64)
        hi = np.asarray(upper, dtype=np.float64)
        d = lo.shape[0]
        nan = np.full(d, np.nan)
        return cls(
            names=names or tuple(f"x{i}" for i in range(d)),
            lower=lo,
            upper=hi,
            kind=("continuous",) * d,
            blocks=(),
            equal=np.zeros(d, dtype=bool),
            sensitive=np.zeros(d, dtype=bool),
            int_origin=nan,
            int_step=nan.copy(),
            int_lo=np.zeros(d),
            int_hi=np.zeros(d),
        )

    def widened(self, factor: float = 0.0, points: np.ndarray | None = None) -> Domain:
        """The box grown by ``factor`` times its width on each side, and to contain ``points``.

        Only continuous columns move (the discrete structure is kept).
        """
        lo, hi = self.lower.copy(), self.upper.copy()
        cont = np.array([k == "continuous" for k in self.kind])
        width = hi - lo
        lo[cont] -= factor * width[cont]
        hi[cont] += factor * width[cont]
        if points is not None:
            p = np.atleast_2d(np.asarray(points, dtype=np.float64))
            lo[cont] = np.minimum(lo[cont], p[:, cont].min(0))
            hi[cont] = np.maximum(hi[cont], p[:, cont].max(0))
        return replace(self, lower=lo, upper=hi)

    # -- facts ------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return len(self.names)

    @property
    def continuous(self) -> np.ndarray:
        return np.array([k == "continuous" for k in self.kind], dtype=bool)

    @property
    def discrete(self) -> np.ndarray:
        """Columns that take finitely many values (binary, one-hot, exact integers)."""
        return ~self.continuous

    def to_dict(self) -> dict:
        return {
            "dim": self.dim,
            "continuous": int(self.continuous.sum()),
            "integer": sum(k == "integer" for k in self.kind),
            "binary": sum(k == "binary" for k in self.kind),
            "onehot_blocks": len(self.blocks),
            "immutable": int(self.equal.sum()),
            "sensitive": [n for n, s in zip(self.names, self.sensitive, strict=True) if s],
            "integers": self.integers,
        }

    # -- membership, projection, sampling -----------------------------------------
    def violation(self, X: np.ndarray) -> np.ndarray:
        """Largest violation of the domain constraints per row (0 inside)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        v = np.maximum(self.lower - X, 0).max(1)
        v = np.maximum(v, np.maximum(X - self.upper, 0).max(1))
        for i, k in enumerate(self.kind):
            col = X[:, i]
            if k in ("binary", "onehot"):
                v = np.maximum(
                    v, np.minimum(np.abs(col - self.lower[i]), np.abs(col - self.upper[i]))
                )
            elif k == "integer":
                kk = (col - self.int_origin[i]) / self.int_step[i]
                v = np.maximum(v, np.abs(kk - np.round(kk)) * self.int_step[i])
        for b in self.blocks:
            v = np.maximum(v, np.abs(X[:, list(b)].sum(1) - 1.0))
        return v

    def contains(self, X: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        return self.violation(X) <= tol

    def project(self, X: np.ndarray) -> np.ndarray:
        """The nearest-by-rounding domain point of each row: clip, snap to grids, one-hot argmax."""
        X = np.array(np.atleast_2d(X), dtype=np.float64)
        X = np.clip(X, self.lower, self.upper)
        for i, k in enumerate(self.kind):
            if k == "binary":
                mid = 0.5 * (self.lower[i] + self.upper[i])
                X[:, i] = np.where(X[:, i] >= mid, self.upper[i], self.lower[i])
            elif k == "integer":
                kk = np.round((X[:, i] - self.int_origin[i]) / self.int_step[i])
                kk = np.clip(kk, self.int_lo[i], self.int_hi[i])
                X[:, i] = self.int_origin[i] + kk * self.int_step[i]
        for b in self.blocks:
            cols = list(b)
            pick = X[:, cols].argmax(1)
            X[:, cols] = 0.0
            X[np.arange(len(X)), np.asarray(cols)[pick]] = 1.0
        return X

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points drawn from the domain (uniform per column, uniform category)."""
        X = rng.uniform(self.lower, self.upper, size=(n, self.dim))
        for i, k in enumerate(self.kind):
            if k == "binary":
                X[:, i] = np.where(rng.random(n) < 0.5, self.lower[i], self.upper[i])
            elif k == "integer":
                kk = rng.integers(int(self.int_lo[i]), int(self.int_hi[i]) + 1, size=n)
                X[:, i] = self.int_origin[i] + kk * self.int_step[i]
        for b in self.blocks:
            cols = np.asarray(b)
            X[:, cols] = 0.0
            X[np.arange(n), cols[rng.integers(0, len(cols), size=n)]] = 1.0
        return X
