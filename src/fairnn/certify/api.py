"""The certification entry points under their former module (re-exports).

``certify_global`` lives in :mod:`fairnn.certify.global_`, ``certify_local`` in
:mod:`fairnn.certify.local`, ``certify_model`` (the CLI's) in
:mod:`fairnn.certify.command`, their settings in :mod:`fairnn.certify.config`.
"""

from fairnn.certify.command import certify_model
from fairnn.certify.config import CertifyConfig
from fairnn.certify.global_ import certify_global
from fairnn.certify.local import certify_local
from fairnn.certify.problem import prepare
from fairnn.certify.witness import repair_pair

__all__ = [
    "CertifyConfig",
    "certify_global",
    "certify_local",
    "certify_model",
    "prepare",
    "repair_pair",
]
