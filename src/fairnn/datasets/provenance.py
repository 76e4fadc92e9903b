"""Where a dataset's rows come from, in one word, as ``fairnn datasets`` lists it."""

from __future__ import annotations

from typing import Any


def data_source(info: dict[str, Any]) -> str:
    """The source of the dataset that :func:`fairnn.datasets.dataset_info` describes.

    ``generated`` (no files: the rows are made in code), else where its files were found
    (the first location's origin, e.g. ``data_dir``, ``cache`` or ``bundled``), else
    ``download`` when fairnn can fetch them, else ``user-supplied`` (files only the user
    can provide, such as a licence-restricted image set).
    """
    if not info.get("files"):
        return "generated"
    found = [loc["origin"] for f in info.get("local", []) for loc in f.get("locations", [])]
    if found:
        return str(found[0])
    return "download" if any(info.get("download_urls") or []) else "user-supplied"
