"""Reports from a results store: headline choices, Pareto fronts, hypervolume, mean ± std
tables, as Markdown and HTML.

For each dataset and fairness notion (the runs' ``mode``), every configuration
(method + parameters + recipe + training settings) becomes one point: its mean
over seeds of a utility metric (AP, accuracy; higher is better) and of the
notion's gap (ΔDP, or ΔEO as |ΔTPR| + |ΔFPR|; lower is better) on one split.
A method's Pareto front is its non-dominated points; its hypervolume is the
area those points dominate inside [0, 1] gap × [0, 1] utility, reference point
(gap 1, utility 0): larger is better, 1 is a perfect, fair classifier.

A configuration is *degenerate* when one of its runs predicts (nearly) one class
(:func:`degenerate_reason`, by the one definition in :mod:`fairnn.metrics.degenerate`).
Such a model is no choice: its gap is small because it treats everyone alike, so it is
marked, left off the fronts and the hypervolume, and never picked in the headline. The headline picks, per dataset and notion, the most
accurate configuration, the fairest and the best trade-off (the knee of the accuracy
front, :func:`knee`), on the validation split when the runs have it.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairnn.errors import FairnnError
from fairnn.experiments.plots import ScatterPoint, pareto_plot
from fairnn.experiments.tables import LABELS
from fairnn.metrics.degenerate import why_degenerate
from fairnn.notion import NOTIONS, Notion

UTILITIES = ("ap", "accuracy")
TABLE_METRICS = ("accuracy", "ap", "dp_gap", "eodds_gap_sum")
#: the utility the headline choices maximise
HEADLINE_UTILITY = "accuracy"
#: the split the headline chooses on, when the runs have it (else the report's split)
SELECT_SPLIT = "val"
#: the headline's choices: key -> heading
CHOICES = {
    "most_accurate": "most accurate",
    "fairest": "fairest (non-degenerate)",
    "knee": "best trade-off (knee)",
}


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


def knee(points: Sequence[tuple[float, float]]) -> int | None:
    """Index of the best trade-off among ``points`` (gap ↓, utility ↑), or None if none.

    On the Pareto front, both scaled to [0, 1] between its fairest and its most accurate
    end, the knee is the point farthest above the straight line between the two ends
    (most utility gained for the gap given up). A front of one or two points, or one with
    no point above that line, has no knee: then the point nearest the ideal corner (the
    fairest end's gap, the most accurate end's utility) is taken.
    """
    front = pareto_front(points)
    if len(front) <= 1:
        return front[0] if front else None
    xs = [points[i][0] for i in front]
    ys = [points[i][1] for i in front]
    gx = [(x - xs[0]) / (xs[-1] - xs[0]) for x in xs]  # the front rises in both
    uy = [(y - ys[0]) / (ys[-1] - ys[0]) for y in ys]
    lift = [u - g for g, u in zip(gx, uy, strict=True)]
    if max(lift) > 1e-9:
        return front[max(range(len(front)), key=lambda j: (lift[j], -j))]
    return front[min(range(len(front)), key=lambda j: (math.hypot(gx[j], 1 - uy[j]), j))]


# -- configurations ---------------------------------------------------------------------
def config_label(run: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(run["params"].items()))
    return f"{run['method']}({params})" if params else run["method"]


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _spec(run: dict[str, Any]) -> dict[str, Any]:
    spec = run.get("spec")
    return json.loads(spec) if isinstance(spec, str) else dict(spec or {})


def _config_key(run: dict[str, Any]) -> str:
    spec = _spec(run)
    spec.pop("seed", None)
    return json.dumps(spec, sort_keys=True)


def degenerate_reason(run: dict[str, Any], splits: Iterable[str]) -> str | None:
    """Why ``run``'s model predicts (nearly) one class on one of ``splits``, or None.

    Each split's metrics are judged by :func:`fairnn.metrics.degenerate.why_degenerate`
    (its recorded ``selection_rate``; a chance-level balanced accuracy in stores written
    before runs recorded it); a run the store recorded as ``degenerate`` (on validation or
    test) is degenerate too.
    """
    for split in splits:
        why = why_degenerate(run["metrics"].get(split) or {}, split)
        if why:
            return why
    if run.get("degenerate"):
        return "recorded as degenerate: it predicts (nearly) one class on val or test"
    return None


def _stats(members: list[dict[str, Any]], split: str) -> dict[str, tuple[float, float]]:
    """Mean and sample std over ``members`` of every metric they have on ``split``."""
    runs = [r for r in members if split in r["metrics"]]
    stats = {}
    for m in sorted({m for r in runs for m in r["metrics"][split]}):
        vals = np.array([r["metrics"][split].get(m, np.nan) for r in runs], dtype=float)
        vals = vals[~np.isnan(vals)]
        stats[m] = (
            float(vals.mean()) if len(vals) else math.nan,
            float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
        )
    return stats


def aggregate(
    runs: list[dict[str, Any]], split: str = "test", select: str = SELECT_SPLIT
) -> list[dict[str, Any]]:
    """One entry per configuration: mean and std over seeds of every metric on ``split``
    (``stats``) and on ``select`` (``select_stats``; empty when no run has it), its seeds,
    ``degenerate``: why one of its runs predicts (nearly) one class, or None, and ``target``:
    the fairness weights its runs' ``target_gap`` searches chose (``-`` when none searched,
    :func:`~fairnn.experiments.target_gap.target_summary`)."""
    from fairnn.experiments.target_gap import target_summary

    groups: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        if r.get("status", "done") == "done" and split in r["metrics"]:
            groups.setdefault(_config_key(r), []).append(r)
    out = []
    for key, members in groups.items():
        first = members[0]
        reasons = (degenerate_reason(r, dict.fromkeys([select, split])) for r in members)
        out.append(
            {
                "key": key,
                "dataset": first["dataset"],
                "recipe": first["recipe"],
                "mode": first["mode"],
                "method": first["method"],
                "params": first["params"],
                "label": config_label(first),
                "seeds": sorted(r["seed"] for r in members),
                "stats": _stats(members, split),
                "select_stats": _stats(members, select),
                "degenerate": next((why for why in reasons if why), None),
                "target": target_summary(members),
            }
        )
    _disambiguate(out)
    return out


def _disambiguate(configs: list[dict[str, Any]]) -> None:
    """Give configurations that share a label (same method and parameters, other recipe,
    training or architecture) the settings that tell them apart: ``m(lam=1) [epochs=5]``."""
    by_label: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for c in configs:
        by_label.setdefault((c["dataset"], c["mode"], c["label"]), []).append(c)
    for same in by_label.values():
        if len(same) < 2:
            continue
        flat = [_flatten(json.loads(c["key"])) for c in same]
        keys = sorted({k for f in flat for k in f})
        differ = [k for k in keys if len({json.dumps(f.get(k)) for f in flat}) > 1]
        for c, f in zip(same, flat, strict=True):
            extra = ", ".join(f"{k.rsplit('.', 1)[-1]}={_fmt(f.get(k))}" for k in differ)
            c["label"] = f"{c['label']} [{extra}]"


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


# -- dataset names ----------------------------------------------------------------------
def display_names(datasets: Iterable[str]) -> dict[str, str]:
    """A readable name for each dataset of the runs: a registered dataset's registry name;
    a table's file name without its folder and table endings (``../data/ACS.train.parquet``
    → ``ACS.train``). Tables that would share a name are told apart by their paths.

    The runs store the dataset as it was given (a path relative to where the sweep ran);
    the name is computed from that, not recorded.
    """
    base = {d: _display_name(d) for d in set(datasets)}
    counts = Counter(base.values())
    return {d: f"{n} ({d})" if counts[n] > 1 and n != d else n for d, n in base.items()}


def _registered(dataset: str) -> Any:
    """The registry entry of ``dataset``, or None for a table (a path, or a name not known)."""
    from fairnn.datasets import get_spec
    from fairnn.datasets.sources import TABLE_SUFFIXES

    if "/" in dataset or "\\" in dataset or dataset.lower().endswith(TABLE_SUFFIXES):
        return None
    try:
        return get_spec(dataset)
    except FairnnError:
        return None


def _display_name(dataset: str) -> str:
    from fairnn.datasets.sources import TABLE_SUFFIXES

    spec = _registered(dataset)
    if spec is not None:
        return spec.name
    name = Path(dataset.replace("\\", "/")).name
    while name.lower().endswith(TABLE_SUFFIXES) and "." in name[1:]:
        name = name[: name.rindex(".")]
    return name or dataset


def dataset_title(dataset: str) -> str:
    """What a dataset is: a registered dataset's title, a table's path as given."""
    spec = _registered(dataset)
    return spec.title if spec is not None else f"table {dataset}"


def file_stems(datasets: Iterable[str]) -> dict[str, str]:
    """A safe file-name stem for each dataset, from its name (:func:`display_names`):
    letters, digits, ``_`` and ``-`` only, never starting with ``_`` or ``-``; a short hash
    of the dataset is added only where two stems would otherwise be the same."""
    stems = {
        d: re.sub(r"[^A-Za-z0-9_]+", "-", _display_name(d)).strip("-_") or "dataset"
        for d in set(datasets)
    }
    counts = Counter(stems.values())
    return {
        d: f"{s}-{hashlib.sha256(d.encode()).hexdigest()[:6]}" if counts[s] > 1 else s
        for d, s in stems.items()
    }


# -- the report -------------------------------------------------------------------------
def _mean(c: dict[str, Any], metric: str, which: str = "stats") -> float:
    return c[which].get(metric, (math.nan,))[0]


def _point(c: dict[str, Any], gap: str, utility: str, which: str = "stats") -> tuple[float, float]:
    return _mean(c, gap, which), _mean(c, utility, which)


def headline(
    configs: list[dict[str, Any]], gap: str, utility: str = HEADLINE_UTILITY
) -> dict[str, Any]:
    """The choices among one dataset's and notion's ``configs`` (:data:`CHOICES`): each a
    configuration (or None), chosen on :data:`SELECT_SPLIT` when every candidate has it,
    else on the report's split; degenerate configurations are never chosen."""
    ok = [c for c in configs if not c["degenerate"]]

    def scored(c: dict[str, Any], which: str) -> bool:
        return all(map(math.isfinite, _point(c, gap, utility, which)))

    which = "select_stats" if ok and all(scored(c, "select_stats") for c in ok) else "stats"
    ok = [c for c in ok if scored(c, which)]
    at = knee([_point(c, gap, utility, which) for c in ok])

    def accuracy_first(c: dict[str, Any]) -> tuple[float, float]:
        return _mean(c, utility, which), -_mean(c, gap, which)

    def gap_first(c: dict[str, Any]) -> tuple[float, float]:
        return _mean(c, gap, which), -_mean(c, utility, which)

    return {
        "selected_on": which,
        "most_accurate": max(ok, key=accuracy_first, default=None),
        "fairest": min(ok, key=gap_first, default=None),
        "knee": ok[at] if at is not None else None,
        "degenerate": sorted((c for c in configs if c["degenerate"]), key=_table_order),
    }


def write_report(runs: list[dict[str, Any]], out: str | Path, split: str = "test") -> Path:
    """Write figures (PNG+SVG), ``report.md``, ``index.html``, ``headline.json`` and
    ``hypervolume.json`` under ``out``; return the page."""
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
    names = display_names(c["dataset"] for c in configs)
    stems = file_stems(names.keys())
    head_rows: list[list[str]] = []
    flagged: list[str] = []
    sections: list[str] = []
    md_sections: list[str] = []
    hv_summary: dict[str, Any] = {}
    head_summary: dict[str, Any] = {}
    for dataset, mode in sorted({(c["dataset"], c["mode"]) for c in configs}):
        notion = Notion(mode) if mode in NOTIONS else Notion.DP
        gap = notion.gap_metric
        group = [c for c in configs if c["dataset"] == dataset and c["mode"] == mode]
        name, stem = names[dataset], f"{stems[dataset]}-{mode}"
        title = f"{name}, {mode.upper()}"
        choice = headline(group, gap)
        head_rows += _headline_rows(name, notion, choice, gap, split)
        flagged += [f"{title}: {c['label']}: {c['degenerate']}" for c in choice["degenerate"]]
        head_summary[f"{name}/{mode}"] = _headline_json(choice, gap, split)
        figs, hv = _figures(group, gap, out / "figures", stem, title)
        hv_summary[f"{name}/{mode}"] = hv
        hv_head = [
            "method",
            *(f"hypervolume ({LABELS.get(u, u)} vs {LABELS.get(gap, gap)})" for u in UTILITIES),
        ]
        hv_rows = [[m, *(f"{vals[u]:.4f}" for u in UTILITIES)] for m, vals in hv.items()]
        table_head, table_rows = _config_table(group)
        md_sections += [
            f"## {title}\n",
            f"{dataset_title(dataset)}\n",
            *(f"![{u}](figures/{fig}.svg)\n" for u, fig in figs),
            _md_table(hv_head, hv_rows),
            "",
            _md_table(table_head, table_rows),
            "",
        ]
        sections.append(
            f'<section id="{stem}"><h2>{html.escape(title)}</h2>\n'
            f'<p class="source">{html.escape(dataset_title(dataset))}</p>\n<div class="figs">'
            + "".join(_html_figure(out / "figures", fig, u, gap, title) for u, fig in figs)
            + "</div>\n<h3>Hypervolume of each method's front</h3>\n"
            + _html_table(hv_head, hv_rows)
            + f"\n<h3>Mean ± std over seeds ({html.escape(split)} split)</h3>\n"
            + _html_table(
                table_head, table_rows, text=(0, 1, *range(len(TABLE_METRICS) + 3, len(table_head)))
            )
            + "</section>"
        )
    head_head = ["dataset", "notion", "choice", "configuration", "accuracy", "gap", "chosen on"]
    note = _selection_note(split)
    md = [
        f"# fairnn sweep report ({split} split)\n",
        "## Headline\n",
        f"{note}\n",
        _md_table(head_head, head_rows),
        "",
        *([_md_list("Degenerate (never chosen, left off the fronts)", flagged)] if flagged else []),
        *md_sections,
    ]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    (out / "hypervolume.json").write_text(json.dumps(hv_summary, indent=2), encoding="utf-8")
    (out / "headline.json").write_text(json.dumps(head_summary, indent=2), encoding="utf-8")
    flagged_html = (
        "<h3>Degenerate configurations (never chosen, left off the fronts)</h3><ul>"
        + "".join(f"<li>{html.escape(f)}</li>" for f in flagged)
        + "</ul>"
        if flagged
        else ""
    )
    page = out / "index.html"
    page.write_text(
        _PAGE.format(
            split=html.escape(split),
            n=len(runs),
            headline=f"<p>{html.escape(note)}</p>\n"
            + _html_table(head_head, head_rows, text=(0, 1, 2, 3, 6))
            + flagged_html,
            body="\n".join(sections),
        ),
        encoding="utf-8",
    )
    return page


def _selection_note(split: str) -> str:
    return (
        f"For each dataset and notion: the most accurate configuration, the fairest one that "
        f"does not predict (nearly) one class, and the best trade-off (the knee of the "
        f"accuracy-vs-gap front). Chosen on the {SELECT_SPLIT} split where the runs have it; "
        f"the numbers are means over seeds on the {split} split."
    )


def _headline_rows(
    name: str, notion: Notion, choice: dict[str, Any], gap: str, split: str
) -> list[list[str]]:
    on = SELECT_SPLIT if choice["selected_on"] == "select_stats" else split
    rows = []
    for key, heading in CHOICES.items():
        c = choice[key]
        cells = (
            [c["label"], _pm(c["stats"].get(HEADLINE_UTILITY)), _pm(c["stats"].get(gap)), on]
            if c is not None
            else ["none: no non-degenerate configuration with both scores", "-", "-", "-"]
        )
        rows.append([name, notion.label, heading, *cells])
    return rows


def _headline_json(choice: dict[str, Any], gap: str, split: str) -> dict[str, Any]:
    def one(c: dict[str, Any] | None) -> dict[str, Any] | None:
        if c is None:
            return None
        return {
            "configuration": c["label"],
            "method": c["method"],
            "params": c["params"],
            "recipe": c["recipe"],
            "seeds": len(c["seeds"]),
            HEADLINE_UTILITY: _mean(c, HEADLINE_UTILITY),
            gap: _mean(c, gap),
        }

    return {
        "chosen_on": SELECT_SPLIT if choice["selected_on"] == "select_stats" else split,
        "split": split,
        **{key: one(choice[key]) for key in CHOICES},
        "degenerate": {c["label"]: c["degenerate"] for c in choice["degenerate"]},
    }


def _figures(
    group: list[dict[str, Any]], gap: str, folder: Path, stem: str, title: str
) -> tuple[list[tuple[str, str]], dict[str, dict[str, float]]]:
    """One Pareto plot per utility; the hypervolume of each method's front per utility."""
    figs: list[tuple[str, str]] = []
    hv: dict[str, dict[str, float]] = {m: {} for m in sorted({c["method"] for c in group})}
    for utility in UTILITIES:
        points: list[ScatterPoint] = []
        for m in hv:
            mine = [c for c in group if c["method"] == m]
            pts = [_point(c, gap, utility) for c in mine]
            usable = [j for j, c in enumerate(mine) if not c["degenerate"]]
            front = {usable[j] for j in pareto_front([pts[j] for j in usable])}
            hv[m][utility] = hypervolume([pts[j] for j in usable])
            points += [
                ScatterPoint(
                    *pts[j],
                    series=m,
                    label=c["label"],
                    on_front=j in front,
                    degenerate=bool(c["degenerate"]),
                )
                for j, c in enumerate(mine)
            ]
        fig = f"{stem}-{utility}"
        pareto_plot(
            points,
            folder / fig,
            xlabel=LABELS.get(gap, gap),
            ylabel=LABELS.get(utility, utility),
            title=f"{title}: {LABELS.get(utility, utility)}",
            gid=fig,
        )
        figs.append((utility, fig))
    return figs, hv


def _config_table(group: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    head = ["configuration", "recipe", "seeds", *(LABELS.get(m, m) for m in TABLE_METRICS)]
    marked = any(c["degenerate"] for c in group)
    searched = any(c["target"] != "-" for c in group)
    rows = [
        [
            c["label"],
            c["recipe"],
            str(len(c["seeds"])),
            *(_pm(c["stats"].get(m)) for m in TABLE_METRICS),
            *([f"degenerate: {c['degenerate']}" if c["degenerate"] else ""] if marked else []),
            *([c["target"]] if searched else []),
        ]
        for c in sorted(group, key=_table_order)
    ]
    extra = [*(["note"] if marked else []), *(["target gap: weight chosen"] if searched else [])]
    return [*head, *extra], rows


def _table_order(c: dict[str, Any]) -> tuple:
    """Method, then parameters by value (``lam=3`` before ``lam=10``), then label."""
    params = tuple(
        (k, (0, v, "") if isinstance(v, int | float) else (1, 0, str(v)))
        for k, v in sorted(c["params"].items())
    )
    return c["method"], params, c["label"]


def _html_figure(folder: Path, fig: str, utility: str, gap: str, title: str) -> str:
    """The SVG inlined (so its points' titles show as tooltips), with links to the files."""
    svg = (folder / f"{fig}.svg").read_text(encoding="utf-8")
    svg = svg[svg.index("<svg") :]
    label = html.escape(f"{title}: {LABELS.get(utility, utility)} Pareto front", quote=True)
    svg = svg.replace("<svg ", f'<svg class="pareto" role="img" aria-label="{label}" ', 1)
    return (
        f'<figure id="{fig}">{svg}'
        f"<figcaption>{html.escape(LABELS.get(utility, utility))} vs "
        f"{html.escape(LABELS.get(gap, gap))}; hover a point for its configuration "
        f'(<a href="figures/{fig}.svg">SVG</a>, <a href="figures/{fig}.png">PNG</a>)'
        "</figcaption></figure>"
    )


def _pm(stat: tuple[float, float] | None) -> str:
    if stat is None or math.isnan(stat[0]):
        return "-"
    return f"{stat[0]:.4f} ± {stat[1]:.4f}"


def _md_list(heading: str, items: list[str]) -> str:
    return f"### {heading}\n\n" + "\n".join(f"* {i}" for i in items) + "\n"


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    esc = [h.replace("|", "\\|") for h in head]
    lines = ["| " + " | ".join(esc) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(head: list[str], rows: list[list[str]], text: Sequence[int] = (0,)) -> str:
    """A table whose columns are right-aligned numbers, but for the ``text`` columns."""

    def cell(tag: str, j: int, c: str) -> str:
        cls = ' class="t"' if j in text else ""
        return f"<{tag}{cls}>{html.escape(c)}</{tag}>"

    th = "".join(cell("th", j, h) for j, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(cell("td", j, c) for j, c in enumerate(r)) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fairnn sweep report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 1200px; }}
.figs {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; }} figure svg {{ width: 560px; max-width: 100%; height: auto; }}
.fairnn-point {{ cursor: help; }} .source {{ color: #555; margin-top: -.5em; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; font-size: 90%; }}
th, td {{ border: 1px solid #ccc; padding: .25em .6em; text-align: right; }}
td {{ white-space: nowrap; }} .t {{ text-align: left; }}
</style></head><body>
<h1>fairnn sweep report</h1>
<section id="headline"><h2>Headline</h2>
{headline}
</section>
<p>{n} runs; metrics on the {split} split; each point is one configuration's mean over seeds.
Fronts: lower gap and higher utility are better; the axes are zoomed on the fronts, and a point
outside them is drawn at the edge as a triangle labelled with its true values. Hypervolume: the
area a front dominates, reference point (gap 1, utility 0).</p>
{body}
</body></html>
"""
