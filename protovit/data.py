"""Image folders laid out as ``manifest.csv`` (image, category, ...) + ``images/``: reading, checking, loading.

Product photos have white backgrounds and varied aspect ratios, so images are padded to a white square before
resizing (never stretched). Augmentation (rotation, shear, horizontal flip, white fill) happens on the fly with
PIL, replacing the official code's offline x30 copies. Decoding is PIL only: torchvision's decoders need a native
library that is absent next to a CPU torch.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from sklearn.model_selection import train_test_split
from torch.utils.data import Dataset

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WHITE = (255, 255, 255)


class DataError(ValueError):
    """A data folder, manifest or image that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Sample:
    path: Path  # absolute image path
    relative: str  # path relative to the data folder, recorded as provenance
    category: str


def read_manifest(data_dir: str | Path, class_names: list[str] | None = None) -> list[Sample]:
    """Read and check ``data_dir/manifest.csv``; with ``class_names`` every category must be one of them."""
    data_dir = Path(data_dir)
    manifest = data_dir / "manifest.csv"
    if not manifest.is_file():
        raise DataError(
            f"{manifest} not found: a data folder holds manifest.csv (image,category,...) and images/"
        )
    try:
        with open(manifest, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{manifest} is not a readable UTF-8 CSV file: {err}") from err
    missing_columns = {"image", "category"} - set(columns)
    if missing_columns:
        raise DataError(f"{manifest} lacks column(s) {', '.join(sorted(missing_columns))}; found {columns}")
    if not rows:
        raise DataError(f"{manifest} lists no images")
    samples = []
    for line, row in enumerate(rows, start=2):
        image, category = (row.get("image") or "").strip(), (row.get("category") or "").strip()
        if not image or not category:
            raise DataError(f"{manifest} line {line}: empty image or category")
        path = data_dir / "images" / image
        if not path.is_file():
            raise DataError(f"{manifest} line {line}: image file {path} not found")
        samples.append(Sample(path=path, relative=f"images/{image}", category=category))
    if class_names is not None:
        unknown = sorted({s.category for s in samples} - set(class_names))
        if unknown:
            raise DataError(
                f"{manifest}: categories unknown to the model: {', '.join(unknown)} (known: {', '.join(class_names)})"
            )
    return samples


def class_names_of(samples: list[Sample]) -> list[str]:
    return sorted({s.category for s in samples})


def load_image(path: Path, max_pixels: int) -> Image.Image:
    """Open an image as RGB, refusing files PIL cannot decode and images above ``max_pixels`` (decompression bombs)."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise DataError(
                    f"{path}: {width}x{height} pixels exceeds the limit of {max_pixels} (possible decompression bomb)"
                )
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise DataError(f"{path}: unreadable image ({err})") from err


def pad_and_resize(image: Image.Image, size: int) -> Image.Image:
    """Pad to a centred white square, then resize to ``size`` x ``size`` (aspect ratio kept)."""
    side = max(image.size)
    square = Image.new("RGB", (side, side), WHITE)
    square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return square.resize((size, size), Image.Resampling.BICUBIC)


def augment(
    image: Image.Image, rotation: float, shear: float, flip_probability: float, rng: random.Random
) -> Image.Image:
    """Random rotation (±rotation°), horizontal shear (±shear°) and horizontal flip, filling with white."""
    image = image.rotate(
        rng.uniform(-rotation, rotation), resample=Image.Resampling.BILINEAR, fillcolor=WHITE
    )
    shear_factor = math.tan(math.radians(rng.uniform(-shear, shear)))
    offset = -shear_factor * image.height / 2  # shear about the centre row
    image = image.transform(
        image.size,
        Image.Transform.AFFINE,
        (1, shear_factor, offset, 0, 1, 0),
        Image.Resampling.BILINEAR,
        fillcolor=WHITE,
    )
    if rng.random() < flip_probability:
        image = ImageOps.mirror(image)
    return image


def to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL RGB -> normalised float tensor [3, H, W] (ImageNet statistics, as DeiT, CaiT and VGG16 expect)."""
    array = np.asarray(image, dtype=np.float32) / 255.0
    array = (array - np.array(IMAGENET_MEAN, dtype=np.float32)) / np.array(IMAGENET_STD, dtype=np.float32)
    return torch.from_numpy(array.transpose(2, 0, 1).copy())


@dataclass(frozen=True)
class Augmentation:
    rotation_degrees: float = 15.0
    shear_degrees: float = 10.0
    flip_probability: float = 0.5


class ImageFolderDataset(Dataset):
    """Samples -> (normalised tensor, label index). ``augmentation=None`` gives the deterministic view."""

    def __init__(
        self,
        samples: list[Sample],
        class_names: list[str],
        img_size: int,
        *,
        augmentation: Augmentation | None = None,
        max_pixels: int = 50_000_000,
        seed: int = 0,
    ) -> None:
        self.samples = samples
        self.class_index = {name: i for i, name in enumerate(class_names)}
        self.img_size = img_size
        self.augmentation = augmentation
        self.max_pixels = max_pixels
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.samples)

    def set_epoch(self, epoch: int) -> None:
        """Augmentations depend on (seed, epoch, index) only, so runs, resumes and ranks are reproducible."""
        self.epoch = epoch

    def view(self, index: int) -> Image.Image:
        """The padded, resized, augmented (if enabled) PIL image the model sees."""
        image = pad_and_resize(load_image(self.samples[index].path, self.max_pixels), self.img_size)
        if self.augmentation is None:
            return image
        rng = random.Random(f"{self.seed}-{self.epoch}-{index}")
        a = self.augmentation
        return augment(image, a.rotation_degrees, a.shear_degrees, a.flip_probability, rng)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return to_tensor(self.view(index)), self.class_index[self.samples[index].category]

    @property
    def labels(self) -> list[int]:
        return [self.class_index[s.category] for s in self.samples]


def stratified_split(
    samples: list[Sample], val_fraction: float, seed: int
) -> tuple[list[Sample], list[Sample]]:
    """Stratified train/validation split with a fixed seed; both parts sorted by path for a stable order."""
    ordered = sorted(samples, key=lambda s: s.relative)
    labels = [s.category for s in ordered]
    train, val = train_test_split(ordered, test_size=val_fraction, random_state=seed, stratify=labels)
    return sorted(train, key=lambda s: s.relative), sorted(val, key=lambda s: s.relative)
