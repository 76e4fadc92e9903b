"""Charts for reports (matplotlib, no display needed).

:func:`pareto_plot` draws a utility-vs-gap scatter zoomed on the non-dominated points
(:func:`zoom_limits`): a point outside the zoomed axes is drawn clipped at their edge
with an outward-pointing triangle and a label giving its true values, and every point's
SVG element carries its configuration as a ``<title>`` (a tooltip where the SVG is
inlined in HTML) and its values as ``data-`` attributes.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from fairnn.experiments.tables import LABELS  # noqa: E402

#: the share of each axis the non-dominated points span at least, after zooming
FRONT_SHARE = 2 / 3
#: the room left around the non-dominated points, as a share of their span
MARGIN = 0.08
#: the smallest span of a zoomed axis (one point, or points with one value)
MIN_SPAN = 0.01
#: at most this many points outside the axes get a text label (all keep their tooltip)
MAX_EDGE_LABELS = 8


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
        fig.savefig(out, metadata={"Date": None} if ext == ".svg" else None)
        written.append(out)
    plt.close(fig)
    return written


# -- Pareto fronts ------------------------------------------------------------------
@dataclass(frozen=True)
class ScatterPoint:
    """One configuration in a Pareto plot: its gap (x), utility (y) and how to draw it."""

    x: float
    y: float
    series: str  # one colour per series (the method)
    label: str  # the configuration: the point's title
    on_front: bool = False  # non-dominated within its series
    degenerate: bool = False  # predicts (nearly) one class: drawn as a cross, never zoomed on

    @property
    def finite(self) -> bool:
        return math.isfinite(self.x) and math.isfinite(self.y)


def axis_limits(
    front: Sequence[float],
    others: Sequence[float] = (),
    *,
    margin: float = MARGIN,
    share: float = FRONT_SHARE,
    min_span: float = MIN_SPAN,
) -> tuple[float, float]:
    """One axis's limits: the ``front`` values with a ``margin`` (a share of their span),
    widened to take in ``others``, nearest first, while the front still spans at least
    ``share`` of the axis.

    The values of ``others`` left outside are the plot's outliers (drawn at the edge); an
    outlier never widens the axis.
    """
    vals = [v for v in front if math.isfinite(v)]
    if not vals:
        raise ValueError("axis_limits needs at least one finite front value")
    lo, hi = min(vals), max(vals)
    span = hi - lo
    if span < min_span:  # one value: centre a window of the smallest span on it
        mid = (lo + hi) / 2
        lo, hi, span = mid - min_span / 2, mid + min_span / 2, min_span
    lo, hi = lo - margin * span, hi + margin * span
    widest = span / share
    # the nearest of the other values first, each with its margin, while the axis fits
    outside = [v for v in others if math.isfinite(v) and not lo <= v <= hi]
    wanted = sorted(
        (v - margin * span if v < lo else v + margin * span for v in outside),
        key=lambda v: lo - v if v < lo else v - hi,
    )
    for v in wanted:
        if max(hi, v) - min(lo, v) <= widest:
            lo, hi = min(lo, v), max(hi, v)
    return lo, hi


def zoom_limits(
    points: Sequence[ScatterPoint],
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (x, y) limits of a Pareto plot: zoomed on the non-dominated, non-degenerate
    points (:func:`axis_limits`); the other non-degenerate points widen the axes while the
    fronts keep :data:`FRONT_SHARE` of each. Degenerate points never move the axes."""
    usable = [p for p in points if p.finite and not p.degenerate] or [p for p in points if p.finite]
    if not usable:
        return (0.0, 1.0), (0.0, 1.0)
    front = [p for p in usable if p.on_front] or usable
    rest = [p for p in usable if p not in front]
    return (
        axis_limits([p.x for p in front], [p.x for p in rest]),
        axis_limits([p.y for p in front], [p.y for p in rest]),
    )


def _side(v: float, lo: float, hi: float) -> int:
    """-1, 0 or 1: ``v`` is below, inside or above [lo, hi]."""
    return -1 if v < lo else 1 if v > hi else 0


#: a clipped point's edge, (x side, y side), by name and by the triangle pointing out of it
_EDGES = {
    (1, 0): ("right", ">"),
    (-1, 0): ("left", "<"),
    (0, 1): ("top", "^"),
    (0, -1): ("bottom", "v"),
}


def _edge_side(
    p: ScatterPoint, limits: tuple[tuple[float, float], tuple[float, float]]
) -> tuple[int, int]:
    """The edge a point outside the axes is drawn on: (0, 0) inside; past a corner, the
    edge it is farther beyond (as a share of that axis)."""
    (x0, x1), (y0, y1) = limits
    sx, sy = _side(p.x, x0, x1), _side(p.y, y0, y1)
    if sx and sy:
        far_x = (p.x - x1 if sx > 0 else x0 - p.x) / (x1 - x0)
        far_y = (p.y - y1 if sy > 0 else y0 - p.y) / (y1 - y0)
        return (sx, 0) if far_x >= far_y else (0, sy)
    return sx, sy


def pareto_plot(
    points: Sequence[ScatterPoint],
    path: str | Path,
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    gid: str,
) -> list[Path]:
    """Every point as a dot, each series' front (its ``on_front`` points) as a step line,
    zoomed by :func:`zoom_limits`. Writes PNG and SVG (with per-point titles).

    ``gid`` prefixes the ids of the SVG's elements, so several plots can be inlined in one
    page: the axes box is ``{gid}-axes``, point ``i`` is ``{gid}-pt{i}`` (class
    ``fairnn-point``, ``data-role`` front / dominated / degenerate, ``data-edge`` for a
    clipped point, ``data-x``/``data-y`` its true values) and its edge label
    ``{gid}-note{i}``.
    """
    (x0, x1), (y0, y1) = zoom_limits(points)
    fig, ax = plt.subplots(figsize=(5.6, 4.0), dpi=120)
    ax.patch.set_gid(f"{gid}-axes")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    cmap = plt.get_cmap("tab10")
    series = sorted({p.series for p in points})
    colour = {s: cmap(i % 10) for i, s in enumerate(series)}
    for s in series:
        front = sorted((p.x, p.y) for p in points if p.series == s and p.on_front and p.finite)
        if front:
            fx, fy = zip(*front, strict=True)
            ax.step(fx, fy, where="post", color=colour[s], lw=1.6, label=s, zorder=2)
        else:
            ax.plot([], [], color=colour[s], lw=1.6, label=s)
    titles: dict[str, tuple[str, dict[str, str]]] = {}
    clipped: list[tuple[int, ScatterPoint, float, float, tuple[int, int]]] = []
    for i, p in enumerate(points):
        if not p.finite:
            continue
        dx, dy = min(max(p.x, x0), x1), min(max(p.y, y0), y1)
        side = _edge_side(p, ((x0, x1), (y0, y1)))
        role = "degenerate" if p.degenerate else "front" if p.on_front else "dominated"
        attrs = {"role": role, "x": f"{p.x:.6g}", "y": f"{p.y:.6g}"}
        notes = [" (predicts nearly one class)"] if p.degenerate else []
        style: dict[str, Any] = dict(linestyle="none", color=colour[p.series], gid=f"{gid}-pt{i}")
        if side != (0, 0):
            attrs["edge"], marker = _EDGES[side]
            style.update(marker=marker, markersize=8, clip_on=False, zorder=5)
            notes.append(" (outside the axes)")
            clipped.append((i, p, dx, dy, side))
        elif p.degenerate:
            style.update(marker="X", markersize=7, zorder=4)
        elif p.on_front:
            style.update(marker="o", markersize=6, zorder=3)
        else:
            style.update(marker="o", markersize=4.5, alpha=0.45, zorder=2, markeredgewidth=0)
        style.setdefault("markeredgecolor", "black")
        style.setdefault("markeredgewidth", 0.5)
        ax.plot([dx], [dy], **style)
        values = f"{xlabel} {p.x:.4f}, {ylabel} {p.y:.4f}"
        titles[f"{gid}-pt{i}"] = (f"{p.label}: {values}{''.join(notes)}", attrs)
    _label_edges(ax, clipped, xlabel, ylabel, gid)
    _legend_extras(ax, points, clipped)
    ax.set_xlabel(f"{xlabel} (lower is fairer)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=7, loc="best")
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": gid}):
        written = save_figure(fig, path)
    svg = next(p for p in written if p.suffix == ".svg")
    svg.write_text(_with_titles(svg.read_text(encoding="utf-8"), titles), encoding="utf-8")
    return written


def _label_edges(ax: Any, clipped: list, xlabel: str, ylabel: str, gid: str) -> None:
    """Label the points drawn at the axes' edge with their configuration and true values
    (non-degenerate first, at most :data:`MAX_EDGE_LABELS`), inside the axes beside the
    marker, stacked per edge; say how many more there are."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    order = sorted(clipped, key=lambda c: c[1].degenerate)
    stack: dict[tuple[int, int], int] = {}
    for i, p, dx, dy, side in order[:MAX_EDGE_LABELS]:
        k = stack[side] = stack.get(side, -1) + 1
        # text runs towards the middle of the axes, away from the edge it is drawn on
        right = side[0] == 1 or (side[0] == 0 and dx > (x0 + x1) / 2)
        upper = side[1] == 1 or (side[1] == 0 and dy > (y0 + y1) / 2)
        ox = -8 if right else 8
        oy = (-10 if upper else 10) * (k + 1)
        ax.annotate(
            f"{p.label}{' (degenerate)' if p.degenerate else ''}: "
            f"{xlabel} {p.x:.3g}, {ylabel} {p.y:.3g}",
            (dx, dy),
            xytext=(ox, oy),
            textcoords="offset points",
            ha="right" if right else "left",
            va="center",
            fontsize=6.5,
            color="#333333",
            gid=f"{gid}-note{i}",
            annotation_clip=False,
            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8),
        )
    if len(order) > MAX_EDGE_LABELS:
        ax.text(
            0.99,
            0.01,
            f"+{len(order) - MAX_EDGE_LABELS} more outside (hover for values)",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=6.5,
            color="#555555",
        )


def _legend_extras(ax: Any, points: Sequence[ScatterPoint], clipped: list) -> None:
    """Legend entries (no data) for the marker kinds that appear: edge and degenerate."""
    kinds = [
        (bool(clipped), ">", "outside the axes (true values in label)"),
        (any(p.degenerate for p in points), "X", "degenerate (predicts ~one class)"),
    ]
    for shown, marker, label in kinds:
        if shown:
            ax.plot(
                [],
                [],
                linestyle="none",
                marker=marker,
                color="grey",
                label=label,
                markeredgecolor="black",
                markeredgewidth=0.5,
            )


def _with_titles(svg: str, titles: dict[str, tuple[str, dict[str, str]]]) -> str:
    """Give each ``<g id=...>`` named in ``titles`` its ``<title>`` and ``data-`` attributes."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in titles:
            return m.group(0)
        text, attrs = titles[m.group(1)]
        data = "".join(f' data-{k}="{html.escape(v)}"' for k, v in attrs.items())
        return (
            f'<g id="{m.group(1)}" class="fairnn-point"{data}>'
            f"<title>{html.escape(text, quote=False)}</title>"
        )

    return re.sub(r'<g id="([^"]+)">', sub, svg)
