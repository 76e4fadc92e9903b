"""Charts for reports (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from fairnn.experiments.tables import LABELS  # noqa: E402


def metric_bars(
    results: dict[str, dict[str, float]],
    metrics: Sequence[str],
    path: str | Path,
    title: str = "",
) -> list[Path]:
    """Grouped bars: one group per metric, one bar per method. Writes PNG and SVG."""
    methods = list(results)
    x = np.arange(len(metrics))
    width = 0.8 / max(len(methods), 1)
    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(metrics), 3.6), dpi=120)
    for i, m in enumerate(methods):
        vals = [results[m].get(k, np.nan) for k in metrics]
        bars = ax.bar(x + (i - (len(methods) - 1) / 2) * width, vals, width, label=m)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=1)
    ax.set_xticks(x, [LABELS.get(k, k) for k in metrics])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("value (test split)")
    ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return save_figure(fig, path)


def save_figure(fig: Figure, path: str | Path) -> list[Path]:
    """Lay out ``fig``, write it as PNG and SVG beside ``path`` (suffix replaced), close it."""
    fig.tight_layout()
    base = Path(path).with_suffix("")
    written = []
    for ext in (".png", ".svg"):
        out = base.with_suffix(ext)
        fig.savefig(out)
        written.append(out)
    plt.close(fig)
    return written
