"""Fairness methods behind one interface and one registry (:data:`METHODS`).

Importing this package registers every built-in method.
"""

from fairnn.methods import (  # noqa: F401  (registration)
    adversarial,
    fairbinn,
    fairneuron,
    fairsmote,
    gapreg,
    iftrain,
    mindiff,
    oversample,
    reprogram,
    resampling,
    reweighing,
    roc,
    runner,
    vanilla,
)
from fairnn.methods.base import (
    METHODS,
    Architecture,
    Method,
    MethodParams,
    get_method,
    list_methods,
    make_method,
    register,
)
from fairnn.methods.fitted import FittedModel

__all__ = [
    "METHODS",
    "Architecture",
    "FittedModel",
    "Method",
    "MethodParams",
    "get_method",
    "list_methods",
    "make_method",
    "register",
]
