"""ProtoViT timings: training step, whole pipeline, prediction + reasoning sheet; writes a docs/benchmarks.md section.

    python scripts/bench_protovit.py [--run runs/protovit] [--data ../shared/data/flipkart]
        [--train-steps 5] [--repeats 20] [--out docs/benchmarks.md]

Measured (medians): a joint-stage training step (encoder + prototypes, the most expensive stage) of deit_tiny at
224 px and at the trained run's image size, batch 32, on real images; prediction plus reasoning sheet for one
image with the trained run and with a 224-px deit_tiny ProtoViT. The whole-pipeline time of the trained run is
read from its run.json; the 224-px full-schedule time is an estimate from the measured step and encoding times
(stated as such). Only the text between ``<!-- protovit:begin -->`` and ``<!-- protovit:end -->`` is replaced.
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
from benchmarks_doc import write_section
from PIL import Image

from protovit import (
    Predictor,
    ProtoViT,
    ProtoViTConfig,
    load_run,
    read_manifest,
    stage_loss,
    stratified_split,
)
from protovit.data import Augmentation, ImageFolderDataset, load_image
from protovit.train import adamw, set_trainable, stage_parameter_groups


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def training_step_seconds(
    config: ProtoViTConfig, dataset: ImageFolderDataset, steps: int, batch_size: int
) -> tuple[float, float]:
    """Median seconds of one joint-stage step (data loading included) and of encoding one batch in eval mode."""
    torch.manual_seed(0)
    model = ProtoViT(config)
    groups = stage_parameter_groups(model, "joint", config)
    set_trainable(model, (p for params, _, _ in groups for p in params))
    optimizer = adamw(groups)
    batches = [
        list(range(start, start + batch_size)) for start in range(0, len(dataset) - batch_size, batch_size)
    ]
    cursor = iter(batches * 10)

    def step() -> None:
        items = [dataset[i] for i in next(cursor)]
        images, labels = torch.stack([x for x, _ in items]), torch.tensor([y for _, y in items])
        model.train()
        optimizer.zero_grad(set_to_none=True)
        output = model(images)
        stage_loss("joint", model, output.logits, output.sub_cosines, labels, config).total.backward()
        optimizer.step()

    step_time = median_seconds(step, steps)
    images = torch.stack([dataset[i][0] for i in range(batch_size)])
    model.eval()
    encode_time = median_seconds(lambda: model.encode(images), max(2, steps // 2))
    return step_time, encode_time


def explain_seconds(predictor: Predictor, image: Image.Image, repeats: int) -> float:
    """Median of explain + render; the first calls of a fresh process are several times slower, hence 5 warm-ups."""
    return median_seconds(lambda: predictor.explain(image, top_k=3).render(), repeats, warmup=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, default=Path("runs/protovit"))
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("PROTOVIT_IMAGES", "../shared/data/flipkart"))
    )
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    samples = read_manifest(args.data)
    class_names = sorted({s.category for s in samples})
    predictor = load_run(args.run)
    if not isinstance(predictor, Predictor):
        raise SystemExit(f"{args.run} is not a ProtoViT run")
    image = load_image(samples[0].path, predictor.config.max_image_pixels)
    rows, run_size = [], predictor.config.img_size
    step_times = {}
    for size in sorted({224, run_size}, reverse=True):
        config = ProtoViTConfig(img_size=size, num_classes=len(class_names))
        dataset = ImageFolderDataset(samples, class_names, size, augmentation=Augmentation())
        step, encode = training_step_seconds(config, dataset, args.train_steps, args.batch_size)
        step_times[size] = (step, encode)
        rows.append(
            f"| joint training step, deit_tiny {size} px, batch {args.batch_size} (incl. decoding + augmentation) | {step:.2f} s |"
        )
        rows.append(
            f"| encoding one batch of {args.batch_size} (eval mode, cached stages) | {encode:.2f} s |"
        )
    run_explain = explain_seconds(predictor, image, args.repeats)
    rows.append(
        f"| prediction + reasoning sheet, trained run ({run_size} px, {predictor.model.num_prototypes} prototypes) | {run_explain * 1000:.0f} ms |"
    )
    torch.manual_seed(0)
    full = ProtoViT(ProtoViTConfig(num_classes=len(class_names))).eval()
    full_predictor = Predictor(
        full, full.config, class_names, args.run, {"weights_source": "random initialisation"}, None
    )
    full_explain = explain_seconds(full_predictor, image, args.repeats)
    rows.append(
        f"| prediction + reasoning sheet, deit_tiny 224 px, 70 prototypes (no source images to paste) | {full_explain * 1000:.0f} ms |"
    )

    run_summary = json.loads((args.run / "run.json").read_text()) if (args.run / "run.json").is_file() else {}
    default = ProtoViTConfig()
    n_train = len(stratified_split(samples, default.val_fraction, default.seed)[0])
    steps_per_epoch = -(-n_train // default.batch_size)
    step_224, encode_224 = step_times[224]
    encode_passes = 2 * len(samples) / args.batch_size * encode_224  # before warm-up and after joint
    estimate = default.joint_epochs * steps_per_epoch * step_224 + encode_passes
    load = os.getloadavg()
    body = f"""## ProtoViT (`scripts/bench_protovit.py`)

Command: `python scripts/bench_protovit.py --run {args.run} --data {args.data} --train-steps {args.train_steps} --repeats {args.repeats}`
on {platform.machine()} with {torch.get_num_threads()} torch threads, torch {torch.__version__}, CPU only; load average
during the run {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (the 2 cores were shared with other jobs, so CPU figures are pessimistic).
Medians of {args.train_steps} training steps (after 1 warm-up step) and {args.repeats} explanations (after 5 warm-ups).

| what | median |
|---|---|
{chr(10).join(rows)}

Whole pipeline:

- Trained run `{args.run}` ({run_size} px, schedule in its config.json): **{run_summary.get("total_seconds", float("nan")) / 60:.1f} min** measured
  wall-clock for all five stages (from its run.json; 1 torch thread on the shared CPU).
- Full paper schedule at 224 px (5 cached warm-up / 10 joint / 10 cached slot / projection / 15 cached last-layer epochs on
  {n_train} training images): **estimated {estimate / 60:.0f} min** = 10 joint epochs x {steps_per_epoch} steps x {step_224:.2f} s
  + 2 encoding passes over {len(samples)} images; the cached stages take seconds. Target: under 60 minutes. This is an
  estimate from the measured step, not a measured run.
- Prediction + reasoning sheet target: median under 300 ms.
- GPU (deit_small): not measured, no GPU was available to this task.
"""
    write_section("protovit", body, args.out)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
