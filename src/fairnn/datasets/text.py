"""Text fairness tasks: the Civil Comments loader and a templated synthetic toxicity task.

Texts become token ids: a lower-cased word tokenizer (``[a-z0-9']+``), a vocabulary
built on the training split (``<pad>`` = 0, ``<unk>`` = 1, then words by frequency,
ties alphabetical, at most ``max_vocab``), and ``(n, max_len)`` int64 tensors padded
with 0. The vocabulary travels with the data (``TensorData.vocab``) so a trigger can
name tokens and a model's embedding matrix has one row per entry.

* **Civil Comments** (Borkan et al. 2019, the WILDS release): the CSV
  ``all_data_with_identities.csv`` with ``comment_text``, ``toxicity`` (label:
  ``toxicity >= 0.5``), ``split`` (train/val/test) and the identity columns
  ``male, female, LGBTQ, christian, muslim, other_religions, black, white``
  (mentioned: ``>= 0.5``). The group is one identity column, or ``identity_any``
  (default: any of the eight). All eight are kept in ``attrs`` for multi-attribute
  adversaries (Fairness Reprogramming's ``Adversary4Z``).
* ``synthetic-toxicity`` (**synthetic**, no real text): template sentences that
  mention an identity term of group A or group B and carry a toxic or a friendly
  adjective. The label is the adjective's toxicity, flipped with probability
  ``label_noise``; the identity group equals the label with probability
  ``strength`` in train and is independent of it (``test="balanced"``) or
  anti-correlated (``"reversed"``) in val and test, so a model that reads the
  identity term is unfair.

No real-text fallback ships: no installed package carries a labelled toxicity corpus.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from fairnn.datasets.core import Feature, FeatureMeta, GroupInfo, Splits, TensorData
from fairnn.datasets.splits import DEFAULT_TEST_SIZE, DEFAULT_VAL_SIZE
from fairnn.errors import ColumnError, InvalidValueError
from fairnn.validation import check_seed

PAD, UNK = "<pad>", "<unk>"
CIVIL_FILE = "all_data_with_identities.csv"
CIVIL_IDENTITIES = (
    "male",
    "female",
    "LGBTQ",
    "christian",
    "muslim",
    "other_religions",
    "black",
    "white",
)
_TOKEN = re.compile(r"[a-z0-9']+")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(str(text).lower())


def build_vocab(
    texts: Sequence[str], *, max_vocab: int = 20000, min_freq: int = 1
) -> tuple[str, ...]:
    """``<pad>``, ``<unk>``, then the training words by frequency (ties alphabetical)."""
    counts = Counter(tok for t in texts for tok in tokenize(t))
    words = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))
    return (PAD, UNK, *words[: max(0, max_vocab - 2)])


def encode(texts: Sequence[str], vocab: Sequence[str], max_len: int = 64) -> torch.Tensor:
    """``(n, max_len)`` int64 token ids, truncated and padded with 0."""
    index = {w: i for i, w in enumerate(vocab)}
    out = np.zeros((len(texts), max_len), dtype=np.int64)
    for r, t in enumerate(texts):
        ids = [index.get(tok, 1) for tok in tokenize(t)[:max_len]]
        out[r, : len(ids)] = ids
    return torch.from_numpy(out)


def token_features(max_len: int, vocab_size: int) -> FeatureMeta:
    """One integer feature per token position, bounded by the vocabulary."""
    return FeatureMeta(
        tuple(
            Feature(f"token_{i}", "text", "integer", 0.0, float(max(vocab_size - 1, 0)))
            for i in range(max_len)
        )
    )


def _text_data(
    texts: Sequence[str],
    y: np.ndarray,
    s: np.ndarray,
    vocab: tuple[str, ...],
    max_len: int,
    groups: GroupInfo,
    *,
    label: str,
    name: str,
    attrs: dict[str, torch.Tensor] | None = None,
) -> TensorData:
    return TensorData(
        X=encode(texts, vocab, max_len),
        y=torch.as_tensor(np.asarray(y), dtype=torch.float32),
        s=torch.as_tensor(np.asarray(s), dtype=torch.int64),
        features=token_features(max_len, len(vocab)),
        groups=groups,
        label=label,
        name=name,
        modality="text",
        attrs=attrs or {},
        vocab=vocab,
    )


# ---------------------------------------------------------------------------
# Civil Comments (WILDS)


def load_civilcomments(
    files: Mapping[str, Any],
    *,
    seed: int = 0,
    sensitive: str | Sequence[str] | None = None,
    max_len: int = 64,
    max_vocab: int = 20000,
    limit: int | None = None,
    **_: Any,
) -> Splits:
    """Civil Comments from the WILDS CSV; ``limit`` caps each split (a seeded sample)."""
    check_seed(seed)
    src = files[CIVIL_FILE].source()
    frame = pd.read_csv(src)
    need = ["comment_text", "toxicity", "split", *CIVIL_IDENTITIES]
    lacking = [c for c in need if c not in frame.columns]
    if lacking:
        raise ColumnError(f"{CIVIL_FILE} lacks column(s) {lacking}; the WILDS CSV has {need}")
    sens = sensitive if isinstance(sensitive, str) or sensitive is None else None
    if sens is None and sensitive is not None:
        if len(sensitive) != 1:  # type: ignore[arg-type]
            raise InvalidValueError("Civil Comments groups by one attribute; pass one name")
        sens = str(list(sensitive)[0])  # type: ignore[arg-type]
    sens = sens or "identity_any"
    ident = frame[list(CIVIL_IDENTITIES)].fillna(0.0).to_numpy() >= 0.5
    if sens == "identity_any":
        group = ident.any(axis=1)
        labels = ("no identity mentioned", "identity mentioned")
    elif sens in CIVIL_IDENTITIES:
        group = ident[:, CIVIL_IDENTITIES.index(sens)]
        labels = (f"no {sens} mention", f"{sens} mentioned")
    else:
        raise ColumnError(
            f"Civil Comments has no identity {sens!r}; use identity_any or one of {CIVIL_IDENTITIES}"
        )
    y = (frame["toxicity"].to_numpy() >= 0.5).astype(np.int64)
    text = frame["comment_text"].fillna("").astype(str).to_numpy()
    split = frame["split"].astype(str).str.lower().to_numpy()
    rows: dict[str, np.ndarray] = {}
    for k, name in enumerate(("train", "val", "test")):
        idx = np.flatnonzero(split == name)
        if limit is not None and len(idx) > limit:
            idx = np.sort(np.random.default_rng(seed + k).choice(idx, int(limit), replace=False))
        rows[name] = idx
    vocab = build_vocab(list(text[rows["train"]]), max_vocab=max_vocab)
    groups = GroupInfo((sens,), labels)
    out = {
        name: _text_data(
            list(text[idx]),
            y[idx],
            group[idx].astype(np.int64),
            vocab,
            max_len,
            groups,
            label="toxic",
            name=f"civilcomments/{name}",
            attrs={
                c: torch.as_tensor(ident[idx, i].astype(np.int64))
                for i, c in enumerate(CIVIL_IDENTITIES)
            },
        )
        for name, idx in rows.items()
    }
    return Splits(
        out["train"],
        out["val"],
        out["test"],
        info={
            "rows": {k: len(v) for k, v in out.items()},
            "sensitive": sens,
            "vocab_size": len(vocab),
            "max_len": max_len,
            "limit": limit,
        },
    )


# ---------------------------------------------------------------------------
# the synthetic toxicity task

IDENTITY_A = ("muslim", "gay", "black", "jewish")
IDENTITY_B = ("christian", "straight", "white", "catholic")
TOXIC = ("stupid", "disgusting", "worthless", "idiotic", "pathetic", "horrible", "dumb", "vile")
FRIENDLY = ("kind", "smart", "friendly", "wonderful", "honest", "nice", "helpful", "generous")
NOUNS = ("people", "folks", "neighbours", "students", "writers", "voters")
TEMPLATES = (
    "i think {ident} {noun} are {adj}",
    "all the {ident} {noun} i know are {adj}",
    "my {ident} neighbour is so {adj}",
    "honestly {ident} {noun} seem {adj} to me",
    "those {ident} {noun} were {adj} today",
    "{ident} {noun} can be really {adj}",
)


def synthetic_toxicity_texts(
    n: int, rng: np.random.Generator, y: np.ndarray, g: np.ndarray, clean: np.ndarray
) -> list[str]:
    out = []
    for i in range(n):
        ident = (IDENTITY_B if g[i] else IDENTITY_A)[rng.integers(4)]
        adj = (TOXIC if clean[i] else FRIENDLY)[rng.integers(len(TOXIC))]
        tpl = TEMPLATES[rng.integers(len(TEMPLATES))]
        out.append(tpl.format(ident=ident, noun=NOUNS[rng.integers(len(NOUNS))], adj=adj))
    return out


def load_synthetic_toxicity(
    files: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    n: int = 4000,
    strength: float = 0.9,
    test: Literal["balanced", "reversed", "same"] = "balanced",
    label_noise: float = 0.2,
    max_len: int = 16,
    val_size: float = DEFAULT_VAL_SIZE,
    test_size: float = DEFAULT_TEST_SIZE,
    **_: Any,
) -> Splits:
    """The templated synthetic toxicity task (see the module docstring)."""
    check_seed(seed)
    if not 0.0 <= strength <= 1.0:
        raise InvalidValueError(f"strength must be in [0, 1], got {strength}")
    if not 0.0 <= label_noise < 0.5:
        raise InvalidValueError(f"label_noise must be in [0, 0.5), got {label_noise}")
    rho_test = {"balanced": 0.5, "reversed": 1.0 - strength, "same": strength}.get(test)
    if rho_test is None:
        raise InvalidValueError(f"test must be 'balanced', 'reversed' or 'same', got {test!r}")
    rng = np.random.default_rng(seed)
    n_test, n_val = round(n * test_size), round(n * val_size)
    sizes = {"train": n - n_test - n_val, "val": n_val, "test": n_test}
    rhos = {"train": strength, "val": rho_test, "test": rho_test}
    raw: dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]] = {}
    for name, m in sizes.items():
        clean = (rng.random(m) < 0.5).astype(np.int64)
        y = np.where(rng.random(m) < label_noise, 1 - clean, clean)
        g = np.where(rng.random(m) < rhos[name], y, 1 - y).astype(np.int64)
        raw[name] = (synthetic_toxicity_texts(m, rng, y, g, clean), y, g, clean)
    vocab = build_vocab(raw["train"][0])
    groups = GroupInfo(("identity_group",), ("identity A", "identity B"))
    out = {
        name: _text_data(
            texts,
            y,
            g,
            vocab,
            max_len,
            groups,
            label="toxic",
            name=f"synthetic-toxicity/{name}",
            attrs={"clean_label": torch.as_tensor(clean)},
        )
        for name, (texts, y, g, clean) in raw.items()
    }
    return Splits(
        out["train"],
        out["val"],
        out["test"],
        info={
            "rows": sizes,
            "strength": strength,
            "test": test,
            "label_noise": label_noise,
            "vocab_size": len(vocab),
            "synthetic": True,
        },
    )
