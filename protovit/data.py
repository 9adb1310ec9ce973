"""Image folders laid out as ``manifest.csv`` (image, category, ...) + ``images/``: reading, checking, loading.

Product photos have white backgrounds and varied aspect ratios, so images are padded to a white square before
resizing (never stretched). Each image is decoded and padded once and kept in memory as uint8; augmentation
(rotation, shear, zoom, translation, flip, colour jitter, erasing, white fill) happens on tensor batches,
replacing the official code's offline x30 copies. Decoding is PIL only: torchvision's decoders need a native
library that is absent next to a CPU torch.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError
from sklearn.model_selection import StratifiedGroupKFold
from torch.utils.data import Dataset
from tqdm.auto import tqdm

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
    scale_range: tuple[float, float] = (1.0, 1.0)
    translate_fraction: float = 0.0
    colour_jitter: float = 0.0
    erase_probability: float = 0.0


NEAR_DUPLICATE_DIFFERENCE = 3.0  # mean absolute grey-level difference (0-255) of 16x16 thumbnails


def _thumbnail(path: Path, max_pixels: int) -> np.ndarray:
    """16x16 greyscale view of the padded image: equal for rescaled or recompressed copies."""
    return np.asarray(pad_and_resize(load_image(path, max_pixels), 16).convert("L"), dtype=np.float32).ravel()


def duplicate_groups(
    samples: list[Sample], *, max_difference: float = NEAR_DUPLICATE_DIFFERENCE, max_pixels: int = 50_000_000
) -> list[int]:
    """One group id per sample: byte-identical files and near-duplicates (16x16 thumbnails within
    ``max_difference`` mean grey levels, transitively) share a group, so a split never puts copies of one picture
    on both sides."""
    parent = list(range(len(samples)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    first_with_digest: dict[str, int] = {}
    for i, sample in enumerate(samples):
        digest = hashlib.sha256(sample.path.read_bytes()).hexdigest()
        union(i, first_with_digest.setdefault(digest, i))
    thumbnails = torch.from_numpy(np.stack([_thumbnail(s.path, max_pixels) for s in samples]))
    for start in range(0, len(samples), 128):
        difference = torch.cdist(thumbnails[start : start + 128], thumbnails, p=1) / thumbnails.shape[1]
        for i, j in (difference <= max_difference).nonzero().tolist():
            union(start + i, j)
    return [find(i) for i in range(len(samples))]


def cv_split(
    samples: list[Sample], n_folds: int, fold: int, seed: int, groups: list[int] | None = None
) -> tuple[list[Sample], list[Sample]]:
    """Fold ``fold`` of a stratified, duplicate-grouped ``n_folds``-fold split: (train, held-out), sorted by path.

    The folds depend only on the image files, ``n_folds`` and ``seed`` (the configuration's ``split_seed``, not
    its training ``seed``), so every arm of a study (ProtoViT and each baseline, under any training seed) sees
    exactly the same images on each side.
    """
    ordered = sorted(samples, key=lambda s: s.relative)
    if groups is None:
        groups = duplicate_groups(ordered)
    labels = [s.category for s in ordered]
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    train_index, held_out_index = list(splitter.split(ordered, labels, groups))[fold]
    return [ordered[i] for i in train_index], [ordered[i] for i in held_out_index]


def stratified_split(
    samples: list[Sample], val_fraction: float, seed: int
) -> tuple[list[Sample], list[Sample]]:
    """A single stratified, duplicate-grouped train/validation split: fold 0 of round(1 / val_fraction) folds."""
    return cv_split(samples, max(2, round(1 / val_fraction)), 0, seed)


class InMemoryImages(Dataset):
    """Images decoded, padded and resized once, kept as uint8 [N, 3, S, S]; augmented as tensors, per batch.

    Items are (index, label); :meth:`collate` turns a list of items into a normalised (optionally augmented) image
    batch. Augmentation parameters are drawn for the whole data set per (seed, stage, epoch), so an image gets
    the same transformation whichever process or batch it lands in (data-parallel runs match single-process ones).
    """

    def __init__(
        self,
        samples: list[Sample],
        class_names: list[str],
        img_size: int,
        *,
        max_pixels: int = 50_000_000,
        pixels: torch.Tensor | None = None,
        progress: bool = True,
    ) -> None:
        self.samples = samples
        self.class_index = {name: i for i, name in enumerate(class_names)}
        self.labels = torch.tensor([self.class_index[s.category] for s in samples], dtype=torch.long)
        self.img_size = img_size
        if pixels is None:
            pixels = torch.empty(len(samples), 3, img_size, img_size, dtype=torch.uint8)
            for i, sample in enumerate(
                tqdm(samples, desc="decode images", unit="image", leave=False, disable=not progress)
            ):
                view = pad_and_resize(load_image(sample.path, max_pixels), img_size)
                pixels[i] = torch.from_numpy(np.asarray(view).transpose(2, 0, 1).copy())
        self.pixels = pixels
        self.augmentation: Augmentation | None = None
        self.seed = 0
        self._parameters: torch.Tensor | None = None

    def subset(self, indices: list[int]) -> InMemoryImages:
        """A view on some of the images, without decoding again."""
        chosen = torch.tensor(indices, dtype=torch.long)
        return InMemoryImages(
            [self.samples[i] for i in indices],
            list(self.class_index),
            self.img_size,
            pixels=self.pixels[chosen],
        )

    def augmented(self, augmentation: Augmentation | None, seed: int) -> InMemoryImages:
        """The same images with ``augmentation`` applied in :meth:`collate` (None: the plain view)."""
        other = InMemoryImages(self.samples, list(self.class_index), self.img_size, pixels=self.pixels)
        other.augmentation, other.seed = augmentation, seed
        other.set_epoch(0)
        return other

    def set_epoch(self, epoch: int) -> None:
        if self.augmentation is not None:
            generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            self._parameters = torch.rand(len(self), 9, generator=generator)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[int, int]:
        return index, int(self.labels[index])

    def collate(self, items: list[tuple[int, int]]) -> tuple[torch.Tensor, torch.Tensor]:
        indices = torch.tensor([i for i, _ in items], dtype=torch.long)
        images = self.pixels[indices].float() / 255.0
        if self.augmentation is not None:
            images = augment_tensors(images, self._parameters[indices], self.augmentation)
        return normalise(images), self.labels[indices]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All images (plain view, normalised) and labels."""
        return normalise(self.pixels.float() / 255.0), self.labels


def normalise(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] RGB batch -> ImageNet-normalised batch."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=images.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=images.dtype).view(1, 3, 1, 1)
    return (images - mean) / std


def denormalise(images: torch.Tensor) -> torch.Tensor:
    """ImageNet-normalised batch -> [0, 1] RGB batch."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return images * std + mean


def augment_tensors(images: torch.Tensor, u: torch.Tensor, a: Augmentation) -> torch.Tensor:
    """Augment a [B, 3, S, S] batch in [0, 1] with per-image uniforms ``u`` [B, 9].

    One affine warp (rotation, shear, zoom, translation, horizontal flip) through ``grid_sample`` with white
    fill, then brightness / contrast / saturation jitter and optional erasing of one white rectangle.
    """
    batch, size = len(images), images.shape[-1]
    spread = lambda column, amplitude: (2 * u[:, column] - 1) * amplitude  # noqa: E731
    angle = torch.deg2rad(spread(0, a.rotation_degrees))
    shear = torch.tan(torch.deg2rad(spread(1, a.shear_degrees)))
    low, high = a.scale_range
    scale = low + (high - low) * u[:, 2]
    flip = torch.where(u[:, 3] < a.flip_probability, -1.0, 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(batch, 2, 3)
    # Output -> input sampling: rotate, shear along x, zoom, flip; translation in normalised coordinates.
    theta[:, 0, 0] = (cos + shear * sin) * flip / scale
    theta[:, 0, 1] = (-sin + shear * cos) / scale
    theta[:, 1, 0] = sin * flip / scale
    theta[:, 1, 1] = cos / scale
    theta[:, 0, 2] = spread(4, 2 * a.translate_fraction)
    theta[:, 1, 2] = spread(5, 2 * a.translate_fraction)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    images = 1.0 - F.grid_sample(
        1.0 - images, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    if a.colour_jitter > 0:
        brightness = 1 + spread(6, a.colour_jitter)[:, None, None, None]
        contrast = 1 + spread(7, a.colour_jitter)[:, None, None, None]
        saturation = 1 + spread(8, a.colour_jitter)[:, None, None, None]
        images = images * brightness
        mean = images.mean(dim=(1, 2, 3), keepdim=True)
        images = (images - mean) * contrast + mean
        grey = images.mean(dim=1, keepdim=True)
        images = (images - grey) * saturation + grey
    if a.erase_probability > 0:
        erase = (u[:, 6] < a.erase_probability)[:, None, None, None]
        side = (size * (0.2 + 0.2 * u[:, 7])).long()
        top = (u[:, 8] * (size - side)).long()
        left = (u[:, 5] * (size - side)).long()
        rows = torch.arange(size)[None, :]
        inside_rows = (rows >= top[:, None]) & (rows < (top + side)[:, None])
        inside_cols = (rows >= left[:, None]) & (rows < (left + side)[:, None])
        box = (inside_rows[:, :, None] & inside_cols[:, None, :])[:, None]
        images = torch.where(erase & box, torch.ones_like(images), images)
    return images.clamp(0.0, 1.0)
