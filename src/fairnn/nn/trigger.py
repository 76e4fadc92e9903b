"""Fairness triggers: trainable inputs in front of a frozen model.

Zhang et al., "Fairness Reprogramming", NeurIPS 2022, §3.1 (the fairness trigger,
``X̃ = m(X; δ) = [δ, g(X)]``) and the official code
(UCSB-NLP-Chang/Fairness-Reprogramming: ``CelebA/program.py``,
``CivilComments/models.py``). A :class:`TriggeredModel` runs ``f*(m(X; δ))``; the
model ``f*`` (``base``) keeps its weights, only the trigger's parameters train.

Triggers, by the data they go in front of:

* tabular, ``prepend`` (the paper's ``[δ, X]``): ``k`` trigger features are
  prepended to every row. The model's first ``nn.Linear`` is widened by ``k``
  input columns ``W_δ``, zero-initialised, so the triggered model starts out equal
  to the untriggered one: ``W'[δ, x] = W_δ δ + W x``. ``W_δ`` belongs to the trigger
  (it trains with ``δ``; frozen zero columns would make ``δ`` inert) and ``W``
  keeps its values: fairnn adds ``W_δ δ`` to the first layer's output instead of
  copying ``W`` into a wider layer.
* tabular, ``additive`` (the official code's ``MlpWithTrigger``):
  ``x̃ = x ⊙ STE(σ(m) > 0.5) + p`` with a learned mask logit ``m`` and patch ``p``
  (straight-through hard threshold). fairnn starts at the identity (``m`` = 3,
  ``p`` = 0); the code draws both from N(0, 1).
* image, ``patch`` (``PatchProgram``): ``x̃ = x ⊙ (1 − M) + tanh(W ⊙ M)``, ``M`` a
  square of ``size`` pixels at the top-left corner, ``W ~ U(−1, 1)``.
* image, ``border`` (``AdvProgram`` with ``utils.get_transform``): the image is
  resized to ``(H − 2w, W − 2w)``, zero-padded back to ``(H, W)``, and
  ``x̃ = x_pad + tanh(W ⊙ M)`` with ``M`` = 1 on the frame of width ``w``.
* text, ``soft``/``hard`` (``BertBaseUncasedModel``): ``k`` trigger tokens, each a
  selector ``v_i`` over the vocabulary (random one-hot at the start) whose
  embedding is ``v_i · E`` (``E`` = the model's embedding matrix). ``soft`` keeps
  ``v_i`` on the probability simplex (projected after every step, see
  :func:`project_simplex`); ``hard`` uses ``onehot(argmax v_i)`` in the forward pass
  and the soft gradient in the backward pass (straight-through). The trigger rows
  are appended after the text, where the code places them by position ids.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from fairnn.errors import ConfigError
from fairnn.nn.registry import ARCHITECTURES, architecture_of, build_network

#: trigger kinds by modality; the first is the default.
TRIGGERS: dict[str, tuple[str, ...]] = {
    "tabular": ("prepend", "additive"),
    "image": ("patch", "border"),
    "text": ("soft", "hard"),
}


def project_simplex(v: torch.Tensor) -> torch.Tensor:
    """Euclidean projection of every row of ``v`` onto the probability simplex.

    The exact sort-based solution (the official code finds the same threshold by
    bisection): ``max(v − τ, 0)`` with ``τ`` chosen so that each row sums to 1.
    """
    u, _ = torch.sort(v, dim=-1, descending=True)
    css = u.cumsum(-1) - 1.0
    ks = torch.arange(1, v.shape[-1] + 1, device=v.device, dtype=v.dtype)
    cond = u - css / ks > 0
    rho = cond.to(v.dtype).cumsum(-1).argmax(-1, keepdim=True)  # last index where cond holds
    tau = css.gather(-1, rho) / (rho + 1).to(v.dtype)
    return (v - tau).clamp_min(0.0)


class _StraightThrough(torch.autograd.Function):
    """Forward: ``hard``; backward: the gradient of ``soft`` passes unchanged."""

    @staticmethod
    def forward(ctx: Any, soft: torch.Tensor, hard: torch.Tensor) -> torch.Tensor:
        return hard

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


class Trigger(nn.Module):
    """Base class: a trigger transforms the model's input (or its embeddings)."""

    kind: ClassVar[str]
    modality: ClassVar[str]

    def run(self, base: nn.Module, x: torch.Tensor, **kw: Any) -> Any:
        """``base`` on the triggered ``x``."""
        return base(self(x), **kw)

    def bind(self, base: nn.Module) -> None:
        """Attach to ``base`` (checks shapes; the text trigger reads its vocabulary size)."""

    def project(self) -> None:
        """Called after every optimiser step (the soft text trigger's simplex projection)."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


class PrependTrigger(Trigger):
    """``X̃ = [δ, X]`` through a first layer widened by zero-initialised columns ``W_δ``."""

    kind, modality = "prepend", "tabular"

    def __init__(self, n_features: int, k: int = 5, hidden: int = 1, seed: int = 0) -> None:
        super().__init__()
        self.n_features, self.k = int(n_features), int(k)
        self.delta = nn.Parameter(torch.randn(self.k, generator=_generator(seed)))
        self.weight = nn.Parameter(torch.zeros(int(hidden), self.k))  # W_δ
        self._active = False
        self._handle: Any = None

    def bind(self, base: nn.Module) -> None:
        first = next((m for m in base.modules() if isinstance(m, nn.Linear)), None)
        if first is None:
            raise ConfigError(
                "trigger='prepend' widens the model's first nn.Linear, and this model has none; "
                "use trigger='additive'"
            )
        if first.in_features != self.n_features or first.out_features != self.weight.shape[0]:
            raise ConfigError(
                f"trigger='prepend': the model's first Linear maps {first.in_features} inputs to "
                f"{first.out_features}, but the trigger was built for {self.n_features} features "
                f"and {self.weight.shape[0]} units; build it from the same model and data"
            )
        if self._handle is not None:
            self._handle.remove()
        self._handle = first.register_forward_hook(self._hook)

    def _hook(self, module: nn.Module, inputs: Any, output: torch.Tensor) -> torch.Tensor | None:
        if not self._active:
            return None
        return output + self.weight @ self.delta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The triggered rows ``[δ, x]`` (what the widened layer reads)."""
        return torch.cat([self.delta.expand(x.shape[0], -1), x], dim=1)

    def run(self, base: nn.Module, x: torch.Tensor, **kw: Any) -> Any:
        self._active = True
        try:
            return base(x, **kw)
        finally:
            self._active = False

    def __deepcopy__(self, memo: dict[int, Any]) -> PrependTrigger:
        new = PrependTrigger(self.n_features, self.k, self.weight.shape[0])
        new.load_state_dict(self.state_dict())
        memo[id(self)] = new
        return new  # bound again by the TriggeredModel that copies it

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "n_features": self.n_features,
            "k": self.k,
            "hidden": int(self.weight.shape[0]),
        }


class AdditiveTrigger(Trigger):
    """The official code's tabular trigger: ``x ⊙ STE(σ(m) > 0.5) + p``."""

    kind, modality = "additive", "tabular"

    def __init__(self, n_features: int, seed: int = 0) -> None:
        super().__init__()
        self.n_features = int(n_features)
        self.mask = nn.Parameter(torch.full((self.n_features,), 3.0))
        self.patch = nn.Parameter(torch.zeros(self.n_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hard = (torch.sigmoid(self.mask) > 0.5).to(x.dtype)
        return x * _StraightThrough.apply(self.mask, hard) + self.patch

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "n_features": self.n_features}


class _ImageTrigger(Trigger):
    modality = "image"

    def __init__(self, shape: tuple[int, int, int], seed: int) -> None:
        super().__init__()
        self.shape = tuple(int(v) for v in shape)
        w = torch.rand(self.shape, generator=_generator(seed)) * 2 - 1  # U(-1, 1)
        self.weight = nn.Parameter(w)


class PatchTrigger(_ImageTrigger):
    """``x ⊙ (1 − M) + tanh(W ⊙ M)``, ``M`` a ``size``-pixel square at the top-left."""

    kind = "patch"

    def __init__(self, shape: tuple[int, int, int], size: int, seed: int = 0) -> None:
        super().__init__(shape, seed)
        c, h, w = self.shape
        if not 1 <= size < min(h, w):
            raise ConfigError(f"patch_size must be in [1, {min(h, w) - 1}] for {h}x{w} images")
        self.size = int(size)
        mask = torch.zeros(self.shape)
        mask[:, :size, :size] = 1.0
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (1 - self.mask) + torch.tanh(self.weight * self.mask)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": list(self.shape), "size": self.size}


class BorderTrigger(_ImageTrigger):
    """Resize to ``(H − 2w, W − 2w)``, pad back with zeros, add ``tanh(W ⊙ M)`` on the frame."""

    kind = "border"

    def __init__(self, shape: tuple[int, int, int], width: int, seed: int = 0) -> None:
        super().__init__(shape, seed)
        c, h, w = self.shape
        if not width >= 1 or 2 * width >= min(h, w):
            raise ConfigError(
                f"border_width must be in [1, {(min(h, w) - 1) // 2}] for {h}x{w} images"
            )
        self.width = int(width)
        mask = torch.ones(self.shape)
        mask[:, width : h - width, width : w - width] = 0.0
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h, w = self.shape
        b = self.width
        inner = F.interpolate(x, size=(h - 2 * b, w - 2 * b), mode="bilinear", align_corners=False)
        return F.pad(inner, (b, b, b, b)) + torch.tanh(self.weight * self.mask)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": list(self.shape), "width": self.width}


class TokenTrigger(Trigger):
    """``k`` trigger tokens ``v_i · E``: soft (simplex) or hard (straight-through argmax)."""

    modality = "text"

    def __init__(self, vocab_size: int, k: int = 5, hard: bool = False, seed: int = 0) -> None:
        super().__init__()
        self.vocab_size, self.k, self.hard = int(vocab_size), int(k), bool(hard)
        start = torch.randint(1, self.vocab_size, (self.k,), generator=_generator(seed))
        self.selector = nn.Parameter(F.one_hot(start, self.vocab_size).float())

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "hard" if self.hard else "soft"

    def bind(self, base: nn.Module) -> None:
        if not all(hasattr(base, a) for a in ("embed", "forward_embeddings", "embedding")):
            raise ConfigError(
                f"a text trigger needs a model with embed(tokens) -> (emb, mask), "
                f"forward_embeddings(emb, mask) and an embedding matrix (fairnn.nn.TextClassifier); "
                f"{type(base).__name__} lacks them"
            )
        if base.embedding.weight.shape[0] != self.vocab_size:
            raise ConfigError(
                f"the trigger selects among {self.vocab_size} tokens but the model's vocabulary "
                f"has {base.embedding.weight.shape[0]}"
            )

    def weights(self) -> torch.Tensor:
        """The selectors the forward pass uses: ``v`` (soft) or ``onehot(argmax v)`` (hard)."""
        if not self.hard:
            return self.selector
        hard = F.one_hot(self.selector.argmax(-1), self.vocab_size).to(self.selector.dtype)
        return _StraightThrough.apply(self.selector, hard)

    def tokens(self) -> list[int]:
        """The token ids with the largest selector weight (the hard trigger's tokens)."""
        return self.selector.argmax(-1).tolist()

    def run(self, base: nn.Module, x: torch.Tensor, **kw: Any) -> Any:
        emb, mask = base.embed(x)
        delta = self.weights() @ base.embedding.weight  # (k, dim)
        n = emb.shape[0]
        emb = torch.cat([emb, delta.unsqueeze(0).expand(n, -1, -1)], dim=1)
        mask = torch.cat([mask, mask.new_ones(n, self.k)], dim=1)
        return base.forward_embeddings(emb, mask, **kw)

    @torch.no_grad()
    def project(self) -> None:
        self.selector.copy_(project_simplex(self.selector))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "vocab_size": self.vocab_size, "k": self.k}


def trigger_from_dict(d: dict[str, Any]) -> Trigger:
    kind = d.get("kind")
    if kind == "prepend":
        return PrependTrigger(d["n_features"], d["k"], d["hidden"])
    if kind == "additive":
        return AdditiveTrigger(d["n_features"])
    if kind == "patch":
        return PatchTrigger(tuple(d["shape"]), d["size"])  # type: ignore[arg-type]
    if kind == "border":
        return BorderTrigger(tuple(d["shape"]), d["width"])  # type: ignore[arg-type]
    if kind in ("soft", "hard"):
        return TokenTrigger(d["vocab_size"], d["k"], hard=kind == "hard")
    raise ConfigError(f"unknown trigger kind {kind!r}; known: {sorted(sum(TRIGGERS.values(), ()))}")


class _TriggeredConfig:
    def __init__(self, base: nn.Module, trigger: Trigger) -> None:
        self.base, self.trigger = base, trigger

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "reprogram",
            "base": architecture_of(self.base),
            "trigger": self.trigger.to_dict(),
        }


class TriggeredModel(nn.Module):
    """``f*(m(X; δ))``: the frozen ``base`` behind ``trigger``.

    ``train()`` switches only the trigger to training mode: the base stays in eval
    mode (no dropout, BatchNorm statistics untouched), as the official code keeps
    its predictor in ``eval()``. The state dict holds ``base.*`` and ``trigger.*``.
    """

    def __init__(self, base: nn.Module, trigger: Trigger) -> None:
        super().__init__()
        self.base, self.trigger = base, trigger
        trigger.bind(base)
        self.config = _TriggeredConfig(base, trigger)
        self.base.eval()

    @classmethod
    def from_config(cls, arch: dict[str, Any]) -> TriggeredModel:
        return cls(build_network(arch["base"]), trigger_from_dict(arch["trigger"]))

    def train(self, mode: bool = True) -> TriggeredModel:
        self.training = mode
        self.trigger.train(mode)
        self.base.eval()
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> TriggeredModel:
        import copy

        base = copy.deepcopy(self.base, memo)
        return TriggeredModel(base, copy.deepcopy(self.trigger, memo))

    def forward(self, x: torch.Tensor, return_hidden: bool = False) -> Any:
        kw = {"return_hidden": True} if return_hidden else {}
        return self.trigger.run(self.base, x, **kw)


ARCHITECTURES.register("reprogram", TriggeredModel.from_config)


def make_trigger(
    kind: str,
    data: Any,
    base: nn.Module,
    *,
    k: int = 5,
    patch_size: int | None = None,
    border_width: int | None = None,
    seed: int = 0,
) -> Trigger:
    """A trigger of ``kind`` for ``data`` (its modality and shapes) in front of ``base``."""
    modality = getattr(data, "modality", "tabular")
    kinds = TRIGGERS[modality]
    if kind == "auto":
        kind = kinds[0]
    if kind not in kinds:
        raise ConfigError(
            f"trigger {kind!r} does not go in front of {modality} data; use one of {list(kinds)}"
        )
    if modality == "tabular":
        if kind == "additive":
            return AdditiveTrigger(data.n_features, seed)
        first = next((m for m in base.modules() if isinstance(m, nn.Linear)), None)
        hidden = first.out_features if first is not None else 1
        return PrependTrigger(data.n_features, k, hidden, seed)
    if modality == "image":
        shape = tuple(int(v) for v in data.X.shape[1:])
        side = min(shape[1:])
        if kind == "patch":  # the paper's 80 px of 224 unless given
            return PatchTrigger(shape, patch_size or max(1, round(side * 80 / 224)), seed)  # type: ignore[arg-type]
        return BorderTrigger(shape, border_width or max(1, round(side * 20 / 224)), seed)  # type: ignore[arg-type]
    vocab = getattr(getattr(base, "embedding", None), "weight", None)
    size = int(vocab.shape[0]) if vocab is not None else int(getattr(data, "vocab_size", 0))
    return TokenTrigger(size, k, hard=kind == "hard", seed=seed)
