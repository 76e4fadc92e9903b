"""The public numpy function of a kernel, generated (as fairlearn's ``_generated_metrics.py``).

:func:`metric_function` builds ``f(y_true, y_pred | y_score, *, sensitive_features,
sample_weight=None) -> float`` for one entry of :data:`~fairnn.metrics._kernels.KERNELS`:
the second argument is ``y_pred`` for label metrics and ``y_score`` for score metrics, and
``sensitive_features`` is required for group gaps (elsewhere accepted and ignored). The
function carries its name, docstring and :class:`inspect.Signature`, so ``help()`` and
IDEs show the parameters, and it is found (and pickled) as ``fairnn.metrics.<name>``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fairnn.metrics._kernels import KERNELS, compute_one

__all__ = ["metric_function"]

#: the name of the prediction argument per kernel input kind
Y_NAME = {"label": "y_pred", "score": "y_score"}


def signature(y_name: str, needs_groups: bool) -> inspect.Signature:
    """``(y_true, <y_name>, *, sensitive_features[=None], sample_weight=None) -> float``."""
    P = inspect.Parameter
    groups_default = P.empty if needs_groups else None
    return inspect.Signature(
        [
            P("y_true", P.POSITIONAL_OR_KEYWORD, annotation=Any),
            P(y_name, P.POSITIONAL_OR_KEYWORD, annotation=Any),
            P("sensitive_features", P.KEYWORD_ONLY, default=groups_default, annotation=Any),
            P("sample_weight", P.KEYWORD_ONLY, default=None, annotation=Any),
        ],
        return_annotation=float,
    )


def metric_function(name: str, doc: str) -> Callable[..., float]:
    """The public function of the kernel ``name``, documented by ``doc``."""
    kernel = KERNELS[name]
    y_name = Y_NAME[kernel.input]
    sig = signature(y_name, kernel.needs_groups)

    def metric(*args: Any, **kwargs: Any) -> float:
        try:
            arguments = sig.bind(*args, **kwargs).arguments
        except TypeError as err:
            raise TypeError(f"{name}(): {err}") from None
        return compute_one(
            name,
            arguments["y_true"],
            arguments[y_name],
            y_name=y_name,
            sensitive_features=arguments.get("sensitive_features") if kernel.needs_groups else None,
            sample_weight=arguments.get("sample_weight"),
        )

    metric.__name__ = metric.__qualname__ = name
    metric.__doc__ = inspect.cleandoc(doc)
    metric.__module__ = "fairnn.metrics"
    metric.__signature__ = sig  # type: ignore[attr-defined]
    metric.__annotations__ = {
        **{p.name: p.annotation for p in sig.parameters.values()},
        "return": float,
    }
    return metric
