"""``certify_model``: what ``fairnn certify`` computes and prints, as a JSON-ready dict."""

from __future__ import annotations

import os
from typing import Any

from fairnn.certify.config import CertifyConfig
from fairnn.certify.domain_file import read_domain, write_domain
from fairnn.certify.global_ import certify_global
from fairnn.certify.local import certify_local
from fairnn.certify.metrics import make_metric, read_matrix
from fairnn.datasets.core import FeatureMeta, TabularData
from fairnn.errors import ConfigError
from fairnn.validation import check_number

__all__ = ["certify_model"]


def certify_model(
    model: Any,
    *,
    eps: float,
    metric: str = "linf",
    weights: Any = None,
    local: int = 0,
    train: TabularData | None = None,
    rows: TabularData | None = None,
    solver: str = "highs",
    time_limit: float = 60.0,
    output: str | None = None,
    integers: str = "exact",
    progress: bool = True,
    matrix: Any = None,
    threads: int | None = None,
    domain: Any = None,
    save_domain: str | os.PathLike[str] | None = None,
    search: str = "milp",
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
) -> dict[str, Any]:
    """What ``fairnn certify`` prints, as a JSON-ready dict (``text`` holds the summary).

    ``train`` (the model's training split) seeds the attack, trains the
    Mahalanobis probe and derives ``weights="rank"``; ``rows`` supplies the first
    ``local`` points for local certificates (0: one global certificate). ``matrix`` (an
    array or a file, :func:`~fairnn.certify.metrics.read_matrix`) is ``S`` for
    ``mahalanobis``/``mahalanobis-box`` or ``A`` for ``embedding``, in model-input units.
    ``domain`` (a domain spec file or a FeatureMeta, :mod:`.domain_file`) replaces the
    input domain the model or its data implies; ``save_domain`` writes the one used.
    ``search``: ``milp`` (one MILP over the domain), ``branch`` (branch and bound over it,
    :mod:`.branch`, whose leaf MILPs run on ``workers`` processes of ``backend``, ``local``
    or ``dask`` at ``scheduler``). ``workers`` also run local certificates' points.
    """
    check_number(local, "local", integer=True, ge=0, hint="rows to certify; 0: the whole domain")
    if threads is not None:
        check_number(threads, "threads", integer=True, ge=1, hint="solver threads")
    features = getattr(model, "features", None) or (train.features if train else None)
    if domain is not None:
        names = None if features is None else features.names
        features = domain if isinstance(domain, FeatureMeta) else read_domain(domain, names)
    saved = None if save_domain is None else _save_domain(features, save_domain)
    chosen: Any = metric
    if matrix is not None:
        if features is None:
            raise ConfigError("--metric-matrix needs the model's features (a model with data)")
        if metric not in ("mahalanobis", "mahalanobis-box", "embedding"):
            raise ConfigError(
                f"--metric-matrix is S for mahalanobis or mahalanobis-box, or A for embedding; "
                f"--metric {metric} takes --weights"
            )
        M = read_matrix(matrix) if isinstance(matrix, str | os.PathLike) else matrix
        chosen = make_metric(metric, features, matrix=M, norm="l2", weights=weights)
        weights = None
    config = CertifyConfig(
        eps=eps,
        metric=chosen,
        threads=threads,
        weights=weights,
        output=output,
        solver=solver,
        time_limit=time_limit,
        integers=integers,
        progress=progress,
        search=search,
        workers=workers,
        backend=backend,
        scheduler=scheduler,
    )
    if local > 0:
        if rows is None:
            raise ConfigError(
                "--local needs the model's data (the model file names none); certify globally "
                "or use the Python API with your rows"
            )
        n = min(local, len(rows))
        res = certify_local(model, rows.X[:n], features or rows, config=config, data=train)
        out = res.to_dict()
        for c in out["certificates"]:
            raw = _raw_pair(features, c.get("witness"))
            if raw is not None:
                c["witness_raw"] = raw
        s = res.summary_dict()
        out["text"] = (
            f"local ε-δ-IF around {s['points']} rows, metric {metric}, ε = {eps:g}\n"
            f"  δ upper (proven): max {s['delta_upper_max']:.6g}, mean {s['delta_upper_mean']:.6g}\n"
            f"  δ lower (real network at witnesses): max {s['delta_lower_max']:.6g}\n"
            f"  exact (gap 0): {s['exact']} of {s['points']}; {s['time_s']:.2f}s "
            f"({s['per_second']:.1f} points/s)"
        )
        if s["unverified"]:
            first = next(c for c in res if c.status == "unverified")
            out["text"] += (
                f"\n  unverified (a solver claim was refuted, the propagated bound is "
                f"reported): {s['unverified']} of {s['points']}; first: "
                f"{first.details.get('reason', '?')}"
            )
        return _with_domain(out, saved)
    cert = certify_global(model, features, config=config, data=train)
    out = cert.to_dict()
    out["text"] = cert.summary()
    raw = _raw_pair(features, cert.witness)
    if raw is not None:
        out["witness_raw"] = raw
        out["text"] += "\n" + _pair_text(raw)
    return _with_domain(out, saved)


def _raw_pair(features: FeatureMeta | None, witness: Any) -> list[dict[str, Any]] | None:
    """The witness pair in the user's units (:meth:`FeatureMeta.to_raw`), when known."""
    if features is None or witness is None or len(features) != len(witness[0]):
        return None
    return [features.to_raw(w) for w in witness]


def _pair_text(raw: list[dict[str, Any]], most: int = 8) -> str:
    """The witness's columns that differ, in the user's units."""

    def show(v: Any) -> str:
        return f"{v:.6g}" if isinstance(v, float) else str(v)

    diff = [k for k in raw[0] if raw[0][k] != raw[1][k]]
    if not diff:
        return "  witness: one individual twice (no similar pair differs more)"
    cols = ", ".join(f"{k} {show(raw[0][k])} vs {show(raw[1][k])}" for k in diff[:most])
    more = f" (+{len(diff) - most} more)" if len(diff) > most else ""
    same = len(raw[0]) - len(diff)
    return f"  witness, in your units: {cols}{more}; {same} other columns equal"


def _save_domain(features: FeatureMeta | None, path: str | os.PathLike[str]) -> str:
    if features is None:
        raise ConfigError(
            "--save-domain needs the model's features: certify a fairnn model, or a model "
            "file with --data or --domain"
        )
    return str(write_domain(features, path))


def _with_domain(out: dict[str, Any], saved: str | None) -> dict[str, Any]:
    if saved is not None:
        out["domain_file"] = saved
        out["text"] += f"\n  domain written to {saved} (edit it; pass it back with --domain)"
    return out
