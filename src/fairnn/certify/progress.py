"""A long certificate shows its bounds as they improve, and Ctrl-C stops it cleanly.

:func:`anytime` wraps a certificate's work: HiGHS solves inside it report their dual
bound and incumbent (:class:`~fairnn.certify.solvers.SolveWatch`), shown on one line on a
terminal, and a first Ctrl-C (from the main thread) interrupts the running solve instead
of the program. HiGHS then returns its anytime bound, as at a time limit, and the
certificate is finished as usual: sound, with ``details["interrupted"]``. A second Ctrl-C
raises ``KeyboardInterrupt`` as Python would.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fairnn.certify.solvers import SolveWatch, watching

__all__ = ["anytime"]


@contextmanager
def anytime(show: bool, describe: Callable[[float, float], str]) -> Iterator[SolveWatch]:
    """``describe(dual_bound, incumbent)`` is the line shown (``show`` and a terminal)."""
    bar: Any = None
    if show and sys.stderr.isatty():
        from tqdm.auto import tqdm

        bar = tqdm(total=None, desc="certify", bar_format="{desc} {elapsed} {postfix}")
    watch = SolveWatch(
        on_bound=None if bar is None else (lambda b, i: bar.set_postfix_str(describe(b, i)))
    )
    previous = None
    if threading.current_thread() is threading.main_thread():

        def interrupt(signum: int, frame: Any) -> None:
            if watch.stop.is_set():
                raise KeyboardInterrupt
            watch.stop.set()

        previous = signal.signal(signal.SIGINT, interrupt)
    try:
        with watching(watch):
            yield watch
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if bar is not None:
            bar.close()
