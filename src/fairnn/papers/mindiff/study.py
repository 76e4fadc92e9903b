"""``fairnn reproduce mindiff``: MinDiff in the over-parameterized regime.

Veldanda et al., "Fairness via In-Processing in the Over-parameterized Regime: A
Cautionary Tale with MinDiff Loss" (TMLR 2023), §4–5 (official code
``akshajkumarv/MinDiff``). For every dataset, model width and seed it trains

* ERM (``vanilla``), MinDiff (positives only: FNR parity), and MinDiff with each
  regularizer: L2 (``weight_decay``), flooding (``flood_level``) and early stopping
  (the epoch with the lowest fairness-constrained validation error);

and evaluates every model as the paper does: per-group thresholds chosen on validation
to maximise accuracy subject to |ΔFNR| ≤ 0.01, applied to test
(:func:`fairnn.experiments.run.constrained_metrics`), next to the training split's own
error and FNR gap (the "illusion of fairness": zero training error and gap, a large test
gap). A second sweep varies the batch size of MinDiff in the under-parameterized regime.

Models: random ReLU features of width N on fixed inputs with a learned logistic
regression (the paper's Waterbirds model, :class:`fairnn.nn.RandomReLUFeatures`); the
image stand-ins (``wbmnist``, ``cmnist``) use 2×2-pooled pixels as the fixed features
instead of ImageNet ResNet-18 features, the tabular dataset (German credit, grouped by
sex) its preprocessed columns. ``full`` uses the paper's widths and 30k steps, adds the
width-k PreAct-ResNet-18 sweep on the image stand-ins, and is meant for a GPU.

Runs go through the sweep machinery into ``OUT/results.db``, so an interrupted study
resumes where it stopped and ``--workers`` runs several at a time.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass, field
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

#: the paper's optimiser: Adam, lr 0.01, batch 128 (Waterbirds); 30k steps in the paper,
#: 1,000 here (the CPU size). ``full`` runs the 30k steps with the paper's ×0.1 decay
#: every 10k steps (the default size stops before the first decay would apply).
PROTOCOL: dict[str, Any] = {
    "lr": 0.01,
    "batch_size": 128,
    "steps_per_epoch": 100,
    "epochs": 10,
    "select": "last",
}
FULL_EPOCHS = 300  # 30k steps
#: the README's example: w = 1.5, flood 0.1, weight decay 0; FNR parity (positives)
MINDIFF: dict[str, Any] = {"mindiff_weight": 1.5, "slice": "positive"}
REGULARIZERS: dict[str, dict[str, Any]] = {
    "L2": {"weight_decay": 1e-2},
    "flooding": {"flood_level": 0.1},
    "early stopping": {"select": "constrained_error"},
}
CONSTRAINT = {"gap": "fnr", "gamma": 0.01}


@dataclass(frozen=True)
class Variant:
    label: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)


VARIANTS = (
    Variant("ERM", "vanilla"),
    Variant("MinDiff", "mindiff", MINDIFF),
    *(Variant(f"MinDiff + {k}", "mindiff", MINDIFF, v) for k, v in REGULARIZERS.items()),
)
#: random-feature widths N per dataset (training rows: wbmnist/cmnist 3,000, german 600)
WIDTHS = {
    "wbmnist": (30, 300, 1500, 6000),
    "cmnist": (30, 300, 1500, 6000),
    "german": (5, 30, 200, 1000, 5000),
}
PAPER_WIDTHS = (
    *range(10, 101, 10),
    *range(200, 1001, 100),
    *range(2000, 10001, 1000),
)
RESNET_K = (5, 7, 9, 13, 19, 55, 64)
#: batch-size sensitivity: MinDiff at an under-parameterized width, same number of steps
BATCH_SIZES = (16, 32, 64, 128, 256, 512)
BATCH_WIDTH = 300
BATCH_DATASET = "wbmnist"
SENSITIVE = {"german": ["sex"]}
DATASET_LABEL = {
    "wbmnist": "Waterbirds-MNIST",
    "cmnist": "Colored-MNIST",
    "german": "German credit (sex)",
}


def _spec(
    dataset: str, v: Variant, arch: dict[str, Any], seed: int, train: dict[str, Any]
) -> RunSpec:
    return RunSpec.make(
        dataset=dataset,
        method=v.method,
        params=dict(v.params),
        seed=seed,
        sensitive=SENSITIVE.get(dataset),
        train={**train, **v.train},
        architecture=arch,
        constraint=CONSTRAINT,
    )


def plan(
    datasets: list[str], seeds: list[int], full: bool
) -> list[tuple[str, str, str, int, RunSpec]]:
    """``(study, dataset, variant label, x, spec)`` for every run: study is ``width`` (random
    features), ``resnet`` (full only) or ``batch``; x is the width, k or batch size."""
    train = dict(PROTOCOL)
    if full:
        train.update(epochs=FULL_EPOCHS, lr_decay=0.1, lr_decay_every=10_000)
    out = []
    for d in datasets:
        widths = PAPER_WIDTHS if full else WIDTHS.get(d, WIDTHS["german"])
        for n in widths:
            arch = {"type": "random_features", "width": n}
            out += [
                ("width", d, v.label, n, _spec(d, v, arch, s, train))
                for v in VARIANTS
                for s in seeds
            ]
        if full and d in ("wbmnist", "cmnist"):
            # CelebA's protocol: 48k steps at 1e-4, ×0.1 every 16k
            rn = {**train, "lr": 1e-4, "epochs": 480, "lr_decay_every": 16_000}
            for k in RESNET_K:
                arch = {"type": "preact_resnet", "width": k}
                out += [
                    ("resnet", d, v.label, k, _spec(d, v, arch, s, rn))
                    for v in VARIANTS
                    for s in seeds
                ]
    if BATCH_DATASET in datasets:
        arch = {"type": "random_features", "width": BATCH_WIDTH}
        for b in BATCH_SIZES:
            bt = {**train, "batch_size": b}
            for v in VARIANTS[:2]:
                out += [
                    ("batch", BATCH_DATASET, v.label, b, _spec(BATCH_DATASET, v, arch, s, bt))
                    for s in seeds
                ]
    return out


KEEP = {
    "test_cerr": ("test", "constrained_error"),
    "test_cgap": ("test", "constrained_gap"),
    "test_err": ("test", "accuracy"),
    "test_fnr_gap": ("test", "fnr_gap"),
    "train_err": ("train", "accuracy"),
    "train_fnr_gap": ("train", "fnr_gap"),
    "train_bce": ("train", "bce"),
    "val_feasible": ("val", "constrained_feasible"),
}


def _value(metrics: dict[str, dict[str, float]], split: str, name: str) -> float:
    v = float(metrics[split][name])
    return 1.0 - v if name == "accuracy" else v


def summarise(rows: list[tuple[str, str, str, int, dict]]) -> dict[tuple[str, str, str, int], dict]:
    """``{(study, dataset, variant, x): {quantity: (mean, std, n)}}`` over seeds."""
    groups: dict[tuple[str, str, str, int], list[dict]] = {}
    for study, d, label, x, metrics in rows:
        groups.setdefault((study, d, label, x), []).append(metrics)
    out = {}
    for key, ms in groups.items():
        out[key] = {}
        for q, (split, name) in KEEP.items():
            vals = [_value(m, split, name) for m in ms]
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            out[key][q] = (statistics.mean(vals), sd, len(vals))
    return out


def _fmt(st: dict | None, q: str) -> str:
    if st is None:
        return "–"
    m, sd, n = st[q]
    return f"{m:.3f} ± {sd:.3f}" if n > 1 else f"{m:.3f}"


def markdown(summary: dict, datasets: list[str], full: bool) -> str:
    labels = [v.label for v in VARIANTS]
    lines: list[str] = []
    for study, what in (("width", "N (random features)"), ("resnet", "k (PreAct-ResNet-18)")):
        for d in datasets:
            xs = sorted({k[3] for k in summary if k[0] == study and k[1] == d})
            if not xs:
                continue
            lines += [
                f"### {DATASET_LABEL.get(d, d)}: test error under |ΔFNR| ≤ 0.01, by {what}",
                "",
                f"| {what.split()[0]} | " + " | ".join(labels) + " |",
                "|---:|" + "---:|" * len(labels),
            ]
            for x in xs:
                cells = [_fmt(summary.get((study, d, lab, x)), "test_cerr") for lab in labels]
                lines.append(f"| {x} | " + " | ".join(cells) + " |")
            lines += [
                "",
                f"Training error, training FNR gap and test FNR gap at the single threshold 0.5 "
                f"({DATASET_LABEL.get(d, d)}; the illusion of fairness is a zero training gap "
                "next to a large test gap):",
                "",
                f"| {what.split()[0]} | variant | train error | train BCE | train ΔFNR | test ΔFNR | "
                "test error | test ΔFNR at val thresholds |",
                "|---:|---|---:|---:|---:|---:|---:|---:|",
            ]
            for x in xs:
                for lab in labels:
                    st = summary.get((study, d, lab, x))
                    if st is None:
                        continue
                    qs = (
                        "train_err",
                        "train_bce",
                        "train_fnr_gap",
                        "test_fnr_gap",
                        "test_err",
                        "test_cgap",
                    )
                    lines.append(f"| {x} | {lab} | " + " | ".join(_fmt(st, q) for q in qs) + " |")
            lines.append("")
    xs = sorted({k[3] for k in summary if k[0] == "batch"})
    if xs:
        lines += [
            f"### Batch size ({DATASET_LABEL[BATCH_DATASET]}, N = {BATCH_WIDTH}, same number of steps)",
            "",
            "| batch | ERM test error (constrained) | MinDiff test error (constrained) | "
            "MinDiff test ΔFNR | MinDiff train ΔFNR |",
            "|---:|---:|---:|---:|---:|",
        ]
        for b in xs:
            e = summary.get(("batch", BATCH_DATASET, "ERM", b))
            m = summary.get(("batch", BATCH_DATASET, "MinDiff", b))
            lines.append(
                f"| {b} | {_fmt(e, 'test_cerr')} | {_fmt(m, 'test_cerr')} | "
                f"{_fmt(m, 'test_fnr_gap')} | {_fmt(m, 'train_fnr_gap')} |"
            )
        lines.append("")
    return "\n".join(lines)


def _mean_over(summary: dict, d: str, label: str, ws: list[int], q: str = "test_cerr") -> str:
    vals = [summary[("width", d, label, x)][q][0] for x in ws if ("width", d, label, x) in summary]
    return f"{statistics.mean(vals):.3f}" if vals else "–"


def claims(summary: dict, datasets: list[str], interpolation: float = 0.005) -> str:
    """The seed's two claims, checked per dataset on the measured means.

    A width *interpolates* when ERM's mean training error is at most ``interpolation``.
    Claim 1: MinDiff lowers the constrained test error (and the test FNR gap) below
    ERM's at under-parameterized widths but not at interpolating ones. Claim 2: at the
    interpolating widths, each regularizer gives MinDiff a lower constrained test error
    than MinDiff alone.
    """
    out = [
        "| dataset | regime | widths | ERM | MinDiff | "
        + " | ".join(f"MinDiff + {k}" for k in REGULARIZERS)
        + " |"
    ]
    out.append("|---|---|---|---:|---:|" + "---:|" * len(REGULARIZERS))
    for d in datasets:
        xs = sorted({k[3] for k in summary if k[0] == "width" and k[1] == d})
        erm = {x: summary.get(("width", d, "ERM", x)) for x in xs}
        interp = [x for x in xs if erm[x] and erm[x]["train_err"][0] <= interpolation]
        under = [x for x in xs if x not in interp]
        for regime, ws in (("under-parameterized", under), ("interpolating", interp)):
            if not ws:
                continue

            labels = ["ERM", "MinDiff", *(f"MinDiff + {k}" for k in REGULARIZERS)]
            cells = [
                f"{_mean_over(summary, d, lab, ws)} / {_mean_over(summary, d, lab, ws, 'test_fnr_gap')}"
                for lab in labels
            ]
            out.append(
                f"| {DATASET_LABEL.get(d, d)} | {regime} | {', '.join(map(str, ws))} | "
                + " | ".join(cells)
                + " |"
            )
    return "\n".join(out)


def plot(summary: dict, datasets: list[str], path: Path) -> list[Path]:
    ds = [d for d in datasets if any(k[0] == "width" and k[1] == d for k in summary)]
    fig, axes = plt.subplots(2, len(ds), figsize=(3.6 * len(ds), 6.0), squeeze=False, dpi=110)
    styles = dict(zip([v.label for v in VARIANTS], ["o-", "s-", "^--", "D--", "v--"], strict=True))
    for j, d in enumerate(ds):
        xs = sorted({k[3] for k in summary if k[0] == "width" and k[1] == d})
        ax = axes[0][j]
        for v in VARIANTS:
            pts = [
                (x, summary[("width", d, v.label, x)])
                for x in xs
                if ("width", d, v.label, x) in summary
            ]
            if pts:
                ax.errorbar(
                    [x for x, _ in pts],
                    [st["test_cerr"][0] for _, st in pts],
                    yerr=[st["test_cerr"][1] for _, st in pts],
                    fmt=styles[v.label],
                    label=v.label,
                    capsize=2,
                    markersize=4,
                )
        ax.set_xscale("log")
        ax.set_title(DATASET_LABEL.get(d, d), fontsize=9)
        ax.set_ylabel("test error, |ΔFNR| ≤ 0.01", fontsize=8)
        ax.tick_params(labelsize=7)
        ax = axes[1][j]
        for lab, color in (("ERM", "C0"), ("MinDiff", "C1"), ("MinDiff + flooding", "C3")):
            pts = [
                (x, summary[("width", d, lab, x)]) for x in xs if ("width", d, lab, x) in summary
            ]
            if not pts:
                continue
            px = [x for x, _ in pts]
            ax.plot(
                px, [st["test_fnr_gap"][0] for _, st in pts], "o-", color=color, label=f"{lab} test"
            )
            ax.plot(
                px,
                [st["train_fnr_gap"][0] for _, st in pts],
                "x:",
                color=color,
                label=f"{lab} train",
            )
        ax.set_xscale("log")
        ax.set_xlabel("width N (random ReLU features)", fontsize=8)
        ax.set_ylabel("ΔFNR at threshold 0.5", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=6, frameon=False)
    axes[1][0].legend(fontsize=6, frameon=False)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_batch(summary: dict, path: Path) -> list[Path]:
    xs = sorted({k[3] for k in summary if k[0] == "batch"})
    fig, ax = plt.subplots(figsize=(4.2, 3.2), dpi=110)
    for lab, q, style in (
        ("MinDiff", "test_cerr", "s-"),
        ("ERM", "test_cerr", "o-"),
        ("MinDiff", "test_fnr_gap", "s:"),
    ):
        pts = [
            (x, summary[("batch", BATCH_DATASET, lab, x)])
            for x in xs
            if ("batch", BATCH_DATASET, lab, x) in summary
        ]
        what = "constrained test error" if q == "test_cerr" else "test ΔFNR (0.5)"
        ax.errorbar(
            [x for x, _ in pts],
            [st[q][0] for _, st in pts],
            yerr=[st[q][1] for _, st in pts],
            fmt=style,
            label=f"{lab}: {what}",
            capsize=2,
            markersize=4,
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size", fontsize=8)
    ax.set_title(f"{DATASET_LABEL[BATCH_DATASET]}, N = {BATCH_WIDTH}", fontsize=9)
    ax.legend(fontsize=6, frameon=False)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


@register(
    "mindiff",
    "MinDiff over-parameterization (TMLR 2023): constrained test error vs width for ERM, "
    "MinDiff and MinDiff + L2 / flooding / early stopping; batch-size sensitivity",
)
def run(
    out: Path,
    seeds: list[int],
    full: bool = False,
    device: str = "cpu",
    datasets: list[str] | None = None,
    workers: int = 1,
) -> Path:
    datasets = list(datasets or WIDTHS)
    unknown = [d for d in datasets if d not in WIDTHS]
    if unknown:
        raise ConfigError(f"the mindiff study knows datasets {list(WIDTHS)}, not {unknown}")
    out.mkdir(parents=True, exist_ok=True)
    runs = plan(datasets, seeds, full)
    specs = list({sp.key(): sp for *_, sp in runs}.values())
    with ResultStore(out / "results.db") as store:
        run_specs(specs, store, workers=workers, sweep="reproduce-mindiff", device=device)
        done = {r["key"]: r for r in store.runs(status="done")}
    rows = [
        (st, d, lab, x, done[sp.key()]["metrics"]) for st, d, lab, x, sp in runs if sp.key() in done
    ]
    if not rows:
        raise ConfigError(
            f"no run of this reproduction finished; see `fairnn results --db {out / 'results.db'} "
            "--status failed` for the errors"
        )
    times = [done[sp.key()]["time_s"] for *_, sp in runs if sp.key() in done]
    summary = summarise(rows)
    figs = plot(summary, datasets, out / "mindiff-width")
    text = (
        "# MinDiff in the over-parameterized regime (Veldanda et al., TMLR 2023)\n\n"
        f"Seeds {seeds}; {len(rows)} of {len(runs)} runs finished; run time "
        f"{sum(times) / 60:.1f} min in total ({statistics.mean(times):.1f} s per run). "
        f"Adam lr {PROTOCOL['lr']}, batch {PROTOCOL['batch_size']}, "
        f"{(FULL_EPOCHS if full else PROTOCOL['epochs']) * PROTOCOL['steps_per_epoch']} steps; "
        f"MinDiff w = {MINDIFF['mindiff_weight']} on positives (FNR parity), Gaussian kernel, "
        f"l = 0.1; L2 = weight decay {REGULARIZERS['L2']['weight_decay']}, flood level "
        f"{REGULARIZERS['flooding']['flood_level']}, early stopping = the epoch with the lowest "
        "constrained validation error. Test error under the constraint: per-group thresholds "
        "chosen on validation (|ΔFNR| ≤ 0.01), applied to test.\n\n"
        "## The claims, on these runs\n\nMean over the widths of each regime (interpolating: "
        "ERM's training error ≤ 0.005) of the test error under the constraint / the test "
        "ΔFNR at the single threshold 0.5:\n\n"
        + claims(summary, datasets)
        + f"\n\n![width]({figs[0].name})\n\n"
    )
    if any(k[0] == "batch" for k in summary):
        bfigs = plot_batch(summary, out / "mindiff-batch")
        text += f"![batch size]({bfigs[0].name})\n\n"
    text += "## Tables\n\n" + markdown(summary, datasets, full)
    report = out / "report.md"
    tmp = report.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, report)
    return report
