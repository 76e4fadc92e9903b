"""Paper reproductions: ``fairnn reproduce NAME``.

A reproduction is a paper's ``study`` module (``fairnn.papers.<paper>.study``) that
registers a function ``run(out: Path, seeds: list[int], full: bool, device: str) -> Path``
with :func:`register` (into :data:`STUDIES`, which loads the papers' studies when it is
first read; :func:`fairnn.registry.discover`); it writes its tables (Markdown), figures
(PNG and SVG) and raw results (JSON) under ``out`` and returns the path of its Markdown
report. The default size finishes on 2 CPU cores; ``full`` uses the paper's sizes.
"""

from __future__ import annotations

import functools
import inspect
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


#: every reproduction by name (the papers' ``study`` modules register theirs)
STUDIES: Registry[Study] = Registry("reproduction", discover="study")


@dataclass(frozen=True)
class Pipeline:
    """A paper's own command (``fairnn NAME``, an alias beside ``fairnn reproduce``):
    ``run(**options) -> report`` and ``format(report) -> text``."""

    run: Callable[..., dict[str, Any]]
    format: Callable[[dict[str, Any]], str]


#: papers' own commands by name (registered by their ``study`` modules, as studies are)
PIPELINES: Registry[Pipeline] = Registry("paper command", discover="study")


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


def list_reproductions() -> dict[str, str]:
    """Every registered reproduction's one-line description, by name."""
    return {name: study.description for name, study in STUDIES.items()}


def get_reproduction(name: str) -> Reproduction:
    """The (seed-checking) entry point of reproduction ``name``."""
    return STUDIES.get(name).run
