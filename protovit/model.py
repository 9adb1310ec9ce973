"""ProtoViT: a ViT encoder, deformable prototypes of K sub-prototypes matched greedily, a linear evidence layer.

The forward pass is split in three so frozen training stages can cache its intermediate results exactly:
``encode`` (images -> latent tokens z = patch - CLS), ``match`` (latents -> cosine of every sub-prototype at its
greedily matched token), ``score`` (matched cosines -> slot-weighted prototype scores g and logits). The logits are
a bias-free linear map of g, so ``contributions = g * weight`` sums exactly to each logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from protovit.backbones import create_backbone, patch_grid, split_tokens, token_stride
from protovit.config import ProtoViTConfig


@dataclass
class MatchResult:
    """Greedy matching of every sub-prototype; ``cosines`` keeps the gradient, ``token_indices`` does not."""

    cosines: torch.Tensor  # [B, m, K] cosine of sub-prototype k of prototype j at its matched token
    token_indices: torch.Tensor  # [B, m, K] flat token index (row * cols + col) of each match
    order: torch.Tensor  # [B, m, K] sub-prototype id chosen at greedy step t


@dataclass
class ProtoViTOutput:
    """Structured forward output; all tensors are batch-first."""

    logits: torch.Tensor  # [B, C]
    scores: torch.Tensor  # [B, m] prototype similarity g_j in [-K, K]
    sub_cosines: torch.Tensor  # [B, m, K]
    token_indices: torch.Tensor  # [B, m, K]
    slots: torch.Tensor  # [m, K] slot indicators s = sigmoid(tau * v)
    latents: torch.Tensor | None = None  # [B, N, d] when requested


def neighbour_table(rows: int, cols: int, radius: int) -> torch.Tensor:
    """Boolean [N, N] table: token b lies within Chebyshev distance ``radius`` of token a."""
    r = torch.arange(rows).repeat_interleave(cols)
    c = torch.arange(cols).repeat(rows)
    return ((r[:, None] - r[None, :]).abs() <= radius) & ((c[:, None] - c[None, :]).abs() <= radius)


def greedy_match(cosines: torch.Tensor, neighbours: torch.Tensor) -> MatchResult:
    """Paper Alg. 1 on a [B, m, N, K] cosine tensor.

    K steps: among unused sub-prototypes and unused tokens (adjacent to the previous pick after the first step),
    take the single best (token, sub-prototype) pair. A token is never reused: if every neighbour of the previous
    pick is taken (possible on small grids or radius 0), the pick may leave the window. Results are returned in
    sub-prototype order. The choice is made on detached values and the chosen cosines are gathered with
    gradient, like max-pooling.
    """
    batch, m, n_tokens, k_sub = cosines.shape
    if n_tokens < k_sub:
        raise ValueError(f"{k_sub} sub-prototypes need at least {k_sub} tokens, the grid has {n_tokens}")
    values = cosines.detach()
    device = cosines.device
    token_used = torch.zeros(batch, m, n_tokens, dtype=torch.bool, device=device)
    sub_used = torch.zeros(batch, m, k_sub, dtype=torch.bool, device=device)
    adjacent = torch.ones(batch, m, n_tokens, dtype=torch.bool, device=device)
    token_indices = torch.zeros(batch, m, k_sub, dtype=torch.long, device=device)
    order = torch.zeros(batch, m, k_sub, dtype=torch.long, device=device)
    neighbours = neighbours.to(device)
    for step in range(k_sub):
        free = values.masked_fill(token_used[..., None] | sub_used[:, :, None, :], float("-inf"))
        near = free.masked_fill(~adjacent[..., None], float("-inf"))
        has_near = near.reshape(batch, m, -1).amax(dim=-1) > float("-inf")
        candidates = torch.where(has_near[..., None, None], near, free)
        flat_best = candidates.reshape(batch, m, n_tokens * k_sub).argmax(dim=-1)
        token, sub = flat_best // k_sub, flat_best % k_sub
        token_indices.scatter_(2, sub[..., None], token[..., None])
        order[..., step] = sub
        token_used.scatter_(2, token[..., None], True)
        sub_used.scatter_(2, sub[..., None], True)
        adjacent = neighbours[token]
    gathered = cosines.gather(2, token_indices[:, :, None, :]).squeeze(2)
    return MatchResult(cosines=gathered, token_indices=token_indices, order=order)


class ProtoViT(nn.Module):
    """ProtoViT over any timm ViT-family backbone with a class token.

    ``config.num_classes`` must be set. ``load_backbone_weights=False`` builds the backbone from random values
    without touching files or the hub; use it when a full state_dict is loaded next (restoring a run).
    """

    def __init__(self, config: ProtoViTConfig, *, load_backbone_weights: bool = True) -> None:
        super().__init__()
        if config.num_classes is None:
            raise ValueError("config.num_classes must be set before building the model")
        self.config = config
        load = load_backbone_weights and config.pretrained
        self.backbone = create_backbone(
            config.backbone,
            pretrained=load,
            weights=config.weights if load else None,
            img_size=config.img_size,
            drop_path_rate=config.drop_path_rate,
            **config.backbone_kwargs,
        )
        self.weights_source = self.backbone.weights_source
        self.grid = patch_grid(self.backbone)
        self.stride = token_stride(self.backbone)
        dim = int(self.backbone.num_features)
        m, k_sub = config.num_prototypes, config.sub_prototypes
        self.prototype_vectors = nn.Parameter(torch.rand(m, dim, k_sub))
        self.slot_logits = nn.Parameter(torch.full((1, m, k_sub), config.slot_init))
        self.last_layer = nn.Linear(m, config.num_classes, bias=False)
        prototype_class = torch.arange(m) // config.prototypes_per_class
        self.register_buffer("prototype_class", prototype_class, persistent=False)
        self.register_buffer(
            "class_identity", F.one_hot(prototype_class, config.num_classes).float(), persistent=False
        )
        self.register_buffer("neighbours", neighbour_table(*self.grid, config.radius), persistent=False)
        self.reset_last_layer()

    @property
    def num_prototypes(self) -> int:
        return self.prototype_vectors.shape[0]

    @property
    def sub_prototypes(self) -> int:
        return self.prototype_vectors.shape[2]

    def reset_last_layer(self) -> None:
        """+1 from each prototype to its own class, ``incorrect_class_connection`` (-0.5) to the others."""
        own = self.class_identity.T
        weight = own + self.config.incorrect_class_connection * (1.0 - own)
        with torch.no_grad():
            self.last_layer.weight.copy_(weight)

    def slots(self) -> torch.Tensor:
        """Slot indicators s = sigmoid(tau * v), shape [m, K]."""
        return torch.sigmoid(self.config.slot_temperature * self.slot_logits[0])

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Latent tokens z = patch tokens - class token (paper Eq. 1), shape [B, N, d]."""
        cls_token, patches = split_tokens(self.backbone, self.backbone.forward_features(images))
        return patches - cls_token[:, None, :] if self.config.subtract_cls else patches

    def cosine_map(self, latents: torch.Tensor) -> torch.Tensor:
        """Cosine between every token and every sub-prototype, [B, m, N, K]. Zero prototypes give 0."""
        tokens = F.normalize(latents, dim=-1)
        prototypes = F.normalize(self.prototype_vectors, dim=1)
        return torch.einsum("bnd,mdk->bmnk", tokens, prototypes)

    def match(self, latents: torch.Tensor) -> MatchResult:
        return greedy_match(self.cosine_map(latents), self.neighbours)

    def score(self, sub_cosines: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Paper Eq. 2: g_j = K / sum_k s_jk * sum_k s_jk cos_jk; returns (scores, logits, slots)."""
        slots = self.slots()
        scores = self.sub_prototypes / (slots.sum(dim=-1) + 1e-10) * (slots * sub_cosines).sum(dim=-1)
        return scores, self.last_layer(scores), slots

    def forward_latents(self, latents: torch.Tensor, *, keep_latents: bool = False) -> ProtoViTOutput:
        matched = self.match(latents)
        scores, logits, slots = self.score(matched.cosines)
        return ProtoViTOutput(
            logits=logits,
            scores=scores,
            sub_cosines=matched.cosines,
            token_indices=matched.token_indices,
            slots=slots,
            latents=latents if keep_latents else None,
        )

    def forward(self, images: torch.Tensor, *, keep_latents: bool = False) -> ProtoViTOutput:
        return self.forward_latents(self.encode(images), keep_latents=keep_latents)

    def contributions(self, scores: torch.Tensor) -> torch.Tensor:
        """Per-class, per-prototype points g_j * w_cj, [B, C, m]; summing over m gives the logits exactly."""
        return scores[:, None, :] * self.last_layer.weight[None, :, :]

    def token_cell(self, token_index: int) -> tuple[int, int]:
        """(row, col) of a flat token index on the patch grid."""
        return divmod(int(token_index), self.grid[1])

    def token_box(self, token_index: int) -> tuple[int, int, int, int]:
        """Pixel box (left, top, right, bottom) of a token on the model's input image."""
        row, col = self.token_cell(token_index)
        height, width = self.stride
        return col * width, row * height, (col + 1) * width, (row + 1) * height
