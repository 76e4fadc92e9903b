"""The user's own train/validation/test split, used exactly (never re-drawn by a seed).

A split comes as three tables (``train``, ``val``, ``test``: paths or DataFrames, which
must have the same columns) or as one table whose ``split_column`` names each row's
split (``train``, ``val`` or ``test``; ``validation`` and ``valid`` also mean ``val``).
:func:`own_split_rows` reads it into one frame with the row indices of each split (the
split column dropped, so it is never a feature) and the provenance a model file
records: the files, or the column, and each file's sha256. When a model file's data is
read again (``fairnn audit MODEL``) the checksums are compared, so the model is judged
on the very rows it was split into, or the change is named.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from fairnn.datasets.api import read_table
from fairnn.datasets.core import Splits
from fairnn.errors import ChecksumError, ColumnError, ConfigError, InvalidValueError

__all__ = [
    "OWN_SPLIT_FIELDS",
    "SPLITS",
    "SPLIT_VALUES",
    "OwnRows",
    "OwnSplitSpec",
    "check_groups",
    "file_checksum",
    "own_split_rows",
    "split_mapping",
]

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
#: the values of a split column (compared lower-cased and stripped), and the split of each
SPLIT_VALUES = {"train": "train", "val": "val", "validation": "val", "valid": "val", "test": "test"}
#: the :class:`~fairnn.datasets.sources.DataSpec` fields of an own split; a model file
#: records them only when set, so a seeded split's record is what it always was
OWN_SPLIT_FIELDS = ("val_file", "test_file", "split_column", "checksums")


def split_mapping(parts: Mapping[str, Any]) -> dict[str, Any]:
    """``{"train": ..., "val": ..., "test": ...}`` from a mapping whose keys are the three
    splits (``validation``/``valid`` also name ``val``); a ConfigError names what is off."""
    out: dict[str, Any] = {}
    for key, value in parts.items():
        split = SPLIT_VALUES.get(str(key).strip().lower())
        if split is None or split in out:
            why = "twice" if split in out else "unknown"
            raise ConfigError(
                f"your own split has key {key!r} ({why}); give exactly train, val and test"
            )
        out[split] = value
    missing = [s for s in SPLITS if s not in out]
    if missing:
        raise ConfigError(
            f"your own split lacks {', '.join(missing)}: give train, val and test (--train F "
            "--val F --test F), or one table with --split-column C"
        )
    return {s: out[s] for s in SPLITS}


def file_checksum(path: str | Path) -> str:
    """The sha256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class OwnRows:
    """An own split read: all rows in one ``frame``, the row ``indices`` of train, val and
    test, ``info`` for the splits (how they were split, the checksums) and ``where`` each
    split's rows came from (for messages)."""

    frame: pd.DataFrame
    indices: tuple[np.ndarray, np.ndarray, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)


class OwnSplitSpec(Protocol):
    """What :func:`own_split_rows` reads of a :class:`~fairnn.datasets.sources.DataSpec`."""

    dataset: str | None
    val_file: str | None
    test_file: str | None
    split_column: str | None
    checksums: dict[str, str] | None


def own_split_rows(
    spec: OwnSplitSpec,
    *,
    frame: pd.DataFrame | None = None,
    frames: Mapping[str, pd.DataFrame] | None = None,
) -> OwnRows:
    """Read ``spec``'s own split: its three files (or ``frames``), or its one file (or
    ``frame``) with a split column. Recorded checksums must match the files."""
    if spec.split_column is not None:
        paths = {} if frame is not None or spec.dataset is None else {"data": spec.dataset}
        if frame is None:
            frame = read_table(str(spec.dataset))
        name = "the DataFrame" if spec.dataset is None else repr(spec.dataset)
        rows = _by_column(frame, spec.split_column, name)
    else:
        paths = {}
        if frames is None:
            paths = {"train": spec.dataset, "val": spec.val_file, "test": spec.test_file}
            frames = {s: read_table(str(p)) for s, p in paths.items()}
        rows = _by_files(frames, {s: str(paths.get(s, "a DataFrame")) for s in SPLITS})
    sums = {k: file_checksum(str(p)) for k, p in paths.items()}
    _check_checksums(spec, sums, paths)
    rows.info["checksums"] = sums or None
    for split, idx in zip(SPLITS, rows.indices, strict=True):
        if len(idx) == 0:
            raise InvalidValueError(
                f"the {split} split ({rows.where[split]}) has no rows; every split needs rows: "
                f"put some in {split}"
            )
    return rows


def _by_files(frames: Mapping[str, pd.DataFrame], names: Mapping[str, str]) -> OwnRows:
    """Three tables as one frame (in the training table's column order)."""
    columns = list(frames["train"].columns)
    for split in ("val", "test"):
        other = list(frames[split].columns)
        if set(other) != set(columns):
            missing = [c for c in columns if c not in other]
            extra = [c for c in other if c not in columns]
            raise ColumnError(
                f"the {split} table ({names[split]}) does not have the columns of the train "
                f"table ({names['train']}): missing {missing[:10]}, extra {extra[:10]}; give the "
                "three tables the same columns"
            )
    parts = [frames[s][columns] for s in SPLITS]
    bounds = np.cumsum([0, *(len(p) for p in parts)])
    indices = tuple(np.arange(bounds[i], bounds[i + 1]) for i in range(3))
    frame = pd.concat(parts, ignore_index=True)
    where = {s: names[s] for s in SPLITS}
    return OwnRows(frame, indices, {"split": "own files"}, where)  # type: ignore[arg-type]


def _by_column(frame: pd.DataFrame, column: str, name: str) -> OwnRows:
    """One table split by the values of ``column`` (dropped from the frame)."""
    if column not in frame.columns:
        raise ColumnError(
            f"--split-column {column!r} is not a column of {name}; its columns are "
            f"{[str(c) for c in frame.columns][:20]}"
        )
    values = frame[column]
    split = values.map(lambda v: SPLIT_VALUES.get(str(v).strip().lower()) if pd.notna(v) else None)
    if split.isna().any():
        found = sorted({str(v) for v in values[split.isna()].unique()})[:10]
        raise ConfigError(
            f"--split-column {column!r} must hold train, val (or validation, valid) and test in "
            f"every row; found {found}: fix those rows, or name the right column"
        )
    indices = tuple(np.flatnonzero((split == s).to_numpy()) for s in SPLITS)
    where = {s: f"rows of {name} whose {column!r} is {s}" for s in SPLITS}
    info = {"split": f"own column {column!r}"}
    return OwnRows(frame.drop(columns=[column]), indices, info, where)  # type: ignore[arg-type]


def _check_checksums(spec: OwnSplitSpec, sums: Mapping[str, str], paths: Mapping[str, Any]) -> None:
    for key, recorded in (spec.checksums or {}).items():
        now = sums.get(key)
        if now is not None and now != recorded:
            raise ChecksumError(
                f"{paths[key]} has changed since the model was trained (sha256 {now[:12]}..., "
                f"recorded {recorded[:12]}...), so its {key} rows may not be the model's; restore "
                "the file, or audit the new one as other data (--data FILE --split all)"
            )


def check_groups(splits: Splits, where: Mapping[str, str]) -> None:
    """Every group needs training rows (a ValueError otherwise); a group without validation
    or test rows is warned about, since the gaps there compare the other groups only."""
    labels = splits.groups.labels
    for split, data in splits:
        present = set(np.unique(data.s.cpu().numpy()).tolist())
        missing = [labels[g] for g in range(len(labels)) if g not in present]
        if not missing:
            continue
        if split == "train":
            raise InvalidValueError(
                f"the train split ({where[split]}) has no rows of group(s) {missing[:5]} "
                f"(groups: {list(labels)[:10]}), so the model never sees them; put rows of "
                "each group in the train split, or drop that group's rows"
            )
        log.warning(
            "the %s split (%s) has no rows of group(s) %s: its fairness gaps compare the "
            "other groups only",
            split,
            where[split],
            missing[:5],
        )
