"""What the :mod:`fairnn.api` functions return: results that render themselves.

Every result holds what one call computed and renders it as ``to_json()`` (the JSON-ready
object that ``fairnn COMMAND --json`` prints), ``to_text()`` (the text the command prints;
``str(result)`` is the same) and, where the command writes files, ``write(path)``.
This module imports nothing heavy: a result's data arrives computed.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairnn.errors import ConfigError
from fairnn.experiments.tables import format_table, text_table

if TYPE_CHECKING:
    from fairnn.experiments.executors import SweepSummary
    from fairnn.experiments.run import RunResult
    from fairnn.methods.fitted import FittedModel
    from fairnn.monitor import MonitorReport

#: the metric columns of the train, audit, repair and results tables
REPORT_METRICS = ("accuracy", "ap", "dp_gap", "eodds_gap_sum", "eodds_gap_max")
#: the extra columns of a training run evaluated under a per-group FNR constraint
CONSTRAINED_METRICS = ("fnr_gap", "constrained_error", "constrained_gap")
#: what ``fairnn results --format`` accepts
RESULT_FORMATS = ("table", "csv", "json", "parquet")


def jsonable(obj: Any, default: Callable[[Any], Any] = str) -> Any:
    """``obj`` as plain JSON values, each non-JSON value through ``default`` (as json.dumps)."""
    return json.loads(json.dumps(obj, default=default))


class Result:
    """The rendering interface every result implements."""

    def to_json(self) -> Any:
        raise NotImplementedError

    def to_text(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.to_text()


def failure_message(failed: int, total: int, db: Path, sweep: str, earlier: int = 0) -> str | None:
    """How many runs of ``sweep`` failed and the command that shows their errors (None: none)."""
    if not failed:
        return None
    before = (
        f" ({earlier} in an earlier invocation; --retry-failed runs them again)" if earlier else ""
    )
    return (
        f"error: {failed} of {total} runs failed{before}; see the errors with: fairnn results "
        f"--db {shlex.quote(str(db))} --status failed --sweep {shlex.quote(sweep)}"
    )


# -- catalogue -------------------------------------------------------------------------
DATASET_COLUMNS = ("name", "rows", "task", "label", "sensitive", "source", "license", "present")


@dataclass
class DatasetList(Result):
    """The dataset registry: one ``dataset_info`` dict per dataset and its data source."""

    infos: list[dict[str, Any]]
    sources: list[str]

    def to_json(self) -> list[dict[str, Any]]:
        return jsonable(self.infos)

    def to_text(self) -> str:
        rows = [
            [str(_dataset_cell(info, col, source)) for col in DATASET_COLUMNS]
            for info, source in zip(self.infos, self.sources, strict=True)
        ]
        return text_table(DATASET_COLUMNS, rows, numeric=False)


def _dataset_cell(info: dict[str, Any], col: str, source: str) -> Any:
    if col == "source":
        return source
    v = info.get(col, "")
    if v is None:
        return "?"
    if col == "license":
        return str(v).split(" (")[0][:28]
    if isinstance(v, list | tuple):
        return ",".join(map(str, v))
    if col == "present":
        return "yes" if v else "no"
    return v


@dataclass
class DatasetInfo(Result):
    """Everything the registry knows about one dataset, and where its files are."""

    info: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return jsonable(self.info)

    def to_text(self) -> str:
        return "\n".join(f"{k:>12}: {v}" for k, v in self.info.items())


@dataclass
class ColumnPreview(Result):
    """How training would treat each column of your own table (``fairnn datasets info``)."""

    preview: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return jsonable(self.preview)

    def to_text(self) -> str:
        p = self.preview
        lines = [f"{'column':<20} {'role':<16} {'kind':<12} {'distinct':>8} {'width':>5}"]
        for c in p["columns"]:
            lines.append(
                f"{c['column']:<20} {c['role']:<16} {c['kind'] or '-':<12} "
                f"{c['distinct']:>8} {c['width']:>5}"
            )
        lines.append(
            f"{p['rows']} rows, {p['inputs']} model inputs; positive label "
            f"{p['positive_label']!r}; groups: {', '.join(map(str, p['groups']))}"
        )
        lines += [f"warning: {w}" for w in p["warnings"]]
        return "\n".join(lines)


@dataclass
class MethodList(Result):
    """The registered methods: name, stage, aliases, parameter defaults and paper."""

    methods: list[dict[str, Any]]

    def to_json(self) -> list[dict[str, Any]]:
        return jsonable(self.methods)

    def to_text(self) -> str:
        lines = []
        for m in self.methods:
            params = ", ".join(f"{k}={v!r}" for k, v in m["params"].items())
            alias = f" (aliases: {', '.join(m['aliases'])})" if m["aliases"] else ""
            lines.append(
                f"{m['name']} [{m['stage']}]{alias}\n    params: {params or '-'}\n    {m['paper']}"
            )
        return "\n".join(lines)


@dataclass
class StudyList(Result):
    """The paper reproductions, by name, with a one-line description each."""

    studies: dict[str, str]

    def to_json(self) -> dict[str, str]:
        return dict(self.studies)

    def to_text(self) -> str:
        return "\n".join(f"{key:>12}  {desc}" for key, desc in self.studies.items())


# -- a model: train, audit, repair, certify, export ------------------------------------
def decision_lines(decision: dict[str, Any] | None) -> list[str]:
    """The ``decision`` object of a train, audit or repair report as text: the rule (the
    threshold, or ROC's chosen θ and the range searched), the share of positive decisions
    and the TPR per split, and a warning when the rule made the validation gap worse."""
    if not decision:
        return []
    t = decision.get("threshold")
    at = f"1[p > {t:g}]" if t is not None else "per-group thresholds"
    rule = decision["rule"]
    chosen = decision.get("chosen") or {}
    if rule == "reject_option":
        searched = chosen.get("searched")
        how = (
            f"chosen on validation: {searched['values']} values in "
            f"{searched['from']:g}..{searched['to']:g}, by {chosen.get('metric')}"
            if searched
            else "as given"
        )
        at = f"reject option θ = {decision['theta']:g} ({how}) around {at}"
    elif rule == "group_thresholds":
        at = f"per-group thresholds {decision.get('thresholds')}"

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    def num(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    rates = ", ".join(
        f"{name} {pct(r['selection_rate'])} (TPR {num(r['tpr'])})"
        for name, r in decision.get("splits", {}).items()
    )
    lines = [f"decisions: {at}; positive decisions: {rates}"]
    if chosen.get("warning"):
        lines.append(f"warning: {chosen['warning']}")
    return lines


@dataclass
class TrainResult(Result):
    """A training run: its spec, metrics on train/val/test, and the fitted model."""

    run: RunResult

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        return self.run.metrics

    @property
    def fitted(self) -> FittedModel | None:
        return self.run.fitted

    @property
    def model_path(self) -> str | None:
        return self.run.model_path

    def to_json(self) -> dict[str, Any]:
        return self.run.to_json()

    def to_text(self) -> str:
        run, spec = self.run, self.run.spec
        columns = REPORT_METRICS
        if spec.constraint is not None:
            columns = (*REPORT_METRICS, *CONSTRAINED_METRICS)
        lines = [
            f"{spec.method} on {spec.dataset} ({spec.recipe}, seed {spec.seed}) "
            f"in {run.time_s:.1f}s",
            format_table(run.metrics, columns),
            *decision_lines(run.decision),
            *(f"warning: degenerate model: {why}" for why in run.degenerate.values()),
        ]
        if run.target_gap is not None:
            from fairnn.experiments.target_gap import target_gap_lines

            lines += target_gap_lines(run.target_gap)
        if run.model_path:
            lines.append(f"model saved to {run.model_path}")
        return "\n".join(lines)


@dataclass
class AuditResult(Result):
    """A model's accuracy and group fairness on some rows: overall, by group, intervals."""

    report: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return jsonable(self.report, float)

    def to_text(self) -> str:
        r = self.report
        lines = [
            f"{r['model']} on {r['data']} [{r['split']}], n = {r['rows']}",
            format_table({"overall": r["metrics"]}, REPORT_METRICS),
            *decision_lines(r.get("decision")),
        ]
        if r.get("intervals"):
            lines.append("\n95% bootstrap intervals:")
            lines += [f"  {k:>14}: [{lo:.4f}, {hi:.4f}]" for k, (lo, hi) in r["intervals"].items()]
        lines += ["\nby group:", r["by_group_markdown"]]
        return "\n".join(lines)


@dataclass
class RepairResult(Result):
    """A repair: the method, its parameters, val/test metrics before and after, where saved."""

    report: dict[str, Any]
    fitted: FittedModel | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return self.report

    def to_text(self) -> str:
        r = self.report
        rows = {"before": r["before"]["test"], "after": r["after"]["test"]}
        return "\n".join(
            [
                f"{r['method']} {r['params']} on {r['model']} (test split)",
                format_table(rows, REPORT_METRICS),
                *decision_lines(r.get("decision")),
                f"repaired model saved to {r['model_path']}",
            ]
        )


@dataclass
class CertifyResult(Result):
    """An ε-δ individual-fairness certificate (global, or one per row with ``local``)."""

    report: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return jsonable({k: v for k, v in self.report.items() if k != "text"}, float)

    def to_text(self) -> str:
        return str(self.report["text"])


@dataclass
class NnffResult(Result):
    """The NNFF seed's pipeline on Boston: each stage's δ beside its exact certificate."""

    report: dict[str, Any]
    text: str

    def to_json(self) -> dict[str, Any]:
        return self.report

    def to_text(self) -> str:
        return self.text


@dataclass
class ExportResult(Result):
    """An exported model file and the JSON file that describes its inputs and outputs."""

    path: Path

    @property
    def description(self) -> Path:
        return self.path.parent / "export.json"

    def to_json(self) -> dict[str, str]:
        return {"path": str(self.path), "description": str(self.description)}

    def to_text(self) -> str:
        return f"exported to {self.path} (inputs and outputs described in {self.description})"


# -- a prediction log ------------------------------------------------------------------
MONITOR_COLUMNS = ["dp_gap", "eodds_gap_sum", "accuracy"]


@dataclass
class MonitorResult(Result):
    """Fairness over time: metrics per window with intervals, and the flagged windows.

    ``write(out)`` writes ``windows.csv``, ``flags.csv`` and ``monitor.png`` (default folder:
    the log's path without its suffix, plus ``-monitor``); the renderings then name it.
    """

    report: MonitorReport
    log: Path | None = None
    out: Path | None = None
    plot: Path | None = None

    @property
    def flagged_windows(self) -> list[int]:
        return self.report.flagged_windows

    def default_out(self) -> Path:
        if self.log is None:
            raise ConfigError("the log is a DataFrame, not a file: give write() a folder")
        return Path(f"{self.log.with_suffix('')}-monitor")

    def write(self, out: str | Path | None = None) -> Path:
        target = Path(out) if out is not None else self.default_out()
        target.mkdir(parents=True, exist_ok=True)
        self.report.windows.to_csv(target / "windows.csv", index=False)
        self.report.flags.to_csv(target / "flags.csv", index=False)
        self.plot = self.report.plot(target / "monitor.png")
        self.out = target
        return target

    def to_json(self) -> dict[str, Any]:
        r = self.report
        return {
            "windows": json.loads(r.windows.to_json(orient="records", date_format="iso")),
            "flags": json.loads(r.flags.to_json(orient="records")),
            "flagged_windows": r.flagged_windows,
            "out": None if self.out is None else str(self.out),
        }

    def to_text(self) -> str:
        lines = [
            self.report.to_markdown(MONITOR_COLUMNS),
            f"\nflagged windows: {self.flagged_windows or 'none'}",
        ]
        if self.out is not None and self.plot is not None:
            lines.append(f"written to {self.out} (windows.csv, flags.csv, {self.plot.name})")
        return "\n".join(lines)


# -- studies, sweeps, stored results, reports ------------------------------------------
@dataclass
class ReproduceResult(Result):
    """A paper reproduction: its Markdown report and, for studies that train, their runs."""

    name: str
    report: Path
    runs: int = 0
    failed: int = 0
    db: Path | None = None

    @property
    def sweep(self) -> str:
        return f"reproduce-{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "study": self.name,
            "report": str(self.report),
            "db": None if self.db is None else str(self.db),
            "runs": self.runs,
            "failed": self.failed,
        }

    def to_text(self) -> str:
        text = self.report.read_text(encoding="utf-8")
        return f"{text}\n\nreport written to {self.report}"

    def failure_message(self) -> str | None:
        if self.db is None:
            return None
        return failure_message(self.failed, self.runs, self.db, self.sweep)


@dataclass
class SweepPlan(Result):
    """A sweep file checked against a results database: how many runs it has and still needs."""

    name: str
    runs: int
    to_run: int
    db: Path

    @property
    def stored(self) -> int:
        return self.runs - self.to_run

    def to_json(self) -> dict[str, Any]:
        return {
            "sweep": self.name,
            "runs": self.runs,
            "stored": self.stored,
            "to_run": self.to_run,
            "db": str(self.db),
        }

    def to_text(self) -> str:
        return (
            f"sweep {self.name!r}: {self.runs} runs, {self.stored} already in {self.db}, "
            f"{self.to_run} to run"
        )


@dataclass
class SweepResult(Result):
    """A sweep: its plan and, unless it was a dry run, what ran (``interrupted``: Ctrl-C)."""

    plan: SweepPlan
    summary: SweepSummary | None = None
    interrupted: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = self.plan.to_json()
        if self.summary is not None:
            s = self.summary
            out.update(done=s.done, failed=s.failed, skipped=s.skipped)
            out["failed_before"] = s.failed_before
        if self.interrupted is not None:
            out["interrupted"] = self.interrupted
        return out

    def summary_text(self) -> str:
        """The line printed when the sweep ends (empty for a dry run or an interruption)."""
        s = self.summary
        if s is None or self.interrupted is not None:
            return ""
        return f"done: {s.done}, failed: {s.failed}, skipped: {s.skipped}"

    def to_text(self) -> str:
        return "\n".join(t for t in (self.plan.to_text(), self.summary_text()) if t)

    def failure_message(self) -> str | None:
        s = self.summary
        if s is None:
            return None
        return failure_message(s.failures, s.total, self.plan.db, self.plan.name, s.failed_before)


def check_results_format(fmt: str) -> None:
    if fmt not in RESULT_FORMATS:
        raise ConfigError(f"--format must be table, csv, json or parquet, got {fmt!r}")


@dataclass
class RunsTable(Result):
    """Runs of a results database, one row per run, rendered in ``format``.

    ``to_text()`` is the table, CSV or JSON text that ``fairnn results`` prints;
    ``write(path)`` writes that text (or a parquet file) to ``path``.
    """

    rows: list[dict[str, Any]]
    format: str = "table"
    splits: Sequence[str] | None = None

    def __post_init__(self) -> None:
        check_results_format(self.format)

    def __len__(self) -> int:
        return len(self.rows)

    def to_json(self) -> list[dict[str, Any]]:
        return jsonable(
            [
                {k: v for k, v in r.items() if k != "spec"} | {"spec": json.loads(r["spec"])}
                for r in self.rows
            ]
        )

    def frame(self) -> Any:
        """The runs as a flat pandas DataFrame (metric columns ``split.metric``)."""
        from fairnn.experiments.store import runs_frame

        return runs_frame(self.rows, self.splits)

    def to_text(self) -> str:
        if self.format == "json":
            return json.dumps(self.to_json())
        if self.format == "csv":
            return str(self.frame().to_csv(index=False))
        if self.format == "parquet":
            raise ConfigError("--format parquet writes a file: give --out FILE.parquet")
        return self._table()

    def _table(self) -> str:
        splits = list(self.splits or ["test"])
        head = ["key", "dataset", "method", "params", "mode", "seed", "status"]
        metric_cols = [f"{s}.{m}" for s in splits for m in REPORT_METRICS]
        searched = any("target_weight" in r for r in self.rows)
        if searched:
            from fairnn.experiments.target_gap import target_summary

            metric_cols.append("target gap: weight chosen")
        body = []
        for r in self.rows:
            cells = [str(r[c]) if c != "params" else json.dumps(r["params"]) for c in head]
            for s in splits:
                vals = r["metrics"].get(s, {})
                cells += [f"{vals[m]:.4f}" if m in vals else "-" for m in REPORT_METRICS]
            if searched:  # the fairness weight a target_gap run chose
                cells.append(target_summary([r]))
            if r["status"] == "failed":
                cells[-1] += "  " + (r["error"] or "unknown error").strip().splitlines()[-1][:80]
            body.append(cells)
        return text_table(head + metric_cols, body, numeric=False) if body else "(no runs)"

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        if self.format == "parquet":
            self.frame().to_parquet(path, index=False)
        else:
            text = self.to_text()
            path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        return path


@dataclass
class ReportResult(Result):
    """The HTML report of a results database (Pareto fronts, hypervolumes, mean ± std)."""

    page: Path

    def to_json(self) -> dict[str, str]:
        return {"page": str(self.page)}

    def to_text(self) -> str:
        return f"report written to {self.page}"


@dataclass
class DemoResult(Result):
    """The demo: vanilla and a gap penalty on Adult, as a text table and a written report."""

    table: str
    report: Path

    def to_json(self) -> dict[str, str]:
        return {"table": self.table, "report": str(self.report)}

    def to_text(self) -> str:
        return f"{self.table}\n\nreport written to {self.report}"
