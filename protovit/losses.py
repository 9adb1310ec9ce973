"""ProtoViT loss terms, with the paper's definitions by default and the official code's variants on request.

Sign convention: every function returns the quantity named (e.g. :func:`cluster_similarity` is a mean
similarity, larger is better) and the stage loss multiplies it by its configured weight, so the paper's
λ1 = -0.8 maximises own-class similarity. The paper's Eq. 3 carries an extra minus sign that, taken literally,
would minimise it; that inconsistency is not reproduced (protovit.md §3).

Differences selected by ``semantics="official"`` (protovit.md §3):

- cluster / separation: the official code zeroes the other classes' entries before the max, flooring both at 0;
- coherence: distance to the last sub-prototype only, one slot factor, summed (not averaged) over prototypes;
- orthogonality: entry-wise L1 of (P Pᵀ - I) on unit sub-prototypes instead of the squared Frobenius norm.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from protovit.config import ProtoViTConfig, Semantics
from protovit.model import ProtoViT

STAGES = ("warmup", "joint", "slots", "last_layer")


def cluster_similarity(
    sub_cosines: torch.Tensor,
    labels: torch.Tensor,
    class_identity: torch.Tensor,
    semantics: Semantics = "paper",
) -> torch.Tensor:
    """Mean over images of the best matched sub-prototype cosine among the image's own-class prototypes."""
    own = class_identity[:, labels].T.bool()  # [B, m]
    return _masked_best(sub_cosines, own, semantics).mean()


def separation_similarity(
    sub_cosines: torch.Tensor,
    labels: torch.Tensor,
    class_identity: torch.Tensor,
    semantics: Semantics = "paper",
) -> torch.Tensor:
    """Mean over images of the best matched sub-prototype cosine among other-class prototypes."""
    other = ~class_identity[:, labels].T.bool()
    return _masked_best(sub_cosines, other, semantics).mean()


def _masked_best(sub_cosines: torch.Tensor, keep: torch.Tensor, semantics: Semantics) -> torch.Tensor:
    best_per_prototype = sub_cosines.max(dim=-1).values  # [B, m]
    if semantics == "official":
        return (best_per_prototype * keep).max(dim=-1).values  # zeroed entries floor the result at 0
    return best_per_prototype.masked_fill(~keep, float("-inf")).max(dim=-1).values


def coherence(
    prototype_vectors: torch.Tensor, slots: torch.Tensor, semantics: Semantics = "paper"
) -> torch.Tensor:
    """Paper Eq. 4: mean over prototypes of max over pairs k≠s of (1 - cos(p_k, p_s)) * s_k * s_s."""
    unit = F.normalize(prototype_vectors, dim=1)  # [m, d, K]
    if semantics == "official":
        last = unit[:, :, -1:]
        distance_to_last = 1.0 - (unit * last).sum(dim=1)  # [m, K]
        return (distance_to_last * slots).max(dim=-1).values.sum()
    cos = torch.einsum("mdk,mds->mks", unit, unit)
    weighted = (1.0 - cos) * slots[:, :, None] * slots[:, None, :]
    off_diagonal = ~torch.eye(unit.shape[2], dtype=torch.bool, device=unit.device)
    if not off_diagonal.any():  # K = 1: no pairs, nothing to make coherent
        return weighted.sum() * 0.0
    return weighted[:, off_diagonal].max(dim=-1).values.mean()


def orthogonality(
    prototype_vectors: torch.Tensor, prototypes_per_class: int, semantics: Semantics = "paper"
) -> torch.Tensor:
    """Paper Eq. 5: sum over classes of ||P Pᵀ - I||_F², P = the class's flattened prototypes.

    Each sub-prototype is L2-normalised and the flattened row scaled to unit norm so that I is attainable (the
    paper leaves the normalisation implicit). The official variant keeps the K-length rows (diagonal K, a
    constant offset) and takes the entry-wise L1 norm.
    """
    m, _, k_sub = prototype_vectors.shape
    unit = F.normalize(prototype_vectors, dim=1)
    rows = unit.permute(0, 2, 1).reshape(m // prototypes_per_class, prototypes_per_class, -1)
    identity = torch.eye(prototypes_per_class, device=rows.device)
    if semantics == "official":
        gram = rows @ rows.transpose(1, 2)
        return (gram - identity).abs().sum()
    rows = rows / k_sub**0.5
    gram = rows @ rows.transpose(1, 2)
    return ((gram - identity) ** 2).sum()


def off_class_l1(last_layer_weight: torch.Tensor, class_identity: torch.Tensor) -> torch.Tensor:
    """Paper Eq. 8: L1 norm of the evidence weights from prototypes to classes other than their own."""
    return (last_layer_weight * (1.0 - class_identity.T)).abs().sum()


@dataclass
class LossTerms:
    total: torch.Tensor
    parts: dict[str, float]


def stage_loss(
    stage: str,
    model: ProtoViT,
    logits: torch.Tensor,
    sub_cosines: torch.Tensor,
    labels: torch.Tensor,
    config: ProtoViTConfig,
) -> LossTerms:
    """The loss of a training stage (paper Eqs. 6-8), from a forward pass's logits and matched cosines."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {STAGES}")
    semantics = config.semantics
    terms: dict[str, tuple[float, torch.Tensor]] = {"ce": (config.ce_weight, F.cross_entropy(logits, labels))}
    if stage in ("warmup", "joint"):
        identity = model.class_identity
        terms["cluster"] = (
            config.cluster_weight,
            cluster_similarity(sub_cosines, labels, identity, semantics),
        )
        terms["separation"] = (
            config.separation_weight,
            separation_similarity(sub_cosines, labels, identity, semantics),
        )
        terms["coherence"] = (
            config.coherence_weight,
            coherence(model.prototype_vectors, model.slots(), semantics),
        )
        terms["orthogonality"] = (
            config.orthogonality_weight,
            orthogonality(model.prototype_vectors, config.prototypes_per_class, semantics),
        )
    elif stage == "slots":
        terms["coherence"] = (
            config.slot_coherence_weight,
            coherence(model.prototype_vectors, model.slots(), semantics),
        )
    else:
        terms["l1"] = (config.l1_weight, off_class_l1(model.last_layer.weight, model.class_identity))
    total = sum(weight * value for weight, value in terms.values())
    return LossTerms(total=total, parts={name: float(value.detach()) for name, (_, value) in terms.items()})
