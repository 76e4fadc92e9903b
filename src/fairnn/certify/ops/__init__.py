"""Activations as certification sees them: one class per activation, registered by name.

:data:`ACTIVATIONS` maps ``"relu"``, ``"sigmoid"``, ``"tanh"`` and ``"identity"`` to an
:class:`Activation`; the bounds, the encoding, the network and the certificates look
ops up there instead of switching on the name. To add one, subclass
:class:`Activation` (or :class:`SShaped` for a sigmoid-like curve) in a new module,
decorate it with :func:`register`, import the module here and run
:func:`fairnn.certify.ops.check.check_activation` on it (``tests/certify/test_ops.py``
does so for every registered op).
"""

from fairnn.certify.ops.base import ACTIVATIONS, Activation, NeuronLayer, activation, register
from fairnn.certify.ops.identity import Identity
from fairnn.certify.ops.relu import ReLU
from fairnn.certify.ops.sigmoid import Sigmoid
from fairnn.certify.ops.sshaped import SShaped
from fairnn.certify.ops.tanh import Tanh

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Identity",
    "NeuronLayer",
    "ReLU",
    "SShaped",
    "Sigmoid",
    "Tanh",
    "activation",
    "register",
]
