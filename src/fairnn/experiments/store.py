"""The results store: one SQLite file (WAL), one row per run keyed by ``RunSpec.key()``.

Table ``runs`` holds the spec, status (``done`` or ``failed``), error text,
timings and artifact paths, and ``degenerate`` (1 when the model predicts (nearly) one
class on validation or test, :mod:`fairnn.metrics.degenerate`; 0 when not; NULL when not
known: a failed run, a task without decisions, a run recorded before the column existed),
and, for a run that searched its fairness weight (``target_gap``,
:mod:`fairnn.experiments.target_gap`), the search's outcome: ``target_weight`` (the weight
chosen), ``target_met`` (1 when its validation gap met the target, 0 when no weight did)
and ``target_val_gap`` (the validation gap at that weight), NULL for other runs and left out
of their rows in :meth:`ResultStore.runs`;
table ``metrics`` holds one row per (run, split, metric), among them each split's
``selection_rate`` (the share of positive decisions) for a binary classifier.
Columns added after the first release (:data:`ADDED_COLUMNS`) are added to an older
database when it is opened where it can be written (its runs get NULL there); one that
can only be read shows them as NULL.

A run's row and its metrics are written in one transaction, so a process killed at any
moment leaves either the whole run or nothing: a restarted sweep runs exactly what is
missing. Writing a key again replaces its row (``INSERT ... ON CONFLICT``), so no run is
ever recorded twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fairnn.errors import FairnnError
from fairnn.experiments.spec import RunSpec
from fairnn.metrics.degenerate import JUDGED_SPLITS, degenerate_splits

DEFAULT_DB = "fairnn-results.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    sweep TEXT,
    dataset TEXT NOT NULL,
    recipe TEXT NOT NULL,
    method TEXT NOT NULL,
    mode TEXT NOT NULL,
    seed INTEGER NOT NULL,
    params TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    error TEXT,
    time_s REAL,
    wall_s REAL,
    started_at REAL,
    finished_at REAL,
    model_path TEXT,
    worker TEXT
);
CREATE TABLE IF NOT EXISTS metrics (
    key TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
    split TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (key, split, metric)
);
CREATE INDEX IF NOT EXISTS runs_by_group ON runs(dataset, mode, method);
"""
RUN_COLUMNS = (
    "key",
    "sweep",
    "dataset",
    "recipe",
    "method",
    "mode",
    "seed",
    "params",
    "spec",
    "status",
    "error",
    "time_s",
    "wall_s",
    "started_at",
    "finished_at",
    "model_path",
    "worker",
)
#: columns of ``runs`` added since the first release, with their SQL types: an older
#: database gets them (NULL for its runs) when opened where it can be written
ADDED_COLUMNS: dict[str, str] = {
    "degenerate": "INTEGER",
    "target_weight": "REAL",
    "target_met": "INTEGER",
    "target_val_gap": "REAL",
}
#: the columns that hold a fairness-weight search's outcome: column -> key of the search's
#: report (:attr:`fairnn.experiments.run.RunResult.target_gap`)
TARGET_COLUMNS = {"target_weight": "weight", "target_met": "met", "target_val_gap": "val_gap"}
FILTERS = ("dataset", "recipe", "method", "mode", "seed", "status", "sweep")
#: the values a filter may take, where they are a fixed set
CHOICES: dict[str, tuple[str, ...]] = {"status": ("done", "failed"), "mode": ("dp", "eo")}


class StoreError(FairnnError):
    """The results database is missing or unreadable."""


class ResultStore:
    """A results database. Safe to open from several processes (SQLite WAL)."""

    def __init__(self, path: str | Path = DEFAULT_DB, *, create: bool = True):
        self.path = Path(path)
        where = f"results database (--db) {str(self.path)!r}"
        if self.path.is_dir():
            raise StoreError(
                f"{where} is a folder; give a file path, e.g. --db {self.path / DEFAULT_DB}"
            )
        exists = self.path.exists()
        if not create and not exists:
            raise StoreError(f"no results database at {self.path}; run `fairnn sweep` first")
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._check_foreign(where)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.executescript(SCHEMA)
            self._add_columns()
        except (OSError, sqlite3.DatabaseError) as e:
            if hasattr(self, "conn"):
                self.conn.close()
            if not create and _readonly(e):  # reading a database in a read-only folder
                self.conn = sqlite3.connect(
                    f"{self.path.absolute().as_uri()}?immutable=1", uri=True
                )
                self._check_foreign(where)
                self.columns = self._columns()
                return
            raise StoreError(_open_error(e, self.path, where, exists)) from None

    def _check_foreign(self, where: str) -> None:
        """Refuse an SQLite file that holds other tables than a results database's."""
        tables = {
            r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(runs)")}
        if tables and (not {"runs", "metrics"} <= tables or not set(RUN_COLUMNS) <= columns):
            self.conn.close()
            raise StoreError(
                f"{where} is an SQLite database but not a fairnn results database (its tables: "
                f"{', '.join(sorted(tables))}); give a new file path or a database that "
                "`fairnn sweep` wrote"
            )

    def _columns(self) -> tuple[str, ...]:
        """The columns of ``runs`` this database has: :data:`RUN_COLUMNS` and those of
        :data:`ADDED_COLUMNS` it holds."""
        have = {r[1] for r in self.conn.execute("PRAGMA table_info(runs)")}
        return RUN_COLUMNS + tuple(c for c in ADDED_COLUMNS if c in have)

    def _add_columns(self) -> None:
        """Give a database written by an older fairnn the columns added since."""
        for name, kind in ADDED_COLUMNS.items():
            if name in self._columns():
                continue
            try:
                self.conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
            except sqlite3.OperationalError as e:  # another process added it first
                if "duplicate column" not in str(e):
                    raise
        self.columns = self._columns()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- writing ---------------------------------------------------------------
    def record(self, spec: RunSpec, outcome: dict[str, Any], sweep: str | None = None) -> None:
        """Write one run's outcome (see :func:`fairnn.experiments.executors.execute`)."""
        key = spec.key()
        row = {
            "key": key,
            "sweep": sweep,
            "dataset": spec.dataset,
            "recipe": spec.recipe,
            "method": spec.method,
            "mode": spec.mode,
            "seed": spec.seed,
            "params": json.dumps(outcome.get("params", spec.params), sort_keys=True, default=str),
            "spec": spec.model_dump_json(),
            "status": outcome["status"],
            "error": outcome.get("error"),
            "time_s": outcome.get("time_s"),
            "wall_s": outcome.get("wall_s"),
            "started_at": outcome.get("started_at"),
            "finished_at": outcome.get("finished_at", time.time()),
            "model_path": outcome.get("model_path"),
            "worker": outcome.get("worker"),
            "degenerate": _degenerate(outcome),
            **_target(outcome),
        }
        cols = ", ".join(self.columns)
        marks = ", ".join(f":{c}" for c in self.columns)
        update = ", ".join(f"{c}=excluded.{c}" for c in self.columns if c != "key")
        with self._tx() as c:
            c.execute(
                f"INSERT INTO runs ({cols}) VALUES ({marks}) ON CONFLICT(key) DO UPDATE SET {update}",
                row,
            )
            c.execute("DELETE FROM metrics WHERE key = ?", (key,))
            c.executemany(
                "INSERT INTO metrics (key, split, metric, value) VALUES (?, ?, ?, ?)",
                [
                    (key, split, name, _num(v))
                    for split, vals in (outcome.get("metrics") or {}).items()
                    for name, v in vals.items()
                ],
            )

    # -- reading ---------------------------------------------------------------
    def status(self) -> dict[str, str]:
        """``{key: status}`` of every recorded run."""
        return dict(self.conn.execute("SELECT key, status FROM runs"))

    def missing(self, specs: Iterable[RunSpec], *, retry_failed: bool = False) -> list[RunSpec]:
        """The specs that still have to run: not recorded (or failed, with ``retry_failed``)."""
        recorded = self.status()
        skip = {"done"} if retry_failed else {"done", "failed"}
        return [s for s in specs if recorded.get(s.key()) not in skip]

    def runs(self, **filters: Any) -> list[dict[str, Any]]:
        """Recorded runs as dicts with ``metrics`` = ``{split: {metric: value}}``."""
        where, args = [], []
        for name, value in filters.items():
            if name not in FILTERS:
                raise StoreError(f"unknown filter {name!r}; use one of {', '.join(FILTERS)}")
            if value is None:
                continue
            values = value if isinstance(value, list | tuple) else [value]
            if not values:
                continue
            bad = [v for v in values if name in CHOICES and v not in CHOICES[name]]
            if bad:
                raise StoreError(f"--{name} must be {' or '.join(CHOICES[name])}, got {bad[0]!r}")
            where.append(f"{name} IN ({', '.join('?' * len(values))})")
            args.extend(values)
        cond = " WHERE " + " AND ".join(where) if where else ""
        sql = f"SELECT {', '.join(self.columns)} FROM runs{cond}"
        sql += " ORDER BY dataset, mode, method, params, seed, key"
        unread = {c: None for c in ADDED_COLUMNS if c not in self.columns}  # a read-only old file
        rows = [
            dict(zip(self.columns, r, strict=True)) | unread for r in self.conn.execute(sql, args)
        ]
        metrics: dict[str, dict[str, dict[str, float]]] = {}
        for key, split, name, value in self.conn.execute(
            f"SELECT key, split, metric, value FROM metrics WHERE key IN (SELECT key FROM runs{cond})",
            args,
        ):
            metrics.setdefault(key, {}).setdefault(split, {})[name] = value
        for r in rows:
            r["params"] = json.loads(r["params"])
            r["metrics"] = metrics.get(r["key"], {})
            if r["degenerate"] is not None:
                r["degenerate"] = bool(r["degenerate"])
            if r["target_weight"] is None:  # not a search: no target columns in its row
                for c in TARGET_COLUMNS:
                    del r[c]
            elif r["target_met"] is not None:
                r["target_met"] = bool(r["target_met"])
        return rows

    def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


def _readonly(e: Exception) -> bool:
    """Whether SQLite failed because it may not write the file or its folder."""
    name = getattr(e, "sqlite_errorname", "")
    return name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or isinstance(e, PermissionError)


def _open_error(e: Exception, path: Path, where: str, exists: bool) -> str:
    """One line that says why the results database at ``path`` cannot be used."""
    if getattr(e, "sqlite_errorname", "") == "SQLITE_NOTADB":
        return (
            f"{where} is not an SQLite file (a text or other file?); give a new file path or "
            "a database that `fairnn sweep` wrote"
        )
    if not _readonly(e) and not isinstance(e, OSError):
        return f"{where} cannot be opened: {e}"
    if isinstance(e, OSError) and not isinstance(e, PermissionError):
        why = f"{e.strerror or e}" + (f" ({e.filename})" if e.filename else "")
    elif exists and not _writable(path):
        why = "the file is read-only"
    else:
        folder = path.absolute().parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        why = (
            f"the folder {str(folder)!r} is not writable (SQLite also writes "
            f"{path.name}-wal and {path.name}-shm beside the file)"
            if not _writable(folder)
            else str(e)
        )
    verb = "written" if exists else "created"
    return f"{where} cannot be {verb}: {why}; give a path in a folder you can write to"


def _writable(path: Path) -> bool:
    effective = os.access in os.supports_effective_ids
    return os.access(path, os.W_OK, effective_ids=effective)


def _degenerate(outcome: dict[str, Any]) -> int | None:
    """The ``degenerate`` column of a run: the outcome's, else judged from its metrics'
    selection rates (None when they do not tell: a failed run, a task without decisions)."""
    if "degenerate" in outcome:
        flag = outcome["degenerate"]
        return None if flag is None else int(bool(flag))
    metrics = outcome.get("metrics") or {}
    judged = [m for s, m in metrics.items() if s in JUDGED_SPLITS]
    if outcome.get("status") != "done" or not any("selection_rate" in m for m in judged):
        return None
    return int(bool(degenerate_splits(metrics)))


def _target(outcome: dict[str, Any]) -> dict[str, Any]:
    """The target columns of a run: its fairness-weight search's outcome, else NULL."""
    report = outcome.get("target_gap") or {}
    row = {c: report.get(k) for c, k in TARGET_COLUMNS.items()}
    if row["target_met"] is not None:
        row["target_met"] = int(bool(row["target_met"]))
    return row


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f


def runs_frame(runs: list[dict[str, Any]], splits: Iterable[str] | None = None) -> Any:
    """A flat pandas frame: one row per run, metric columns named ``split.metric``."""
    import pandas as pd

    wanted = set(splits) if splits is not None else None
    records = []
    for r in runs:
        rec = {k: v for k, v in r.items() if k not in ("metrics", "spec", "params")}
        rec["params"] = json.dumps(r["params"], sort_keys=True)
        for split, vals in r["metrics"].items():
            if wanted is not None and split not in wanted:
                continue
            for name, v in vals.items():
                rec[f"{split}.{name}"] = v
        records.append(rec)
    return pd.DataFrame.from_records(records)
