"""``python -m fairnn.cli``: the ``fairnn`` command."""

from fairnn.cli import main

main()
