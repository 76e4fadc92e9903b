"""The shapes every layer shares: a tabular dataset as tensors plus meaning.

A :class:`TabularData` holds ``X`` (float features, already preprocessed),
``y`` (labels: 0/1 floats for a binary task, floats for regression), ``s``
(integer group ids, one per row; with several sensitive attributes the id is
their intersection) and the metadata that says what each column of ``X`` is
(:class:`FeatureMeta`) and what each group id means (:class:`GroupInfo`).
Certification reads the metadata to know the input domain; reprogramming reads
it to know where a trigger may go.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import torch

from fairnn.errors import InvalidValueError

FeatureKind = Literal["continuous", "integer", "binary", "onehot"]
Task = Literal["binary", "regression", "multiclass"]
FEATURE_KINDS: tuple[str, ...] = ("continuous", "integer", "binary", "onehot")


@dataclass(frozen=True)
class Feature:
    """One column of the model input ``X``.

    ``lower``/``upper`` bound the column in model-input (scaled) space.
    ``offset``/``scale`` map back to the raw value: ``raw = x * scale + offset``
    (identity for binary and one-hot columns). A one-hot column names its
    ``block`` (the raw categorical column) and its ``category``; exactly one
    column of a block is 1. ``sensitive`` marks columns derived from a
    sensitive attribute; ``mutable=False`` marks features a counterfactual may
    not change.
    """

    name: str
    source: str
    kind: FeatureKind
    lower: float = 0.0
    upper: float = 1.0
    block: str | None = None
    category: str | None = None
    sensitive: bool = False
    mutable: bool = True
    offset: float = 0.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise InvalidValueError(
                f"feature {self.name!r}: kind {self.kind!r} is not one of {FEATURE_KINDS}"
            )
        if self.kind == "onehot" and self.block is None:
            raise InvalidValueError(f"one-hot feature {self.name!r} needs its block name")
        if not self.lower <= self.upper:
            raise InvalidValueError(
                f"feature {self.name!r}: lower bound {self.lower} exceeds upper bound {self.upper}"
            )


@dataclass(frozen=True)
class FeatureMeta:
    """The ordered features of ``X``, with helpers for the input domain."""

    features: tuple[Feature, ...]

    def __len__(self) -> int:
        return len(self.features)

    def __iter__(self) -> Iterator[Feature]:
        return iter(self.features)

    def __getitem__(self, i: int) -> Feature:
        return self.features[i]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def dim(self) -> int:
        return len(self.features)

    @property
    def lower(self) -> np.ndarray:
        return np.array([f.lower for f in self.features], dtype=np.float64)

    @property
    def upper(self) -> np.ndarray:
        return np.array([f.upper for f in self.features], dtype=np.float64)

    def to_raw(self, x: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """One model-input row in the user's units: ``raw = x·scale + offset`` per numeric
        column (integers rounded), the category whose column is largest for a one-hot
        block, and a binary column's category when it names one (else its raw number)."""
        row = np.asarray(x, dtype=np.float64).ravel()
        if row.size != self.dim:
            raise InvalidValueError(f"a row of {row.size} values; the features are {self.dim}")
        out: dict[str, Any] = {}
        for block, cols in self.blocks().items():
            out[block] = self.features[cols[int(np.argmax(row[cols]))]].category
        for f, v in zip(self.features, row, strict=True):
            if f.kind == "onehot":
                continue
            raw = float(v) * f.scale + f.offset
            if f.kind == "integer":
                out[f.source] = int(round(raw))
            elif f.kind == "binary" and f.category is not None:
                out[f.source] = (
                    f.category if v >= 0.5 * (f.lower + f.upper) else f"not {f.category}"
                )
            else:
                out[f.source] = raw
        return {k: out[k] for k in dict.fromkeys(f.block or f.source for f in self.features)}

    def blocks(self) -> dict[str, list[int]]:
        """One-hot blocks: block name -> column indices (exactly one is 1)."""
        out: dict[str, list[int]] = {}
        for i, f in enumerate(self.features):
            if f.kind == "onehot":
                out.setdefault(f.block or f.source, []).append(i)
        return out

    def indices(self, *, kind: str | None = None, sensitive: bool | None = None) -> list[int]:
        return [
            i
            for i, f in enumerate(self.features)
            if (kind is None or f.kind == kind) and (sensitive is None or f.sensitive == sensitive)
        ]

    def to_list(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self.features]

    @classmethod
    def from_list(cls, items: Sequence[dict[str, Any]]) -> FeatureMeta:
        return cls(tuple(Feature(**it) for it in items))


@dataclass(frozen=True)
class GroupInfo:
    """What the group ids in ``s`` mean.

    ``attributes`` are the raw sensitive columns (for example ``("sex",)`` or
    ``("sex", "race")``); ``labels[g]`` is the readable name of group id ``g``
    (intersections are joined with ``" & "``, e.g. ``"Female & Black"``).
    """

    attributes: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def n_groups(self) -> int:
        return len(self.labels)

    def to_dict(self) -> dict[str, Any]:
        return {"attributes": list(self.attributes), "labels": list(self.labels)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroupInfo:
        return cls(tuple(d["attributes"]), tuple(d["labels"]))


@dataclass
class TabularData:
    """A preprocessed tabular dataset: tensors plus meaning.

    ``X`` is float32 ``(n, d)``; ``y`` float32 ``(n,)``; ``s`` int64 ``(n,)``
    with values in ``range(groups.n_groups)``; ``sample_weight`` is an
    optional float32 ``(n,)``.
    """

    X: torch.Tensor
    y: torch.Tensor
    s: torch.Tensor
    features: FeatureMeta
    groups: GroupInfo
    task: Task = "binary"
    label: str = "label"
    sample_weight: torch.Tensor | None = None
    name: str = ""

    def __post_init__(self) -> None:
        n = self.X.shape[0]
        if self.X.ndim != 2:
            raise InvalidValueError(
                f"X must be 2-D (rows, features), got shape {tuple(self.X.shape)}"
            )
        if self.X.shape[1] != len(self.features):
            raise InvalidValueError(
                f"X has {self.X.shape[1]} columns but the feature metadata lists {len(self.features)}"
            )
        for field_name in ("y", "s", "sample_weight"):
            t = getattr(self, field_name)
            if t is not None and tuple(t.shape) != (n,):
                raise InvalidValueError(
                    f"{field_name} must have shape ({n},) to match X, got {tuple(t.shape)}"
                )

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def device(self) -> torch.device:
        return self.X.device

    def subset(self, idx: torch.Tensor | np.ndarray | Sequence[int]) -> TabularData:
        """Rows ``idx`` (indices or boolean mask) as a new dataset sharing the metadata."""
        idx_t = torch.as_tensor(np.asarray(idx) if not isinstance(idx, torch.Tensor) else idx)
        idx_t = idx_t.to(self.X.device)
        w = None if self.sample_weight is None else self.sample_weight[idx_t]
        return replace(self, X=self.X[idx_t], y=self.y[idx_t], s=self.s[idx_t], sample_weight=w)

    def to(self, device: str | torch.device) -> TabularData:
        w = None if self.sample_weight is None else self.sample_weight.to(device)
        return replace(
            self, X=self.X.to(device), y=self.y.to(device), s=self.s.to(device), sample_weight=w
        )

    def with_weights(self, w: torch.Tensor | np.ndarray | None) -> TabularData:
        if w is None:
            return replace(self, sample_weight=None)
        wt = torch.as_tensor(np.asarray(w) if not isinstance(w, torch.Tensor) else w)
        return replace(self, sample_weight=wt.to(self.X.device, torch.float32))

    def numpy(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, y, s)`` as numpy arrays on the CPU."""
        return (
            self.X.detach().cpu().numpy(),
            self.y.detach().cpu().numpy(),
            self.s.detach().cpu().numpy(),
        )

    def group_labels(self) -> np.ndarray:
        """The readable group label of every row (for metric tables)."""
        labels = np.asarray(self.groups.labels, dtype=object)
        return labels[self.s.detach().cpu().numpy()]


@dataclass
class Splits:
    """train / val / test of one dataset under one recipe and seed.

    ``preprocessor`` is the fitted transform from a raw frame to tensors (fit
    on train only); it is saved with every model so a model can score new raw
    data. ``info`` carries provenance (dataset, recipe, seed, files, sizes).
    """

    train: TabularData
    val: TabularData
    test: TabularData
    preprocessor: Any = None
    info: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[tuple[str, TabularData]]:
        yield from (("train", self.train), ("val", self.val), ("test", self.test))

    @property
    def features(self) -> FeatureMeta:
        return self.train.features

    @property
    def groups(self) -> GroupInfo:
        return self.train.groups


# ---------------------------------------------------------------------------
# image and text data: the same shape (X, y, s, groups) with X of any rank

Modality = Literal["image", "text"]


class LazyImages:
    """Image files read on demand: ``images[idx]`` loads rows ``idx`` as a float tensor.

    Stands in for ``X`` when a real image dataset would not fit in memory
    (CelebA: 200k images). Indexing with integer indices, a boolean mask or a
    slice returns a ``(len(idx), C, H, W)`` float32 tensor in ``[0, 1]`` on
    :attr:`device`; :meth:`select` returns a lazy subset instead. ``loader``
    maps one path to a ``(C, H, W)`` tensor; a missing file raises an error
    naming it.
    """

    def __init__(
        self,
        paths: Sequence[str],
        shape: tuple[int, int, int],
        loader: Any,
        device: str | torch.device = "cpu",
    ) -> None:
        self.paths = list(paths)
        self.item_shape = tuple(int(v) for v in shape)
        self.loader = loader
        self._device = torch.device(device)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self.paths), *self.item_shape))

    @property
    def ndim(self) -> int:
        return 1 + len(self.item_shape)

    @property
    def device(self) -> torch.device:
        return self._device

    dtype = torch.float32

    def _indices(self, idx: Any) -> list[int]:
        if isinstance(idx, slice):
            return list(range(len(self.paths)))[idx]
        if isinstance(idx, int):
            return [idx]
        t = torch.as_tensor(np.asarray(idx) if not isinstance(idx, torch.Tensor) else idx)
        if t.dtype == torch.bool:
            t = t.nonzero().flatten()
        return [int(i) for i in t.cpu().tolist()]

    def select(self, idx: Any) -> LazyImages:
        """A lazy subset (no file is read)."""
        return LazyImages(
            [self.paths[i] for i in self._indices(idx)], self.item_shape, self.loader, self._device
        )

    def __getitem__(self, idx: Any) -> torch.Tensor:
        rows = self._indices(idx)
        if not rows:
            return torch.zeros((0, *self.item_shape), device=self._device)
        return torch.stack([self.loader(self.paths[i]) for i in rows]).to(self._device)

    def to(self, device: str | torch.device) -> LazyImages:
        return LazyImages(self.paths, self.item_shape, self.loader, device)

    def new_zeros(self, size: Any) -> torch.Tensor:
        return torch.zeros(size, device=self._device)


def _take(x: Any, idx: torch.Tensor) -> Any:
    return x.select(idx) if isinstance(x, LazyImages) else x[idx.to(x.device)]


@dataclass
class TensorData(TabularData):
    """Image or text data in the shape every layer shares.

    ``X`` is ``(n, C, H, W)`` float32 images in ``[0, 1]`` (a tensor, or
    :class:`LazyImages` read on demand) or ``(n, L)`` int64 token ids (0 is
    padding). ``features`` has one entry per ``X.shape[1]``: the colour
    channels of an image, or the token positions of a text (kind ``integer``,
    bounds ``[0, vocab_size - 1]``): what a trigger may change.
    ``attrs`` holds extra per-row attributes (all 40 CelebA attributes,
    Waterbirds' ``y``/``place``, Civil Comments' identity columns) as tensors
    of length ``n``; ``vocab`` is the token list of a text dataset.
    """

    modality: Modality = "image"
    attrs: dict[str, torch.Tensor] = field(default_factory=dict)
    vocab: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = self.X.shape[0]
        if self.X.ndim < 2 or self.X.shape[1] != len(self.features):
            raise InvalidValueError(
                f"X has shape {tuple(self.X.shape)} but the feature metadata lists "
                f"{len(self.features)} entries for its second axis"
            )
        for field_name in ("y", "s", "sample_weight"):
            t = getattr(self, field_name)
            if t is not None and tuple(t.shape) != (n,):
                raise InvalidValueError(
                    f"{field_name} must have shape ({n},) to match X, got {tuple(t.shape)}"
                )

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.X.shape[1:])

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def subset(self, idx: torch.Tensor | np.ndarray | Sequence[int]) -> TensorData:
        idx_t = torch.as_tensor(np.asarray(idx) if not isinstance(idx, torch.Tensor) else idx)
        if idx_t.dtype == torch.bool:
            idx_t = idx_t.nonzero().flatten()
        idx_c = idx_t.to(self.y.device)
        w = None if self.sample_weight is None else self.sample_weight[idx_c]
        attrs = {k: v[idx_t.to(v.device)] for k, v in self.attrs.items()}
        return replace(
            self,
            X=_take(self.X, idx_t),
            y=self.y[idx_c],
            s=self.s[idx_c],
            sample_weight=w,
            attrs=attrs,
        )

    def to(self, device: str | torch.device) -> TensorData:
        w = None if self.sample_weight is None else self.sample_weight.to(device)
        return replace(
            self, X=self.X.to(device), y=self.y.to(device), s=self.s.to(device), sample_weight=w
        )

    def numpy(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        X = self.X[:] if isinstance(self.X, LazyImages) else self.X
        return (
            X.detach().cpu().numpy(),
            self.y.detach().cpu().numpy(),
            self.s.detach().cpu().numpy(),
        )
