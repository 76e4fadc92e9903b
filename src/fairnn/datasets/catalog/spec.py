"""What fairnn records about a named dataset (:class:`DatasetSpec`) and the registry of them.

Each :class:`DatasetSpec` records where the bytes come from (files, URLs, sha256), the
licence and citation, the task, the label and its positive value, the sensitive
attributes, the default feature set, and a parser that turns the located files into one
tidy raw frame (named columns, the label column, sensitive columns as readable
strings, documented row filters applied). Preprocessing is *not* done here; recipes
(:mod:`fairnn.datasets.recipes`) turn the raw frame into :class:`~fairnn.datasets.core.Splits`.
Image and text datasets have a ``loader`` that builds the splits instead
(:func:`tensor_spec`).

The entries are the other modules of :mod:`fairnn.datasets.catalog`, one per dataset
(or family), each registering its spec into :data:`DATASETS` (a
:class:`~fairnn.registry.Registry`) when the catalog is imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pandas as pd

from fairnn.datasets.core import Task
from fairnn.datasets.files import DataFile
from fairnn.errors import DatasetError
from fairnn.registry import Registry

Source = str | os.PathLike[str] | BinaryIO
Parser = Callable[[Mapping[str, Source]], pd.DataFrame]


@dataclass(frozen=True, eq=False)
class DatasetSpec:
    """Everything fairnn records about one named dataset.

    ``sensitive`` is the default grouping attribute(s); ``sensitive_options`` every
    sensitive attribute the raw frame offers. ``sensitive_sources`` maps a *derived*
    sensitive column to the raw columns it is computed from (e.g. German's
    ``age_group`` from ``age``): when that attribute is used for grouping its sources
    leave ``X`` too, unless ``include_sensitive=True``. ``features`` is the default
    feature set of the ``clean`` recipe, ``categorical``/``continuous`` pin how each is
    encoded (no guessing for registered data), and ``optional_features`` are columns of
    the raw frame left out by default, each with the reason.
    """

    name: str
    title: str
    files: tuple[DataFile, ...]
    license: str
    citation: str
    homepage: str
    task: Task
    label: str
    positive_label: Any
    sensitive: tuple[str, ...]
    sensitive_options: tuple[str, ...]
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    continuous: tuple[str, ...]
    raw_rows: int | None  # None: unknown (a user-supplied file, e.g. health)
    rows: int | None
    parser: Parser
    sensitive_sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    optional_features: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: image and text datasets: ``loader(files, seed=, sensitive=, val_size=, test_size=,
    #: **options) -> Splits`` builds the splits directly (no raw frame, no recipe)
    loader: Callable[..., Any] | None = None

    @property
    def bundled(self) -> bool:
        """Whether every file of this dataset ships inside the package (``DataFile.bundled``)."""
        return bool(self.files) and all(f.bundled for f in self.files)

    def raw_frame(self, paths: Mapping[str, Source]) -> pd.DataFrame:
        """Parse the located files (keys: file names such as ``"adult.data"``) into the tidy raw frame."""
        missing = [f.name for f in self.files if f.name not in paths]
        if missing:
            raise DatasetError(f"{self.name}: no source given for {missing}")
        return self.parser(paths)

    def sources_of(self, attributes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """Raw columns that the given sensitive attributes are derived from."""
        out: list[str] = []
        for a in attributes:
            out.extend(c for c in self.sensitive_sources.get(a, ()) if c not in out)
        return tuple(out)

    def to_info(self) -> dict[str, Any]:
        """JSON-friendly summary (no parser)."""
        return {
            "name": self.name,
            "title": self.title,
            "task": self.task,
            "label": self.label,
            "positive_label": self.positive_label,
            "sensitive": list(self.sensitive),
            "sensitive_options": list(self.sensitive_options),
            "sensitive_sources": {k: list(v) for k, v in self.sensitive_sources.items()},
            "features": list(self.features),
            "optional_features": dict(self.optional_features),
            "raw_rows": self.raw_rows,
            "rows": self.rows,
            "license": self.license,
            "citation": self.citation,
            "homepage": self.homepage,
            "files": [
                {
                    "path": f.path,
                    "url": f.url,
                    "canonical_url": f.canonical_url,
                    "sha256": f.sha256,
                    "md5": f.md5,
                    "size": f.size,
                    "note": f.note,
                }
                for f in self.files
            ],
            "notes": list(self.notes),
            "modality": "tabular" if self.loader is None else "image/text",
        }


#: every dataset fairnn knows by name (looked up case- and space-insensitively)
DATASETS: Registry[DatasetSpec] = Registry(
    "dataset",
    error=DatasetError,
    normalize=lambda name: name.strip().lower(),
    advice="For your own data use fairnn.datasets.from_frame(df, label=..., sensitive=...).",
    cutoff=0.5,
)


def register_dataset(spec: DatasetSpec, *, replace: bool = False) -> DatasetSpec:
    """Add ``spec`` to the registry (``replace=True`` to overwrite an entry)."""
    return DATASETS.register(spec.name, spec, replace=replace)


def list_datasets() -> list[str]:
    """Names of the registered datasets, sorted."""
    return DATASETS.names()


def get_spec(name: str) -> DatasetSpec:
    """The spec of dataset ``name``; an unknown name raises with the known names and a close match."""
    return DATASETS.get(name)


#: the licence line of every UCI Machine Learning Repository entry
UCI_LICENSE = "CC BY 4.0 (UCI Machine Learning Repository)"


def no_parser(paths: Mapping[str, Source]) -> pd.DataFrame:
    """The parser of a dataset that its loader builds (images, text): never a raw frame."""
    raise DatasetError("this dataset is built by its loader, not parsed into a raw frame")


def tensor_spec(**kw: Any) -> DatasetSpec:
    """A spec for an image or text dataset: binary task, positive label 1, no tabular
    features, :func:`no_parser`, ``sensitive_options`` defaulting to ``sensitive``; ``kw``
    gives the rest (``loader`` among them) and may override these."""
    base: dict[str, Any] = dict(
        task="binary",
        positive_label=1,
        features=(),
        categorical=(),
        continuous=(),
        parser=no_parser,
    )
    base.update(kw)
    base.setdefault("sensitive_options", base["sensitive"])
    return DatasetSpec(**base)
