"""ProtoViT CPU timings of the default recipe; writes the docs/benchmarks.md "protovit" section.

    python scripts/bench_protovit.py --run RUN_DIR [--data ../shared/data/flipkart] [--config configs/protovit_cpu.toml]
        [--train-steps 10] [--repeats 20] [--threads 2] [--out docs/benchmarks.md]

Measured (medians): decoding + padding one image (done once per run), a stage-0 step and a joint step of the
recipe's backbone on in-memory, tensor-augmented batches, and prediction plus the contrastive reasoning sheet
of one image with the trained run. The whole default pipeline's wall time (stage 0 to last layer) is read from
RUN_DIR/run.json, a run of that recipe (for example the study's fold 0). Only the text between
``<!-- protovit:begin -->`` and ``<!-- protovit:end -->`` is replaced.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from benchmarks_doc import load_average, write_section

from protovit import Predictor, ProtoViT, ProtoViTConfig, load_run, read_manifest, stage_loss
from protovit.checkpoint import build_model
from protovit.data import Augmentation, InMemoryImages, load_image
from protovit.loop import cross_entropy_step
from protovit.train import adamw, set_trainable, stage0_parameter_groups, stage_parameter_groups

ROOT = Path(__file__).resolve().parents[1]


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def step_seconds(config: ProtoViTConfig, images: InMemoryImages, steps: int) -> dict[str, float]:
    """Median seconds of a stage-0 step (backbone + linear head), a joint step and a step of the CNN baseline
    (``baseline_arch``), batch included: what an equal wall-clock budget is counted from."""
    torch.manual_seed(0)
    model = ProtoViT(config).train()
    augmented = images.augmented(
        Augmentation(config.rotation_degrees, config.shear_degrees, config.flip_probability, tuple(config.scale_range),
                     config.translate_fraction, config.colour_jitter, config.erase_probability), seed=0,
    )  # fmt: skip
    size = config.batch_size
    batches = [[(i, 0) for i in range(start, start + size)] for start in range(0, len(images) - size, size)]
    cursor = iter(batches * 50)
    head = torch.nn.Linear(int(model.backbone.num_features), config.num_classes)
    supervised = cross_entropy_step(config.label_smoothing)  # the loss of stage 0 and of the CNN baselines

    def optimizer_step(
        optimizer: torch.optim.Optimizer, loss: Callable[..., torch.Tensor]
    ) -> Callable[[], None]:
        """One timed step: the next augmented batch, random labels, ``loss(inputs, labels)``, backward, update."""

        def step() -> None:
            inputs, _ = augmented.collate(next(cursor))
            labels = torch.randint(0, config.num_classes, (len(inputs),))
            optimizer.zero_grad(set_to_none=True)
            loss(inputs, labels).backward()
            optimizer.step()

        return step

    def stage0_loss(inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return supervised(lambda x: head(model.backbone.forward_features(x)[:, 0]), inputs, labels)[0].total

    set_trainable(model, model.backbone.parameters())
    stage0_step = optimizer_step(adamw(stage0_parameter_groups(model.backbone, head, config)), stage0_loss)

    def joint_loss(inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        output = model(inputs)
        return stage_loss("joint", model, output.logits, output.sub_cosines, labels, config).total

    groups = stage_parameter_groups(model, "joint", config)
    set_trainable(model, (p for params, _, _ in groups for p in params))
    joint_step = optimizer_step(adamw(groups), joint_loss)

    cnn = build_model(config.replace(model="cnn"), load_backbone_weights=False).train()
    cnn_groups = [(set_trainable(cnn, cnn.parameters()), config.baseline_lr, config.stage0_weight_decay)]
    baseline_step = optimizer_step(adamw(cnn_groups), lambda x, y: supervised(cnn, x, y)[0].total)

    return {
        "stage0": median_seconds(stage0_step, steps),
        "joint": median_seconds(joint_step, steps),
        "baseline": median_seconds(baseline_step, steps),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, required=True, help="a finished run of the recipe")
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("PROTOVIT_IMAGES", "../shared/data/flipkart"))
    )
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "protovit_cpu.toml")
    parser.add_argument("--train-steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    samples = read_manifest(args.data)
    class_names = sorted({s.category for s in samples})
    config = ProtoViTConfig.load(args.config).replace(num_classes=len(class_names))
    chosen = samples[: 8 * config.batch_size]
    started = time.perf_counter()
    images = InMemoryImages(chosen, class_names, config.img_size, progress=False)
    decode = (time.perf_counter() - started) / len(chosen)
    steps = step_seconds(config, images, args.train_steps)
    predictor = load_run(args.run)
    if not isinstance(predictor, Predictor):
        raise SystemExit(f"{args.run} is not a ProtoViT run")
    image = load_image(samples[0].path, predictor.config.max_image_pixels)
    explain = median_seconds(lambda: predictor.explain(image).render(), args.repeats, warmup=5)
    run = json.loads((args.run / "run.json").read_text(encoding="utf-8"))
    history = json.loads((args.run / "history.json").read_text(encoding="utf-8"))
    stage_minutes = ", ".join(
        f"{e['stage']} {e['stage_seconds'] / 60:.1f}" for e in history if "stage_seconds" in e
    )
    body = f"""## ProtoViT (`scripts/bench_protovit.py`)

Command: `python scripts/bench_protovit.py --run {args.run} --data {args.data} --train-steps {args.train_steps} --repeats {args.repeats} --threads {args.threads}`
on {platform.machine()} with {torch.get_num_threads()} torch threads, torch {torch.__version__}, CPU only; load average
{load_average()} (the 2 cores were shared with other jobs, so the figures are pessimistic).
Recipe: `{args.config.relative_to(ROOT) if args.config.is_relative_to(ROOT) else args.config}` ({config.backbone}, {config.img_size} px, batch {config.batch_size}).

| what | median |
|---|---|
| decode + pad one image (once per run, kept in memory) | {decode * 1000:.1f} ms |
| stage-0 step (backbone + head, tensor augmentation included) | {steps["stage0"]:.2f} s |
| joint step (backbone + prototypes + greedy matching) | {steps["joint"]:.2f} s |
| step of the CNN baseline ({config.baseline_arch}, same batches) | {steps["baseline"]:.2f} s |
| prediction + contrastive reasoning sheet, trained run | {explain * 1000:.0f} ms |

Whole default pipeline, stage 0 to last layer, measured on `{args.run}` ({run["provenance"]["threads"]} thread(s),
{run["provenance"]["device"]}): **{run["total_seconds"] / 60:.1f} min** (per stage, min: {stage_minutes}). Target on an
idle 2-core CPU: at most 30 min.
"""
    write_section("protovit", body, args.out)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
