"""Papers' wings: everything fairnn knows about one paper, in one subpackage.

A wing holds what only its paper needs and *registers* it into the core's registries;
the core (datasets, metrics, nn, training, methods, experiments, certify, cli) names no
paper. Each wing may have:

- ``data.py``: the paper's dataset recipes (:data:`fairnn.datasets.recipes.RECIPES`)
  and preprocessor types (:data:`fairnn.datasets.preprocess.PREPROCESSORS`);
- ``protocol.py``: its training protocols and the settings its paper fixes, such as
  λ and k tables (:data:`fairnn.experiments.protocols.PROTOCOLS`);
- ``study.py``: its reproduction, ``fairnn reproduce NAME``
  (:data:`fairnn.experiments.reproductions.STUDIES`);
- ``weights.py``: named similarity-metric weights for certification
  (:data:`fairnn.certify.metrics.WEIGHT_PRESETS`);
- other modules for the paper's own artifacts (NNFF's model, ``nnff/model.py``).

How the entries get registered. A core registry that wings extend is made with
``Registry(..., discover=PART)``; before it is first read it calls
:func:`fairnn.registry.discover`, which imports this module and calls :func:`load`
with ``PART``: ``fairnn.papers.<paper>.<PART>`` is imported for every paper in
:data:`PAPERS` that has one, and its module-level ``register`` calls fill the registry.
So ``import fairnn`` loads no paper, loading a dataset loads the wings' ``data``
modules only, and a wing's ``__init__`` stays empty. Wings import the core, never each
other; nothing in the core imports a wing (``.importlinter``; names:
``tests/test_no_names_in_core.py``).

Adding a paper: a subpackage here with the modules above, and its name in
:data:`PAPERS`.
"""

from __future__ import annotations

import importlib
import importlib.util

#: the wings, one subpackage each
PAPERS: tuple[str, ...] = ("runner", "fairbinn", "mindiff", "reprogramming", "nnff")

__all__ = ["PAPERS", "load"]


def load(part: str) -> None:
    """Import ``fairnn.papers.<paper>.<part>`` for every paper that has that module."""
    for paper in PAPERS:
        name = f"{__name__}.{paper}.{part}"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
