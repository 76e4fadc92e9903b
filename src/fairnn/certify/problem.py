"""What a certificate is computed for: the network, the input domain and the metric."""

from __future__ import annotations

from typing import Any

from fairnn.certify.domain import Domain
from fairnn.certify.metrics import SimilarityMetric, make_metric, weighted_metric
from fairnn.certify.network import CertNet, as_network
from fairnn.datasets.core import FeatureMeta, TabularData
from fairnn.errors import ConfigError, InvalidValueError

__all__ = ["prepare"]


def _features_of(model: Any, features: Any) -> FeatureMeta | Domain:
    if features is None:
        features = getattr(model, "features", None)
    if isinstance(features, TabularData):
        features = features.features
    if not isinstance(features, FeatureMeta | Domain):
        raise InvalidValueError(
            "certification needs the input domain: pass features= (a FeatureMeta, a TabularData "
            "or a Domain) or a fairnn model that carries its feature metadata"
        )
    return features


def prepare(
    model: Any,
    features: Any = None,
    *,
    metric: str | SimilarityMetric = "linf",
    weights: Any = None,
    data: TabularData | None = None,
    output: str | None = None,
    integers: str = "exact",
) -> tuple[CertNet, Domain, SimilarityMetric]:
    """The network, domain and metric a certificate is computed for."""
    task = getattr(model, "task", None)
    if task is None and isinstance(features, TabularData):
        task = features.task
    if task is None and data is not None:
        task = data.task
    net = as_network(model, task=task, output=output)
    feats = _features_of(model, features if features is not None else data)
    if isinstance(feats, Domain):
        domain = feats
        meta = None
    else:
        meta = feats
        domain = Domain.from_features(meta, integers)  # type: ignore[arg-type]
    if isinstance(metric, SimilarityMetric):
        met = metric
    else:
        if meta is None:
            if metric in ("linf", "l1", "l2"):
                met = weighted_metric(metric, domain.dim, weights)  # type: ignore[arg-type]
            else:
                raise ConfigError(f"metric {metric!r} needs feature metadata; pass a FeatureMeta")
        else:
            met = make_metric(metric, meta, weights=weights, data=data)
    if net.spec.in_features != domain.dim:
        raise InvalidValueError(
            f"the network takes {net.spec.in_features} inputs but there are {domain.dim} features"
        )
    if met.dim != domain.dim:
        raise InvalidValueError(
            f"the metric is defined on {met.dim} features but the domain has {domain.dim}"
        )
    return net, domain, met
