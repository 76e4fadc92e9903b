"""A small solver-independent container for a mixed-integer linear program.

Variables have bounds and an integrality flag; rows are ``lo ≤ a·x ≤ hi``; the
objective is linear. :mod:`fairnn.certify.solvers` hands the same arrays to
HiGHS (highspy) or to CBC (through PuLP), after :meth:`MilpModel.conditioned`.

**Conditioning.** A row whose coefficients span many orders of magnitude (an
eigenvector of a Mahalanobis matrix with entries of 1e-7 beside entries of 0.5, a
neuron whose incoming weights are all about 1e-8 beside its own coefficient 1) is
below the solvers' tolerances in its small entries: HiGHS drops entries under 1e-9
silently and its presolve has returned "Optimal" at 0 on such a model whose maximum
is 0.065 (entries of 3e-9 to 9e-9 beside 1; ``tests/certify/test_soundness.py``).
:meth:`MilpModel.conditioned` first scales every row whose largest entry is below
``2^-4`` by a power of two (exact), then moves every entry smaller than
:data:`DROP_REL` times its row's largest, or than :data:`DROP_ABS`, into the row's
bounds: ``a_j x_j`` with ``x_j ∈ [l_j, u_j]`` lies in ``[min(a_j l_j, a_j u_j),
max(…)]``, so the row ``lo ≤ Σ a x ≤ hi`` becomes ``lo - max ≤ Σ_rest a x ≤ hi - min``
(widened for rounding): every point of the old row satisfies the new one, so the
feasible set only grows and every bound stays sound. An equality whose dropped entries
would move it by less than :data:`KEEP_EQ` keeps them instead (a range 1e-12 wide is
worse for presolve than an entry of 1e-7). Dropping only entries under 1e-8 of the row's
largest was not enough: HiGHS then proved the model at ε = 0.01 but still returned
"Optimal" below real pairs at ε = 0.05 and 0.25 (0.292 and 0.864 where pairs reach 0.315
and 0.918).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

INF = float("inf")
#: entries below this fraction of the largest in their row are moved into the row bounds
DROP_REL = 1e-6
#: ... and entries below this (HiGHS's ``small_matrix_value``, under which it drops them)
DROP_ABS = 1e-9
#: an equality row whose tiny entries span less than this (relative) keeps them
KEEP_EQ = 1e-9
#: rows whose largest entry is below this are scaled up by a power of two
SMALL_ROW = 2.0**-4


class MilpModel:
    """Columns, rows (kept as COO chunks) and a linear objective."""

    def __init__(self) -> None:
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self.n_vars = 0
        self._r: list[np.ndarray] = []
        self._c: list[np.ndarray] = []
        self._v: list[np.ndarray] = []
        self._lo: list[np.ndarray] = []
        self._hi: list[np.ndarray] = []
        self.n_rows = 0
        self.cost = np.zeros(0)
        self.objective_offset = 0.0
        self._cache: tuple | None = None
        #: entries :meth:`conditioned` moved into row bounds (0 for a built model)
        self.dropped = 0

    # -- columns ---------------------------------------------------------------
    def add_vars(
        self,
        n: int,
        lb: float | np.ndarray = 0.0,
        ub: float | np.ndarray = INF,
        integer: bool | np.ndarray = False,
    ) -> np.ndarray:
        lo = np.broadcast_to(np.asarray(lb, dtype=np.float64), (n,)).copy()
        hi = np.broadcast_to(np.asarray(ub, dtype=np.float64), (n,)).copy()
        if np.any(lo > hi):
            bad = np.flatnonzero(lo > hi)[:3]
            raise ValueError(f"variable bounds cross: {lo[bad]} > {hi[bad]}")
        self._lb.append(lo)
        self._ub.append(hi)
        self._int.append(np.broadcast_to(np.asarray(integer, dtype=bool), (n,)).copy())
        idx = np.arange(self.n_vars, self.n_vars + n)
        self.n_vars += n
        self._cache = None
        return idx

    def add_var(self, lb: float = 0.0, ub: float = INF, integer: bool = False) -> int:
        return int(self.add_vars(1, lb, ub, integer)[0])

    def _flat_cols(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._cache is None or self._cache[0].shape[0] != self.n_vars:
            lb = np.concatenate(self._lb) if self._lb else np.zeros(0)
            ub = np.concatenate(self._ub) if self._ub else np.zeros(0)
            it = np.concatenate(self._int) if self._int else np.zeros(0, bool)
            self._lb, self._ub, self._int = [lb], [ub], [it]
            self._cache = (lb, ub, it)
        return self._cache

    @property
    def lb(self) -> np.ndarray:
        return self._flat_cols()[0]

    @property
    def ub(self) -> np.ndarray:
        return self._flat_cols()[1]

    @property
    def integer(self) -> np.ndarray:
        return self._flat_cols()[2]

    def set_bounds(self, idx: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> None:
        lo, hi, _ = self._flat_cols()
        lo[idx] = lb
        hi[idx] = ub

    # -- rows --------------------------------------------------------------------
    def add_row(
        self,
        cols: Sequence[int] | np.ndarray,
        vals: Sequence[float] | np.ndarray,
        lo: float,
        hi: float,
    ) -> int:
        c = np.asarray(cols, dtype=np.int64)
        v = np.asarray(vals, dtype=np.float64)
        keep = v != 0
        self._r.append(np.full(int(keep.sum()), self.n_rows, dtype=np.int64))
        self._c.append(c[keep])
        self._v.append(v[keep])
        self._lo.append(np.array([lo], dtype=np.float64))
        self._hi.append(np.array([hi], dtype=np.float64))
        self.n_rows += 1
        return self.n_rows - 1

    def add_rows(
        self,
        A: np.ndarray,
        cols: np.ndarray,
        lo: float | np.ndarray,
        hi: float | np.ndarray,
    ) -> np.ndarray:
        """Rows ``lo ≤ A @ x[cols] ≤ hi`` for a dense block ``A`` (m × len(cols))."""
        A = np.atleast_2d(np.asarray(A, dtype=np.float64))
        m = A.shape[0]
        r, k = np.nonzero(A)
        self._r.append(r.astype(np.int64) + self.n_rows)
        self._c.append(np.asarray(cols, dtype=np.int64)[k])
        self._v.append(A[r, k])
        self._lo.append(np.broadcast_to(np.asarray(lo, np.float64), (m,)).copy())
        self._hi.append(np.broadcast_to(np.asarray(hi, np.float64), (m,)).copy())
        idx = np.arange(self.n_rows, self.n_rows + m)
        self.n_rows += m
        return idx

    def add_sparse_rows(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
    ) -> np.ndarray:
        """Rows given as COO triples with row ids ``0..m-1`` local to this call."""
        m = len(lo)
        keep = np.asarray(vals) != 0
        self._r.append(np.asarray(rows, np.int64)[keep] + self.n_rows)
        self._c.append(np.asarray(cols, np.int64)[keep])
        self._v.append(np.asarray(vals, np.float64)[keep])
        self._lo.append(np.asarray(lo, np.float64).copy())
        self._hi.append(np.asarray(hi, np.float64).copy())
        idx = np.arange(self.n_rows, self.n_rows + m)
        self.n_rows += m
        return idx

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(start, index, value, row_lo, row_hi)`` row-wise, sorted by row."""
        if self._r:
            r = np.concatenate(self._r)
            c = np.concatenate(self._c)
            v = np.concatenate(self._v)
            lo = np.concatenate(self._lo)
            hi = np.concatenate(self._hi)
            self._r, self._c, self._v, self._lo, self._hi = [r], [c], [v], [lo], [hi]
        else:
            r = c = np.zeros(0, np.int64)
            v = lo = hi = np.zeros(0)
        order = np.argsort(r, kind="stable")
        r, c, v = r[order], c[order], v[order]
        start = np.zeros(self.n_rows + 1, dtype=np.int64)
        np.add.at(start, r + 1, 1)
        return np.cumsum(start), c, v, lo, hi

    # -- objective ------------------------------------------------------------------
    def set_objective(
        self,
        cols: Sequence[int] | np.ndarray,
        vals: Sequence[float] | np.ndarray,
        offset: float = 0.0,
    ) -> None:
        self.cost = np.zeros(self.n_vars)
        np.add.at(self.cost, np.asarray(cols, np.int64), np.asarray(vals, np.float64))
        self.objective_offset = float(offset)

    def objective_value(self, x: np.ndarray) -> float:
        c = np.zeros(self.n_vars)
        c[: self.cost.shape[0]] = self.cost
        return float(c @ x + self.objective_offset)

    def copy(self) -> MilpModel:
        lb, ub, it = self._flat_cols()
        start, idx, val, lo, hi = self.csr()
        out = MilpModel()
        out._lb, out._ub, out._int = [lb.copy()], [ub.copy()], [it.copy()]
        out.n_vars = self.n_vars
        rows = np.repeat(np.arange(self.n_rows), np.diff(start))
        out._r, out._c, out._v = [rows], [idx.copy()], [val.copy()]
        out._lo, out._hi = [lo.copy()], [hi.copy()]
        out.n_rows = self.n_rows
        out.cost = self.cost.copy()
        out.objective_offset = self.objective_offset
        return out

    # -- conditioning ------------------------------------------------------------------
    def conditioned(self) -> MilpModel:
        """This model with tiny entries moved into their rows' bounds and tiny rows scaled
        (see the module docstring); ``self`` when nothing needs to change."""
        from fairnn.certify.margin import gamma

        start, idx, val, lo, hi = self.csr()
        n_rows = self.n_rows
        if n_rows == 0 or val.size == 0:
            return self
        rows = np.repeat(np.arange(n_rows), np.diff(start))
        row_max = np.zeros(n_rows)
        np.maximum.at(row_max, rows, np.abs(val))
        small_row = (row_max > 0) & (row_max < SMALL_ROW)
        if small_row.any():
            # scale by 2^-e with row_max = m·2^e, m in [0.5, 1): exact in floating point
            e = np.where(small_row, np.frexp(np.where(row_max > 0, row_max, 1.0))[1], 0)
            val = np.ldexp(val, -e[rows])
            lo = np.ldexp(lo, -e)
            hi = np.ldexp(hi, -e)
            row_max = np.ldexp(row_max, -e)
        mag = np.abs(val)
        lb, ub = self.lb[idx], self.ub[idx]
        tiny = (mag < DROP_REL * row_max[rows]) | (mag < DROP_ABS)
        drop = tiny & np.isfinite(lb) & np.isfinite(ub)
        if drop.any():
            # an equality whose dropped terms move it by less than this stays an equality
            # with its (tiny) entries: a range of width 1e-12 is worse for presolve
            spread = np.zeros(n_rows)
            np.add.at(spread, rows[drop], mag[drop] * (ub - lb)[drop])
            keep_eq = (lo == hi) & (spread <= KEEP_EQ * (1.0 + np.abs(lo)))
            drop &= ~keep_eq[rows]
        if not drop.any() and not small_row.any():
            return self
        lo, hi = lo.copy(), hi.copy()
        if drop.any():
            r = rows[drop]
            a = val[drop]
            t_lo = np.minimum(a * lb[drop], a * ub[drop])
            t_hi = np.maximum(a * lb[drop], a * ub[drop])
            s_lo = np.zeros(n_rows)
            s_hi = np.zeros(n_rows)
            s_abs = np.zeros(n_rows)
            cnt = np.zeros(n_rows)
            np.add.at(s_lo, r, t_lo)
            np.add.at(s_hi, r, t_hi)
            np.add.at(s_abs, r, np.maximum(np.abs(t_lo), np.abs(t_hi)))
            np.add.at(cnt, r, 1.0)
            hit = cnt > 0
            # rounding of the sums and of the subtraction, bounded outward
            side = np.maximum(
                np.where(np.isfinite(lo[hit]), np.abs(lo[hit]), 0.0),
                np.where(np.isfinite(hi[hit]), np.abs(hi[hit]), 0.0),
            )
            err = np.array([gamma(int(k) + 2) for k in cnt[hit]]) * (s_abs[hit] + side) + 1e-300
            lo[hit] = lo[hit] - s_hi[hit] - err
            hi[hit] = hi[hit] - s_lo[hit] + err
        keep = ~drop
        out = MilpModel()
        out._lb, out._ub, out._int = [self.lb.copy()], [self.ub.copy()], [self.integer.copy()]
        out.n_vars = self.n_vars
        r_keep, c_keep, v_keep = rows[keep], idx[keep], val[keep]
        out._r, out._c, out._v = [r_keep], [c_keep.copy()], [v_keep.copy()]
        out._lo, out._hi = [lo], [hi]
        out.n_rows = n_rows
        out.cost = self.cost.copy()
        out.objective_offset = self.objective_offset
        out.dropped = int(drop.sum())
        return out

    # -- checks --------------------------------------------------------------------
    def violation(self, x: np.ndarray) -> dict[str, float]:
        """Largest bound, row and integrality violation of an assignment (for tests)."""
        start, idx, val, lo, hi = self.csr()
        act = np.zeros(self.n_rows)
        rows = np.repeat(np.arange(self.n_rows), np.diff(start))
        np.add.at(act, rows, val * x[idx])
        row_v = np.maximum(lo - act, act - hi)
        bnd_v = np.maximum(self.lb - x, x - self.ub)
        it = self.integer
        int_v = np.abs(x[it] - np.round(x[it]))
        return {
            "rows": float(row_v.max(initial=0.0)),
            "bounds": float(bnd_v.max(initial=0.0)),
            "integrality": float(int_v.max(initial=0.0)),
        }

    def size(self) -> dict[str, int]:
        start = self.csr()[0]
        return {
            "cols": int(self.n_vars),
            "rows": int(self.n_rows),
            "nonzeros": int(start[-1]),
            "integer": int(self.integer.sum()),
        }
