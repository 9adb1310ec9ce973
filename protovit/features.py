"""Hand-made image features for the floor baseline: a joint colour histogram and a HOG descriptor.

Computed with torch on the same padded, resized views the networks see (no extra image library), so the floor
baseline differs from the networks only in the model.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

COLOUR_BINS = 4  # per channel: 4 x 4 x 4 = 64 joint RGB bins
HOG_CELL = 8  # pixels per cell side
HOG_ORIENTATIONS = 9  # unsigned orientation bins over 0-180 degrees


def feature_size(img_size: int) -> int:
    cells = img_size // HOG_CELL
    return COLOUR_BINS**3 + (cells - 1) ** 2 * 4 * HOG_ORIENTATIONS


def colour_histogram(pixels: torch.Tensor) -> torch.Tensor:
    """[N, 3, S, S] uint8 -> [N, 64] share of pixels per joint RGB bin."""
    bins = (pixels.long() * COLOUR_BINS) // 256
    index = (bins[:, 0] * COLOUR_BINS + bins[:, 1]) * COLOUR_BINS + bins[:, 2]
    flat = index.flatten(1)
    histogram = torch.zeros(len(pixels), COLOUR_BINS**3).scatter_add_(
        1, flat, torch.ones_like(flat, dtype=torch.float)
    )
    return histogram / flat.shape[1]


def hog(pixels: torch.Tensor) -> torch.Tensor:
    """[N, 3, S, S] uint8 -> [N, (cells-1)^2 * 36] HOG (Dalal & Triggs: 8-px cells, 2x2-cell blocks, L2-Hys)."""
    grey = (pixels.float() / 255.0).mean(dim=1, keepdim=True)
    kernel = torch.tensor([[-1.0, 0.0, 1.0]])
    gx = F.conv2d(F.pad(grey, (1, 1, 0, 0), mode="replicate"), kernel.view(1, 1, 1, 3))
    gy = F.conv2d(F.pad(grey, (0, 0, 1, 1), mode="replicate"), kernel.view(1, 1, 3, 1))
    magnitude = torch.sqrt(gx**2 + gy**2)[:, 0]
    angle = torch.remainder(torch.atan2(gy, gx)[:, 0], math.pi)
    orientation = (angle / math.pi * HOG_ORIENTATIONS).long().clamp(max=HOG_ORIENTATIONS - 1)
    one_hot = F.one_hot(orientation, HOG_ORIENTATIONS).float() * magnitude[..., None]  # [N, S, S, 9]
    cells = F.avg_pool2d(one_hot.permute(0, 3, 1, 2), HOG_CELL) * HOG_CELL**2  # [N, 9, C, C]
    blocks = torch.cat(
        [cells[:, :, :-1, :-1], cells[:, :, 1:, :-1], cells[:, :, :-1, 1:], cells[:, :, 1:, 1:]], dim=1
    )  # [N, 36, C-1, C-1]
    blocks = F.normalize(blocks, dim=1, eps=1e-6).clamp(max=0.2)
    return F.normalize(blocks, dim=1, eps=1e-6).flatten(1)


def image_features(pixels: torch.Tensor) -> torch.Tensor:
    """Colour histogram and HOG of a uint8 image batch, concatenated."""
    return torch.cat([colour_histogram(pixels), hog(pixels)], dim=1)
