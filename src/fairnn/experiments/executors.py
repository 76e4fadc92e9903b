"""Run a sweep's missing specs on local worker processes or a Dask cluster.

Workers only compute; the parent process alone writes to the results store,
one transaction per finished run. So a sweep stopped at any moment (Ctrl-C,
``kill -9``) keeps every finished run and, restarted, runs only the rest. Local
workers die with the sweep's process (:mod:`fairnn.experiments.lifeline`), and a run
deletes what an unrecorded earlier attempt left in its model folder.

Each worker sets ``torch.set_num_threads`` so that workers × threads does not
exceed the machine's cores, and keeps the last splits it loaded: consecutive runs
on the same dataset, recipe and seed (a sweep's order) load and preprocess the
data once.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fairnn.datasets.sources import resolve
from fairnn.errors import ConfigError, FairnnError
from fairnn.experiments.lifeline import die_with_parent
from fairnn.experiments.spec import RunSpec
from fairnn.experiments.store import ResultStore

Backend = Literal["local", "dask"]

_SPLITS: OrderedDict[str, Any] = OrderedDict()
_SPLITS_KEPT = 2


def _worker_splits(spec: RunSpec) -> Any:
    """The spec's splits, from this worker's cache of registered datasets (a copy each time).

    A user's table is read every time (it may change on disk between runs); a registered
    dataset's key also holds the data folder, so a changed ``FAIRNN_DATA_DIR`` reloads.
    """
    import copy

    data = spec.data
    if data.is_table:
        return resolve(data)
    key = data.model_dump_json() + "|" + os.environ.get("FAIRNN_DATA_DIR", "")
    if key not in _SPLITS:
        _SPLITS[key] = resolve(data)
        while len(_SPLITS) > _SPLITS_KEPT:
            _SPLITS.popitem(last=False)
    _SPLITS.move_to_end(key)
    return copy.deepcopy(_SPLITS[key])


class SweepInterrupted(FairnnError):
    """The sweep was stopped (Ctrl-C); finished runs are kept."""


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Torch threads for each of ``workers`` so that they do not oversubscribe the cores."""
    return max(1, (cores or cpu_count()) // max(1, workers))


def execute(
    spec_json: str, threads: int | None = 1, models_dir: str | None = None, device: str = "cpu"
) -> dict[str, Any]:
    """Run one spec in this process; never raises for a failing run, returns its outcome."""
    import torch

    from fairnn.experiments.target_gap import run_spec_or_search

    if threads is None:  # on a remote Dask worker: share its machine's cores among its threads
        threads = _dask_worker_threads()
    heap_for_tensors()  # a Dask worker's allocator settings (local workers: no-op)
    torch.set_num_threads(max(1, threads))
    started = time.time()
    t0 = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    spec = RunSpec.model_validate_json(spec_json)
    try:
        out = Path(models_dir) / spec.key() if models_dir else None
        if out is not None:
            discard_unrecorded(out)
        result = run_spec_or_search(
            spec,
            out=out,
            splits=_worker_splits(spec),
            runtime={"progress": False, "device": device},
            overwrite=True,  # a rerun after a crash replaces what the run saved before
        )
    except Exception as e:  # a failing run is recorded, the sweep goes on
        error = (
            f"{type(e).__name__}: {e}"
            if isinstance(e, FairnnError)
            else "".join(traceback.format_exception(e)).strip()
        )
        return {
            "status": "failed",
            "error": error,
            "wall_s": time.perf_counter() - t0,
            "started_at": started,
            "finished_at": time.time(),
            "worker": worker,
        }
    return {
        "status": "done",
        "metrics": result.metrics,
        "time_s": result.time_s,
        "wall_s": time.perf_counter() - t0,
        "started_at": started,
        "finished_at": time.time(),
        "model_path": result.model_path,
        "worker": worker,
        "target_gap": result.target_gap,
    }


def discard_unrecorded(out: Path) -> None:
    """Delete what an unrecorded run left at ``out``: its model folder and temporary folders.

    A run goes to a worker only while the store does not record it as done, so anything
    there was written by a run the store never recorded (e.g. a worker of a killed sweep).
    """
    from fairnn.atomic import leftovers

    for path in [out, *leftovers(out)]:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists() or path.is_symlink():
            path.unlink()


_MALLOC_FIXED = False


def heap_for_tensors() -> bool:
    """Undo, in this process, what ``MALLOC_TRIM_THRESHOLD_`` does to glibc's allocator.

    Dask's nanny starts every worker with ``MALLOC_TRIM_THRESHOLD_=65536``
    (``distributed.nanny.pre-spawn-environ``). Setting the variable also switches off
    glibc's adaptive mmap threshold, so every block above 128 KiB (a 256×200 float32
    activation is 200 KiB) is mmap'ed and unmapped again at each training step; small-MLP
    training then runs about 1.5× slower (``benchmarks/dask_overhead.py``). With the
    variable set, this raises the mmap threshold to 32 MiB and the trim threshold to
    64 MiB through ``mallopt``, so such blocks are reused from the heap. Returns whether
    it changed anything (only on glibc, only when the variable is set).
    """
    global _MALLOC_FIXED
    if _MALLOC_FIXED or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    _MALLOC_FIXED = bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(
        mallopt(m_trim_threshold, 64 << 20)
    )
    return _MALLOC_FIXED


def _dask_worker_threads() -> int:
    try:
        from distributed import get_worker

        return threads_per_worker(get_worker().state.nthreads)
    except Exception:  # pragma: no cover - not on a dask worker
        return 1


def _init_worker(threads: int, parent: int | None = None) -> None:
    if parent is not None:
        die_with_parent(parent)
    import torch

    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    torch.set_num_threads(threads)


@dataclass
class SweepSummary:
    """What :func:`run_specs` did: ``skipped`` runs were recorded already, ``failed_before``
    of them as failed (not run again without ``retry_failed``)."""

    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    failed_before: int = 0

    @property
    def ran(self) -> int:
        return self.done + self.failed

    @property
    def failures(self) -> int:
        """The runs of the sweep that have no result: failed now or in an earlier run."""
        return self.failed + self.failed_before


def check_run_options(
    workers: int = 1, threads: int | None = None, backend: str = "local", device: str = "cpu"
) -> None:
    """Raise a :class:`ConfigError` for an execution setting no run could use."""
    from fairnn.training.config import TrainConfig

    for name, value in (("workers", workers), ("threads", threads)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ConfigError(f"--{name} must be an integer ≥ 1, got {value!r}")
    if backend not in ("local", "dask"):
        raise ConfigError(f"--backend must be local or dask, got {backend!r}")
    TrainConfig.make(device=device)  # a bad device is one error now, not one per run


def twin_key(spec: RunSpec) -> str:
    """A key shared by specs whose runs are identical but for their ``mode`` label.

    A sweep lists every method under both notions (``modes: [dp, eo]``) so that each
    notion's report shows all methods. A method without a notion parameter (vanilla,
    pre-processing, IF-fair training, …) trains the same model under both when the
    recipe's protocol does not depend on the notion either; such a run is computed
    once and recorded under each spec.
    """
    from fairnn.experiments.run import train_config
    from fairnn.methods.base import get_method

    try:
        cls = get_method(spec.method)
        if cls.notion_param in cls.Params.model_fields or spec.mode == "dp":
            return spec.key()
        dp = spec.model_copy(update={"mode": "dp"})
        if train_config(dp) != train_config(spec):
            return spec.key()
        return dp.key()
    except FairnnError:  # an invalid spec runs (and fails) on its own
        return spec.key()


def run_specs(
    specs: Sequence[RunSpec],
    store: ResultStore,
    *,
    backend: Backend = "local",
    workers: int = 1,
    scheduler: str | None = None,
    sweep: str | None = None,
    retry_failed: bool = False,
    models_dir: str | Path | None = None,
    progress: bool = True,
    threads: int | None = None,
    device: str = "cpu",
    on_result: Callable[[RunSpec, dict[str, Any]], None] | None = None,
) -> SweepSummary:
    """Run the specs the store does not hold yet and record each as it finishes.

    ``threads`` sets torch's threads per worker (default: the cores divided by
    ``workers``); ``device`` (cpu, cuda, cuda:N) does not change a run's key;
    ``on_result(spec, outcome)`` is called after each run is recorded.
    """
    from tqdm.auto import tqdm

    check_run_options(workers, threads, backend, device)
    todo = store.missing(specs, retry_failed=retry_failed)
    recorded = store.status()
    summary = SweepSummary(
        total=len(specs),
        skipped=len(specs) - len(todo),
        failed_before=0 if retry_failed else sum(recorded.get(s.key()) == "failed" for s in specs),
    )
    twins: dict[str, list[RunSpec]] = {}
    for spec in todo:
        twins.setdefault(twin_key(spec), []).append(spec)
    leaders = [group[0] for group in twins.values()]
    followers = {group[0].key(): group[1:] for group in twins.values()}
    models = str(models_dir) if models_dir is not None else None
    bar = tqdm(
        total=len(todo),
        desc=sweep or "sweep",
        unit="run",
        disable=not progress or not todo,
        dynamic_ncols=True,
    )

    def finished(leader: RunSpec, outcome: dict[str, Any]) -> None:
        for spec in [leader, *followers.get(leader.key(), [])]:
            record(spec, outcome)

    def record(spec: RunSpec, outcome: dict[str, Any]) -> None:
        store.record(spec, outcome, sweep=sweep)
        if outcome["status"] == "done":
            summary.done += 1
        else:
            summary.failed += 1
            bar.write(
                f"failed: {spec.method} {spec.params} seed {spec.seed}: "
                f"{(outcome.get('error') or 'unknown error').strip().splitlines()[-1]}"
            )
        bar.set_postfix(
            done=summary.done,
            failed=summary.failed,
            remaining=len(todo) - summary.ran,
            refresh=False,
        )
        bar.update(1)
        if on_result is not None:
            on_result(spec, outcome)

    try:
        if not todo:
            return summary
        if backend == "dask":
            _run_dask(leaders, finished, workers, scheduler, models, threads, device)
        elif workers == 1:
            n = threads or threads_per_worker(1)
            for spec in leaders:
                finished(spec, execute(spec.model_dump_json(), n, models, device))
        else:
            _run_local(leaders, finished, workers, models, threads, device)
    except KeyboardInterrupt:
        raise SweepInterrupted(
            f"interrupted: {summary.ran} of {len(todo)} runs finished and recorded in "
            f"{store.path}; run the same command again to run the "
            f"{len(todo) - summary.ran} missing"
        ) from None
    finally:
        bar.close()
    return summary


def _run_local(
    todo: Sequence[RunSpec],
    finished: Callable[[RunSpec, dict[str, Any]], None],
    workers: int,
    models: str | None,
    threads: int | None = None,
    device: str = "cpu",
) -> None:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    workers = min(workers, len(todo))
    threads = threads or threads_per_worker(workers)
    pool = ProcessPoolExecutor(
        workers,
        mp_context=mp.get_context("spawn"),
        initializer=_init_worker,
        initargs=(threads, os.getpid()),
    )
    try:
        pending = {
            pool.submit(execute, s.model_dump_json(), threads, models, device): s for s in todo
        }
        while pending:
            ready, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in ready:
                spec = pending.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as e:  # the worker process died (e.g. out of memory)
                    outcome = {"status": "failed", "error": f"worker died: {e!r}"}
                finished(spec, outcome)
    except BaseException:
        # stopped (Ctrl-C): do not wait for the runs in flight, they are not recorded
        procs = getattr(pool, "_processes", None) or {}
        for proc in list(procs.values()):
            proc.terminate()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _run_dask(
    todo: Sequence[RunSpec],
    finished: Callable[[RunSpec, dict[str, Any]], None],
    workers: int,
    scheduler: str | None,
    models: str | None,
    threads: int | None = None,
    device: str = "cpu",
) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError(
            "the dask backend needs dask[distributed]: pip install 'fairnn[dask]'"
        ) from None
    cluster = None
    if scheduler:
        client = Client(scheduler)  # without --threads each worker decides from its machine
    else:
        threads = threads or threads_per_worker(workers)
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )
        client = Client(cluster)
    try:
        futures = {
            client.submit(
                execute, s.model_dump_json(), threads, models, device, key=f"fairnn-run-{s.key()}"
            ): s
            for s in todo
        }
        for fut in as_completed(futures):
            spec = futures[fut]
            try:
                outcome = fut.result()
            except Exception as e:  # the worker died or the task was lost
                outcome = {"status": "failed", "error": f"dask task failed: {e!r}"}
            finished(spec, outcome)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
