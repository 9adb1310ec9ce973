"""Checkpoints as safetensors: the state_dict as tensors, config + class names + provenance + records as JSON.

Nothing is pickled, so a checkpoint survives refactors and timm upgrades and cannot run code when loaded. Models
are rebuilt from the config with random backbone weights (no file or hub access) and then receive the stored
tensors. After stage 0 the backbone alone is also written as ``backbone.safetensors`` with timm's key names, so
``timm.create_model(name, pretrained=True, pretrained_cfg_overlay={"file": ...})`` (or ``--weights``) loads it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from protovit.backbones import WeightsSource, create_timm_model
from protovit.config import ProtoViTConfig
from protovit.data import denormalise
from protovit.features import feature_size, image_features
from protovit.model import ProtoViT

CHECKPOINT_FORMAT = "protovit-run/2"
FINAL_CHECKPOINT = "model.safetensors"
BACKBONE_WEIGHTS = "backbone.safetensors"


class FeatureClassifier(nn.Module):
    """The histogram + HOG logistic regression as tensors: features, standardise, linear (see baseline.py).

    Takes normalised image batches like the networks, so every run predicts through the same code.
    """

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(num_features))
        self.register_buffer("scale", torch.ones(num_features))
        self.linear = nn.Linear(num_features, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        pixels = (denormalise(images.float()) * 255).round().clamp(0, 255).to(torch.uint8)
        return self.linear((image_features(pixels.cpu()).to(images.device) - self.mean) / self.scale)


def build_model(config: ProtoViTConfig, *, load_backbone_weights: bool) -> nn.Module:
    """The network a config describes: ProtoViT, a timm CNN with a ``num_classes`` head, or the feature model."""
    if config.model == "protovit":
        return ProtoViT(config, load_backbone_weights=load_backbone_weights)
    if config.model == "features":
        model = FeatureClassifier(feature_size(config.img_size), config.num_classes)
        model.weights_source = WeightsSource("random-init", "hand-made features, no pretrained weights exist")
        return model
    load = load_backbone_weights and config.pretrained
    model, source = create_timm_model(
        config.baseline_arch,
        pretrained=load,
        weights=config.weights if load else None,
        num_classes=config.num_classes,
    )
    model.weights_source = source
    return model


def _atomic_save(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Temporary file + rename, so an interrupted run never leaves a truncated file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(temporary), metadata)
    os.replace(temporary, path)


def save_checkpoint(path: Path, model: nn.Module, *, stage: str, stage_index: int, **metadata: Any) -> None:
    module = model.module if hasattr(model, "module") else model
    payload = {"stage": stage, "stage_index": stage_index, **metadata}
    _atomic_save(module.state_dict(), path, {"format": CHECKPOINT_FORMAT, "payload": json.dumps(payload)})


def save_backbone(path: Path, backbone: nn.Module, description: str) -> None:
    """The backbone's weights under timm's own key names (loadable as a pretrained file)."""
    _atomic_save(backbone.state_dict(), path, {"format": "timm-state-dict", "description": description})


def read_checkpoint(path: Path) -> dict[str, Any]:
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError) as err:
        raise ValueError(f"{path} is not a readable safetensors checkpoint: {err}") from err
    if metadata.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
    return {
        **json.loads(metadata["payload"]),
        "format": CHECKPOINT_FORMAT,
        "model_state": load_file(str(path)),
    }


def restore_model(payload: dict[str, Any]) -> tuple[nn.Module, ProtoViTConfig]:
    """Rebuild the network of a checkpoint in eval mode."""
    config = ProtoViTConfig.from_dict(payload["config"])
    model = build_model(config, load_backbone_weights=False)
    model.load_state_dict(payload["model_state"])
    return model.eval(), config
