"""Classification metrics, the exact McNemar test, and interpretability metrics that need no part labels."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.stats import binomtest
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from protovit.model import ProtoViT


def classification_report(y_true: list[int], y_pred: list[int], class_names: list[str]) -> dict[str, Any]:
    """accuracy (with a 95 % Wilson interval), macro-F1, per-class precision/recall/F1/support, confusion matrix."""
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    correct = int(sum(t == p for t, p in zip(y_true, y_pred, strict=True)))
    return {
        "n_images": len(y_true),
        "accuracy": correct / len(y_true) if y_true else 0.0,
        "accuracy_wilson95": wilson_interval(correct, len(y_true)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "class_names": list(class_names),
    }


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> list[float]:
    if n == 0:
        return [0.0, 0.0]
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def mcnemar_exact(y_true: list[int], pred_a: list[int], pred_b: list[int]) -> dict[str, Any]:
    """Exact two-sided McNemar test on paired predictions: b = only A right, c = only B right."""
    a_right = np.asarray(pred_a) == np.asarray(y_true)
    b_right = np.asarray(pred_b) == np.asarray(y_true)
    only_a, only_b = int((a_right & ~b_right).sum()), int((~a_right & b_right).sum())
    discordant = only_a + only_b
    p_value = 1.0 if discordant == 0 else float(binomtest(only_a, discordant, 0.5).pvalue)
    return {
        "n_images": len(y_true),
        "only_first_correct": only_a,
        "only_second_correct": only_b,
        "p_value": p_value,
    }


@torch.inference_mode()
def prototype_purity(
    model: ProtoViT, latents: torch.Tensor, labels: torch.Tensor, k: int = 6
) -> dict[str, Any]:
    """Class purity of each prototype's k nearest images (smallest K - g_j), ProtoPNet-style (k = 6, threshold 3).

    Returns the mean fraction of those images that belong to the prototype's class and the share of prototypes
    with at least half of them from their class.
    """
    device = model.prototype_vectors.device
    scores = torch.cat(
        [model.forward_latents(chunk.to(device)).scores.cpu() for chunk in latents.split(64)]
    )  # [n, m]
    k = min(k, len(latents))
    nearest = scores.topk(k, dim=0).indices  # highest similarity = smallest distance
    purity = (labels[nearest] == model.prototype_class.cpu()[None, :]).float().mean(dim=0)  # [m]
    return {
        "k": k,
        "mean_purity": float(purity.mean()),
        "share_pure_prototypes": float((purity >= 0.5).float().mean()),
        "per_prototype": [round(float(p), 4) for p in purity],
    }


NEAR_WHITE = 230  # a pixel whose three channels are all at least this bright is background on product photos
BACKGROUND_SHARE = 0.7  # a sub-patch that is mostly near-white is a background match


def near_white_share(patch: np.ndarray) -> float:
    """Share of the pixels of an H x W x 3 uint8 patch that are near-white."""
    if patch.size == 0:
        return 0.0
    return float((patch >= NEAR_WHITE).all(axis=-1).mean())


def is_background(patch: np.ndarray) -> bool:
    """A patch that sits mostly on near-white background: it explains nothing about the product.

    Counted on the share of near-white pixels, not only on fully blank patches: a patch that grazes the edge of
    the product but is three-quarters white is still a background match.
    """
    return near_white_share(patch) >= BACKGROUND_SHARE


def background_patch_rate(patches: list[np.ndarray]) -> float:
    """Share of patches that are background matches (see :func:`is_background`)."""
    if not patches:
        return 0.0
    return sum(is_background(p) for p in patches) / len(patches)


@torch.inference_mode()
def matching_stability(
    model: ProtoViT,
    images: torch.Tensor,
    *,
    noise_std: float = 0.2,
    clip: float = 0.25,
    top: int = 10,
    seed: int = 0,
) -> dict[str, Any]:
    """Stability of matched cells under small noise (EvalProtoPNet's protocol, without part labels).

    Gaussian noise (std 0.2, clipped to ±0.25, in normalised pixel space) is added to each image; for the
    ``top`` most activated prototypes the IoU between the sets of active matched cells before and after is
    averaged.
    """
    generator = torch.Generator().manual_seed(seed)
    noise = (torch.randn(images.shape, generator=generator) * noise_std).clamp(-clip, clip)
    clean, noisy = model(images), model(images + noise.to(images.device))
    active = (clean.slots > 0.5).cpu()
    clean_tokens, noisy_tokens = clean.token_indices.cpu(), noisy.token_indices.cpu()
    ious = []
    for b in range(len(images)):
        for j in clean.scores[b].topk(min(top, model.num_prototypes)).indices.tolist():
            before = set(clean_tokens[b, j][active[j]].tolist())
            after = set(noisy_tokens[b, j][active[j]].tolist())
            if before:
                ious.append(len(before & after) / len(before | after))
    same_prediction = float((clean.logits.argmax(1) == noisy.logits.argmax(1)).float().mean().cpu())
    return {
        "mean_iou": float(np.mean(ious)) if ious else 0.0,
        "prediction_agreement": same_prediction,
        "noise_std": noise_std,
    }
