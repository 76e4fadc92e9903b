"""Paper reproductions: ``fairnn reproduce NAME``.

Each reproduction is a module in this package that registers a function
``run(out: Path, seeds: list[int], full: bool, device: str) -> Path`` with
:func:`register`; it writes its tables (Markdown), figures (PNG and SVG) and raw
results (JSON) under ``out`` and returns the path of its Markdown report. The
default size finishes on 2 CPU cores; ``full`` uses the paper's sizes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

from fairnn.errors import ConfigError

Reproduction = Callable[..., Path]
_REGISTRY: dict[str, tuple[Reproduction, str]] = {}


def register(name: str, description: str) -> Callable[[Reproduction], Reproduction]:
    def deco(fn: Reproduction) -> Reproduction:
        _REGISTRY[name] = (fn, description)
        return fn

    return deco


def _load_all() -> None:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


def list_reproductions() -> dict[str, str]:
    _load_all()
    return {name: desc for name, (_, desc) in sorted(_REGISTRY.items())}


def get_reproduction(name: str) -> Reproduction:
    _load_all()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none yet"
        raise ConfigError(f"unknown reproduction {name!r}; known: {known}")
    return _REGISTRY[name][0]
