"""Small generated image folders and a micro ViT configuration, so every ProtoViT test runs in seconds on CPU."""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

import pytest

os.environ.setdefault(
    "HF_HUB_OFFLINE", "1"
)  # a hub request in a test must fail at once, not retry for a minute

from PIL import Image, ImageDraw

from protovit import ProtoViTConfig

FLIPKART = Path(
    os.environ.get("PROTOVIT_IMAGES", Path(__file__).resolve().parents[3] / "shared" / "data" / "flipkart")
)
COLOURS = {"red": (220, 30, 30), "green": (30, 170, 60), "blue": (40, 60, 220)}
MICRO_BACKBONE = {"depth": 2, "embed_dim": 32, "num_heads": 2, "patch_size": 8}


def write_image_folder(root: Path, per_class: int = 8, seed: int = 0) -> Path:
    """Three classes of coloured rectangles on white, with varied sizes and aspect ratios, plus a manifest."""
    rng = random.Random(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for category, colour in COLOURS.items():
        for i in range(per_class):
            width, height = rng.randint(30, 70), rng.randint(30, 70)
            image = Image.new("RGB", (width, height), "white")
            x, y = rng.randint(0, width // 2), rng.randint(0, height // 2)
            ImageDraw.Draw(image).rectangle((x, y, x + width // 3, y + height // 3), fill=colour)
            name = f"{category}_{i}.png"
            image.save(root / "images" / name)
            rows.append((name, category, f"{category} product, number {i}"))
    with open(root / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "category", "product_name"])
        writer.writerows(rows)
    return root


def micro_config(**changes) -> ProtoViTConfig:
    """A 2-block, 32-wide DeiT on 32-px images (4x4 grid): stage 0 and the slot stage run a few optimizer steps,
    the other stages one or two epochs, with every tensor augmentation switched on."""
    values = {
        "backbone_kwargs": dict(MICRO_BACKBONE),
        "img_size": 32,
        "drop_path_rate": 0.0,
        "prototypes_per_class": 2,
        "sub_prototypes": 3,
        "stage0_steps": 6,
        "warmup_epochs": 1,
        "joint_epochs": 2,
        "slots_steps": 5,
        "last_layer_epochs": 2,
        "baseline_arch": "resnet10t",
        "baseline_steps": 3,
        "scale_range": (0.8, 1.1),
        "translate_fraction": 0.1,
        "colour_jitter": 0.2,
        "erase_probability": 0.25,
        "batch_size": 8,
        "eval_batch_size": 16,
        "val_fraction": 0.25,
        "num_threads": 1,
    }
    values.update(changes)
    return ProtoViTConfig(**values)


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, image_folder) -> Path:
    """One finished micro run shared by the explanation, evaluation and persistence tests."""
    from protovit import train

    run_dir = tmp_path_factory.mktemp("run")
    train(micro_config(), image_folder, run_dir, progress=False)
    return run_dir
