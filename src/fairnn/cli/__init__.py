"""The ``fairnn`` command line. Thin: each command parses its options, calls
:mod:`fairnn.api` and prints the result's text or JSON.

One module per command group adds its commands to :data:`app` (``fairnn.cli.app``);
options several commands share are declared once in ``fairnn.cli.options``. The CLI
imports only :mod:`fairnn.api` and :mod:`fairnn.errors` (an import contract checks it).
``fairnn.api`` loads the heavy parts of fairnn inside its functions, so importing the CLI
and ``fairnn --help`` stay fast (tests/test_startup.py) while the command modules import
the façade at their top.

Method parameters pass straight through as ``--name value`` (``--lam 0.3``,
``--neuron_ratio 0.05``), so a paper's command line works as written; the
method's parameter model validates them, as it does for the Python API.
"""

from __future__ import annotations

# the command modules register their commands on import, in the order --help lists them
# isort: off
from fairnn.cli import (  # noqa: F401
    datasets,
    methods,
    train,
    audit,
    repair,
    export,
    monitor,
    reproduce,
    sweeps,
    certify,
    nnff,
    demo,
)

# isort: on
from fairnn.cli.app import app
from fairnn.cli.options import parse_extra

__all__ = ["app", "main", "parse_extra"]


def main() -> None:
    app()
