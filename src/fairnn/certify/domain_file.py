"""The domain spec file: the input domain of a certificate, written down.

A model trained by fairnn knows its input domain (one-hot blocks, integer columns, the
box of each column, immutable and sensitive columns) from its recipe. A model from
elsewhere, certified with ``--data TABLE``, knows only the table: every column becomes
continuous with the table's minimum and maximum as its box, which is a different (often
much larger) set of individuals. The domain spec file says what the domain is::

    {"format": "fairnn-domain", "version": 1, "features": [
      {"name": "age", "kind": "integer", "lower": 17, "upper": 90},
      {"name": "hours", "kind": "continuous", "lower": 1, "upper": 99},
      {"name": "sex", "kind": "binary", "sensitive": true, "mutable": false},
      {"name": "edu=HS", "kind": "onehot", "block": "edu"},
      {"name": "edu=BSc", "kind": "onehot", "block": "edu"}]}

One entry per model input, in the model's order, in model-input units (the values the
network reads). ``kind`` is ``continuous``, ``integer`` (the grid ``x = (k - offset) /
scale`` for integers ``k``; ``offset`` 0 and ``scale`` 1 mean the integers themselves),
``binary`` (its two bounds) or ``onehot`` (a ``block``: exactly one of its columns is 1).
``mutable: false`` holds a column equal in both members of a pair; ``sensitive: true``
gives it weight 0 in the weighted metrics (free). ``fairnn certify --save-domain FILE``
writes the domain a certificate used, for fairnn's own models too; edit it and pass it
back with ``--domain FILE``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fairnn.datasets.core import FEATURE_KINDS, Feature, FeatureMeta
from fairnn.errors import ConfigError, InvalidValueError

__all__ = ["read_domain", "write_domain"]

FORMAT = "fairnn-domain"
_KEYS = {f for f in Feature.__dataclass_fields__}


def write_domain(features: FeatureMeta, path: str | os.PathLike[str]) -> Path:
    """Write ``features`` as a domain spec file (atomically); returns the path."""
    doc = {"format": FORMAT, "version": 1, "features": features.to_list()}
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, p)  # never a half-written file
    return p


def read_domain(path: str | os.PathLike[str], names: list[str] | None = None) -> FeatureMeta:
    """The domain in ``path``; ``names`` (the model's inputs, when known) must match it."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--domain {str(p)!r} does not exist")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"--domain {str(p)!r} is not valid JSON: {e}") from None
    items = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items:
        raise ConfigError(
            f'--domain {str(p)!r} needs a non-empty "features" list, one entry per model input '
            "(fairnn certify --save-domain FILE writes one to start from)"
        )
    feats = []
    for i, it in enumerate(items):
        where = f"--domain {str(p)!r}, feature {i}"
        if not isinstance(it, dict) or "name" not in it or "kind" not in it:
            raise ConfigError(f'{where}: each entry needs "name" and "kind"')
        unknown = sorted(set(it) - _KEYS)
        if unknown:
            raise ConfigError(
                f"{where} ({it['name']!r}): unknown keys {unknown}; known: {sorted(_KEYS)}"
            )
        if it["kind"] not in FEATURE_KINDS:
            raise ConfigError(
                f"{where} ({it['name']!r}): kind {it['kind']!r} is not one of {FEATURE_KINDS}"
            )
        entry: dict[str, Any] = {"source": it.get("block") or it["name"], **it}
        try:
            feats.append(Feature(**entry))
        except (InvalidValueError, TypeError) as e:
            raise ConfigError(f"{where}: {e}") from None
    meta = FeatureMeta(tuple(feats))
    if names is not None and list(meta.names) != list(names):
        raise ConfigError(
            f"--domain {str(p)!r} names {len(meta.names)} inputs {list(meta.names)[:4]}...; the "
            f"model takes {len(names)} {list(names)[:4]}...: one entry per input, in order"
        )
    return meta
