"""Paper reproductions: ``fairnn reproduce NAME``.

Each reproduction is a module in this package that registers a function
``run(out: Path, seeds: list[int], full: bool, device: str) -> Path`` with
:func:`register` (into :data:`STUDIES`); it writes its tables (Markdown), figures (PNG and SVG) and raw
results (JSON) under ``out`` and returns the path of its Markdown report. The
default size finishes on 2 CPU cores; ``full`` uses the paper's sizes.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairnn.errors import ConfigError
from fairnn.registry import Registry
from fairnn.validation import check_seed

Reproduction = Callable[..., Path]


@dataclass(frozen=True)
class Study:
    """A registered reproduction: its (seed-checking) entry point and a one-line description."""

    run: Reproduction
    description: str


#: every reproduction by name (filled when this package's modules are imported)
STUDIES: Registry[Study] = Registry("reproduction")


def register(name: str, description: str) -> Callable[[Reproduction], Reproduction]:
    """Register ``fn`` under ``name``; calls refuse an empty or negative ``seeds`` first."""

    def deco(fn: Reproduction) -> Reproduction:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Path:
            check_seeds(signature.bind(*args, **kwargs).arguments.get("seeds", [0]))
            return fn(*args, **kwargs)

        STUDIES.register(name, Study(checked, description), replace=True)
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
    return {name: study.description for name, study in STUDIES.items()}


def get_reproduction(name: str) -> Reproduction:
    _load_all()
    return STUDIES.get(name).run
