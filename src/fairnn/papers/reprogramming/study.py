"""``fairnn reproduce reprogramming``: Fairness Reprogramming (NeurIPS 2022), Figures 3-6.

On Adult, the Colored-MNIST and Waterbirds-MNIST stand-ins and the synthetic
toxicity task (the paper's CelebA and Civil Comments are not available offline):

* **λ sweep** (Figure 3): accuracy against ΔDP (DP mode) and ΔEO (EO mode) on the
  test split for the trigger (``reprogram``), AdvPost (``adv_post``, adversarial
  fine-tuning of the whole model) and AdvIn (``adversarial`` trained from scratch
  with the same 3-layer discriminator), one run per λ, plus vanilla (the base).
* **tuning-data ratio** (Figure 4): the trigger and AdvPost at one λ trained on a
  random fraction of the training rows (``tune_ratio``), base model fixed.
* **transfer** (Figure 5): the triggers of the λ sweep (trained in front of the
  seed's base model) put in front of a second base model trained on the same split
  with another seed, never seen by the trigger.
* **multi-class** (Figure 6): Waterbirds-MNIST with 4 classes (``digit ≥ 5`` ×
  digit parity), a 4-logit CNN, softmax outputs; the trigger over λ. ΔDP/ΔEO here
  are averaged over classes (one-vs-rest).

The λ sweep and tuning-ratio runs are :class:`RunSpec` s through the sweep
machinery (``results.db``, resumable, ``--workers``); a post-processing run reuses
its base model within a worker process. Transfer and multi-class evaluate saved
models and networks directly and cache their rows in ``extra.json``. Outputs:
``report.md``, ``lambda-sweep``, ``tune-ratio``, ``transfer``, ``multiclass``
(PNG and SVG).
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from fairnn.errors import ConfigError
from fairnn.experiments.executors import run_specs
from fairnn.experiments.plots import save_figure
from fairnn.experiments.reproductions import register
from fairnn.experiments.spec import RunSpec
from fairnn.experiments.store import ResultStore
from fairnn.notion import Notion

#: the study's parts: the λ sweep, the tuning-data ratio, trigger transfer, multi-class
PARTS = ("lambda", "ratio", "transfer", "multiclass")
NAMES = {
    "adult": "Adult",
    "cmnist": "Colored-MNIST",
    "wbmnist": "Waterbirds-MNIST",
    "synthetic-toxicity": "synthetic toxicity",
}
METHODS = {"reprogram": "trigger", "adv_post": "AdvPost", "adversarial": "AdvIn"}


def settings(dataset: str, full: bool) -> dict[str, Any]:
    """Training settings, method parameters and λ grids per dataset (CPU-sized unless full)."""
    if dataset == "adult":
        s = {
            "train": {"epochs": 20 if full else 8, "select": "last"},
            "lams": [0.0, 0.3, 1.0, 3.0, 10.0],
            "params": {"reprogram": {"tune_lr": 0.01}, "adv_post": {}, "adversarial": {}},
            "ratio_lam": 1.0,
        }
    elif dataset in ("cmnist", "wbmnist"):
        s = {
            "train": {
                "epochs": 20 if full else 10,
                "lr": 0.003,
                "batch_size": 128,
                "select": "last",
            },
            "lams": [0.0, 1.0, 3.0, 10.0],
            "params": {
                "reprogram": {"tune_lr": 0.05, "trigger": "patch"},
                "adv_post": {},
                "adversarial": {},
            },
            "ratio_lam": 3.0,
        }
    else:
        s = {
            "train": {
                "epochs": 20 if full else 10,
                "lr": 0.003,
                "batch_size": 128,
                "select": "last",
            },
            "lams": [0.0, 0.1, 0.5, 2.0, 10.0],
            "params": {"reprogram": {"tune_lr": 0.1}, "adv_post": {}, "adversarial": {}},
            "ratio_lam": 0.5,
        }
    for m in ("adv_post", "adversarial"):  # the paper's 3-layer discriminator for every method
        s["params"][m] = {"adv_hidden": [128, 128], "adv_lr": 0.01, **s["params"][m]}
    return s


def sweep_specs(
    datasets: list[str], modes: list[str], seeds: list[int], full: bool, ratios: list[float]
) -> tuple[list[RunSpec], list[RunSpec]]:
    lam_specs, ratio_specs = [], []
    for d in datasets:
        st = settings(d, full)
        modes_d = modes if d in ("adult", "synthetic-toxicity") else ["dp"]
        for mode in modes_d:
            for seed in seeds:
                common = dict(dataset=d, mode=mode, seed=seed, train=st["train"])
                lam_specs.append(RunSpec.make(method="vanilla", **common))
                for m, extra in st["params"].items():
                    for lam in st["lams"]:
                        lam_specs.append(
                            RunSpec.make(method=m, params={**extra, "lam": lam}, **common)
                        )
                if mode == "dp":
                    for m in ("reprogram", "adv_post"):
                        for r in ratios:
                            params = {**st["params"][m], "lam": st["ratio_lam"], "tune_ratio": r}
                            ratio_specs.append(RunSpec.make(method=m, params=params, **common))
    return lam_specs, ratio_specs


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _rows(store: ResultStore, specs: list[RunSpec]) -> list[dict[str, Any]]:
    keys = {s.key(): s for s in specs}
    out = []
    for r in store.runs(status="done"):
        if r["key"] in keys:
            spec = keys[r["key"]]
            out.append(
                {
                    "key": r["key"],
                    "dataset": spec.dataset,
                    "mode": spec.mode,
                    "method": spec.method,
                    "seed": spec.seed,
                    "lam": spec.params.get("lam"),
                    "tune_ratio": spec.params.get("tune_ratio", 1.0),
                    "test": r["metrics"]["test"],
                    "model_path": r.get("model_path"),
                    "time_s": r["time_s"],
                }
            )
    return out


def _agg(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[tuple, dict[str, tuple]]:
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    return {
        k: {
            m: _mean_std([r["test"][m] for r in v]) for m in ("accuracy", "dp_gap", "eodds_gap_sum")
        }
        for k, v in groups.items()
    }


# -- transfer and multi-class: direct evaluation, cached in extra.json -------------------
def transfer_rows(
    rows: list[dict[str, Any]], datasets: list[str], full: bool, cache: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every DP-mode trigger of the λ sweep in front of a second base model (seed + 100)."""
    import torch

    from fairnn.experiments.run import load_splits
    from fairnn.methods import FittedModel, make_method
    from fairnn.nn.trigger import TriggeredModel
    from fairnn.training import TrainConfig

    out = []
    for d in datasets:
        triggers = [
            r
            for r in rows
            if r["dataset"] == d
            and r["method"] == "reprogram"
            and r["mode"] == "dp"
            and r["model_path"]
            and r["tune_ratio"] == 1.0
        ]
        for seed in sorted({r["seed"] for r in triggers}):
            todo = [r for r in triggers if r["seed"] == seed and r["key"] not in cache]
            if todo:
                spec = RunSpec.make(dataset=d, seed=seed)
                splits = load_splits(spec)
                cfg = TrainConfig.make(**settings(d, full)["train"], progress=False)
                other = make_method("vanilla").fit(
                    splits.train, splits.val, config=cfg, seed=seed + 100
                )
                cache[f"base|{d}|{seed}"] = other.evaluate(splits.test)
                for r in todo:
                    trained = FittedModel.load(r["model_path"])
                    net = trained.network
                    assert isinstance(net, TriggeredModel)
                    moved = TriggeredModel(other.network, net.trigger)
                    with torch.no_grad():
                        fitted = FittedModel(moved, trained.features, trained.groups)
                        cache[r["key"]] = fitted.evaluate(splits.test)
            for r in triggers:
                if r["seed"] == seed:
                    out.append(
                        {**r, "transfer": cache[r["key"]], "other_base": cache[f"base|{d}|{seed}"]}
                    )
    return out


def _multiclass_data(seed: int) -> tuple[Any, Any, Any]:
    from dataclasses import replace

    import torch

    from fairnn.datasets import load_dataset

    splits = load_dataset("wbmnist", seed=seed)

    def four(data: Any) -> Any:
        parity = (data.attrs["digit"] % 2).to(torch.float32)
        return replace(data, y=data.y * 2 + parity, task="multiclass", label="(digit>=5, odd)")

    return four(splits.train), four(splits.val), four(splits.test)


def multiclass_gaps(pred: np.ndarray, y: np.ndarray, s: np.ndarray, n_classes: int) -> dict:
    """Accuracy and one-vs-rest ΔDP / ΔEO (|ΔTPR| + |ΔFPR|) averaged over classes.

    The per-group rates of ``1[pred == c]`` given ``1[y == c]`` are the metric kernels'
    (:class:`~fairnn.metrics.GroupMetricFrame`). Unlike ``fairnn.metrics.dp_gap_ovr`` /
    ``eodds_gap_sum_ovr`` (classes seen, empty cells ignored), the study averages over all
    ``n_classes`` and counts an empty (class, group) cell as rate 0, as published.
    """
    from fairnn.metrics import GroupMetricFrame

    dp, eo = [], []
    for c in range(n_classes):
        rates = GroupMetricFrame(
            ["selection_rate", "tpr", "fpr"], (y == c) * 1.0, (pred == c) * 1.0,
            sensitive_features=s,
        ).by_group.fillna(0.0)  # fmt: skip
        dp.append(abs(rates["selection_rate"].loc[0] - rates["selection_rate"].loc[1]))
        gap = 0.0
        for rate in ("tpr", "fpr"):
            gap += abs(rates[rate].loc[0] - rates[rate].loc[1])
        eo.append(gap)
    return {
        "accuracy": float((pred == y).mean()),
        "dp_gap": float(np.mean(dp)),
        "eodds_gap_sum": float(np.mean(eo)),
    }


def multiclass_rows(seeds: list[int], full: bool, cache: dict[str, Any]) -> list[dict[str, Any]]:
    import torch

    from fairnn.methods.reprogram import ReprogramParams, train_trigger
    from fairnn.nn import SmallCNN
    from fairnn.nn.trigger import make_trigger
    from fairnn.training import TrainConfig, fit, predict_logits

    st = settings("wbmnist", full)
    lams = st["lams"]
    out = []
    for seed in seeds:
        todo = [lam for lam in ["base", *lams] if f"mc|{seed}|{lam}" not in cache]
        if todo:
            train, val, test = _multiclass_data(seed)
            cfg = TrainConfig.make(**st["train"], progress=False)
            torch.manual_seed(seed)
            base = SmallCNN(3, out_features=4)
            fit(base, train, val, cfg, seed=seed)

            def score(model: torch.nn.Module, test: Any = test) -> dict[str, float]:
                pred = predict_logits(model, test.X, 256).argmax(-1).numpy()
                return multiclass_gaps(pred, test.y.long().numpy(), test.s.numpy(), 4)

            cache[f"mc|{seed}|base"] = score(base)
            for lam in lams:
                if f"mc|{seed}|{lam}" in cache:
                    continue
                p = ReprogramParams(lam=lam, **st["params"]["reprogram"])
                trig = make_trigger(p.trigger, train, base, seed=seed)
                model, _ = train_trigger(base, trig, train, val, p, cfg, seed=seed, n_classes=4)
                cache[f"mc|{seed}|{lam}"] = score(model)
        out.append(
            {
                "seed": seed,
                "base": cache[f"mc|{seed}|base"],
                **{str(lam): cache[f"mc|{seed}|{lam}"] for lam in lams},
            }
        )
    return out


# -- plots and report ---------------------------------------------------------------------
def _plot_lambda(agg: dict, datasets: list[str], modes: list[str], path: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    panels = [(d, m) for d in datasets for m in modes if (d, m, "vanilla", None) in agg]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(3.3 * len(panels), 3.1), squeeze=False, dpi=110
    )
    for ax, (d, mode) in zip(axes[0], panels, strict=True):
        gap = Notion(mode).gap_metric
        for m, label in METHODS.items():
            pts = sorted((k[3], v) for k, v in agg.items() if k[:3] == (d, mode, m))
            if pts:
                ax.plot(
                    [v[gap][0] for _, v in pts],
                    [v["accuracy"][0] for _, v in pts],
                    "o-",
                    label=label,
                    ms=4,
                )
                for lam, v in pts:
                    ax.annotate(f"{lam:g}", (v[gap][0], v["accuracy"][0]), fontsize=6)
        v = agg[(d, mode, "vanilla", None)]
        ax.plot(v[gap][0], v["accuracy"][0], "k*", ms=10, label="base (vanilla)")
        ax.set_title(f"{NAMES.get(d, d)}, {Notion(mode).label}", fontsize=9)
        ax.set_xlabel(f"{Notion(mode).label} (test)", fontsize=8)
        ax.set_ylabel("accuracy (test)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7, frameon=False)
    return save_figure(fig, path)


def _plot_ratio(agg: dict, datasets: list[str], base: dict, path: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    ds = [d for d in datasets if any(k[0] == d for k in agg)]
    fig, axes = plt.subplots(2, len(ds), figsize=(3.3 * len(ds), 5.6), squeeze=False, dpi=110)
    for j, d in enumerate(ds):
        for i, metric in enumerate(("dp_gap", "accuracy")):
            ax = axes[i][j]
            for m in ("reprogram", "adv_post"):
                pts = sorted((k[2], v) for k, v in agg.items() if k[:2] == (d, m))
                ax.plot(
                    [r for r, _ in pts],
                    [v[metric][0] for _, v in pts],
                    "o-",
                    label=METHODS[m],
                    ms=4,
                )
            if (d, "dp", "vanilla", None) in base:
                ax.axhline(
                    base[(d, "dp", "vanilla", None)][metric][0],
                    color="k",
                    ls="--",
                    lw=1,
                    label="base",
                )
            ax.set_xscale("log")
            ax.set_title(f"{NAMES.get(d, d)}", fontsize=9)
            ax.set_xlabel("tuning data ratio", fontsize=8)
            ax.set_ylabel(("ΔDP" if metric == "dp_gap" else "accuracy") + " (test)", fontsize=8)
            ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7, frameon=False)
    return save_figure(fig, path)


def _plot_transfer(rows: list[dict[str, Any]], datasets: list[str], path: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    ds = [d for d in datasets if any(r["dataset"] == d for r in rows)]
    fig, axes = plt.subplots(1, len(ds), figsize=(3.3 * len(ds), 3.1), squeeze=False, dpi=110)
    for ax, d in zip(axes[0], ds, strict=True):
        rs = sorted((r for r in rows if r["dataset"] == d), key=lambda r: r["lam"])
        for key, label in (("test", "own base"), ("transfer", "other base")):
            ax.plot(
                [r[key]["dp_gap"] for r in rs],
                [r[key]["accuracy"] for r in rs],
                "o-",
                ms=4,
                label=label,
            )
        ob = rs[0]["other_base"]
        ax.plot(ob["dp_gap"], ob["accuracy"], "k*", ms=10, label="other base, no trigger")
        ax.set_title(NAMES.get(d, d), fontsize=9)
        ax.set_xlabel("ΔDP (test)", fontsize=8)
        ax.set_ylabel("accuracy (test)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7, frameon=False)
    return save_figure(fig, path)


def _plot_multiclass(rows: list[dict[str, Any]], lams: list[float], path: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(6.6, 3.1), dpi=110)
    for ax, gap in zip(axes, ("dp_gap", "eodds_gap_sum"), strict=True):
        for r in rows:
            pts = [r[str(lam)] for lam in lams]
            ax.plot(
                [p[gap] for p in pts],
                [p["accuracy"] for p in pts],
                "o-",
                ms=4,
                label=f"trigger, seed {r['seed']}",
            )
            ax.plot(r["base"][gap], r["base"]["accuracy"], "k*", ms=10)
        ax.set_xlabel(
            ("mean ΔDP" if gap == "dp_gap" else "mean ΔEO") + " over classes (test)", fontsize=8
        )
        ax.set_ylabel("accuracy (test)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, frameon=False)
    axes[0].set_title("Waterbirds-MNIST, 4 classes", fontsize=9)
    return save_figure(fig, path)


def _fmt(v: tuple[float, float]) -> str:
    return f"{v[0]:.3f}" if v[1] == 0 else f"{v[0]:.3f} ± {v[1]:.3f}"


@register(
    "reprogramming",
    "Fairness Reprogramming (NeurIPS 2022): λ sweep, tuning ratio, transfer, multi-class vs AdvPost/AdvIn",
)
def run(
    out: Path,
    seeds: list[int],
    full: bool = False,
    device: str = "cpu",
    datasets: list[str] | None = None,
    modes: list[str] | None = None,
    ratios: list[float] | None = None,
    workers: int = 1,
    parts: tuple[str, ...] = PARTS,
) -> Path:
    datasets = list(datasets or NAMES)
    modes = list(modes or ("dp", "eo"))
    ratios = list(ratios or (0.01, 0.05, 0.2, 1.0))
    for what, given, known in (
        ("datasets", datasets, list(NAMES)),
        ("modes", modes, ["dp", "eo"]),
        ("parts", list(parts), list(PARTS)),
    ):
        unknown = [v for v in given if v not in known]
        if unknown:
            raise ConfigError(f"the reprogramming study knows {what} {known}, not {unknown}")
    out.mkdir(parents=True, exist_ok=True)
    lam_specs, ratio_specs = sweep_specs(datasets, modes, seeds, full, ratios)
    specs = [*lam_specs, *(ratio_specs if "ratio" in parts else [])]
    with ResultStore(out / "results.db") as store:
        run_specs(
            specs,
            store,
            workers=workers,
            sweep="reproduce-reprogramming",
            device=device,
            models_dir=out / "models",
        )
        lam_rows = _rows(store, lam_specs)
        ratio_rows = _rows(store, ratio_specs)
    if not lam_rows:
        raise ConfigError(
            f"no run of this reproduction finished; see `fairnn results --db {out / 'results.db'} "
            "--status failed` for the errors"
        )
    extra_path = out / "extra.json"
    cache = json.loads(extra_path.read_text()) if extra_path.exists() else {}
    agg = _agg(lam_rows, ("dataset", "mode", "method", "lam"))
    figs = {"lambda": _plot_lambda(agg, datasets, modes, out / "lambda-sweep")[0]}
    text = [
        "# Fairness Reprogramming reproduction (NeurIPS 2022, Figures 3-6)\n",
        f"Seeds {seeds}; test split; {len(lam_rows) + len(ratio_rows)} runs in `results.db`. "
        "ΔDP = max group gap in P(ŷ=1); ΔEO = |ΔTPR| + |ΔFPR| (two groups: the paper's "
        "sum over groups of deviations from the overall rate is proportional).\n",
        "## λ sweep (Figure 3)\n",
        "| data | mode | method | λ | accuracy | gap |",
        "|---|---|---|---:|---:|---:|",
    ]
    for (d, mode, m, lam), v in sorted(
        agg.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3] or 0)
    ):
        name = "base (vanilla)" if m == "vanilla" else METHODS[m]
        text.append(
            f"| {NAMES.get(d, d)} | {mode} | {name} | {'' if lam is None else f'{lam:g}'} | "
            f"{_fmt(v['accuracy'])} | {_fmt(v[Notion(mode).gap_metric])} |"
        )
    text.append(f"\n![λ sweep]({figs['lambda'].name})\n")
    if "ratio" in parts and ratio_rows:
        ragg = _agg(ratio_rows, ("dataset", "method", "tune_ratio"))
        figs["ratio"] = _plot_ratio(ragg, datasets, agg, out / "tune-ratio")[0]
        text += [
            "## Tuning-data ratio (Figure 4, DP mode)\n",
            "| data | method | ratio | accuracy | ΔDP |",
            "|---|---|---:|---:|---:|",
        ]
        for (d, m, r), v in sorted(ragg.items()):
            text.append(
                f"| {NAMES.get(d, d)} | {METHODS[m]} | {r:g} | {_fmt(v['accuracy'])} | {_fmt(v['dp_gap'])} |"
            )
        text.append(f"\n![tuning ratio]({figs['ratio'].name})\n")
    if "transfer" in parts:
        trows = transfer_rows(lam_rows, datasets, full, cache)
        if trows:
            figs["transfer"] = _plot_transfer(trows, datasets, out / "transfer")[0]
            text += [
                "## Transfer (Figure 5, DP mode): the trigger in front of another base model\n",
                "| data | λ | own base: acc | own ΔDP | other base: acc | other ΔDP |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for d in datasets:
                rs = sorted(
                    (r for r in trows if r["dataset"] == d), key=lambda r: (r["lam"], r["seed"])
                )
                if rs:
                    ob = rs[0]["other_base"]
                    text.append(
                        f"| {NAMES.get(d, d)} | no trigger | | | {ob['accuracy']:.3f} | {ob['dp_gap']:.3f} |"
                    )
                for r in rs:
                    text.append(
                        f"| {NAMES.get(d, d)} | {r['lam']:g} | {r['test']['accuracy']:.3f} | "
                        f"{r['test']['dp_gap']:.3f} | {r['transfer']['accuracy']:.3f} | {r['transfer']['dp_gap']:.3f} |"
                    )
            text.append(f"\n![transfer]({figs['transfer'].name})\n")
    if "multiclass" in parts:
        mrows = multiclass_rows(seeds, full, cache)
        lams = settings("wbmnist", full)["lams"]
        figs["multiclass"] = _plot_multiclass(mrows, lams, out / "multiclass")[0]
        text += [
            "## Multi-class (Figure 6): Waterbirds-MNIST, 4 classes, DP mode\n",
            "| seed | λ | accuracy | mean ΔDP | mean ΔEO |",
            "|---:|---:|---:|---:|---:|",
        ]
        for r in mrows:
            for lam in ["base", *lams]:
                v = r[str(lam)] if lam != "base" else r["base"]
                text.append(
                    f"| {r['seed']} | {lam} | {v['accuracy']:.3f} | {v['dp_gap']:.3f} | {v['eodds_gap_sum']:.3f} |"
                )
        text.append(f"\n![multi-class]({figs['multiclass'].name})\n")
    tmp = extra_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cache, indent=1), encoding="utf-8")
    os.replace(tmp, extra_path)
    report = out / "report.md"
    tmp = report.with_suffix(".md.tmp")
    tmp.write_text("\n".join(text) + "\n", encoding="utf-8")
    os.replace(tmp, report)
    return report
