"""The :class:`Activation` protocol that certification drives, and its registry.

One class per activation, registered by name (as auto_LiRPA's ``operators/``, Xu et
al., NeurIPS 2020): each knows its value (float64 numpy and torch), derivative,
interval image, slope range and difference bounds (what :mod:`fairnn.certify.bounds`
propagates), and the MILP encoding of one hidden layer of neurons (what
:mod:`fairnn.certify.encoding` builds). Adding an activation is one module with one
class and one :func:`register` line; :func:`fairnn.certify.ops.check.check_activation`
tests it.

Every op here is monotone (non-decreasing), so its interval image is
``[g(L), g(U)]``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np

from fairnn.certify.milp import MilpModel
from fairnn.errors import InvalidValueError
from fairnn.registry import Registry

if TYPE_CHECKING:
    import torch

__all__ = ["ACTIVATIONS", "Activation", "Filler", "NeuronLayer", "activation", "register"]

#: writes the auxiliary columns of a true input into ``state["vec"]`` (see
#: :meth:`fairnn.certify.encoding.Encoding.assignment` for the state's keys)
Filler = Callable[[dict[str, Any]], None]


@dataclass
class NeuronLayer:
    """One hidden layer of neurons as the encoding hands it to :meth:`Activation.encode`.

    ``phi[c]`` holds the pre-activation columns of copy ``c`` (one copy around a centre,
    or the two copies of a pair); every input the problem allows has ``L ≤ φ ≤ U`` in
    each copy and, for a pair, ``dL ≤ φ' - φ'' ≤ dU`` (:mod:`fairnn.certify.bounds`).
    ``index`` is the layer's position, so a filler reads its pre-activations from
    ``state["phi"][c][index]``. ``coupling`` asks for the relational rows between the
    copies, ``cross_cuts`` for ReLU's cross-copy implications, ``M`` for the size of a
    piecewise-linear grid (``2M + 1`` breakpoints). The op sets ``unstable``.
    """

    model: MilpModel
    phi: list[np.ndarray]
    L: np.ndarray
    U: np.ndarray
    dL: np.ndarray
    dU: np.ndarray
    index: int
    fillers: list[Filler]
    coupling: bool = True
    cross_cuts: bool = True
    M: int = 16
    #: neurons that needed a binary per copy (ReLU's unstable neurons)
    unstable: int = 0

    @property
    def copies(self) -> int:
        return len(self.phi)


class Activation(ABC):
    """A monotone scalar activation as certification sees it (one instance per name)."""

    #: the registered name (``NetSpec.activation`` / ``NetSpec.head``)
    name: ClassVar[str]
    #: may be a hidden layer's activation of a certified network
    hidden: ClassVar[bool] = True
    #: may be the output head ``f = offset + scale · head(z)``
    head: ClassVar[bool] = False
    #: ``g(z) = z``: a head that needs no envelope and no refinement
    linear: ClassVar[bool] = False
    #: affine on each of finitely many pieces (closed-form local certificates apply)
    piecewise_linear: ClassVar[bool] = False

    # -- the function ----------------------------------------------------------------
    @abstractmethod
    def value(self, x: np.ndarray) -> np.ndarray:
        """``g(x)`` elementwise in float64 numpy."""

    @abstractmethod
    def torch_value(self, t: torch.Tensor) -> torch.Tensor:
        """``g(t)`` elementwise in torch (differentiable)."""

    @abstractmethod
    def derivative(self, z: np.ndarray) -> np.ndarray:
        """``g'(z)`` elementwise (a piecewise-linear op: the slope of the piece right of ``z``)."""

    # -- bounds ----------------------------------------------------------------------
    def interval(self, L: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interval image of ``[L, U]`` (a monotone activation: ``[g(L), g(U)]``)."""
        return self.value(L), self.value(U)

    @abstractmethod
    def slope_range(self, L: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest slope of the activation between any two points of ``[L, U]``."""

    def diff_interval(
        self, L: np.ndarray, U: np.ndarray, dL: np.ndarray, dU: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bounds on ``g(a) - g(b)`` for ``a, b ∈ [L, U]`` with ``a - b ∈ [dL, dU]``.

        By the mean value theorem ``g(a) - g(b) = s·(a - b)`` for a slope ``s`` in
        :meth:`slope_range`; the difference is also at most the span ``g(U) - g(L)``.
        """
        m, k = self.slope_range(L, U)
        lo = np.minimum(m * dL, k * dL)
        hi = np.maximum(m * dU, k * dU)
        span = self.value(U) - self.value(L)
        return np.maximum(lo, -span), np.minimum(hi, span)

    def pair_diff_interval(
        self,
        L1: np.ndarray,
        U1: np.ndarray,
        L2: np.ndarray,
        U2: np.ndarray,
        dL: np.ndarray,
        dU: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bounds on ``g(a) - g(b)`` for ``a ∈ [L1, U1]``, ``b ∈ [L2, U2]``, ``a - b ∈ [dL,
        dU]``: :meth:`diff_interval` over the hull of both copies' bounds, intersected with
        ``[g(L1) - g(U2), g(U1) - g(L2)]`` (both sound)."""
        lo, hi = self.diff_interval(np.minimum(L1, L2), np.maximum(U1, U2), dL, dU)
        return (
            np.maximum(lo, self.value(L1) - self.value(U2)),
            np.minimum(hi, self.value(U1) - self.value(L2)),
        )

    def pair_diff_lines(
        self,
        L1: np.ndarray,
        U1: np.ndarray,
        L2: np.ndarray,
        U2: np.ndarray,
        dL: np.ndarray,
        dU: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Lines ``sl·Δ + cl ≤ g(a) - g(b) ≤ su·Δ + cu`` in ``Δ = a - b``, for ``a ∈ [L1,
        U1]``, ``b ∈ [L2, U2]`` and ``Δ ∈ [dL, dU]`` (elementwise): the relaxation the
        difference network's symbolic bounds back-substitute through
        (:mod:`fairnn.certify.symbolic`).

        By the mean value theorem ``g(a) - g(b) = s·Δ`` with ``s ∈ [m, k]``
        (:meth:`slope_range` over the hull of both copies' bounds), and ``{s·Δ}`` lies
        between ``min(mΔ, kΔ)`` (concave) and ``max(mΔ, kΔ)`` (convex) over ``[dL, dU]``:
        their chords are the lines; where the sign of ``Δ`` is known they are exact lines
        through 0."""
        m, k = self.slope_range(np.minimum(L1, L2), np.maximum(U1, U2))
        pos, neg = dL >= 0, dU <= 0
        cross = ~pos & ~neg
        w = np.where(cross, dU - dL, 1.0)
        # chords of max(mΔ, kΔ) (above) and min(mΔ, kΔ) (below) through (dL, ·) and (dU, ·)
        su_c = (k * dU - m * dL) / w
        sl_c = (m * dU - k * dL) / w
        su = np.where(pos, k, np.where(neg, m, su_c))
        sl = np.where(pos, m, np.where(neg, k, sl_c))
        cu = np.where(cross, m * dL - su_c * dL, 0.0)
        cl = np.where(cross, k * dL - sl_c * dL, 0.0)
        return sl, cl, su, cu

    def linear_bounds(
        self, L: np.ndarray, U: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Lines ``al·z + bl ≤ g(z) ≤ au·z + bu`` for every ``z ∈ [L, U]`` (elementwise),
        the linear relaxation that symbolic bounds (:mod:`fairnn.certify.symbolic`)
        back-substitute through.

        By default both lines have the smallest slope ``m`` of :meth:`slope_range`: since
        ``g' ≥ m`` on ``[L, U]``, ``g(z) ≥ g(L) + m(z - L)`` and ``g(z) ≤ g(U) - m(U - z)``.
        An op with a tighter relaxation overrides this (ReLU: the triangle).
        """
        m, _ = self.slope_range(L, U)
        return m, self.value(L) - m * L, m.copy(), self.value(U) - m * U

    def stable(self, L: np.ndarray, U: np.ndarray) -> np.ndarray:
        """Where the activation is one affine piece on ``[L, U]`` (elementwise; a smooth
        curve is affine on no interval, so by default nowhere)."""
        return np.zeros(np.shape(L), dtype=bool)

    def tighten(self, L: np.ndarray, U: np.ndarray) -> np.ndarray:
        """The neurons whose bounds LP tightening should improve (by default all)."""
        return np.arange(L.size)

    # -- the MILP --------------------------------------------------------------------
    @abstractmethod
    def encode(self, layer: NeuronLayer) -> list[np.ndarray]:
        """Add the rows of ``ζ = g(φ)`` for every neuron and copy of ``layer``.

        Returns, per copy, the column of each neuron's output (``-1`` for a constant
        0), and appends to ``layer.fillers`` what sets the auxiliary columns of a true
        input. Soundness: every true input (pair) with its true outputs satisfies
        every row added.
        """

    # -- as an output head -----------------------------------------------------------
    def pair_bound(self, L: float, U: float, dmax: float) -> float:
        """``max g(a) - g(b)`` over ``a, b ∈ [L, U]`` with ``0 ≤ a - b ≤ dmax``."""
        raise InvalidValueError(f"{self.name} cannot be an output head")

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


#: every activation certification knows, by name
ACTIVATIONS: Registry[Activation] = Registry(
    "activation", error=InvalidValueError, advice="Register one in fairnn.certify.ops."
)

A = TypeVar("A", bound=type[Activation])


def register(cls: A) -> A:
    """Class decorator: register one instance of ``cls`` as ``cls.name``."""
    ACTIVATIONS.register(cls.name, cls())
    return cls


def activation(name: str) -> Activation:
    """The registered activation ``name`` (an unknown name raises with a close match)."""
    return ACTIVATIONS.get(name)
