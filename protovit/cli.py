"""Train ProtoViT (or a baseline) on a folder holding manifest.csv + images/ (``pad-train-protovit``).

    python scripts/train_protovit.py --data DIR --out RUN_DIR [--config FILE] [--backbone NAME]
        [--weights FILE] [--model protovit|cnn|features] [--fold K] [--no-resume]

Without --config the CPU-sized recipe runs (configs/protovit_cpu.toml: a conv-stem ViT at 64 px, stage 0, then
the ProtoViT stages with schedules in optimizer steps). configs/protovit_paper.toml is the paper's 224-px
schedule for GPU users. Without --weights the backbone starts from random initialisation, which is logged loudly
and recorded in the run. Under ``torchrun --nproc_per_node N`` training is data-parallel (DDP).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from protovit import ConfigError, DataError, ProtoViTConfig, WeightsNotFoundError, train

DEFAULT_CONFIG = (
    Path(__file__).resolve().parents[1] / "configs" / "protovit_cpu.toml"
)  # the repository's configs/


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, type=Path, help="folder with manifest.csv and images/")
    parser.add_argument("--out", required=True, type=Path, help="run folder (resumed if it holds a run)")
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="JSON or TOML configuration (default: the CPU recipe)",
    )
    parser.add_argument("--backbone", help="timm backbone name, e.g. deit_small_patch16_224")
    parser.add_argument("--weights", type=Path, help="local backbone weights file (.safetensors or .pth)")
    parser.add_argument("--pretrained", action="store_true", help="download ImageNet weights from the hub")
    parser.add_argument(
        "--model", choices=("protovit", "cnn", "features"), help="model family (default from config)"
    )
    parser.add_argument(
        "--baseline-arch", help="timm CNN of a --model cnn baseline, e.g. vgg16_bn, resnet10t"
    )
    parser.add_argument("--fold", type=int, help="hold out this cross-validation fold (0 .. cv_folds-1)")
    parser.add_argument(
        "--no-resume", action="store_true", help="start over even if RUN_DIR holds checkpoints"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    try:
        config = ProtoViTConfig.load(args.config)
        overrides = {
            key: value
            for key, value in {
                "backbone": args.backbone,
                "model": args.model,
                "baseline_arch": args.baseline_arch,
                "fold": args.fold,
                "weights": str(args.weights) if args.weights else None,
                "pretrained": True if (args.pretrained or args.weights) else None,
            }.items()
            if value is not None
        }
        config = ProtoViTConfig.from_dict({**config.to_dict(), **overrides})
        final = train(config, args.data, args.out, resume=not args.no_resume, progress=not args.no_progress)
    except (ConfigError, DataError, WeightsNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"finished: {final}")
    return 0
