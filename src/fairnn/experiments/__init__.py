"""Run specs, protocols and (later) sweeps, results stores and reports.

The names below load on first use (PEP 562), so importing a light submodule such
as :mod:`fairnn.experiments.tables` does not import torch and every method.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fairnn.experiments.protocols import protocol
    from fairnn.experiments.run import RunResult, run_spec
    from fairnn.experiments.spec import RunSpec

_LAZY = {
    "protocol": "fairnn.experiments.protocols",
    "RunResult": "fairnn.experiments.run",
    "run_spec": "fairnn.experiments.run",
    "RunSpec": "fairnn.experiments.spec",
}

__all__ = ["RunResult", "RunSpec", "protocol", "run_spec"]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
