"""Sweep reports people can read: zoomed Pareto fronts with outliers drawn at the edge and
labelled, a title on every point, datasets by name, headline choices first, and a
degenerate model never ranked fairest; checked in the HTML as Chromium renders it."""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from fairnn.experiments.plots import FRONT_SHARE, MIN_SPAN, ScatterPoint, axis_limits, zoom_limits
from fairnn.experiments.report import (
    aggregate,
    degenerate_reason,
    display_names,
    file_stems,
    headline,
    knee,
    write_report,
)
from fairnn.experiments.spec import RunSpec
from fairnn.experiments.store import ResultStore

# -- the zoom -----------------------------------------------------------------------------


def test_axis_limits_zoom_on_the_front_and_leave_an_outlier_outside():
    lo, hi = axis_limits([0.02, 0.06, 0.10], [0.12, 0.9])
    assert lo < 0.02 and 0.12 < hi < 0.9  # the near point is taken in, the outlier is not
    assert (0.10 - 0.02) / (hi - lo) >= FRONT_SHARE
    # without the near point the axis hugs the front with its margin only
    lo2, hi2 = axis_limits([0.02, 0.06, 0.10], [0.9])
    assert hi2 < 0.12 and (0.10 - 0.02) / (hi2 - lo2) > 0.8


def test_axis_limits_take_the_nearest_others_first_on_either_side():
    # the farther point below cannot fit; the nearer one above still can
    lo, hi = axis_limits([0.5, 0.6], [0.3, 0.62])
    assert lo > 0.3 and hi > 0.62
    # one value: a window of the smallest span centred on it
    lo, hi = axis_limits([0.4])
    assert hi - lo == pytest.approx(MIN_SPAN * (1 + 2 * 0.08)) and (lo + hi) / 2 == pytest.approx(
        0.4
    )


def test_axis_limits_keep_the_front_spanning_the_share_of_every_axis():
    rng = np.random.default_rng(0)
    for _ in range(200):
        front = rng.uniform(0, 1, rng.integers(1, 6))
        others = np.concatenate([rng.uniform(-3, 4, rng.integers(0, 8)), [math.nan]])
        lo, hi = axis_limits(front, others)
        assert lo < front.min() and front.max() < hi
        span = max(front.max() - front.min(), MIN_SPAN)
        assert span / (hi - lo) >= FRONT_SHARE - 1e-9


def test_zoom_limits_ignore_degenerate_points():
    pts = [
        ScatterPoint(0.05, 0.80, "m", "m(a=1)", on_front=True),
        ScatterPoint(0.10, 0.85, "m", "m(a=2)", on_front=True),
        ScatterPoint(0.00, 0.91, "m", "m(a=9)", degenerate=True),
    ]
    (x0, x1), (y0, y1) = zoom_limits(pts)
    assert x0 > 0.0 and y1 < 0.91
    assert zoom_limits(pts[:2]) == ((x0, x1), (y0, y1))


def test_knee_is_the_elbow_of_the_front():
    # gap up, accuracy up; (0.03, 0.84) buys most accuracy for the gap it gives up
    pts = [(0.02, 0.80), (0.03, 0.84), (0.08, 0.85), (0.15, 0.86), (0.1, 0.7)]
    assert knee(pts) == 1
    assert knee([(0.1, 0.8), (0.2, 0.9)]) in (0, 1)
    assert knee([(0.1, 0.8)]) == 0 and knee([]) is None


# -- names --------------------------------------------------------------------------------


def test_datasets_are_named_by_registry_name_or_file_stem():
    names = display_names(["german", "../data/ACS_sample.train.parquet", "x/y.csv.gz"])
    assert names == {
        "german": "german",
        "../data/ACS_sample.train.parquet": "ACS_sample.train",
        "x/y.csv.gz": "y",
    }
    stems = file_stems(names)
    assert stems["../data/ACS_sample.train.parquet"] == "ACS_sample-train"
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", s) for s in stems.values())


def test_two_tables_of_one_name_stay_apart():
    a, b = "a/data.csv", "b/data.parquet"
    names = display_names([a, b, "_odd_.csv"])
    assert names[a] != names[b] and a in names[a] and b in names[b]
    stems = file_stems([a, b, "_odd_.csv", "solo.csv"])
    assert stems[a] != stems[b] and stems[a].startswith("data-") and len(stems[a]) == 11
    assert stems["_odd_.csv"] == "odd" and stems["solo.csv"] == "solo"  # no hash unless needed


# -- degenerate models ---------------------------------------------------------------------


def _run(val: dict, test: dict | None = None, **extra) -> dict:
    return {"metrics": {"val": val, "test": test or val}, **extra}


def test_degenerate_reason_reads_the_rate_chance_level_or_the_recorded_flag():
    assert degenerate_reason(_run({"accuracy": 0.8}), ["val"]) is None
    assert "99.5%" in degenerate_reason(_run({"selection_rate": 0.005}), ["val"])
    # a stored rate decides; the balanced-accuracy fallback is for stores without one
    assert (
        degenerate_reason(_run({"selection_rate": 0.2, "balanced_accuracy": 0.5}), ["val"]) is None
    )
    assert "chance-level" in degenerate_reason(_run({"balanced_accuracy": 0.503}), ["val"])
    # a run the store recorded as degenerate (on val or test) is, whatever the report's split
    assert "recorded" in degenerate_reason(_run({"selection_rate": 0.3}, degenerate=True), ["val"])
    # one class on the test split only is enough
    why = degenerate_reason(_run({"selection_rate": 0.3}, {"selection_rate": 1.0}), ["val", "test"])
    assert why and "on test" in why and "as 1" in why


# -- a small stored sweep with one extreme outlier and one degenerate model ------------------
DATASET = "../data/ACS_sample.train.parquet"
#: (method, lam) -> (accuracy, ΔDP, balanced accuracy)
SWEEP = {
    ("vanilla", None): (0.860, 0.150, 0.75),
    ("gapreg", 0.1): (0.855, 0.100, 0.74),
    ("gapreg", 0.3): (0.850, 0.060, 0.73),
    ("gapreg", 1.0): (0.840, 0.030, 0.71),
    ("gapreg", 3.0): (0.820, 0.020, 0.68),
    ("gapreg", 10.0): (0.300, 0.900, 0.55),  # the extreme outlier
    ("gapreg", 30.0): (0.9085, 0.000, 0.50),  # predicts nobody: the majority rate, no gap
}
OUTLIER, DEGENERATE = "gapreg(lam=10)", "gapreg(lam=30)"


def _metrics(acc: float, gap: float, bal: float) -> dict[str, float]:
    return {
        "accuracy": acc,
        "ap": acc - 0.2,
        "dp_gap": gap,
        "eodds_gap_sum": 1.5 * gap,
        "balanced_accuracy": bal,
    }


def _stored_runs(db: Path) -> list[dict]:
    with ResultStore(db) as store:
        for (method, lam), (acc, gap, bal) in SWEEP.items():
            for seed in (0, 1):
                spec = RunSpec.make(
                    dataset=DATASET,
                    method=method,
                    params={} if lam is None else {"lam": lam},
                    seed=seed,
                    label="y",
                    sensitive=["s"],
                )
                m = _metrics(acc + 0.002 * seed, gap, bal)
                store.record(spec, {"status": "done", "metrics": {"val": m, "test": m}})
        return store.runs(status="done")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    return write_report(_stored_runs(tmp / "r.db"), tmp / "out")


def test_headline_never_ranks_a_degenerate_model_fairest(tmp_path):
    configs = aggregate(_stored_runs(tmp_path / "r.db"))
    by_label = {c["label"]: c for c in configs}
    assert by_label[DEGENERATE]["degenerate"] and not by_label[OUTLIER]["degenerate"]
    choice = headline(configs, "dp_gap")
    assert choice["fairest"]["label"] == "gapreg(lam=3)"  # not lam=30, whose gap is 0
    assert choice["most_accurate"]["label"] == "vanilla"  # not lam=30, the majority rate
    assert choice["knee"]["label"] in {"gapreg(lam=0.3)", "gapreg(lam=1)"}
    assert choice["selected_on"] == "select_stats"  # the runs have a validation split
    everyone_degenerate = [dict(c, degenerate="x") for c in configs]
    assert headline(everyone_degenerate, "dp_gap")["fairest"] is None


def test_report_names_files_and_titles_by_the_dataset_name(report):
    out = report.parent
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == [
        f"ACS_sample-train-dp-{u}.{ext}" for u in ("accuracy", "ap") for ext in ("png", "svg")
    ]
    page = report.read_text(encoding="utf-8")
    assert "<h2>ACS_sample.train, DP</h2>" in page
    assert "../data" not in re.sub(r'<p class="source">.*?</p>', "", page)  # only as its source
    md = (out / "report.md").read_text(encoding="utf-8")
    # the headline and its choices come before the figures and tables
    assert md.index("## Headline") < md.index("fairest (non-degenerate) | gapreg(lam=3)")
    assert md.index("gapreg(lam=3)") < md.index("![ap]")
    chosen = json.loads((out / "headline.json").read_text())["ACS_sample.train/dp"]
    assert chosen["fairest"]["configuration"] == "gapreg(lam=3)"
    assert chosen["fairest"]["dp_gap"] == pytest.approx(0.02)
    assert chosen["chosen_on"] == "val" and DEGENERATE in chosen["degenerate"]


PROBE = """<script>
window.addEventListener("load", () => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
            cx: (r.left + r.right) / 2, cy: (r.top + r.bottom) / 2}; };
  const figures = [...document.querySelectorAll("svg.pareto")].map((svg) => ({
    axes: box(svg.querySelector('[id$="-axes"]')),
    points: [...svg.querySelectorAll("g.fairnn-point")].map((g) => ({
      id: g.id, role: g.dataset.role, edge: g.dataset.edge || null,
      title: (g.querySelector(":scope > title") || {}).textContent || null, ...box(g)})),
    notes: [...svg.querySelectorAll('g[id*="-note"]')].map((g) => ({id: g.id,
      text: g.textContent.trim()})),
  }));
  const heads = [...document.querySelectorAll("h2")].map((h) => h.textContent);
  const headline = document.getElementById("headline");
  const first = document.querySelector("svg.pareto");
  const before = !!(headline && first &&
    (headline.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING));
  const p = document.createElement("pre");
  p.id = "probe";
  p.textContent = JSON.stringify({figures, heads, headline_first: before});
  document.body.appendChild(p);
});
</script>"""


def render_in_chromium(page: Path, tmp: Path, probe: str) -> str:
    """Load ``page`` with ``probe`` (a script) added in headless Chromium; the DOM after load."""
    exe = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )
    if exe is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    probed = page.with_name("_probe.html")
    probed.write_text(
        page.read_text(encoding="utf-8").replace("</body>", probe + "</body>"), encoding="utf-8"
    )
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        "--allow-file-access-from-files",
        "--window-size=1280,2000",
        "--virtual-time-budget=10000",
        "--dump-dom",
    ]
    out = subprocess.run(
        [exe, *flags, probed.as_uri()], capture_output=True, text=True, timeout=120
    )
    return out.stdout + "\n<!-- stderr -->\n" + out.stderr[-500:]


def test_rendered_fronts_fill_the_axes_and_the_outlier_sits_labelled_at_the_edge(report, tmp_path):
    dom = render_in_chromium(report, tmp_path, PROBE)
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert m, f"the page did not finish loading in Chromium: {dom[-600:]}"
    seen = json.loads(html.unescape(m.group(1)))
    assert seen["headline_first"] and seen["heads"][:2] == ["Headline", "ACS_sample.train, DP"]
    assert len(seen["figures"]) == 2  # AP and accuracy against ΔDP
    labels = {"vanilla"} | {f"gapreg(lam={lam:g})" for m, lam in SWEEP if lam is not None}
    for fig in seen["figures"]:
        ax, points = fig["axes"], fig["points"]
        width, height = ax["right"] - ax["left"], ax["bottom"] - ax["top"]
        assert width > 200 and height > 150  # drawn at a readable size
        # every point carries its configuration as a title
        assert all(p["title"] for p in points)
        assert {p["title"].split(":")[0] for p in points} == labels
        # the non-dominated points span most of each axis
        front = [p for p in points if p["role"] == "front"]
        assert len(front) >= 5
        xs, ys = [p["cx"] for p in front], [p["cy"] for p in front]
        assert (max(xs) - min(xs)) / width >= 0.6
        assert (max(ys) - min(ys)) / height >= 0.6
        inside = [p for p in points if not p["edge"]]
        assert all(ax["left"] <= p["cx"] <= ax["right"] for p in inside)
        assert all(ax["top"] <= p["cy"] <= ax["bottom"] for p in inside)
        # the outlier is drawn on the edge its data says, and labelled with its true values
        (out,) = [p for p in points if p["title"].startswith(OUTLIER + ":")]
        assert out["edge"] in ("right", "bottom")
        on_edge = {"right": abs(out["cx"] - ax["right"]), "bottom": abs(out["cy"] - ax["bottom"])}
        assert on_edge[out["edge"]] <= 2.0
        assert (
            ax["left"] <= out["cx"] <= ax["right"] + 2
            and ax["top"] <= out["cy"] <= ax["bottom"] + 2
        )
        (note,) = [n for n in fig["notes"] if n["id"] == "-note".join(out["id"].rsplit("-pt", 1))]
        assert note["text"].startswith(OUTLIER) and "0.9" in note["text"]
        assert ("0.3" in note["text"]) or ("0.1" in note["text"])  # accuracy 0.3 / AP 0.1
        # the degenerate model is marked and never on a front
        (deg,) = [p for p in points if p["title"].startswith(DEGENERATE + ":")]
        assert deg["role"] == "degenerate" and "one class" in deg["title"]


def test_configurations_that_share_a_label_are_told_apart(tmp_path):
    with ResultStore(tmp_path / "r.db") as store:
        for epochs in (1, 2):
            spec = RunSpec.make(
                dataset=DATASET, method="gapreg", params={"lam": 1.0}, train={"epochs": epochs}
            )
            m = _metrics(0.8, 0.1, 0.7)
            store.record(spec, {"status": "done", "metrics": {"test": m}})
        labels = sorted(c["label"] for c in aggregate(store.runs()))
    assert labels == ["gapreg(lam=1) [epochs=1]", "gapreg(lam=1) [epochs=2]"]
