"""Checkpoints as plain data: state_dict + config + class names + provenance + prototype records.

Nothing is pickled as an object, so a checkpoint survives refactors and timm upgrades and loads with
``torch.load(weights_only=True)``. Models are rebuilt from the config with random backbone weights (no file or hub
access) and then receive the stored state_dict.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from protovit.backbones import create_timm_model
from protovit.config import ProtoViTConfig
from protovit.model import ProtoViT

CHECKPOINT_FORMAT = "protovit-run/1"
FINAL_CHECKPOINT = "model.pt"


def build_model(config: ProtoViTConfig, *, load_backbone_weights: bool) -> nn.Module:
    """The network a config describes: ProtoViT, or timm ``vgg16`` with a ``num_classes`` head for the baseline."""
    if config.model == "protovit":
        return ProtoViT(config, load_backbone_weights=load_backbone_weights)
    load = load_backbone_weights and config.pretrained
    model, source = create_timm_model(
        "vgg16",
        pretrained=load,
        weights=config.weights if load else None,
        num_classes=config.num_classes,
    )
    model.weights_source = source
    return model


def save_checkpoint(path: Path, model: nn.Module, *, stage: str, stage_index: int, **metadata: Any) -> None:
    """Write atomically (temporary file + rename) so an interrupted run never leaves a truncated checkpoint."""
    module = model.module if hasattr(model, "module") else model
    payload = {
        "format": CHECKPOINT_FORMAT,
        "stage": stage,
        "stage_index": stage_index,
        "model_state": {key: value.detach().cpu() for key, value in module.state_dict().items()},
        **metadata,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def read_checkpoint(path: Path) -> dict[str, Any]:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
    return payload


def restore_model(payload: dict[str, Any]) -> tuple[nn.Module, ProtoViTConfig]:
    """Rebuild the network of a checkpoint in eval mode."""
    config = ProtoViTConfig.from_dict(payload["config"])
    model = build_model(config, load_backbone_weights=False)
    model.load_state_dict(payload["model_state"])
    return model.eval(), config
