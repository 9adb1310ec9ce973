"""ProtoViT on a GPU: the paper's DeiT-Small 224-px schedule; writes the docs/benchmarks.md "protovit_gpu" section.

    python scripts/bench_protovit_gpu.py --data DIR [--weights FILE | --pretrained] [--steps 20] [--full RUN_DIR]
        [--config configs/protovit_paper.toml] [--out docs/benchmarks.md]

Needs CUDA (exits with an error otherwise). Measures, with bfloat16 autocast, the median seconds of a joint step
(encoder + prototypes + greedy matching) and of encoding one batch for deit_small_patch16_224 at 224 px, batch 128
(the official code's), and the peak GPU memory. With --full RUN_DIR it also trains the whole paper schedule
(configs/protovit_paper.toml with deit_small) into RUN_DIR and records its wall time. Under
``torchrun --nproc_per_node N`` the --full run is data-parallel (DistributedDataParallel).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from benchmarks_doc import write_section

from protovit import ProtoViT, ProtoViTConfig, read_manifest, stage_loss, train
from protovit.data import Augmentation, InMemoryImages
from protovit.train import adamw, set_trainable, stage_parameter_groups

ROOT = Path(__file__).resolve().parents[1]
BACKBONE = "deit_small_patch16_224"


def timed(fn, repeats: int) -> float:
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "protovit_paper.toml")
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--pretrained", action="store_true")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--full", type=Path, help="also train the whole paper schedule into this run folder")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("error: no CUDA device; this benchmark measures the GPU path", file=sys.stderr)
        return 2
    samples = read_manifest(args.data)
    class_names = sorted({s.category for s in samples})
    config = ProtoViTConfig.load(args.config).replace(
        backbone=BACKBONE, num_classes=len(class_names), batch_size=args.batch_size,
        weights=str(args.weights) if args.weights else None, pretrained=bool(args.pretrained or args.weights),
    )  # fmt: skip
    device = torch.device("cuda")
    images = InMemoryImages(samples[: 2 * args.batch_size], class_names, config.img_size, progress=False)
    augmented = images.augmented(Augmentation(), seed=0)
    model = ProtoViT(config).to(device).train()
    groups = stage_parameter_groups(model, "joint", config)
    set_trainable(model, (p for params, _, _ in groups for p in params))
    optimizer = adamw(groups)
    batch, labels = augmented.collate([(i, 0) for i in range(args.batch_size)])
    batch, labels = batch.to(device), torch.randint(0, len(class_names), (args.batch_size,), device=device)

    def joint_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            output = model(batch)
            loss = stage_loss("joint", model, output.logits, output.sub_cosines, labels, config).total
        loss.backward()
        optimizer.step()

    @torch.inference_mode()
    def encode() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            model.encode(batch)

    torch.cuda.reset_peak_memory_stats()
    step = timed(joint_step, args.steps)
    encoding = timed(encode, args.steps)
    peak = torch.cuda.max_memory_allocated() / 2**30
    lines = [
        "## ProtoViT on GPU (`scripts/bench_protovit_gpu.py`)",
        "",
        f"Command: `python scripts/bench_protovit_gpu.py --data {args.data} --steps {args.steps}` on "
        f"{torch.cuda.get_device_name()}, torch {torch.__version__}, bfloat16 autocast; {BACKBONE} at {config.img_size} px, "
        f"batch {args.batch_size}, weights: {model.weights_source.describe()}.",
        "",
        "| what | median |",
        "|---|---|",
        f"| joint step | {step:.3f} s |",
        f"| encoding one batch (eval) | {encoding:.3f} s |",
        f"| peak GPU memory | {peak:.1f} GiB |",
    ]
    if args.full is not None:
        train(config.replace(batch_size=min(args.batch_size, 128)), args.data, args.full, progress=False)
        total = json.loads((args.full / "run.json").read_text())["total_seconds"]
        lines += ["", f"Whole paper schedule ({args.full}): **{total / 60:.1f} min** measured."]
    body = "\n".join(lines) + "\n"
    write_section("protovit_gpu", body, args.out)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
