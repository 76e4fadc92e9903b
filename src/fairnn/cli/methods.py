"""``fairnn methods``: the registered methods, their stage, parameters and paper."""

from __future__ import annotations

from fairnn import api
from fairnn.cli.app import app
from fairnn.cli.options import friendly, show


@app.command("methods")
@friendly
def methods_list() -> None:
    """List the registered methods, their stage, parameters and paper."""
    show(api.methods())
