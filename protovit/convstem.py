"""ViTs with a convolutional stem, registered in timm's model registry (``timm.create_model("resstem_vit_tiny")``).

A 16-px linear patch embedding learns poorly from a few hundred images without pretraining; a stack of stride-2
convolutions (Xiao et al., "Early convolutions help transformers see better", 2021) gives the transformer local,
translation-equivariant tokens and trains from scratch on small data, and residual blocks in that stem
(``resstem_vit_tiny``, the CPU default) make it a CNN-heavier hybrid that fits such data further. Each token still stands for one
``stride x stride`` cell of the input, so prototype boxes come from the embedding's total stride
(:func:`protovit.backbones.token_stride`), not from a patch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import torch
from torch import nn

from protovit._torchvision_compat import import_torchvision

import_torchvision()
from timm.data import IMAGENET_DEFAULT_MEAN as IMAGENET_MEAN  # noqa: E402  (after the torchvision workaround)
from timm.data import IMAGENET_DEFAULT_STD as IMAGENET_STD  # noqa: E402
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model  # noqa: E402
from timm.models.resnet import BasicBlock  # noqa: E402
from timm.models.vision_transformer import VisionTransformer, checkpoint_filter_fn  # noqa: E402


class ConvStemEmbed(nn.Module):
    """Patch embedding as conv(4x4, stride 2, padding 1) + BN + ReLU downsamplings, each followed by ``stem_blocks``
    residual blocks (timm's ResNet ``BasicBlock``, 3x3 stride 1), then a 1x1 projection to ``embed_dim``.

    The even kernel centres each token's receptive field on its own stride x stride cell (a 3x3 stride-2 kernel,
    as in ResNet's downsampling blocks, would centre it on the cell's corner), and the stride-1 blocks keep it
    centred, so a token's box is exactly the cell it stands for. Residual blocks are what make the embedding
    CNN-heavy enough to learn from a few hundred images (ResNet-like early training), where plain stacked
    convolutions did not.

    Takes timm's ``embed_layer`` arguments; ``patch_size`` is the total stride and must be a power of two;
    ``stem_blocks`` is one count for every stage or one per stage. Outputs [B, N, embed_dim] tokens like timm's
    ``PatchEmbed``.
    """

    def __init__(
        self,
        img_size: int | tuple[int, int] = 64,
        patch_size: int | tuple[int, int] = 8,
        in_chans: int = 3,
        embed_dim: int = 192,
        bias: bool = True,
        stem_width: int = 24,
        stem_blocks: int | Sequence[int] = 0,
        **_: Any,
    ) -> None:
        super().__init__()
        stride = patch_size if isinstance(patch_size, int) else patch_size[0]
        layers = stride.bit_length() - 1
        if stride < 2 or 1 << layers != stride:
            raise ValueError(f"a conv stem needs a power-of-two stride >= 2, got {patch_size}")
        size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        if size[0] % stride or size[1] % stride:
            raise ValueError(f"image size {size} is not a multiple of the stem stride {stride}")
        counts = [stem_blocks] * layers if isinstance(stem_blocks, int) else list(stem_blocks)
        if len(counts) != layers or min(counts) < 0:
            raise ValueError(
                f"stem_blocks needs {layers} counts >= 0 (one per stride-2 stage), got {stem_blocks}"
            )
        blocks: list[nn.Module] = []
        channels = in_chans
        for n, count in enumerate(counts):
            width = stem_width * 2**n
            blocks += [
                nn.Conv2d(channels, width, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            blocks += [BasicBlock(width, width) for _ in range(count)]
            channels = width
        self.stem = nn.Sequential(*blocks)
        self.proj = nn.Conv2d(channels, embed_dim, 1, bias=bias)
        self.img_size = size
        self.patch_size = (stride, stride)
        self.grid_size = (size[0] // stride, size[1] // stride)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.dynamic_img_pad = False

    def feat_ratio(self, as_scalar: bool = True) -> int | tuple[int, int]:
        return self.patch_size[0] if as_scalar else self.patch_size

    def dynamic_feat_size(self, img_size: tuple[int, int]) -> tuple[int, int]:
        return img_size[0] // self.patch_size[0], img_size[1] // self.patch_size[1]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.proj(self.stem(images)).flatten(2).transpose(1, 2)


def _convstem_vit(
    variant: str, pretrained: bool, defaults: dict[str, Any], **kwargs: Any
) -> VisionTransformer:
    overlay = kwargs.get("pretrained_cfg_overlay") or {}
    if pretrained and not overlay.get("file"):
        raise RuntimeError(f"{variant} has no hub weights; pass a local file (--weights FILE)")
    stem = {
        "stem_width": kwargs.pop("stem_width", defaults.pop("stem_width", 24)),
        "stem_blocks": kwargs.pop("stem_blocks", defaults.pop("stem_blocks", 0)),
    }
    return build_model_with_cfg(
        VisionTransformer,
        variant,
        pretrained,
        pretrained_filter_fn=checkpoint_filter_fn,
        embed_layer=partial(ConvStemEmbed, **stem),
        **{**defaults, **kwargs},
    )


default_cfgs = generate_default_cfgs(
    {
        f"{name}.untrained": {
            "num_classes": 1000,
            "input_size": (3, size, size),
            "mean": IMAGENET_MEAN,
            "std": IMAGENET_STD,
        }
        for name, size in (("convstem_vit_tiny", 64), ("convstem_vit_small", 96), ("resstem_vit_tiny", 64))
    }
)


# The tiny transformer shared by the 64-px models: 8x8 tokens of 192 dimensions, four blocks.
TINY_VIT = {"img_size": 64, "patch_size": 8, "embed_dim": 192, "depth": 4, "num_heads": 3, "mlp_ratio": 3.0}


@register_model
def convstem_vit_tiny(pretrained: bool = False, **kwargs: Any) -> VisionTransformer:
    """192-wide, 4-block ViT with a stride-8 plain conv stem, 64 px by default (8x8 tokens)."""
    return _convstem_vit("convstem_vit_tiny", pretrained, dict(TINY_VIT), **kwargs)


@register_model
def convstem_vit_small(pretrained: bool = False, **kwargs: Any) -> VisionTransformer:
    """256-wide, 6-block ViT with a stride-8 conv stem, for 96-112 px inputs."""
    defaults = {
        "img_size": 96,
        "patch_size": 8,
        "embed_dim": 256,
        "depth": 6,
        "num_heads": 4,
        "mlp_ratio": 3.0,
    }
    return _convstem_vit("convstem_vit_small", pretrained, defaults, **kwargs)


@register_model
def resstem_vit_tiny(pretrained: bool = False, **kwargs: Any) -> VisionTransformer:
    """A CNN-heavier hybrid: a residual stem (one BasicBlock per stride-2 stage, 48-96-192 wide) to stride 8, then
    the same four 192-wide transformer blocks as ``convstem_vit_tiny``; 64 px by default (8x8 tokens)."""
    defaults = {**TINY_VIT, "stem_width": 48, "stem_blocks": 1}
    return _convstem_vit("resstem_vit_tiny", pretrained, defaults, **kwargs)


__all__ = ["ConvStemEmbed", "convstem_vit_small", "convstem_vit_tiny", "resstem_vit_tiny"]
