"""Where the leaves of a branch and bound run: in this process, local worker processes or
a Dask cluster.

:class:`LeafPool` maps a picklable function over a list of tasks and returns the results
in the order of the tasks, whatever order they finish in, so a batch-synchronous search
(:mod:`fairnn.certify.branch`) gives the same result for any number of workers. The
certifier imports nothing above :mod:`fairnn.nn`, so it has its own small pool rather than
the experiment runner's (:mod:`fairnn.experiments.executors`).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Literal

from fairnn.errors import ConfigError

__all__ = ["Backend", "LeafPool"]

Backend = Literal["local", "dask"]


class LeafPool:
    """``workers`` processes of ``backend`` (``local``: :class:`ProcessPoolExecutor`;
    ``dask``: a ``distributed.Client`` to ``scheduler``, or to a local cluster of
    ``workers`` single-threaded processes). One local worker runs the tasks in this
    process. Local processes start by ``start`` (:mod:`multiprocessing`; ``spawn``, the
    safe default: the parent may hold torch and solver threads, which ``fork`` would copy;
    each spawned worker imports torch once, about 2 s). Use as a context manager; the
    processes start at the first :meth:`map`."""

    def __init__(
        self,
        workers: int = 1,
        backend: Backend = "local",
        scheduler: str | None = None,
        start: str = "spawn",
    ):
        if backend not in ("local", "dask"):
            raise ConfigError(f"backend must be 'local' or 'dask', got {backend!r}")
        if not (isinstance(workers, int) and workers >= 1):
            raise ConfigError(f"workers must be an integer >= 1, got {workers!r}")
        if scheduler is not None and backend != "dask":
            raise ConfigError("a scheduler address needs backend='dask' (--backend dask)")
        self.workers, self.backend, self.scheduler, self.start = workers, backend, scheduler, start
        self._pool: Any = None
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> LeafPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def inline(self) -> bool:
        return self.backend == "local" and self.workers == 1

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        """``[fn(t) for t in tasks]``, run by the workers, in the order of ``tasks``."""
        return list(self.imap(fn, tasks))

    def imap(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[Any]:
        """:meth:`map` as results come: every task is submitted at once, and each result is
        yielded, in the order of ``tasks``, as soon as it and those before it are done."""
        if not tasks:
            return iter(())
        if self.inline:
            return (fn(t) for t in tasks)
        if self.backend == "local":
            return self._local().map(fn, tasks)
        client = self._dask()
        futures = client.map(fn, list(tasks), pure=False)
        return (f.result() for f in futures)

    def _local(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context(self.start)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx, initializer=_ignore_sigint
            )
        return self._pool

    def _dask(self) -> Any:
        if self._client is None:
            try:
                from distributed import Client, LocalCluster
            except ImportError:
                raise ConfigError(
                    "backend 'dask' needs dask[distributed]: pip install 'fairnn[dask]', or use "
                    "--backend local"
                ) from None
            if self.scheduler:
                self._client = Client(self.scheduler)
            else:
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,
                )
                self._client = Client(self._cluster)
        return self._client

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _ignore_sigint() -> None:
    """Ctrl-C reaches the whole process group: the parent stops the search (and finishes the
    round); the workers must not die mid-task."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
