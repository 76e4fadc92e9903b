"""fairnn.certify: ε-δ individual-fairness certificates for neural networks.

``certify_global`` proves an upper bound on the largest output difference over
every pair of inputs in the domain within distance ε; ``certify_local`` does it
around given inputs; both take their settings as a ``CertifyConfig`` or keyword
arguments. Activations are ops registered by name (:mod:`fairnn.certify.ops`). See
docs/certify.md for the encoding and what is proven.
"""

from fairnn.certify.certificate import Certificate, LocalCertificates
from fairnn.certify.config import CertifyConfig
from fairnn.certify.domain import Domain
from fairnn.certify.encoding import EncodeOptions, encode, pwl_envelope, pwl_grid
from fairnn.certify.global_ import certify_global
from fairnn.certify.local import certify_local
from fairnn.certify.metrics import (
    SimilarityMetric,
    embedding_metric,
    mahalanobis_box_metric,
    mahalanobis_metric,
    make_metric,
    rank_weights,
    sensitive_subspace_matrix,
    weighted_metric,
)
from fairnn.certify.network import CertNet, NetSpec, as_network
from fairnn.certify.ops import ACTIVATIONS, Activation
from fairnn.certify.problem import prepare
from fairnn.certify.solvers import SOLVERS, solve

__all__ = [
    "ACTIVATIONS",
    "SOLVERS",
    "Activation",
    "CertNet",
    "CertifyConfig",
    "Certificate",
    "Domain",
    "EncodeOptions",
    "LocalCertificates",
    "NetSpec",
    "SimilarityMetric",
    "as_network",
    "certify_global",
    "certify_local",
    "embedding_metric",
    "encode",
    "mahalanobis_box_metric",
    "mahalanobis_metric",
    "make_metric",
    "prepare",
    "pwl_envelope",
    "pwl_grid",
    "rank_weights",
    "sensitive_subspace_matrix",
    "solve",
    "weighted_metric",
]
