"""Similarity metrics ``d_fair`` for ε-δ individual fairness.

Every metric here is a seminorm of the difference of two inputs,
``d(x', x'') = ||A (x' - x'')||_p`` with ``p`` in {∞, 1, 2} and a matrix ``A``
(``k × d``):

===================  ===========================  ===========================================
name                 ``A``                        encoded in the MILP
===================  ===========================  ===========================================
``linf``             ``diag(w)`` (weights ``w``)  exactly: ``|w_i Δ_i| ≤ ε``
``l1``               ``diag(w)``                  exactly: ``Δ = p - n``, ``Σ w (p + n) ≤ ε``
``l2``               ``diag(w)``                  sound polyhedral outer approximation
``mahalanobis``      ``L`` with ``S = LᵀL``       sound polyhedral outer approximation
``mahalanobis-box``  the same ``L``, ``p = ∞``    exactly: ``|(LΔ)_i| ≤ ε`` (Benussi's code)
``embedding``        a user's ``A`` (any ``p``)   as its ``p``
===================  ===========================  ===========================================

Weights are *scale* weights: ``w_i`` multiplies the difference in feature ``i``
(a larger weight means the feature must differ less for two people to count as
similar). A weight of 0 makes a feature free: two individuals that differ only
in it are at distance 0. Sensitive features (``Feature.sensitive``) get weight 0
by default, so the certificate covers flipping the protected attribute; an
explicit weight for them is respected.

**The ℓ2 outer approximation.** A MILP cannot hold ``||y||_2 ≤ ε`` exactly, so
the ball is replaced by a polytope that contains it (enlarging the set of pairs
can only raise the maximum, so the δ upper bound stays sound). fairnn uses the
Ben-Tal–Nemirovski construction on a binary tree of 2-D cones: each node bounds
the norm of its two children with ``ν`` rotate-and-reflect steps, which keeps
every true point feasible and lets a feasible point exceed the node's radius by
at most the factor ``1/cos(π/2^(ν+1))``. With ``k`` coordinates the tree has
``⌈log2 k⌉`` levels, so every feasible difference satisfies
``||y||_2 ≤ ε / cos(π/2^(ν+1))^⌈log2 k⌉`` (:meth:`SimilarityMetric.outer_factor`):
with the default ``ν = 5`` and ``k ≤ 64``, the polytope lies between the ball of
radius ε and the ball of radius ``1.0073 ε`` (``ν = 8``: ``1.00011 ε``; deeper
levels are tighter but their near-parallel rows slow the solver down markedly:
on Adult 1x16 at ε = 0.05, ν = 5 proves the optimum in 5 s, ν = 8 does not in
50 s). For Benussi's projector metric the tree runs over the ``d`` original
coordinates of ``Δ - N t`` (``N`` the free directions, ``t`` free), a sparse
form of the same set. Benussi et al. instead use the
bounding box of the ellipsoid in its eigenbasis, whose corners lie ``√k`` times
farther out (``l2_encoding="box"`` reproduces it for comparison).

**Mahalanobis** ``d² = Δᵀ S Δ`` with ``S`` positive semidefinite: ``S`` is
factored by its eigendecomposition, ``L = diag(√λ) Uᵀ``; eigenvalues below
``rel_tol · λ_max`` are dropped, which removes constraints (sound). Benussi's
``S`` is the projector onto the complement of a "sensitive subspace" spanned by
linear probes that predict the sensitive attribute from the other features
(:func:`sensitive_subspace_matrix`): moving along those directions is free.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from fairnn.datasets.core import FeatureMeta, TabularData
from fairnn.errors import ConfigError, InvalidValueError
from fairnn.registry import Registry

Norm = Literal["linf", "l1", "l2"]
METRIC_NAMES = ("linf", "l1", "l2", "mahalanobis", "mahalanobis-box", "embedding")
#: default number of rotate-and-reflect steps per 2-D cone of the ℓ2 outer approximation
L2_LEVELS = 5

#: named metric weights (``weights=NAME``, ``--weights NAME``): ``fn(features, data)``
#: returns a mapping by feature name or one weight per feature. ``rank``
#: (:func:`rank_weights`) is fairnn's; papers register theirs from their wings
#: (``fairnn.papers.<paper>.weights``, e.g. NNFF's Boston weights)
WeightPreset = Callable[[FeatureMeta, TabularData | None], Mapping[str, float] | np.ndarray]
WEIGHT_PRESETS: Registry[WeightPreset] = Registry("weight preset", discover="weights")


def _presets() -> str:
    return ", ".join(repr(name) for name in WEIGHT_PRESETS.names())


_RADIUS_CACHE: dict[tuple[int, float], tuple[Any, np.ndarray]] = {}


@dataclass(frozen=True)
class SimilarityMetric:
    """``d(x', x'') = ||A (x' - x'')||_norm``; see the module docstring."""

    name: str
    norm: Norm
    matrix: np.ndarray
    weights: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    #: when ``AᵀA = c·P`` for an orthogonal projector ``P`` (Benussi's sensitive-subspace
    #: metric): an orthonormal basis ``N`` of the free directions and ``c``; then
    #: ``d(x', x'') = √c · min_t ||Δ - N t||_2`` and the encoding uses that sparse form.
    null_basis: np.ndarray | None = None
    level: float = 1.0

    def __post_init__(self) -> None:
        if self.norm not in ("linf", "l1", "l2"):
            raise InvalidValueError(f"norm must be linf, l1 or l2, got {self.norm!r}")
        A = np.asarray(self.matrix, dtype=np.float64)
        if A.ndim != 2:
            raise InvalidValueError(f"the metric matrix must be 2-D, got shape {A.shape}")
        if not np.all(np.isfinite(A)):
            raise InvalidValueError("the metric matrix contains NaN or inf")

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def is_diagonal(self) -> bool:
        return self.weights is not None

    def distance(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        """Exact distance of each row pair (float64)."""
        d = np.atleast_2d(np.asarray(x1, dtype=np.float64) - np.asarray(x2, dtype=np.float64))
        y = np.abs(d * self.weights) if self.weights is not None else np.abs(d @ self.matrix.T)
        if y.shape[1] == 0:
            return np.zeros(y.shape[0])
        if self.norm == "linf":
            return y.max(1)
        if self.norm == "l1":
            return y.sum(1)
        return np.sqrt((y * y).sum(1))

    def free_directions(self) -> np.ndarray:
        """Boolean per feature: columns the metric does not see at all (zero column of A)."""
        return ~np.any(self.matrix != 0, axis=0)

    def radius(self, eps: float) -> np.ndarray:
        """An upper bound on ``|x'_j - x''_j|`` over the ε-ball, per feature (inf: unbounded).

        Exact for diagonal metrics and for ℓ2; for a general ``A`` with ℓ1/ℓ∞ the
        ℓ2 bound of the enclosing ball is used (``||y||_2 ≤ √k ||y||_∞``, ``≤ ||y||_1``).
        """
        if self.weights is not None:
            w = self.weights
            with np.errstate(divide="ignore"):
                return np.where(w > 0, eps / np.where(w > 0, w, 1.0), np.inf)
        key = (id(self), float(eps))
        hit = _RADIUS_CACHE.get(key)
        if hit is not None and hit[0] is self:
            return hit[1].copy()
        out = self._radius(eps)
        if len(_RADIUS_CACHE) > 64:
            _RADIUS_CACHE.clear()
        _RADIUS_CACHE[key] = (self, out)
        return out.copy()

    def _radius(self, eps: float) -> np.ndarray:
        A = self.matrix
        k = A.shape[0]
        r2 = eps * (math.sqrt(k) if self.norm == "linf" else 1.0)
        G = A.T @ A
        Gp = np.linalg.pinv(G, rcond=1e-10, hermitian=True)
        out = np.full(self.dim, np.inf)
        for j in range(self.dim):
            e = np.zeros(self.dim)
            e[j] = 1.0
            # e_j is bounded on the ball iff it lies in the row space of A
            if np.linalg.norm(G @ (Gp @ e) - e) <= 1e-8:
                out[j] = r2 * math.sqrt(max(float(Gp[j, j]), 0.0))
        return out * (1 + 1e-9) + 1e-12

    def outer_factor(self, levels: int = L2_LEVELS, encoding: str = "btn") -> float:
        """How far the encoded ℓ2 set reaches beyond the true ball (1.0: exact).

        ``btn``: ``1 / cos(π / 2^(levels+1))^⌈log2 k⌉``; ``box``: ``√k``.
        """
        k = int(self.matrix.shape[0])
        if self.norm != "l2" or k <= 1:
            return 1.0
        if encoding == "box":
            return math.sqrt(k)
        depth = math.ceil(math.log2(k))
        return 1.0 / math.cos(math.pi / 2 ** (levels + 1)) ** depth

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "norm": self.norm,
            "rows": int(self.matrix.shape[0]),
        }
        if self.weights is not None:
            names = self.feature_names or tuple(f"x{i}" for i in range(self.dim))
            d["weights"] = {n: float(w) for n, w in zip(names, self.weights, strict=True)}
        d.update(self.info)
        return d


# -- constructors -----------------------------------------------------------------
def _names(features: FeatureMeta | int) -> tuple[tuple[str, ...], np.ndarray]:
    if isinstance(features, FeatureMeta):
        return tuple(features.names), np.array([f.sensitive for f in features], dtype=bool)
    d = int(features)
    return tuple(f"x{i}" for i in range(d)), np.zeros(d, dtype=bool)


def resolve_weights(
    features: FeatureMeta | int,
    weights: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """Per-feature scale weights: 1 by default, 0 for sensitive features; a mapping
    ``name -> weight`` overrides some, a sequence gives all."""
    names, sens = _names(features)
    w = np.where(sens, 0.0, 1.0)
    if weights is None:
        return w
    if isinstance(weights, Mapping):
        unknown = [k for k in weights if k not in names]
        if unknown:
            raise InvalidValueError(
                f"weights name features {unknown} that the model does not have; features: "
                + ", ".join(names[:20])
                + (", ..." if len(names) > 20 else "")
            )
        for k, v in weights.items():
            w[names.index(k)] = float(v)
    else:
        arr = np.asarray(weights, dtype=np.float64).ravel()
        if arr.shape[0] != len(names):
            raise InvalidValueError(
                f"{arr.shape[0]} weights given for {len(names)} features; give one per feature "
                "or a mapping name -> weight"
            )
        w = arr.copy()
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InvalidValueError("metric weights must be finite and >= 0")
    return w


def weighted_metric(
    norm: Norm,
    features: FeatureMeta | int,
    weights: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
) -> SimilarityMetric:
    """Weighted ℓ∞, ℓ1 or ℓ2: ``d = ||w ⊙ (x' - x'')||_p``."""
    if norm not in ("linf", "l1", "l2"):
        raise ConfigError(f"a weighted metric's norm is linf, l1 or l2, got {norm!r}")
    names, _ = _names(features)
    w = resolve_weights(features, weights)
    keep = np.flatnonzero(w > 0)
    A = np.zeros((keep.size, len(names)))
    A[np.arange(keep.size), keep] = w[keep]
    return SimilarityMetric(norm, norm, A, weights=w, feature_names=names)


def mahalanobis_metric(
    S: np.ndarray,
    features: FeatureMeta | int | None = None,
    *,
    rel_tol: float = 1e-9,
    info: dict[str, Any] | None = None,
) -> SimilarityMetric:
    """``d² = (x' - x'')ᵀ S (x' - x'')`` for a symmetric positive semidefinite ``S``."""
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise InvalidValueError(f"S must be a square matrix, got shape {S.shape}")
    if not np.allclose(S, S.T, atol=1e-8 * max(1.0, float(np.abs(S).max()))):
        raise InvalidValueError("S must be symmetric")
    lam, U = np.linalg.eigh(0.5 * (S + S.T))
    if lam.size and lam.min() < -1e-8 * max(1.0, float(lam.max())):
        raise InvalidValueError(
            f"S must be positive semidefinite (smallest eigenvalue {lam.min()})"
        )
    top = float(lam.max()) if lam.size else 0.0
    keep = lam > rel_tol * max(top, 1e-300)
    L = (np.sqrt(lam[keep])[:, None] * U[:, keep].T) if keep.any() else np.zeros((0, S.shape[0]))
    names = _names(features)[0] if features is not None else None
    extra = {"rank": int(keep.sum()), "dropped_eigenvalues": int((~keep).sum())}
    extra.update(info or {})
    kept = lam[keep]
    null, level = None, 1.0
    if kept.size and (~keep).any() and kept.max() - kept.min() <= 1e-6 * kept.max():
        null, level = U[:, ~keep].copy(), float(kept.mean())
        extra["projector"] = True
    return SimilarityMetric(
        "mahalanobis", "l2", L, feature_names=names, info=extra, null_basis=null, level=level
    )


def mahalanobis_box_metric(
    S: np.ndarray, features: FeatureMeta | int | None = None, *, info: dict[str, Any] | None = None
) -> SimilarityMetric:
    """Benussi et al.'s Mahalanobis metric as their code encodes it: with ``S = LᵀL``
    (``L = √Λ Uᵀ``, eigenvalues below ``1e-9·λ_max`` dropped), ``d = ||L (x' - x'')||_∞``,
    one bound ``|√λ_i u_iᵀΔ| ≤ ε`` per eigenvector. Its ball is the box around the
    ellipsoid of :func:`mahalanobis_metric` (same ``L``, ℓ2), wider by up to ``√k`` at the
    corners, so its certificates cover more pairs and are larger."""
    exact = mahalanobis_metric(S, features, info=info)
    extra = {k: v for k, v in exact.info.items() if k != "projector"}
    return SimilarityMetric(
        "mahalanobis-box", "linf", exact.matrix, feature_names=exact.feature_names, info=extra
    )


def embedding_metric(
    A: np.ndarray, norm: Norm = "l2", features: FeatureMeta | int | None = None
) -> SimilarityMetric:
    """A linear feature-embedding metric ``d = ||A (x' - x'')||_p`` (e.g. a learned projection)."""
    names = _names(features)[0] if features is not None else None
    return SimilarityMetric(
        "embedding", norm, np.atleast_2d(np.asarray(A, np.float64)), None, names
    )


# -- metrics derived from data ----------------------------------------------------------
def sensitive_subspace_matrix(data: TabularData, *, C: float = 1.0, seed: int = 0) -> np.ndarray:
    """Benussi et al.'s ``S``: the projector onto the complement of the sensitive subspace.

    A linear probe (logistic regression, one-vs-rest for more than two groups)
    predicts the group ``s`` from the non-sensitive columns; the span of its
    coefficient vectors is the "sensitive subspace" (its orthonormal basis comes
    from an SVD). ``S = I - B Bᵀ`` on the non-sensitive columns; sensitive columns
    get zero rows and columns (free). The code trains the probe as a one-layer
    Keras net for 20 epochs with L2 0.02; fairnn uses scikit-learn's logistic
    regression with ``C`` (the inverse L2 strength), which fits the same model.
    """
    from sklearn.linear_model import LogisticRegression

    X, _, s = data.numpy()
    sens = np.array([f.sensitive for f in data.features], dtype=bool)
    cols = np.flatnonzero(~sens)
    d = data.n_features
    if np.unique(s).size < 2:
        raise InvalidValueError("the sensitive subspace needs at least two groups in the data")
    probe = LogisticRegression(C=C, max_iter=2000, random_state=seed)
    probe.fit(X[:, cols].astype(np.float64), s)
    W = np.atleast_2d(probe.coef_)
    _, sv, Vt = np.linalg.svd(W, full_matrices=False)
    B = Vt[sv > 1e-10 * max(sv.max(), 1e-300)].T
    P = np.eye(cols.size) - B @ B.T
    S = np.zeros((d, d))
    S[np.ix_(cols, cols)] = P
    return S


def rank_weights(data: TabularData) -> np.ndarray:
    """The seed's idea of per-feature weights, derived from data instead of by hand.

    The NNFF seed ranks Boston's features by importance and gives them linearly
    decreasing weights (13/90, 12/90, …, with ``B`` at 0). Here the rank is by the
    absolute correlation of each column with the label; the most relevant feature
    gets weight 1, the least ``1/n``; sensitive columns and constant columns get 0.
    """
    X, y, _ = data.numpy()
    X = X.astype(np.float64)
    y = y.astype(np.float64)
    sens = np.array([f.sensitive for f in data.features], dtype=bool)
    sd = X.std(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.abs(((X - X.mean(0)) * (y - y.mean())[:, None]).mean(0) / (sd * (y.std() or 1.0)))
    corr = np.where(np.isfinite(corr) & (sd > 0) & ~sens, corr, -1.0)
    order = np.argsort(-corr, kind="stable")
    usable = int((corr >= 0).sum())
    w = np.zeros(X.shape[1])
    for rank, j in enumerate(order[:usable]):
        w[j] = (usable - rank) / usable
    return w


@WEIGHT_PRESETS.register("rank")
def _rank_preset(features: FeatureMeta, data: TabularData | None = None) -> np.ndarray:
    if data is None:
        raise ConfigError("weights='rank' derives weights from data; pass data=")
    return rank_weights(data)


def parse_weights(text: str | None) -> dict[str, float] | str | None:
    """``--weights`` on the command line: a preset's name (:data:`WEIGHT_PRESETS`, e.g.
    ``rank``), ``name=w,name=w`` or a JSON file holding a mapping ``name -> weight``."""
    if text is None or text == "":
        return None
    if text in WEIGHT_PRESETS:
        return text
    import json
    from pathlib import Path

    p = Path(text)
    if p.suffix == ".json" and p.exists():
        data = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ConfigError(f"{text}: the weights file must hold a JSON object name -> weight")
        return {str(k): float(v) for k, v in data.items()}
    out: dict[str, float] = {}
    for part in text.split(","):
        name, eq, val = part.partition("=")
        if not eq:
            raise ConfigError(
                f"--weights {text!r}: give name=weight pairs separated by commas, {_presets()} "
                "or a .json file"
            )
        try:
            out[name.strip()] = float(val)
        except ValueError:
            raise ConfigError(f"--weights: {val!r} (for {name!r}) is not a number") from None
    return out


def make_metric(
    name: str,
    features: FeatureMeta,
    *,
    weights: Mapping[str, float] | Sequence[float] | np.ndarray | str | None = None,
    data: TabularData | None = None,
    matrix: np.ndarray | None = None,
    norm: Norm = "l2",
) -> SimilarityMetric:
    """A metric by name, as the CLI and the API accept it.

    ``weights`` may be a mapping, a sequence, or the name of a preset in
    :data:`WEIGHT_PRESETS` (``"rank"``: :func:`rank_weights` on ``data``). ``mahalanobis`` takes
    ``matrix`` as ``S``, or derives Benussi's ``S`` from ``data``.
    """
    if name not in METRIC_NAMES:
        raise ConfigError(f"unknown metric {name!r}; choose one of {', '.join(METRIC_NAMES)}")
    if isinstance(weights, str):
        if weights not in WEIGHT_PRESETS:
            raise ConfigError(f"weights={weights!r}: give {_presets()}, a mapping or a list")
        weights = WEIGHT_PRESETS.get(weights)(features, data)
    if name in ("linf", "l1", "l2"):
        return weighted_metric(name, features, weights)  # type: ignore[arg-type]
    if name in ("mahalanobis", "mahalanobis-box"):
        build = mahalanobis_metric if name == "mahalanobis" else mahalanobis_box_metric
        if weights is not None:
            raise ConfigError(f"the {name} metric takes a matrix S (--metric-matrix), not weights")
        if matrix is None:
            if data is None:
                raise ConfigError(
                    f"the {name} metric needs S (matrix=, --metric-matrix) or data to learn the "
                    "sensitive subspace from (data=)"
                )
            matrix = sensitive_subspace_matrix(data)
            return build(matrix, features, info={"S": "sensitive subspace (probe)"})
        _check_square(matrix, features, "S")
        return build(matrix, features, info={"S": "given"})
    if matrix is None:
        raise ConfigError("the embedding metric needs its matrix A (matrix=, --metric-matrix)")
    A = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    if A.shape[1] != features.dim:
        raise InvalidValueError(
            f"the embedding matrix A has {A.shape[1]} columns but the model has {features.dim} "
            "inputs; A maps the model's inputs (in their order) to the embedding"
        )
    return embedding_metric(A, norm, features)


def _check_square(matrix: Any, features: FeatureMeta, what: str) -> None:
    M = np.asarray(matrix)
    if M.ndim != 2 or M.shape != (features.dim, features.dim):
        raise InvalidValueError(
            f"the metric matrix {what} has shape {M.shape}; it must be "
            f"{features.dim}×{features.dim}, one row and column per model input in their order"
        )


def read_matrix(path: str | Path) -> np.ndarray:
    """A metric matrix from a file: ``.npy``, ``.csv``/``.txt`` (numbers only, comma or
    whitespace separated) or ``.json`` (a list of rows); never unpickles."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--metric-matrix {str(p)!r} does not exist")
    try:
        if p.suffix.lower() == ".npy":
            M = np.load(p, allow_pickle=False)
        elif p.suffix.lower() == ".json":
            M = np.asarray(json.loads(p.read_text(encoding="utf-8")), dtype=np.float64)
        else:
            text = p.read_text(encoding="utf-8")
            M = np.loadtxt(p, delimiter="," if "," in text else None, ndmin=2)
    except (ValueError, OSError, json.JSONDecodeError) as e:
        raise ConfigError(
            f"--metric-matrix {str(p)!r} is not a numeric matrix (.npy, .csv, .txt or .json): {e}"
        ) from None
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2 or not np.all(np.isfinite(M)):
        raise InvalidValueError(
            f"--metric-matrix {str(p)!r} must hold a finite 2-D matrix, got shape {M.shape}"
        )
    return M
