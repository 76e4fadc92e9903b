"""Worker processes that end with the process that started them.

A sweep's worker processes only compute; the sweep's process records their results.
A worker that outlived its sweep (``kill -9`` of the sweep) would keep training and
write model folders that the results store never records, so every worker calls
:func:`die_with_parent` first. Standard library only: cheap to import in a new process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int, poll_s: float = 0.5) -> None:
    """End this process as soon as ``parent`` ends, even by ``kill -9``.

    On Linux the kernel sends SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)``);
    the parent pid is checked after that, in case it died first. Everywhere, a daemon
    thread also polls ``os.getppid()`` every ``poll_s`` seconds and exits the process once
    it has been reparented.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):  # no prctl: the watchdog remains
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="fairnn-parent-watchdog", daemon=True).start()
