"""A text classifier whose embedding matrix a trigger can index.

Token ids ``(n, L)`` (0 = padding) → ``embedding`` rows ``(n, L, dim)`` → an encoder
→ one logit. ``encoder="bag"``: the mean of the non-padding embeddings (an
EmbeddingBag written with ``nn.Embedding`` so that embeddings can be fed directly);
``encoder="transformer"``: a tiny transformer encoder (learned positions, mean pooled).

Fairness Reprogramming builds a trigger from the embedding matrix: it calls
:meth:`TextClassifier.embed` on the text, concatenates ``δ = v · E`` (``E`` =
``model.embedding.weight``) for its trigger positions, and runs
:meth:`TextClassifier.forward_embeddings` with the matching mask. Inputs may
arrive as float token ids (a model file's scorer casts them); they are rounded to
int64 here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import nn

from fairnn.errors import ConfigError
from fairnn.nn.registry import ARCHITECTURES

Encoder = Literal["bag", "transformer"]


@dataclass(frozen=True)
class TextConfig:
    vocab_size: int
    dim: int = 64
    hidden: int = 64
    encoder: Encoder = "bag"
    max_len: int = 512
    heads: int = 2
    layers: int = 1
    dropout: float = 0.0
    out_features: int = 1

    def __post_init__(self) -> None:
        if self.vocab_size < 2 or self.dim < 1 or self.hidden < 1:
            raise ConfigError(f"text model sizes are too small: {self}")
        if self.encoder not in ("bag", "transformer"):
            raise ConfigError(f"encoder must be 'bag' or 'transformer', got {self.encoder!r}")
        if self.encoder == "transformer" and self.dim % self.heads:
            raise ConfigError(f"dim {self.dim} must be divisible by heads {self.heads}")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "text", **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TextConfig:
        return cls(**{k: v for k, v in d.items() if k != "type"})


class TextClassifier(nn.Module):
    def __init__(self, vocab_size: int, **kw: Any) -> None:
        super().__init__()
        self.config = c = TextConfig(int(vocab_size), **kw)
        self.embedding = nn.Embedding(c.vocab_size, c.dim, padding_idx=0)
        if c.encoder == "transformer":
            self.position = nn.Parameter(torch.zeros(c.max_len, c.dim))
            nn.init.normal_(self.position, std=0.02)
            layer = nn.TransformerEncoderLayer(
                c.dim, c.heads, 2 * c.dim, c.dropout, batch_first=True
            )
            self.encoder = nn.TransformerEncoder(layer, c.layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.Linear(c.dim, c.hidden), nn.ReLU())
        self.drop = nn.Dropout(c.dropout) if c.dropout > 0 else nn.Identity()
        self.output = nn.Linear(c.hidden, c.out_features)

    @classmethod
    def from_config(cls, config: TextConfig | dict[str, Any]) -> TextClassifier:
        c = TextConfig.from_dict(config) if isinstance(config, dict) else config
        d = asdict(c)
        return cls(d.pop("vocab_size"), **d)

    def embed(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings ``(n, L, dim)`` and the mask ``(n, L)`` (True on real tokens)."""
        ids = tokens if not tokens.is_floating_point() else tokens.round()
        ids = ids.long()
        return self.embedding(ids), ids != 0

    def forward_embeddings(
        self, emb: torch.Tensor, mask: torch.Tensor, return_hidden: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """The logits from embeddings (text plus any trigger rows) and their mask."""
        m = mask.unsqueeze(-1).to(emb.dtype)
        if self.config.encoder == "transformer":
            length = emb.shape[1]
            if length > self.config.max_len:
                raise ConfigError(f"input of {length} tokens exceeds max_len {self.config.max_len}")
            x = emb + self.position[:length]
            x = self.encoder(x, src_key_padding_mask=~mask)
            x = torch.nan_to_num(x) * m
        else:
            x = emb * m
        pooled = x.sum(1) / m.sum(1).clamp_min(1.0)
        h = self.head(pooled)
        out = self.output(self.drop(h))
        if self.config.out_features == 1:
            out = out.squeeze(-1)
        return (out, [h]) if return_hidden else out

    def forward(
        self, tokens: torch.Tensor, return_hidden: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        emb, mask = self.embed(tokens)
        return self.forward_embeddings(emb, mask, return_hidden)


ARCHITECTURES.register("text", TextClassifier.from_config)
