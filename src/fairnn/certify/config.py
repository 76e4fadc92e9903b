"""``CertifyConfig``: the settings of a global or local certificate, validated in one place.

:func:`~fairnn.certify.global_.certify_global` and
:func:`~fairnn.certify.local.certify_local` take ``config=CertifyConfig(...)`` or the
same settings as keyword arguments (``certify_global(net, feats, eps=0.1)``), which
build one. A setting left at ``None`` takes the default of the kind of certificate
(:data:`GLOBAL_DEFAULTS`, :data:`LOCAL_DEFAULTS`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, InstanceOf, ValidationError, field_validator

from fairnn.certify.encoding import EncodeOptions
from fairnn.certify.metrics import SimilarityMetric
from fairnn.certify.solvers import SOLVERS
from fairnn.errors import ConfigError, InvalidValueError
from fairnn.validation import ConfigModel, format_validation_error

__all__ = ["GLOBAL_DEFAULTS", "LOCAL_DEFAULTS", "CertifyConfig"]

Kind = Literal["global", "local"]

#: what ``None`` means for a global certificate: a 60 s budget, LP-tightened bounds
GLOBAL_DEFAULTS: dict[str, Any] = {"time_limit": 60.0, "bounds": "lp"}
#: ... and for local ones: 10 s per point, symbolic bounds (cheap, no LP)
LOCAL_DEFAULTS: dict[str, Any] = {"time_limit": 10.0, "bounds": "symbolic"}


@contextmanager
def _errors(what: str) -> Iterator[None]:
    """A bad radius raises :class:`InvalidValueError` (a bad value of the problem, as
    before this model existed), any other bad setting :class:`ConfigError`."""
    try:
        yield
    except ValidationError as e:
        bad_eps = any(err["loc"][:1] == ("eps",) for err in e.errors())
        error = InvalidValueError if bad_eps else ConfigError
        raise error(format_validation_error(e, what)) from None


class CertifyConfig(ConfigModel, what="certify setting"):
    """What to certify (radius, metric, output) and how (solver, time, encoding, search)."""

    model_config = ConfigDict(extra="forbid")

    #: the kinds' defaults for settings left at None
    DEFAULTS: ClassVar[Mapping[Kind, Mapping[str, Any]]] = {
        "global": GLOBAL_DEFAULTS,
        "local": LOCAL_DEFAULTS,
    }

    # -- the property --------------------------------------------------------------
    eps: float = Field(ge=0, description="radius of the similarity ball (model-input units)")
    metric: str | InstanceOf[SimilarityMetric] = Field(
        "linf", description="linf, l1, l2, mahalanobis, ... or a SimilarityMetric"
    )
    weights: Any = Field(None, description="per-feature metric weights, a matrix or 'rank'")
    output: Literal["probability", "logit", "value"] | None = Field(
        None, description="what f is; None: probability (binary task) or value (regression)"
    )
    integers: Literal["exact", "relax"] = Field(
        "exact", description="integer columns on their grid, or relaxed to their box"
    )
    # -- the solver ----------------------------------------------------------------
    solver: str = Field("highs", description="MILP solver (SOLVERS)")
    time_limit: float | None = Field(
        None, gt=0, description="seconds (local: per point); None: 60 global, 10 local"
    )
    bounds: Literal["lp", "symbolic", "interval"] | None = Field(
        None, description="neuron bounds; None: lp (global), symbolic (local)"
    )
    threads: int | None = Field(None, description="solver threads (None: the solver's choice)")
    # -- global only ---------------------------------------------------------------
    target_gap: float = Field(5e-3, ge=0, description="stop refining at this relative gap")
    M: int = Field(16, ge=1, description="sigmoid/tanh grids of 2M + 1 breakpoints")
    refine_rounds: int = Field(4, ge=0, description="head-grid refinements after the first")
    attack: bool = Field(True, description="search unfair pairs for a first incumbent")
    options: InstanceOf[EncodeOptions] | None = Field(
        None, description="the encoding in full (overrides bounds and M)"
    )
    seed: int = Field(0, ge=0, description="seed of the pair search and the solver")
    use_propagated_bound: bool = Field(
        True, description="count the bound propagation proves (fairnn's relational bounds)"
    )
    cross_check: bool = Field(
        True, description="re-solve with the other solver when a solver's claim is refuted"
    )
    search: Literal["milp", "branch"] = Field(
        "milp", description="one MILP over the domain, or branch and bound over it (branch.py)"
    )
    workers: int = Field(
        1, ge=1, description="processes for the leaf MILPs (branch) or the points (local)"
    )
    backend: Literal["local", "dask"] = Field(
        "local", description="workers: local processes or a Dask cluster"
    )
    scheduler: str | None = Field(None, description="workers: a Dask scheduler address")
    # -- local only ----------------------------------------------------------------
    progress: bool = Field(True, description="a progress bar on a terminal")
    fast: bool = Field(True, description="closed form where the network is affine on the ball")
    pieces: int = Field(
        128,
        ge=1,
        description="cut each ball (local) or the pair set (global) into at most this many "
        "pieces, one per category of each one-hot block or binary column that may switch "
        "(1: solve it whole)",
    )

    def __init__(self, /, **data: Any) -> None:
        with _errors(self.what):
            BaseModel.__init__(self, **data)

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Any:
        with _errors(cls.what):
            return super(ConfigModel, cls).model_validate(obj, **kwargs)

    @field_validator("solver")
    @classmethod
    def _known_solver(cls, v: str) -> str:
        if v not in SOLVERS:
            raise SOLVERS.unknown(v)
        return v

    @classmethod
    def of(cls, config: CertifyConfig | None, settings: Mapping[str, Any]) -> CertifyConfig:
        """``config`` with ``settings`` (keyword arguments) on top, validated."""
        if config is None:
            return cls(**settings)
        if not settings:
            return config
        return cls(**{**dict(config), **settings})

    def resolve(self, kind: Kind) -> CertifyConfig:
        """This config with the defaults of a ``kind`` certificate for settings left at None."""
        fill = {k: v for k, v in self.DEFAULTS[kind].items() if getattr(self, k) is None}
        return self.model_copy(update=fill) if fill else self
