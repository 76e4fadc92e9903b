"""Importable contracts, as scikit-learn's ``check_estimator``: one call tests a new entry.

* :func:`check_method`: the contract every registered method passes (the suite runs it
  over the method registry in ``tests/methods/test_methods_contract.py``);
* :func:`check_dataset`: the contract of a registered dataset, or of any function that
  returns :class:`~fairnn.datasets.core.Splits` (``tests/datasets/test_datasets_contract.py`` runs
  it over the dataset registry);
* ``check_activation`` (:mod:`fairnn.certify.ops.check`) and ``check_metric``
  (:mod:`fairnn.metrics.check`), loaded on first use.

Each check raises ``AssertionError`` naming what the entry got wrong.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fairnn.datasets.catalog.adult import SPEC as ADULT
from fairnn.datasets.core import LazyImages, Splits, TabularData, TensorData
from fairnn.errors import FairnnError
from fairnn.methods import FittedModel, Method, MethodParams, get_method
from fairnn.training import TrainConfig

if TYPE_CHECKING:
    from fairnn.certify.ops.check import check_activation
    from fairnn.metrics.check import check_metric

__all__ = [
    "adult_sample",
    "check_activation",
    "check_dataset",
    "check_method",
    "check_metric",
    "check_repair",
]

#: (parameters at a setting where the method should reduce a gap, that gap's metric), or
#: None for a method with no group gap to reduce (say why where it is declared)
FairSetting = tuple[dict[str, Any], str] | None
#: the short training of the contract
QUICK = TrainConfig(epochs=3, batch_size=256, progress=False)
#: the data of :func:`adult_sample` (the bundled copy serves without a data directory)
SAMPLE_DATASET = ADULT.name
_LAZY = {"check_activation": "fairnn.certify.ops.check", "check_metric": "fairnn.metrics.check"}


def __getattr__(name: str) -> Any:
    """``check_activation`` and ``check_metric`` import their modules on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def adult_sample(
    seed: int = 0, sizes: tuple[int, int, int] = (3000, 1500, 3000)
) -> tuple[TabularData, TabularData, TabularData]:
    """Random rows of Adult's clean train, val and test splits (the bundled copy serves)."""
    from fairnn.datasets import load_dataset

    splits = load_dataset(SAMPLE_DATASET, seed=seed)
    rng = np.random.default_rng(seed)
    parts = (splits.train, splits.val, splits.test)
    train, val, test = (
        d.subset(rng.choice(len(d), n, replace=False)) for d, n in zip(parts, sizes, strict=True)
    )
    return train, val, test


def check_method(
    method: str | type[Method[Any]],
    fair_setting: FairSetting,
    *,
    data: tuple[TabularData, TabularData, TabularData] | None = None,
    config: TrainConfig = QUICK,
    seed: int = 7,
    tmp_dir: str | Path | None = None,
) -> FittedModel:
    """Check that ``method`` keeps the contract of a fairnn method; return its fitted model.

    ``fair_setting`` declares where the method should help: ``(params, gap_metric)``, or
    None (for a method with no group gap to reduce). ``data`` is ``(train, val, test)``
    (default: :func:`adult_sample`). Checked: the class declares a name, a stage and its
    ``Params``; the setting's parameters are valid and its metric is a group gap; ``fit``
    at that setting gives probabilities in [0, 1] and 0/1 decisions; the same seed gives the
    same model; save and load give the same predictions, method and parameters; and a
    method that can repair returns a new model from :meth:`Method.repair` and leaves the
    model it was given (weights, flags and attributes) as it was.
    """
    cls = get_method(method) if isinstance(method, str) else method
    name = getattr(cls, "name", None)
    assert isinstance(name, str) and name, f"{cls!r} declares no name"
    assert getattr(cls, "stage", None) in ("pre", "in", "post"), f"{name}: stage is not pre/in/post"
    assert issubclass(cls.Params, MethodParams), f"{name}: Params is not a MethodParams"
    params = _check_fair_setting(name, fair_setting)
    train, val, test = data if data is not None else adult_sample()

    a = cls(**params).fit(train, val, config=config, seed=seed)
    b = cls(**params).fit(train, val, config=config, seed=seed)
    p = a.predict_proba(test)
    assert p.shape == (len(test),), f"{name}: predict_proba has shape {p.shape}"
    assert np.all(np.isfinite(p)) and p.min() >= 0 and p.max() <= 1, f"{name}: not probabilities"
    assert np.array_equal(p, b.predict_proba(test)), f"{name}: same seed must give the same model"
    assert set(np.unique(a.predict(test))) <= {0, 1}, f"{name}: decisions are not 0/1"

    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp_dir if tmp_dir is not None else tmp) / name
        a.save(where)
        loaded = FittedModel.load(where)
    assert np.array_equal(loaded.predict_proba(test), p), (
        f"{name}: a loaded model predicts otherwise"
    )
    assert loaded.method == name and loaded.params == a.params, (
        f"{name}: method or params not saved"
    )

    if cls.repairs():
        check_repair(cls(**params), a, train, val, test, config=config, seed=seed)
    return a


def _check_fair_setting(name: str, setting: FairSetting) -> dict[str, Any]:
    """The setting's parameters, after checking that the setting is well formed."""
    if setting is None:
        return {}
    from fairnn.metrics import METRICS

    assert isinstance(setting, tuple) and len(setting) == 2, (
        f"{name}: a fair setting is (params, gap_metric) or None, got {setting!r}"
    )
    params, gap = setting
    assert isinstance(params, dict), f"{name}: the fair setting's params must be a dict"
    spec = METRICS.get(gap) if gap in METRICS else None
    assert spec is not None and spec.is_group_metric and not spec.higher_is_better, (
        f"{name}: the fair setting's metric {gap!r} is not a group gap (lower is better)"
    )
    return params


def _snapshot(fitted: FittedModel) -> dict[str, Any]:
    """What repair must not change: weights, parameter flags, modes and attributes."""
    net = fitted.network
    fields = ("method", "params", "seed", "threshold", "task", "label", "dataset", "training")
    return {
        "network": net,
        "state": {k: v.detach().clone() for k, v in net.state_dict().items()},
        "flags": [q.requires_grad for q in net.parameters()],
        "modes": [m.training for m in net.modules()],
        "fields": json.dumps({k: getattr(fitted, k) for k in fields}, default=str, sort_keys=True),
        "decision": None if fitted.decision is None else fitted.decision.to_dict(),
        "preprocessor": fitted.preprocessor,
        "groups": fitted.groups,
        "features": fitted.features,
    }


def check_repair(
    method: Method[Any],
    fitted: FittedModel,
    train: TabularData,
    val: TabularData | None,
    test: TabularData,
    *,
    config: TrainConfig = QUICK,
    seed: int = 0,
) -> FittedModel:
    """``method.repair(fitted, ...)`` returns a new model that predicts probabilities on
    ``test`` and leaves ``fitted`` as it was: the same network, weights, parameter flags,
    train/eval modes, attributes and decision rule. Returns the repaired model."""
    before = _snapshot(fitted)
    repaired = method.repair(fitted, train, val, config=config, seed=seed)
    name = method.name
    assert isinstance(repaired, FittedModel), f"{name}: repair returned {type(repaired).__name__}"
    assert repaired is not fitted, f"{name}: repair must return a new model, not its input"
    after = _snapshot(fitted)
    for key in ("network", "preprocessor", "groups", "features"):
        assert after[key] is before[key], f"{name}: repair replaced the input model's {key}"
    assert before["state"].keys() == after["state"].keys(), f"{name}: repair changed the state keys"
    changed = [k for k, v in before["state"].items() if not torch.equal(v, after["state"][k])]
    assert not changed, f"{name}: repair changed the input model's weights {changed[:5]}"
    for key in ("flags", "modes", "fields", "decision"):
        assert after[key] == before[key], f"{name}: repair changed the input model's {key}"
    p = repaired.predict_proba(test)
    assert np.all(np.isfinite(p)) and p.min() >= 0 and p.max() <= 1, (
        f"{name}: the repaired model's predict_proba gives no probabilities"
    )
    return repaired


# -- datasets -------------------------------------------------------------------------
#: the sub-checks of :func:`check_dataset`, in the order they run
DATASET_CHECKS: tuple[str, ...] = (
    "spec",
    "lookup",
    "dtypes",
    "finite",
    "bounds",
    "label",
    "groups",
    "splits",
    "deterministic",
    "bad_seed",
    "bad_fractions",
    "bad_recipe",
    "bad_sensitive",
    "bad_option",
)
_TASKS = ("binary", "regression", "multiclass")


class _Checks:
    """Runs named sub-checks; a check listed in ``expected`` must fail (and is then
    recorded), as scikit-learn's ``expected_failed_checks``."""

    def __init__(self, what: str, expected: Mapping[str, str]) -> None:
        unknown = sorted(set(expected) - set(DATASET_CHECKS))
        assert not unknown, f"unknown dataset check(s) {unknown}; known: {list(DATASET_CHECKS)}"
        self.what, self.expected = what, dict(expected)
        self.failed: dict[str, str] = {}

    @contextmanager
    def check(self, name: str) -> Iterator[None]:
        try:
            yield
        except AssertionError as e:
            if name not in self.expected:
                raise AssertionError(f"{self.what}: check {name!r}: {e}") from None
            self.failed[name] = str(e)
        else:
            assert name not in self.expected, (
                f"{self.what}: check {name!r} passes but is listed as an expected failure "
                f"({self.expected[name]}); remove it from expected_failures"
            )


def check_dataset(
    dataset: str | Callable[..., Splits],
    *,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    max_rows: int | None = None,
    expected_failures: Mapping[str, str] | None = None,
) -> Splits:
    """Check that ``dataset`` keeps the contract of a fairnn dataset; return its splits.

    ``dataset`` is a registered name (loaded with :func:`~fairnn.datasets.load_dataset`
    from ``data_dir``, by default ``$FAIRNN_DATA_DIR`` and the other usual places, with
    the loader ``options``, e.g. ``{"limit": 2000}`` for a large image set) or a function
    ``loader(seed=...) -> Splits`` (your own data; the checks that need a registry entry
    are skipped). ``max_rows`` checks the values of at most that many seeded random rows
    per split (a large dataset's subset); counts and split checks use every row.

    Checked, one named sub-check each (:data:`DATASET_CHECKS`):

    * ``spec``: the registry entry's fields are consistent (name, task, label, sensitive
      attributes among the options, every default feature encoded as categorical or
      continuous and never both, the label not a feature, row counts, JSON-ready info);
    * ``lookup``: the name is found in another case, and a misspelt name raises
      :class:`~fairnn.errors.DatasetError` suggesting it;
    * ``dtypes``: train/val/test are :class:`TabularData` (:class:`TensorData` for image
      and text data) with float32 ``X`` (int64 token ids for text), float32 ``y``, int64
      ``s``, one feature entry per column and the same features and groups in every split;
    * ``finite``: every feature value is finite; ``bounds``: training rows lie within
      the features' bounds (val and test may leave them: bounds come from training rows);
    * ``label``: binary labels are 0/1 with both classes in every split, regression
      labels finite; the splits' task and label are the spec's;
    * ``groups``: at least two groups, every group with rows in the training split, group
      ids in range, and the group sizes ``info`` reports are the real ones;
    * ``splits``: the splits are non-empty and their sizes add up to the rows the data
      has (``info``'s total, or the spec's row count); for tabular data whose recipe kept
      every parsed row, the rows of train, val and test together are exactly the parsed
      frame's rows (as a multiset), so the splits are disjoint and cover the data;
    * ``deterministic``: the same seed gives identical tensors; another seed gives
      another split when the split is drawn at random;
    * ``bad_seed``, ``bad_fractions``, ``bad_recipe``, ``bad_sensitive``, ``bad_option``:
      a negative seed, ``val_size=1.5``, an unknown recipe, an unknown sensitive
      attribute and an unknown option raise a :class:`~fairnn.errors.FairnnError`.

    ``expected_failures`` maps sub-check names to the reason they fail today; such a
    check must fail (so a fix is noticed). Each other failure raises ``AssertionError``
    naming the dataset and the sub-check.
    """
    from fairnn.datasets import get_spec, load_dataset

    opts = dict(options or {})
    name = dataset if isinstance(dataset, str) else None
    what = f"dataset {name!r}" if name else f"loader {getattr(dataset, '__name__', dataset)!r}"
    checks = _Checks(what, expected_failures or {})

    def load(**kw: Any) -> Splits:
        if name is None:
            return dataset(**kw)  # type: ignore[operator]
        return load_dataset(name, data_dir=data_dir, **{**opts, **kw})

    spec = get_spec(name) if name is not None else None
    splits = load(seed=seed)
    assert isinstance(splits, Splits), f"{what}: loading gave {type(splits).__name__}, not Splits"
    parts = dict(splits)
    if spec is not None:
        with checks.check("spec"):
            _check_spec(spec, name)
        with checks.check("lookup"):
            _check_lookup(spec, name)
    with checks.check("dtypes"):
        _check_dtypes(parts)
    rows = {k: _sample_rows(d, max_rows, seed) for k, d in parts.items()}
    with checks.check("finite"):
        for k, d in rows.items():
            X = _values(d)
            assert np.isfinite(X).all(), f"the {k} features hold NaN or inf"
    with checks.check("bounds"):
        _check_bounds(rows["train"])
    with checks.check("label"):
        _check_label(parts, rows, spec)
    with checks.check("groups"):
        _check_groups(parts, splits.info)
    with checks.check("splits"):
        _check_splits(splits, spec, name, data_dir)
    with checks.check("deterministic"):
        again = load(seed=seed)
        for k, d in again:
            assert _same(d, parts[k]), f"the same seed gave a different {k} split"
        if str(splits.info.get("split", "")).startswith("stratified"):
            other = load(seed=seed + 1)
            assert not _same(other.train, parts["train"]), "another seed gave the same split"
    if name is not None:
        bad: dict[str, dict[str, Any]] = {
            "bad_seed": {"seed": -1},
            "bad_fractions": {"val_size": 1.5},
            "bad_recipe": {"recipe": "no-such-recipe"},
            "bad_sensitive": {"sensitive": "no_such_column"},
            "bad_option": {"no_such_option": 1},
        }
        for check, kw in bad.items():
            with checks.check(check):
                _check_refused(lambda kw=kw: load(**{"seed": seed, **kw}), kw)
    missing = sorted(set(checks.expected) - set(checks.failed))
    assert not missing or spec is None, f"{what}: expected failures {missing} did not run"
    return splits


def _check_spec(spec: Any, name: str) -> None:
    from fairnn.datasets.files import DataFile

    assert spec.name == name.strip().lower(), f"the spec is named {spec.name!r}"
    assert spec.title and spec.license and spec.citation, "title, license and citation are needed"
    assert spec.task in _TASKS, f"task {spec.task!r} is not one of {_TASKS}"
    assert isinstance(spec.label, str) and spec.label, "the label must be a column name"
    assert spec.sensitive, "a dataset needs a default sensitive attribute"
    assert set(spec.sensitive) <= set(spec.sensitive_options), (
        f"sensitive {spec.sensitive} are not all among sensitive_options {spec.sensitive_options}"
    )
    assert all(isinstance(f, DataFile) for f in spec.files), "files must be DataFile entries"
    assert set(spec.sensitive_sources) <= set(spec.sensitive_options), (
        "sensitive_sources names an attribute that is not a sensitive option"
    )
    if spec.loader is None:
        encoded = set(spec.categorical) | set(spec.continuous)
        unpinned = [f for f in spec.features if f not in encoded]
        assert not unpinned, f"features {unpinned} are neither categorical nor continuous"
        both = sorted(set(spec.categorical) & set(spec.continuous))
        assert not both, f"columns {both} are both categorical and continuous"
        assert spec.label not in spec.features, "the label is listed as a feature"
        optional = sorted(set(spec.optional_features) & set(spec.features))
        assert not optional, f"optional features {optional} are also default features"
    if spec.rows is not None and spec.raw_rows is not None:
        assert spec.rows <= spec.raw_rows, f"rows {spec.rows} exceed raw_rows {spec.raw_rows}"
    json.dumps(spec.to_info())


def _check_lookup(spec: Any, name: str) -> None:
    from fairnn.datasets import get_spec
    from fairnn.errors import DatasetError

    assert get_spec(f" {name.upper()} ") is spec, "the lookup is not case- and space-insensitive"
    try:
        get_spec(f"{name}x")
    except DatasetError as e:
        assert repr(spec.name) in str(e), f"a misspelt name's error does not suggest it: {e}"
    else:
        raise AssertionError(f"the misspelt name {name + 'x'!r} was accepted")


def _check_dtypes(parts: Mapping[str, TabularData]) -> None:
    train = parts["train"]
    for k, d in parts.items():
        assert isinstance(d, TabularData), f"{k} is a {type(d).__name__}, not TabularData"
        text = isinstance(d, TensorData) and d.modality == "text"
        want = torch.int64 if text else torch.float32
        assert d.X.dtype == want, f"{k}.X is {d.X.dtype}, expected {want}"
        assert d.y.dtype == torch.float32, f"{k}.y is {d.y.dtype}, expected float32"
        assert d.s.dtype == torch.int64, f"{k}.s is {d.s.dtype}, expected int64"
        n = len(d)
        assert tuple(d.y.shape) == (n,) and tuple(d.s.shape) == (n,), f"{k}: y or s has a bad shape"
        assert d.X.shape[1] == len(d.features), f"{k}: X has no feature entry per column"
        assert d.features == train.features, f"{k} and train have different feature metadata"
        assert d.groups == train.groups, f"{k} and train have different groups"
        assert d.task == train.task and d.label == train.label, f"{k}: task or label differs"


def _sample_rows(data: TabularData, max_rows: int | None, seed: int) -> TabularData:
    if max_rows is None or len(data) <= max_rows:
        return data
    rng = np.random.default_rng(seed)
    return data.subset(np.sort(rng.choice(len(data), max_rows, replace=False)))


def _values(data: TabularData) -> np.ndarray:
    """``X`` as a float64 array ``(n, d, rest)`` (image files read, if lazy)."""
    X = data.X[:] if isinstance(data.X, LazyImages) else data.X
    arr = X.detach().cpu().numpy().astype(np.float64)
    return arr.reshape(arr.shape[0], arr.shape[1], -1)


def _check_bounds(train: TabularData) -> None:
    X = _values(train)
    lo, hi = train.features.lower[None, :, None], train.features.upper[None, :, None]
    tol = 1e-5 * np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)))  # float32 rounding
    out = (np.less(X, lo - tol) | np.greater(X, hi + tol)).any(axis=(0, 2))
    names = [train.features.names[i] for i in np.nonzero(out)[0]]
    assert not names, f"training rows leave the bounds of features {names[:5]}"


def _check_label(
    parts: Mapping[str, TabularData], rows: Mapping[str, TabularData], spec: Any
) -> None:
    train = parts["train"]
    if spec is not None:
        assert train.task == spec.task, f"the splits' task {train.task!r} is not the spec's"
    for k, d in rows.items():
        y = d.y.detach().cpu().numpy()
        assert np.isfinite(y).all(), f"the {k} labels hold NaN or inf"
        if d.task == "binary":
            assert set(np.unique(y)) <= {0.0, 1.0}, f"the {k} labels are not 0/1"
            assert len(np.unique(parts[k].y.cpu().numpy())) == 2, f"{k} lacks a class"
        elif d.task == "multiclass":
            assert (y >= 0).all() and (y == np.round(y)).all(), f"{k}: labels are not class ids"


def _check_groups(parts: Mapping[str, TabularData], info: Mapping[str, Any]) -> None:
    groups = parts["train"].groups
    assert groups.n_groups >= 2, f"{groups.n_groups} group(s): fairness needs at least two"
    reported = info.get("groups")
    reported = reported if isinstance(reported, Mapping) else {}  # image sets list labels
    for k, d in parts.items():
        s = d.s.detach().cpu().numpy()
        assert s.min() >= 0 and s.max() < groups.n_groups, f"{k}: group ids out of range"
        sizes = np.bincount(s, minlength=groups.n_groups)
        if k == "train":
            empty = [groups.labels[g] for g in np.nonzero(sizes == 0)[0]]
            assert not empty, f"groups {empty} have no training rows"
        said = reported.get(k)
        if isinstance(said, Mapping) and all(isinstance(v, Mapping) for v in said.values()):
            real = {lab: int(n) for lab, n in zip(groups.labels, sizes, strict=True)}
            told = {lab: int(v["rows"]) for lab, v in said.items()}
            assert told == real, f"info's {k} group sizes {told} are not the real {real}"


def _check_splits(splits: Splits, spec: Any, name: str | None, data_dir: Any) -> None:
    parts = dict(splits)
    n = {k: len(d) for k, d in parts.items()}
    assert all(v > 0 for v in n.values()), f"empty split(s): {n}"
    rows = splits.info.get("rows") or {}
    total = rows.get("total", spec.rows if spec is not None else None)
    if total is not None:
        assert sum(n.values()) == total, f"the splits hold {n}, not the {total} rows of the data"
    for k in n:
        if k in rows:
            assert rows[k] == n[k], f"info says {rows[k]} {k} rows, the split has {n[k]}"
    parsed = splits.info.get("parsed_rows")
    if spec is not None and spec.rows is not None and parsed is not None:
        assert parsed == spec.rows, f"the parser gave {parsed} rows, the spec says {spec.rows}"
    if name is None or spec is None or spec.loader is not None or parsed != total:
        return  # the multiset check needs the whole parsed frame as the recipe used it
    from fairnn.datasets import load_raw

    whole = splits.preprocessor.transform(load_raw(name, data_dir=data_dir), name="whole")
    joined = np.concatenate([_row_keys(d) for d in parts.values()])
    assert np.array_equal(np.sort(joined), np.sort(_row_keys(whole))), (
        "train, val and test are not a partition of the parsed rows"
    )


def _row_keys(data: TabularData) -> np.ndarray:
    """One byte string per row of ``(X, y, s)``, to compare rows as a multiset."""
    X, y, s = data.numpy()
    table = np.column_stack([X.astype(np.float32), y.astype(np.float32), s.astype(np.float32)])
    table = np.ascontiguousarray(table)
    return table.view(np.dtype((np.void, table.dtype.itemsize * table.shape[1]))).ravel()


def _same(a: TabularData, b: TabularData) -> bool:
    """The same rows in the same order (NaN equal to NaN; lazy images by their paths)."""

    def equal(u: torch.Tensor, v: torch.Tensor) -> bool:
        x, z = u.detach().cpu().numpy(), v.detach().cpu().numpy()
        return x.dtype == z.dtype and np.array_equal(x, z, equal_nan=x.dtype.kind == "f")

    if len(a) != len(b) or not (equal(a.y, b.y) and equal(a.s, b.s)):
        return False
    if isinstance(a.X, LazyImages) or isinstance(b.X, LazyImages):
        return getattr(a.X, "paths", None) == getattr(b.X, "paths", None)
    return equal(a.X, b.X)


def _check_refused(call: Callable[[], Any], kw: Mapping[str, Any]) -> None:
    try:
        call()
    except FairnnError:
        return
    except Exception as e:  # noqa: BLE001 - the contract is a FairnnError, say what came instead
        raise AssertionError(f"{kw} raised {type(e).__name__}: {e}, not a FairnnError") from None
    raise AssertionError(f"{kw} was accepted")
