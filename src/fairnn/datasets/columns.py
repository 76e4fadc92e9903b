"""How a user's own table's columns become model inputs, and a preview of it.

The choices live on :class:`~fairnn.datasets.sources.DataSpec` (``drop``,
``categorical``, ``continuous``, ``sensitive_as_input``, ``positive_label``) and reach
the one preprocessing, :class:`~fairnn.datasets.preprocess.Preprocessor`, through
:func:`~fairnn.datasets.sources.resolve`. :func:`preview` fits that preprocessing's
schema on a table and says, per column, what training would do with it
(``fairnn datasets info my.parquet --label y --sensitive s``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from fairnn.datasets.preprocess import Preprocessor, check_columns
from fairnn.errors import ConfigError

__all__ = ["COLUMN_CHOICES", "drop_columns", "parse_group_names", "preview", "split_columns"]

#: the :class:`DataSpec` fields of a table's column choices that are left out of a spec's
#: dump and record while unset, so that specs and model files from before them keep
#: their identity
COLUMN_CHOICES = ("drop", "sensitive_as_input", "group_names")


def split_columns(value: Any) -> Any:
    """Column names given as ``"a,b"`` or ``["a,b", "c"]`` as a list ``["a", "b", "c"]``
    (``None`` and other values as they are, for the model's validation to judge)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return value
    out: list[Any] = []
    for item in value:
        if isinstance(item, str):
            out += [c.strip() for c in item.split(",") if c.strip()]
        else:
            out.append(item)
    return out


def parse_group_names(value: Any) -> Any:
    """Group display names as ``{column: {value: name}}`` with text keys.

    ``value`` is that mapping (values may be numbers: ``{"SEX": {1: "male"}}``) or the
    command line's ``"SEX=1:male,2:female"`` (a list of them: one per column).
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        parsed: dict[str, dict[str, str]] = {}
        for item in value:
            column, sep, pairs = str(item).partition("=")
            names = [p.partition(":") for p in pairs.split(",") if p.strip()]
            if not sep or not column.strip() or not names or any(not s for _, s, _ in names):
                raise ConfigError(
                    f"--group-names {item!r}: write COLUMN=VALUE:NAME[,VALUE:NAME], e.g. "
                    "SEX=1:male,2:female"
                )
            parsed.setdefault(column.strip(), {}).update(
                {v.strip(): n.strip() for v, _, n in names}
            )
        return parsed
    if isinstance(value, Mapping):
        return {
            str(c): {_value_text(v): str(n) for v, n in dict(names).items()}
            for c, names in value.items()
        }
    return value


def _value_text(v: Any) -> str:
    """A group value as the text the preprocessing names it by (``1.0`` and ``1``: ``"1"``)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def drop_columns(frame: pd.DataFrame, drop: Sequence[str] | None) -> pd.DataFrame:
    """``frame`` without the columns ``drop`` names (each must be there)."""
    if not drop:
        return frame
    check_columns(frame, list(drop), "--drop")
    return frame.drop(columns=list(drop))


def preview(
    frame: pd.DataFrame,
    *,
    label: str,
    sensitive: Sequence[str],
    categorical: Sequence[str] | None = None,
    continuous: Sequence[str] | None = None,
    drop: Sequence[str] | None = None,
    sensitive_as_input: bool | None = None,
    positive_label: Any = None,
    group_names: Mapping[str, Mapping[Any, str]] | None = None,
) -> dict[str, Any]:
    """How training would treat each column of ``frame`` (no split, no statistics).

    One row per column: its ``role`` (label, sensitive, input, dropped, constant), its
    ``kind`` as an input (continuous, integer, binary, categorical), its number of
    ``distinct`` values and its one-hot ``width``; and the preprocessing's ``warnings``.
    """
    pre = Preprocessor(
        label,
        list(sensitive),
        positive_label=positive_label,
        categorical=categorical,
        continuous=continuous,
        include_sensitive=bool(sensitive_as_input),
        group_names=group_names,
    )
    with _quiet("fairnn.datasets.preprocess"):
        pre.fit_schema(drop_columns(frame, drop))
    states = {st.name: st for st in pre.columns}
    rows = []
    for c in map(str, frame.columns):
        st = states.get(c)
        role = _role(c, st is not None, label, sensitive, pre.constant)
        rows.append(
            {
                "column": c,
                "role": role,
                "kind": st.kind if st is not None else None,
                "distinct": int(frame[c].nunique(dropna=True)),
                "width": st.width if st is not None else 0,
            }
        )
    return {
        "rows": len(frame),
        "columns": rows,
        "inputs": sum(r["width"] for r in rows),
        "positive_label": pre.positive_label,
        "groups": list(pre.group_labels),
        "warnings": list(pre.warnings),
    }


def _role(
    column: str, is_input: bool, label: str, sensitive: Sequence[str], constant: Sequence[str]
) -> str:
    """What ``column`` is to training: label, sensitive (and input), input, constant, dropped."""
    if column == label:
        return "label"
    if column in sensitive:
        return "sensitive, input" if is_input else "sensitive"
    if is_input:
        return "input"
    return "constant" if column in constant else "dropped"


class _quiet:
    """Hold back a logger's warnings (the preview returns them instead)."""

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)

    def __enter__(self) -> None:
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)

    def __exit__(self, *exc: Iterable[Any]) -> None:
        self.logger.setLevel(self.level)
