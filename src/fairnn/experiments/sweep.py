"""Sweep files: YAML that expands into many :class:`RunSpec`.

A sweep is datasets × recipes × fairness notions × methods (each with a grid of
parameters) × seeds. Example::

    name: german-small
    datasets: [german]                  # names, or {name: FILE, label: y, sensitive: [s]}
                                        # own split: {train: F, val: F, test: F, label: ...}
                                        # or {name: FILE, split_column: part, label: ...}
                                        # columns: drop: [c], sensitive_as_input: true,
                                        # group_names: {SEX: {1: male, 2: female}}
    recipes: [clean]
    modes: [dp, eo]
    seeds: {range: [0, 3]}              # 0, 1, 2
    train: {epochs: 5}                  # TrainConfig overrides for every run
    architecture: {hidden: [64]}
    methods:
      - vanilla
      - name: gapreg
        params:
          lam: {log: [0.01, 1.0, 3]}    # 0.01, 0.1, 1.0
      - name: runner
        params: {lam: [0.1, 0.3], neuron_ratio: 0.05}
        train: {lr: [1e-3, 1e-4]}       # grids work in train settings too
      - name: gapreg                    # search lam for a validation gap <= 0.02
        target_gap: 0.02                # or {target: 0.02, budget: 6, lo: 0.01, hi: 10}

A grid value is a scalar (one value), a list (each value), ``{range: [start,
stop, step]}`` (stop excluded, like Python's ``range``; floats allowed),
``{linspace: [start, stop, num]}``, ``{log: [start, stop, num]}`` (``num``
values evenly spaced in log scale from start to stop, both included) or
``{value: X}`` for a literal X (e.g. a list-valued parameter). Under
``architecture`` a plain list is one value (``hidden: [64, 64]``); write
``{values: [[64], [64, 64]]}`` for a grid of architectures.

The file is validated with the same models as the CLI (:class:`RunSpec`,
:class:`~fairnn.training.config.TrainConfig`, each method's parameter model);
every error names the file, the line and the key. YAML aliases (``*name``) are
refused (:class:`NoAliasLoader`); :meth:`Sweep.check` checks every run before any
trains.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fairnn.datasets.columns import parse_group_names
from fairnn.datasets.recipes import DEFAULT_RECIPE
from fairnn.errors import ConfigError, FairnnError
from fairnn.experiments.spec import Mode, RunSpec

Path_ = tuple[str | int, ...]


class SweepError(ConfigError):
    """A sweep file is unreadable or invalid; the message names the line and key."""


# -- YAML with line numbers ------------------------------------------------------
class AliasError(yaml.composer.ComposerError):
    """A YAML alias (``*name``) where fairnn refuses them."""


class NoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses aliases (``*name``, also in ``<<: *name``).

    A few lines of anchors and aliases can stand for billions of nodes ("billion
    laughs"); expanding them exhausts memory. Every YAML file fairnn reads goes
    through this loader.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise AliasError(
                None,
                None,
                f"YAML aliases (*{event.anchor}) are not allowed; write the value out in full",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def load_yaml_with_lines(text: str, source: str = "<yaml>") -> tuple[Any, dict[Path_, int]]:
    """Parse YAML (without aliases); also return ``{key path: 1-based line}`` for every node.

    Errors name ``source`` (the file) and the line.
    """
    loader = NoAliasLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        what = "" if isinstance(e, AliasError) else "not valid YAML: "
        raise SweepError(f"{where}: {what}{getattr(e, 'problem', e)}") from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}

    def walk(n: yaml.Node, path: Path_) -> None:
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
                lines[(*path, key)] = k.start_mark.line + 1
                walk(v, (*path, key))
                lines[(*path, key)] = k.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, (*path, i))

    if node is not None:
        walk(node, ())
    return data, lines


def line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    """The line of the deepest known prefix of ``path``."""
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _where(lines: dict[Path_, int], path: Path_, source: str) -> str:
    line = line_of(lines, path)
    key = ".".join(str(p) for p in path) or "(top level)"
    return f"{source}:{line}: {key}" if line else f"{source}: {key}"


# -- grids -----------------------------------------------------------------------
GRID_KINDS = ("range", "linspace", "log", "value", "values")


def expand_grid(value: Any, *, list_is_grid: bool = True) -> list[Any]:
    """The list of values a grid entry stands for (see the module docstring).

    With ``list_is_grid=False`` (architecture settings, where ``hidden: [64, 64]``
    is one value) a plain list is one value; ``{values: [...]}`` still makes a grid.
    """
    if isinstance(value, list) and list_is_grid:
        if not value:
            raise ValueError("an empty list gives no runs")
        return list(value)
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in GRID_KINDS:
        kind, arg = next(iter(value.items()))
        if kind == "value":
            return [arg]
        if kind == "values":
            return expand_grid(list(arg) if isinstance(arg, list) else [arg])
        if not isinstance(arg, list) or not all(
            isinstance(a, int | float) and not isinstance(a, bool) for a in arg
        ):
            raise ValueError(f"{kind} takes a list of numbers, got {arg!r}")
        if kind == "range":
            if len(arg) not in (1, 2, 3):
                raise ValueError(
                    f"range takes [stop], [start, stop] or [start, stop, step], got {arg}"
                )
            start, stop, step = (0, arg[0], 1) if len(arg) == 1 else (*arg, 1)[:3]
            if step == 0:
                raise ValueError("range step must not be 0")
            if all(isinstance(a, int) for a in (start, stop, step)):
                out: list[Any] = list(range(start, stop, step))
            else:
                n = math.ceil((stop - start) / step - 1e-9)
                out = [round(start + i * step, 12) for i in range(max(n, 0))]
        else:
            if len(arg) != 3 or not float(arg[2]).is_integer() or arg[2] < 1:
                raise ValueError(f"{kind} takes [start, stop, num] with num ≥ 1, got {arg}")
            start, stop, num = float(arg[0]), float(arg[1]), int(arg[2])
            if kind == "log":
                if start <= 0 or stop <= 0:
                    raise ValueError(f"log needs start and stop > 0, got {arg}")
                lo, hi = math.log10(start), math.log10(stop)
                pts = [lo + (hi - lo) * i / (num - 1) for i in range(num)] if num > 1 else [lo]
                out = [float(f"{10**p:.12g}") for p in pts]
            else:
                out = (
                    [float(f"{start + (stop - start) * i / (num - 1):.12g}") for i in range(num)]
                    if num > 1
                    else [start]
                )
        if not out:
            raise ValueError(f"{kind} {arg} gives no values")
        return out
    return [value]


def expand_dict(grid: dict[str, Any], *, list_is_grid: bool = True) -> list[dict[str, Any]]:
    """Cartesian product of a ``{key: grid}`` mapping, in key order."""
    keys = list(grid)
    values = [expand_grid(grid[k], list_is_grid=list_is_grid) for k in keys]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


# -- the file's model ------------------------------------------------------------
class DatasetEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        "", description="a registered dataset or a CSV/parquet path (default: the train table)"
    )
    label: str | None = None
    sensitive: list[str] | None = None
    categorical: list[str] | None = None
    continuous: list[str] | None = None
    positive_label: str | int | float | None = None
    train: str | None = Field(None, description="own split: the training table")
    val: str | None = Field(None, description="own split: the validation table")
    test: str | None = Field(None, description="own split: the test table")
    split_column: str | None = Field(None, description="own split: the column naming the split")
    drop: list[str] | None = Field(None, description="own data: columns left out of the inputs")
    sensitive_as_input: bool | None = Field(
        None, description="own data: the sensitive column(s) are also inputs (default no)"
    )
    group_names: dict[str, dict[Any, str]] | None = Field(
        None, description="own data: group display names, {SEX: {1: male, 2: female}}"
    )

    @model_validator(mode="after")
    def _named(self) -> DatasetEntry:
        files = (self.train, self.val, self.test)
        if any(f is not None for f in files):
            if None in files:
                raise ValueError("your own split needs all three of train, val and test")
            if self.name and self.name != self.train:
                raise ValueError("give name or train (the training table), not both")
            self.name = str(self.train)
        if not self.name:
            raise ValueError("give the dataset's name (or its own split's train, val and test)")
        return self

    def data(self) -> dict[str, Any]:
        """The entry's :class:`RunSpec` data fields."""
        own = {"val_file": self.val, "test_file": self.test, "split_column": self.split_column}
        fields = ("label", "sensitive", "categorical", "continuous", "positive_label")
        choices = ("drop", "sensitive_as_input", "group_names")  # left out while unset
        chosen = {k: getattr(self, k) for k in choices if getattr(self, k) is not None}
        if self.group_names is not None:
            chosen["group_names"] = parse_group_names(self.group_names)
        return {"dataset": self.name, **{k: getattr(self, k) for k in fields}, **own, **chosen}


class MethodEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    train: dict[str, Any] = Field(default_factory=dict)
    architecture: dict[str, Any] = Field(default_factory=dict)
    modes: list[Mode] | None = None
    target_gap: float | dict[str, Any] | None = Field(
        None, description="search the fairness weight for this validation gap (TargetGap)"
    )


class SweepFile(BaseModel):
    """The schema of a sweep file."""

    model_config = ConfigDict(extra="forbid")

    name: str = "sweep"
    description: str = ""
    datasets: list[str | DatasetEntry] = Field(min_length=1)
    recipes: list[str] = Field(default_factory=lambda: [DEFAULT_RECIPE], min_length=1)
    modes: list[Mode] = Field(default_factory=lambda: ["dp"], min_length=1)
    seeds: Any = Field(default_factory=lambda: [0])
    methods: list[str | MethodEntry] = Field(min_length=1)
    train: dict[str, Any] = Field(default_factory=dict)
    architecture: dict[str, Any] = Field(default_factory=dict)

    @field_validator("datasets", "methods", "recipes", "modes", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str | dict) else v


class Sweep:
    """A validated sweep: its file model and the specs it expands to."""

    def __init__(
        self,
        model: SweepFile,
        specs: list[RunSpec],
        source: str = "<sweep>",
        lines: dict[Path_, int] | None = None,
    ):
        self.model = model
        self.specs = specs
        self.source = source
        self.lines = lines or {}

    @property
    def name(self) -> str:
        return self.model.name

    def __len__(self) -> int:
        return len(self.specs)

    def check(self) -> None:
        """Check every run as far as possible without loading data or training.

        Raises one :class:`SweepError` that lists each problem once (file, line, key,
        and how many runs it stops); see :func:`fairnn.experiments.run.spec_problem`.
        """
        from fairnn.experiments.run import spec_problem

        datasets = [d if isinstance(d, str) else d.name for d in self.model.datasets]
        methods = [m if isinstance(m, str) else m.name for m in self.model.methods]
        problems: dict[str, int] = {}
        for spec in self.specs:
            found = spec_problem(spec)
            if found is None:
                continue
            part, error = found
            if part == "dataset":
                path: Path_ = ("datasets", datasets.index(spec.dataset))
            elif part == "recipe":
                path = ("recipes", self.model.recipes.index(spec.recipe))
            else:  # a method's own train/architecture settings, else the top-level ones
                path = ("methods", methods.index(spec.method))
                if part in ("train", "architecture"):
                    path = (*path, part) if (*path, part) in self.lines else (part,)
            message = f"{_where(self.lines, path, self.source)}: {error}"
            problems[message] = problems.get(message, 0) + 1
        if problems:
            listed = [f"{m} [{n} run{'s' * (n > 1)}]" for m, n in problems.items()]
            raise SweepError(
                f"{sum(problems.values())} of {len(self)} runs cannot run; fix the sweep file:"
                "\n  " + "\n  ".join(listed)
            )


def load_sweep(path: str | Path) -> Sweep:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SweepError(f"cannot read sweep file {path}: {e.strerror}") from None
    return parse_sweep(text, source=str(path))


def parse_sweep(text: str, source: str = "<sweep>") -> Sweep:
    """Validate a sweep file's text and expand it into run specs."""
    data, lines = load_yaml_with_lines(text, source)
    if not isinstance(data, dict):
        raise SweepError(f"{source}: a sweep file is a mapping (datasets:, methods:, ...)")
    try:
        model = SweepFile(**data)
    except ValidationError as e:
        msgs = []
        errors = e.errors()
        branch_errors = {tuple(x["loc"][:-1]) for x in errors if "str" not in x["loc"]}
        for err in errors:
            # a mapping where "a name or a mapping" is allowed: report the mapping's error only
            loc0 = tuple(err["loc"][:-1])
            if (
                err["loc"]
                and err["loc"][-1] == "str"
                and isinstance(err.get("input"), dict)
                and any(b[: len(loc0)] == loc0 for b in branch_errors)
            ):
                continue
            loc = _trim_union_loc(err["loc"])
            msgs.append(f"{_where(lines, loc, source)}: {err['msg']} (got {err.get('input')!r})")
        raise SweepError("invalid sweep file\n  " + "\n  ".join(msgs)) from None
    return Sweep(model, expand(model, lines, source), source, lines)


def _trim_union_loc(loc: tuple[Any, ...]) -> Path_:
    """Drop pydantic's union-branch names (``str``, ``DatasetEntry``) from an error location."""
    return tuple(p for p in loc if p not in ("str", "DatasetEntry", "MethodEntry"))


def expand(
    model: SweepFile, lines: dict[Path_, int] | None = None, source: str = "<sweep>"
) -> list[RunSpec]:
    """Every run of the sweep, in file order, without duplicates (same key → one run)."""
    from fairnn.experiments.run import method_params, train_config
    from fairnn.experiments.target_gap import fairness_weight
    from fairnn.methods.base import get_method, validate_model
    from fairnn.training.config import TrainConfig

    lines = lines or {}

    def fail(path: Path_, msg: str) -> SweepError:
        return SweepError(f"{_where(lines, path, source)}: {msg}")

    try:
        seeds = expand_grid(model.seeds)
    except ValueError as e:
        raise fail(("seeds",), str(e)) from None
    for s in seeds:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            raise fail(("seeds",), f"seeds are integers ≥ 0, got {s!r}")

    def grid(
        d: dict[str, Any], path: Path_, model: Any = None, list_is_grid: bool = True
    ) -> list[dict[str, Any]]:
        for k, v in d.items():
            try:
                values = expand_grid(v, list_is_grid=list_is_grid)
            except ValueError as e:
                raise fail((*path, k), str(e)) from None
            for one in values if model is not None else ():
                try:  # each value alone, so the error names its key
                    validate_model(model, {k: one}, path[-1] if path else "setting")
                except FairnnError as e:
                    raise fail((*path, k), str(e)) from None
        return expand_dict(d, list_is_grid=list_is_grid)

    top_train = grid(model.train, ("train",), TrainConfig)
    top_arch = grid(model.architecture, ("architecture",), list_is_grid=False)
    specs: dict[str, RunSpec] = {}
    for di, ds in enumerate(model.datasets):
        entry = DatasetEntry(name=ds) if isinstance(ds, str) else ds
        for recipe in model.recipes:
            for mi, m in enumerate(model.methods):
                m = MethodEntry(name=m) if isinstance(m, str) else m
                mpath: Path_ = ("methods", mi)
                try:
                    cls = get_method(m.name)
                except FairnnError as e:
                    raise fail(
                        (*mpath, "name") if (*mpath, "name") in lines else mpath, str(e)
                    ) from None
                for k in m.params:
                    if k not in cls.Params.model_fields:
                        known = ", ".join(cls.Params.model_fields) or "none"
                        raise fail(
                            (*mpath, "params", k),
                            f"{cls.name} has no parameter {k!r} (known: {known})",
                        )
                params_grid = grid(m.params, (*mpath, "params"), cls.Params)
                train_grid = grid(m.train, (*mpath, "train"), TrainConfig)
                arch_grid = grid(m.architecture, (*mpath, "architecture"), list_is_grid=False)
                for mode in m.modes or model.modes:
                    for params, t0, t1, a0, a1, seed in itertools.product(
                        params_grid, top_train, train_grid, top_arch, arch_grid, seeds
                    ):
                        values = dict(
                            **entry.data(),
                            recipe=recipe,
                            method=m.name,
                            params=params,
                            mode=mode,
                            seed=seed,
                            train={**t0, **t1},
                            architecture={**a0, **a1},
                        )
                        if m.target_gap is not None:
                            try:
                                fairness_weight(m.name)
                            except FairnnError as e:
                                raise fail((*mpath, "target_gap"), str(e)) from None
                            values["target_gap"] = m.target_gap
                        try:
                            spec = RunSpec.make(**values)
                        except FairnnError as e:
                            raise fail(("datasets", di), str(e)) from None
                        try:
                            cls(**method_params(spec))
                        except FairnnError as e:
                            raise fail((*mpath, "params"), f"{e} (params {params})") from None
                        try:
                            train_config(spec)
                        except FairnnError as e:
                            bad = next(
                                (p for p in ((*mpath, "train"), ("train",)) if p in lines),
                                ("train",),
                            )
                            raise fail(bad, str(e)) from None
                        specs.setdefault(spec.key(), spec)
    return list(specs.values())
