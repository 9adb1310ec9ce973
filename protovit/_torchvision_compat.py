"""Import torchvision (and so timm) next to a CPU-only torch.

The torchvision 0.28.0 wheel is a CUDA build: its native library cannot load beside a CPU torch, and two
unguarded fake-kernel registrations then raise ``operator torchvision::nms does not exist``. Declaring those two
operator schemas lets the pure-Python parts import. This is done only when the plain import fails, because where
the native library loads it defines the operators itself. This module is the project's one home for the fix.
"""

from __future__ import annotations

import sys
from types import ModuleType

import torch

_schemas: torch.library.Library | None = None  # kept referenced: its definitions vanish when collected


def import_torchvision() -> ModuleType:
    """Return the torchvision module, declaring the missing operator schemas only if the plain import fails."""
    global _schemas
    try:
        import torchvision

        return torchvision
    except RuntimeError as err:
        if "torchvision::" not in str(err):
            raise
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    _schemas = torch.library.Library("torchvision", "DEF")
    for op in ("nms", "qnms"):
        _schemas.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    import torchvision

    return torchvision
