"""Paper reproductions: ``fairnn reproduce NAME``.

Each reproduction is a module in this package that registers a function
``run(out: Path, seeds: list[int], full: bool, device: str) -> Path`` with
:func:`register`; it writes its tables (Markdown), figures (PNG and SVG) and raw
results (JSON) under ``out`` and returns the path of its Markdown report. The
default size finishes on 2 CPU cores; ``full`` uses the paper's sizes.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fairnn.errors import ConfigError
from fairnn.validation import check_seed

Reproduction = Callable[..., Path]
_REGISTRY: dict[str, tuple[Reproduction, str]] = {}


def register(name: str, description: str) -> Callable[[Reproduction], Reproduction]:
    """Register ``fn`` under ``name``; calls refuse an empty or negative ``seeds`` first."""

    def deco(fn: Reproduction) -> Reproduction:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Path:
            check_seeds(signature.bind(*args, **kwargs).arguments.get("seeds", [0]))
            return fn(*args, **kwargs)

        _REGISTRY[name] = (checked, description)
        return fn

    return deco


def check_seeds(seeds: Any) -> None:
    """``seeds`` is a non-empty list of integers >= 0."""
    if isinstance(seeds, str) or not isinstance(seeds, Sequence) or not seeds:
        raise ConfigError(
            f"seeds must list at least one seed (the CLI's --seeds N runs 0..N-1, N >= 1), "
            f"got {seeds!r}"
        )
    for seed in seeds:
        check_seed(seed)


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
