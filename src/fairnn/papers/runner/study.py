"""RUNNER (ICSE 2024), Table 3's shape: AP and ΔDP / ΔEO of vanilla, GapReg,
adversarial debiasing and RUNNER on Adult, COMPAS, Credit and LSAC.

Every run uses the ``runner`` recipe and protocol (balanced batches, 10 × 100
steps, selection on the validation gap; see :mod:`fairnn.papers.runner.protocol`)
and the README's λ and k. RUNNER's "Credit" is German Credit grouped by age,
as in FairNeuron, whose setup RUNNER follows (docs/datasets.md). Runs go through
the sweep machinery into ``results.db`` (:class:`~fairnn.experiments.store.ResultStore`)
as they finish, so an interrupted reproduction resumes where it stopped, runs in
parallel with ``workers``, and ``fairnn report --db OUT/results.db`` works on it.
``full`` runs the paper's 10 seeds when fewer are asked for.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fairnn.errors import ConfigError  # noqa: E402
from fairnn.experiments.executors import run_specs  # noqa: E402
from fairnn.experiments.plots import save_figure  # noqa: E402
from fairnn.experiments.reproductions import register  # noqa: E402
from fairnn.experiments.spec import RunSpec  # noqa: E402
from fairnn.experiments.store import ResultStore  # noqa: E402
from fairnn.notion import Notion  # noqa: E402

DATASETS = {"adult": "Adult", "compas": "COMPAS", "german": "Credit", "lsac": "LSAC"}
METHODS = ("vanilla", "gapreg", "adversarial", "runner")
KEEP = ("accuracy", "ap", "dp_gap", "eodds_gap_sum", "eodds_gap_max")


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarise(
    results: dict[str, Any], datasets: list[str], methods: list[str], modes: list[str]
) -> dict:
    """``{(dataset, mode, method): {metric: (mean, std, n)}}`` over seeds."""
    out: dict[tuple[str, str, str], dict[str, tuple[float, float, int]]] = {}
    for d in datasets:
        for mode in modes:
            for m in methods:
                runs = [
                    r
                    for r in results.values()
                    if (r["dataset"], r["mode"], r["method"]) == (d, mode, m)
                ]
                if runs:
                    out[(d, mode, m)] = {
                        k: (*_mean_std([r["test"][k] for r in runs]), len(runs)) for k in KEEP
                    }
    return out


def markdown(summary: dict, datasets: list[str], methods: list[str], modes: list[str]) -> str:
    lines = []
    for mode in modes:
        gap = Notion(mode).gap_metric
        head = (
            "| method | "
            + " | ".join(f"{DATASETS[d]} AP | {DATASETS[d]} {Notion(mode).label}" for d in datasets)
            + " |"
        )
        lines += [
            f"**{Notion(mode).label} mode** (test split, mean ± std over seeds)",
            "",
            head,
            "|---|" + "---:|---:|" * len(datasets),
        ]
        for m in methods:
            cells = []
            for d in datasets:
                st = summary.get((d, mode, m))
                if st is None:
                    cells += ["–", "–"]
                else:
                    cells += [
                        f"{st['ap'][0]:.3f} ± {st['ap'][1]:.3f}",
                        f"{st[gap][0]:.3f} ± {st[gap][1]:.3f}",
                    ]
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def plot(
    summary: dict, datasets: list[str], methods: list[str], modes: list[str], path: Path
) -> list[Path]:
    fig, axes = plt.subplots(
        len(modes),
        len(datasets),
        figsize=(3.2 * len(datasets), 3.0 * len(modes)),
        squeeze=False,
        dpi=110,
    )
    markers = dict(zip(methods, "os^D*vP", strict=False))
    for i, mode in enumerate(modes):
        for j, d in enumerate(datasets):
            ax = axes[i][j]
            for m in methods:
                st = summary.get((d, mode, m))
                if st is None:
                    continue
                ax.errorbar(
                    st[Notion(mode).gap_metric][0],
                    st["ap"][0],
                    xerr=st[Notion(mode).gap_metric][1],
                    yerr=st["ap"][1],
                    fmt=markers[m],
                    label=m,
                    capsize=2,
                )
            ax.set_title(f"{DATASETS[d]}, {Notion(mode).label}", fontsize=9)
            ax.set_xlabel(Notion(mode).label + " (test)", fontsize=8)
            ax.set_ylabel("AP (test)", fontsize=8)
            ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7, frameon=False)
    return save_figure(fig, path)


@register(
    "runner",
    "RUNNER (ICSE 2024): vanilla, GapReg, adversarial, RUNNER on Adult/COMPAS/Credit/LSAC, DP and EO",
)
def run(
    out: Path,
    seeds: list[int],
    full: bool = False,
    device: str = "cpu",
    datasets: list[str] | None = None,
    methods: list[str] | None = None,
    modes: list[str] | None = None,
    train: dict[str, Any] | None = None,
    workers: int = 1,
) -> Path:
    datasets = list(datasets or DATASETS)
    methods = list(methods or METHODS)
    modes = list(modes or ("dp", "eo"))
    if full and len(seeds) < 10:
        seeds = list(range(10))
    out.mkdir(parents=True, exist_ok=True)
    specs = [
        RunSpec.make(
            dataset=d, recipe="runner", method=m, mode=mode, seed=s, train=dict(train or {})
        )
        for d in datasets
        for mode in modes
        for m in methods
        for s in seeds
    ]
    keys = {sp.key() for sp in specs}
    with ResultStore(out / "results.db") as store:
        run_specs(specs, store, workers=workers, sweep="reproduce-runner", device=device)
        rows = [r for r in store.runs(status="done") if r["key"] in keys]
    chosen = {
        r["key"]: {
            "dataset": r["dataset"],
            "mode": r["mode"],
            "method": r["method"],
            "seed": r["seed"],
            "time_s": r["time_s"],
            "test": r["metrics"]["test"],
        }
        for r in rows
    }
    if not chosen:
        raise ConfigError(
            f"no run of this reproduction finished; see `fairnn results --db {out / 'results.db'} "
            "--status failed` for the errors"
        )
    summary = summarise(chosen, datasets, methods, modes)
    figs = plot(summary, datasets, methods, modes, out / "runner-ap-vs-gap")
    times = [v["time_s"] for v in chosen.values()]
    report = out / "report.md"
    text = (
        "# RUNNER reproduction (ICSE 2024, Table 3 shape)\n\n"
        f"Recipe `runner`, seeds {seeds}, {len(chosen)} of {len(specs)} runs finished, mean run time "
        f"{statistics.mean(times):.1f} s. ΔEO = |ΔTPR| + |ΔFPR| (the paper's sum). "
        "Credit = German Credit grouped by age (FairNeuron's setup).\n\n"
        + markdown(summary, datasets, methods, modes)
        + f"\n![AP vs gap]({figs[0].name})\n"
    )
    tmp = report.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, report)
    return report
