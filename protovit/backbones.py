"""Backbone creation through timm, with honest weight handling.

This is the package's single entry point to timm (and so torchvision): the import workaround runs here first.
Three weight conditions exist and are never confused:

- ``pretrained=False``: random initialisation (logged loudly by the trainer and written into checkpoints);
- ``weights=FILE``: a local ``.safetensors``/``.pth`` file, loaded through timm's ``pretrained_cfg_overlay`` so the
  model's checkpoint filter (position-embedding resizing, ``{'model': ...}`` unwrapping) applies, then verified
  tensor by tensor because timm loads non-strictly and would accept a file with the wrong keys;
- ``pretrained=True`` without a file: the Hugging Face hub. Without network this raises :class:`WeightsNotFoundError`
  instead of falling back to random weights. Export ``HF_HUB_OFFLINE=1`` to make that failure immediate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from protovit._torchvision_compat import import_torchvision

import_torchvision()
import timm  # noqa: E402  (must follow the torchvision workaround)
from timm.models import load_state_dict  # noqa: E402

import protovit.convstem  # noqa: E402, F401  (registers the conv-stem ViTs in timm's registry)

# ViT-family backbones named by the paper and tested here; any timm model whose ``forward_features`` returns
# prefix tokens followed by a patch-token grid also works.
PAPER_BACKBONES = ("deit_tiny_patch16_224", "deit_small_patch16_224", "cait_xxs24_224")
# Backbones that train from random initialisation on a few hundred images on a CPU (the default recipe).
SMALL_DATA_BACKBONES = ("resstem_vit_tiny", "convstem_vit_tiny", "convstem_vit_small", "convit_tiny")


class WeightsNotFoundError(FileNotFoundError):
    """Pretrained weights were requested but cannot be obtained; training from scratch is not substituted."""


@dataclass(frozen=True)
class WeightsSource:
    """Where a model's initial weights came from, recorded in checkpoints and model cards."""

    kind: str  # "random-init", "file" or "hub"
    detail: str = ""

    @property
    def is_pretrained(self) -> bool:
        return self.kind != "random-init"

    def describe(self) -> str:
        if self.kind == "random-init":
            return "random initialisation (NO ImageNet weights)"
        return f"{self.kind}: {self.detail}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def create_timm_model(
    name: str, *, pretrained: bool = False, weights: str | Path | None = None, **kwargs: Any
) -> tuple[nn.Module, WeightsSource]:
    """Create any timm model under one of the three weight conditions and report which one applied."""
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise WeightsNotFoundError(f"weights file not found: {path} (requested for backbone {name!r})")
        model = timm.create_model(name, pretrained=True, pretrained_cfg_overlay={"file": str(path)}, **kwargs)
        _verify_loaded(model, path)
        return model, WeightsSource("file", f"{path.resolve()} sha256={file_sha256(path)}")
    if pretrained:
        try:
            model = timm.create_model(name, pretrained=True, **kwargs)
        except Exception as err:  # hub, network and cache errors all mean the same thing here
            raise WeightsNotFoundError(
                f"pretrained weights for {name!r} could not be downloaded ({type(err).__name__}: {err}). "
                "Pass a local file with --weights FILE, or train explicitly from random initialisation."
            ) from err
        tag = model.pretrained_cfg.get("hf_hub_id") or model.pretrained_cfg.get("url") or name
        return model, WeightsSource("hub", str(tag))
    return timm.create_model(name, pretrained=False, **kwargs), WeightsSource("random-init")


def _fingerprint(tensor: torch.Tensor) -> tuple[int, str]:
    values = tensor.detach().float().contiguous().cpu().numpy().tobytes()
    return tensor.numel(), hashlib.sha1(values).hexdigest()


def _verify_loaded(model: nn.Module, path: Path, min_share: float = 0.9) -> None:
    """Fail unless most of the model's (non-classifier) weights hold values taken from the file.

    timm loads non-strictly and would accept a file for another model. Values are compared, not names, because
    timm's per-model filters rename keys (torchvision VGG16) and resize position embeddings to the image size;
    the resized embeddings are why a share below 1 is accepted.
    """
    file_fingerprints = {
        _fingerprint(t) for t in load_state_dict(str(path)).values() if t.is_floating_point()
    }
    classifier = model.get_classifier() if hasattr(model, "get_classifier") else None
    head = {id(p) for p in classifier.parameters()} if isinstance(classifier, nn.Module) else set()
    total, loaded, not_loaded = 0, 0, []
    for name, parameter in model.named_parameters():
        if id(parameter) in head:
            continue
        total += parameter.numel()
        if _fingerprint(parameter) in file_fingerprints:
            loaded += parameter.numel()
        else:
            not_loaded.append(name)
    if total == 0 or loaded < min_share * total:
        raise WeightsNotFoundError(
            f"{path} does not hold weights for this backbone: only {loaded:,} of {total:,} values came from the "
            f"file (not loaded: {', '.join(not_loaded[:5])}{' ...' if len(not_loaded) > 5 else ''})"
        )


def create_backbone(
    name: str, *, pretrained: bool = False, weights: str | Path | None = None, **kwargs: Any
) -> nn.Module:
    """Create a feature-only ViT-family backbone (``num_classes=0``), timm ``create_model`` style.

    ``kwargs`` go to timm (``img_size``, ``depth``, ``embed_dim``, ``drop_path_rate`` ...). The returned module
    carries ``weights_source`` (a :class:`WeightsSource`).
    """
    model, source = create_timm_model(name, pretrained=pretrained, weights=weights, num_classes=0, **kwargs)
    if not hasattr(model, "patch_embed") or not hasattr(model, "num_prefix_tokens"):
        raise ValueError(f"{name!r} is not a ViT-family model with patch tokens and a class token")
    model.weights_source = source
    return model


def patch_grid(backbone: nn.Module) -> tuple[int, int]:
    """Token grid (rows, cols) of the backbone at the image size it was built for."""
    rows, cols = backbone.patch_embed.grid_size
    return int(rows), int(cols)


def token_stride(backbone: nn.Module) -> tuple[int, int]:
    """Input pixels per token (rows, cols): image size / token grid.

    Not ``patch_embed.patch_size``: for hybrid and conv-stem embeddings that is the patch size on the CNN's
    feature map (often 1), while a token stands for a whole stride-sized cell of the input image.
    """
    height, width = backbone.patch_embed.img_size
    rows, cols = patch_grid(backbone)
    return int(height) // rows, int(width) // cols


def split_tokens(backbone: nn.Module, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``forward_features`` output [B, P+N, d] into the class token [B, d] and patch tokens [B, N, d]."""
    prefix = int(backbone.num_prefix_tokens)
    return tokens[:, 0], tokens[:, prefix:]
