"""Reports from a results store: Pareto fronts, hypervolume, mean ± std tables, HTML.

For each dataset and fairness notion (the runs' ``mode``), every configuration
(method + parameters + recipe + training settings) becomes one point: its mean
over seeds of a utility metric (AP, accuracy; higher is better) and of the
notion's gap (ΔDP, or ΔEO as |ΔTPR| + |ΔFPR|; lower is better) on one split.
A method's Pareto front is its non-dominated points; its hypervolume is the
area those points dominate inside [0, 1] gap × [0, 1] utility, reference point
(gap 1, utility 0): larger is better, 1 is a perfect, fair classifier.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fairnn.experiments.tables import LABELS  # noqa: E402
from fairnn.notion import NOTIONS, Notion  # noqa: E402

UTILITIES = ("ap", "accuracy")
TABLE_METRICS = ("accuracy", "ap", "dp_gap", "eodds_gap_sum")


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated points (minimise x = gap, maximise y = utility), by x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -math.inf
    for i in order:
        x, y = points[i]
        if math.isnan(x) or math.isnan(y):
            continue
        if y > best:
            front.append(i)
            best = y
    return front


def hypervolume(
    points: Sequence[tuple[float, float]], ref: tuple[float, float] = (1.0, 0.0)
) -> float:
    """Area dominated by ``points`` (gap ↓, utility ↑) and bounded by ``ref`` = (gap, utility)."""
    pts = [(min(x, ref[0]), y) for x, y in points if not (math.isnan(x) or math.isnan(y))]
    front = [pts[i] for i in pareto_front(pts)]
    area = 0.0
    for j, (x, y) in enumerate(front):
        nxt = front[j + 1][0] if j + 1 < len(front) else ref[0]
        area += max(nxt - x, 0.0) * max(y - ref[1], 0.0)
    return area


def config_label(run: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(run["params"].items()))
    return f"{run['method']}({params})" if params else run["method"]


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _config_key(run: dict[str, Any]) -> str:
    spec = (
        json.loads(run["spec"]) if isinstance(run.get("spec"), str) else dict(run.get("spec") or {})
    )
    spec.pop("seed", None)
    return json.dumps(spec, sort_keys=True)


def aggregate(runs: list[dict[str, Any]], split: str = "test") -> list[dict[str, Any]]:
    """One entry per configuration: mean, std and n over seeds of every metric on ``split``."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        if r.get("status", "done") == "done" and split in r["metrics"]:
            groups.setdefault(_config_key(r), []).append(r)
    out = []
    for members in groups.values():
        first = members[0]
        names = sorted({m for r in members for m in r["metrics"][split]})
        stats = {}
        for m in names:
            vals = np.array([r["metrics"][split].get(m, np.nan) for r in members], dtype=float)
            vals = vals[~np.isnan(vals)]
            stats[m] = (
                float(vals.mean()) if len(vals) else math.nan,
                float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
            )
        out.append(
            {
                "dataset": first["dataset"],
                "recipe": first["recipe"],
                "mode": first["mode"],
                "method": first["method"],
                "params": first["params"],
                "label": config_label(first),
                "seeds": sorted(r["seed"] for r in members),
                "stats": stats,
            }
        )
    return out


def _slug(*parts: str) -> str:
    return "-".join("".join(c if c.isalnum() else "_" for c in p) for p in parts)


def pareto_plot(
    configs: list[dict[str, Any]], gap: str, utility: str, path: Path, title: str
) -> list[Path]:
    """Scatter of every configuration, each method's front as a step line. PNG and SVG."""
    fig, ax = plt.subplots(figsize=(5.6, 4.0), dpi=120)
    methods = sorted({c["method"] for c in configs})
    cmap = plt.get_cmap("tab10")
    for i, m in enumerate(methods):
        pts = [
            (c["stats"].get(gap, (math.nan,))[0], c["stats"].get(utility, (math.nan,))[0])
            for c in configs
            if c["method"] == m
        ]
        color = cmap(i % 10)
        xs, ys = zip(*pts, strict=True) if pts else ((), ())
        ax.scatter(xs, ys, s=18, color=color, alpha=0.45)
        front = [pts[j] for j in pareto_front(pts)]
        if front:
            fx, fy = zip(*front, strict=True)
            ax.step(fx, fy, where="post", color=color, lw=1.6, label=m)
            ax.scatter(fx, fy, s=30, color=color, edgecolor="black", linewidth=0.5)
    ax.set_xlabel(f"{LABELS.get(gap, gap)} (lower is fairer)")
    ax.set_ylabel(LABELS.get(utility, utility))
    ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    written = []
    for ext in (".png", ".svg"):
        p = path.with_suffix(ext)
        fig.savefig(p)
        written.append(p)
    plt.close(fig)
    return written


def _pm(stat: tuple[float, float] | None) -> str:
    if stat is None or math.isnan(stat[0]):
        return "-"
    return f"{stat[0]:.4f} ± {stat[1]:.4f}"


def write_report(runs: list[dict[str, Any]], out: str | Path, split: str = "test") -> Path:
    """Write figures (PNG+SVG), Markdown tables and ``index.html`` under ``out``."""
    from fairnn.errors import FairnnError

    out = Path(out)
    configs = aggregate(runs, split)
    if not configs:
        done = [r for r in runs if r.get("status", "done") == "done"]
        have = sorted({s for r in done for s in r["metrics"]})
        raise FairnnError(
            f"--split {split!r}: the finished runs have no such metrics; use one of "
            f"{', '.join(have)}"
            if have
            else "no finished runs to report; failed runs show with: fairnn results --status failed"
        )
    try:
        (out / "figures").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FairnnError(
            f"--out {str(out)!r}: cannot create the report folder: {e.strerror or e}"
            f"{f' ({e.filename})' if e.filename else ''}; give a folder you can write to"
        ) from None
    sections: list[str] = []
    md: list[str] = [f"# fairnn sweep report ({split} split)\n"]
    summary: dict[str, Any] = {}
    groups = sorted({(c["dataset"], c["mode"]) for c in configs})
    for dataset, mode in groups:
        gap = (Notion(mode) if mode in NOTIONS else Notion.DP).gap_metric
        group = [c for c in configs if c["dataset"] == dataset and c["mode"] == mode]
        title = f"{dataset}, {mode.upper()}"
        figs, hv_rows = [], []
        hv: dict[str, dict[str, float]] = {}
        for utility in UTILITIES:
            base = out / "figures" / _slug(dataset, mode, utility)
            pareto_plot(group, gap, utility, base, f"{title}: {LABELS.get(utility, utility)}")
            figs.append((utility, base.name))
            for m in sorted({c["method"] for c in group}):
                pts = [
                    (c["stats"].get(gap, (math.nan,))[0], c["stats"].get(utility, (math.nan,))[0])
                    for c in group
                    if c["method"] == m
                ]
                hv.setdefault(m, {})[utility] = hypervolume(pts)
        for m, vals in hv.items():
            hv_rows.append([m, *(f"{vals[u]:.4f}" for u in UTILITIES)])
        summary[f"{dataset}/{mode}"] = hv
        table_head = [
            "configuration",
            "recipe",
            "seeds",
            *(LABELS.get(m, m) for m in TABLE_METRICS),
        ]
        table_rows = [
            [
                c["label"],
                c["recipe"],
                str(len(c["seeds"])),
                *(_pm(c["stats"].get(m)) for m in TABLE_METRICS),
            ]
            for c in sorted(group, key=lambda c: (c["method"], c["label"]))
        ]
        hv_head = [
            "method",
            *(f"hypervolume ({LABELS.get(u, u)} vs {LABELS.get(gap, gap)})" for u in UTILITIES),
        ]
        md += [
            f"## {title}\n",
            *(f"![{u}](figures/{name}.svg)\n" for u, name in figs),
            _md_table(hv_head, hv_rows),
            "",
            _md_table(table_head, table_rows),
            "",
        ]
        sections.append(
            f'<section id="{_slug(dataset, mode)}"><h2>{html.escape(title)}</h2>\n'
            '<div class="figs">'
            + "".join(
                f'<figure><img src="figures/{name}.svg" alt="{html.escape(title)}: {u} Pareto front">'
                f"<figcaption>{html.escape(LABELS.get(u, u))} vs {html.escape(LABELS.get(gap, gap))}"
                f' (<a href="figures/{name}.png">PNG</a>)</figcaption></figure>'
                for u, name in figs
            )
            + "</div>\n<h3>Hypervolume of each method's front</h3>\n"
            + _html_table(hv_head, hv_rows)
            + f"\n<h3>Mean ± std over seeds ({html.escape(split)} split)</h3>\n"
            + _html_table(table_head, table_rows)
            + "</section>"
        )
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    (out / "hypervolume.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    page = out / "index.html"
    page.write_text(
        _PAGE.format(split=html.escape(split), n=len(runs), body="\n".join(sections)),
        encoding="utf-8",
    )
    return page


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    esc = [h.replace("|", "\\|") for h in head]
    lines = ["| " + " | ".join(esc) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fairnn sweep report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 1200px; }}
.figs {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; }} img {{ width: 520px; max-width: 100%; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; font-size: 90%; }}
th, td {{ border: 1px solid #ccc; padding: .25em .6em; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
</style></head><body>
<h1>fairnn sweep report</h1>
<p>{n} runs; metrics on the {split} split; each point is one configuration's mean over seeds.
Fronts: lower gap and higher utility are better. Hypervolume: the area a front dominates,
reference point (gap 1, utility 0).</p>
{body}
</body></html>
"""
