"""Text and Markdown tables of metrics, for the CLI and reports."""

from __future__ import annotations

from collections.abc import Sequence

LABELS = {
    "accuracy": "accuracy",
    "ap": "AP",
    "dp_gap": "ΔDP",
    "eodds_gap_sum": "ΔEO (|ΔTPR|+|ΔFPR|)",
    "eodds_gap_max": "ΔEO (max)",
}


def _cells(rows: dict[str, dict[str, float]], columns: Sequence[str]) -> list[list[str]]:
    return [
        [name, *(f"{vals.get(c, float('nan')):.4f}" for c in columns)]
        for name, vals in rows.items()
    ]


def text_table(head: Sequence[str], body: Sequence[Sequence[str]], *, numeric: bool = True) -> str:
    """Aligned plain-text columns; with ``numeric`` every column but the first is right-aligned."""
    rows = [list(head), *map(list, body)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]

    def line(r: list[str]) -> str:
        cells = zip(r, widths, strict=True)
        return "  ".join(
            c.rjust(w) if numeric and j > 0 else c.ljust(w) for j, (c, w) in enumerate(cells)
        ).rstrip()

    rule = ["-" * w for w in widths]
    return "\n".join([line(rows[0]), line(rule), *(line(r) for r in rows[1:])])


def format_table(rows: dict[str, dict[str, float]], columns: Sequence[str]) -> str:
    """One row per key of ``rows``, one column per metric."""
    return text_table(["", *columns], _cells(rows, columns))


def markdown_table(
    rows: dict[str, dict[str, float]], columns: Sequence[str], first: str = "method"
) -> str:
    names = (LABELS.get(m, m).replace("|", "\\|") for m in columns)
    head = f"| {first} | " + " | ".join(names) + " |"
    sep = "|---|" + "---:|" * len(columns)
    return "\n".join([head, sep, *("| " + " | ".join(r) + " |" for r in _cells(rows, columns))])
