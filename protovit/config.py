"""Every hyperparameter of a ProtoViT (or VGG16 baseline) run, in one dataclass saved next to the checkpoints.

The defaults are the paper's (ProtoViT, NeurIPS 2024): 10 prototypes per class, K = 4 sub-prototypes, radius 1,
slot temperature 100, the paper's loss weights, the 5 / 10 / 10 / once / 15 stage schedule and learning rates.
``semantics="official"`` switches the loss definitions and the values that differ in the authors' code
(separation 0.1, slot-stage coherence 1e-6, slot learning rate 5e-5, 5 slot epochs, AdamW's default weight decay);
values the user sets explicitly are kept. Configs load from JSON or TOML and are saved as JSON (the standard
library reads TOML but cannot write it).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Semantics = Literal["paper", "official"]
ModelKind = Literal["protovit", "cnn", "features"]
Schedule = Literal["step", "cosine"]

# Values that differ between the paper and the official code (protovit.md §1 and §3).
_SEMANTICS_DEFAULTS: dict[str, dict[str, float | int]] = {
    "paper": {
        "separation_weight": 0.09,
        "slot_coherence_weight": 5e-5,
        "slots_lr": 8e-5,
        "slots_epochs": 10,
        "other_weight_decay": 0.0,
    },
    "official": {
        "separation_weight": 0.1,
        "slot_coherence_weight": 1e-6,
        "slots_lr": 5e-5,
        "slots_epochs": 5,
        "other_weight_decay": 1e-2,
    },
}


class ConfigError(ValueError):
    """A configuration file or value that cannot describe a valid run."""


@dataclass
class ProtoViTConfig:
    """Hyperparameters of one run. ``None`` in a semantics-dependent field means "the semantics' default"."""

    # Model family and backbone. "cnn" is a timm classifier baseline (``baseline_arch``), "features" the colour
    # histogram + HOG logistic regression floor.
    model: ModelKind = "protovit"
    backbone: str = "deit_tiny_patch16_224"
    backbone_kwargs: dict[str, Any] = field(default_factory=dict)
    pretrained: bool = False
    weights: str | None = None
    drop_path_rate: float = 0.1
    img_size: int = 224
    num_classes: int | None = None  # filled from the data by the trainer

    # Prototype layer.
    prototypes_per_class: int = 10
    sub_prototypes: int = 4
    radius: int = 1
    slot_temperature: float = 100.0
    slot_init: float = 0.1
    incorrect_class_connection: float = -0.5
    subtract_cls: bool = True

    # Losses.
    semantics: Semantics = "paper"
    ce_weight: float = 1.0
    cluster_weight: float = -0.8
    separation_weight: float | None = None
    coherence_weight: float = 3e-3
    orthogonality_weight: float = 1e-3
    l1_weight: float = 1e-2
    slot_coherence_weight: float | None = None

    # Stage 0: supervised training of the backbone (cross-entropy with label smoothing, strong augmentation,
    # one-cycle schedule) before the ProtoViT stages. 0 steps skips it; with pretrained weights
    # ``stage0_steps_pretrained`` applies instead (0 = skipped, a small number = shortened).
    stage0_steps: int = 0
    stage0_steps_pretrained: int = 0
    stage0_lr: float = 2e-3
    # The convolutional stem's own stage-0 rate (None: ``stage0_lr``): a residual stem trains like a ResNet at a
    # rate where the transformer blocks above it do not.
    stage0_stem_lr: float | None = None
    stage0_weight_decay: float = 0.05
    label_smoothing: float = 0.1

    # Schedule and optimisation. A ``*_steps`` value (optimizer steps) overrides the stage's ``*_epochs``.
    warmup_epochs: int = 5
    joint_epochs: int = 10
    slots_epochs: int | None = None
    last_layer_epochs: int = 15
    warmup_encoder_lr: float = 1e-7
    warmup_prototype_lr: float = 3e-3
    joint_encoder_lr: float = 5e-5
    joint_prototype_lr: float = 3e-3
    slots_lr: float | None = None
    last_layer_lr: float = 1e-4
    warmup_steps: int | None = None
    joint_steps: int | None = None
    slots_steps: int | None = None
    last_layer_steps: int | None = None
    schedule: Schedule = (
        "step"  # "step": StepLR every step_size epochs (paper); "cosine": cosine decay per step
    )
    step_size: int = 5
    step_gamma: float = 0.1
    select_best_epoch: bool = True  # keep the last-layer epoch with the best validation accuracy
    encoder_weight_decay: float = 1e-3
    other_weight_decay: float | None = None
    freeze_encoder_in_warmup: bool = True
    cache_frozen_stages: bool = True

    # Baselines. A CNN trains ``baseline_steps`` optimizer steps (None: as many as ProtoViT's image stages, stage 0
    # + joint, so both see the same images the same number of times) with ``baseline_lr`` and a one-cycle schedule.
    baseline_arch: str = "vgg16_bn"
    baseline_epochs: int = 20
    baseline_steps: int | None = None
    baseline_lr: float = 1e-3
    features_c: float = 1.0  # inverse L2 strength of the histogram + HOG logistic regression

    # Data.
    batch_size: int = 32
    eval_batch_size: int = 64
    val_fraction: float = 0.2
    cv_folds: int = 5  # stratified, duplicate-grouped folds; ``fold`` holds one out for validation
    fold: int | None = None  # None: a single split of ``val_fraction`` (fold 0 of round(1 / val_fraction))
    rotation_degrees: float = 15.0
    shear_degrees: float = 10.0
    flip_probability: float = 0.5
    scale_range: tuple[float, float] = (1.0, 1.0)  # random zoom (tensor augmentation)
    translate_fraction: float = 0.0
    colour_jitter: float = 0.0  # brightness / contrast / saturation amplitude
    erase_probability: float = 0.0  # random erasing of one rectangle, filled with white
    max_image_pixels: int = 50_000_000
    num_workers: int = 0

    # Reproducibility and hardware.
    seed: int = 0  # the training's randomness (initialisation, augmentation, batch order)
    split_seed: int = 0  # the folds: a study repeats an arm with other seeds on the same images
    device: str = "auto"
    amp: bool = True  # bfloat16 autocast on CUDA; ignored on CPU
    num_threads: int | None = None

    def __post_init__(self) -> None:
        if self.semantics not in _SEMANTICS_DEFAULTS:
            raise ConfigError(f"semantics must be 'paper' or 'official', got {self.semantics!r}")
        if self.model not in ("protovit", "cnn", "features"):
            raise ConfigError(f"model must be 'protovit', 'cnn' or 'features', got {self.model!r}")
        if self.schedule not in ("step", "cosine"):
            raise ConfigError(f"schedule must be 'step' or 'cosine', got {self.schedule!r}")
        if self.cv_folds < 2 or (self.fold is not None and not 0 <= self.fold < self.cv_folds):
            raise ConfigError(f"fold must be in [0, {self.cv_folds}) and cv_folds >= 2, got {self.fold}")
        self.scale_range = tuple(self.scale_range)
        for name, value in _SEMANTICS_DEFAULTS[self.semantics].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.sub_prototypes < 1 or self.prototypes_per_class < 1 or self.radius < 0:
            raise ConfigError("sub_prototypes and prototypes_per_class must be >= 1 and radius >= 0")
        if self.stage0_stem_lr is not None and self.stage0_stem_lr <= 0:
            raise ConfigError(f"stage0_stem_lr must be > 0 (or unset), got {self.stage0_stem_lr}")
        if not 0.0 < self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if self.weights is not None and not self.pretrained:
            self.pretrained = True  # a weights file is a request for pretrained weights

    def replace(self, **changes: Any) -> ProtoViTConfig:
        """Return a copy with ``changes`` applied (semantics defaults already resolved are kept)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ProtoViTConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown configuration keys: {', '.join(unknown)}")
        return cls(**values)

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ProtoViTConfig:
        """Read a ``.json`` or ``.toml`` file; TOML may use a flat table or nest keys under ``[protovit]``.

        A file may name another with ``extends = "FILE"`` (relative to itself) and set only the keys it changes,
        so that a variant of a recipe states its difference instead of copying the recipe.
        """
        return cls.from_dict(_read_values(Path(path), ()))

    @property
    def architecture(self) -> str:
        """The network trained: the ViT backbone for ProtoViT, the CNN for a CNN baseline, else the feature model."""
        if self.model == "protovit":
            return self.backbone
        return self.baseline_arch if self.model == "cnn" else "colour-histogram+HOG logistic regression"

    def stage0_budget(self) -> int:
        """Stage-0 steps under this weight condition."""
        return self.stage0_steps_pretrained if self.pretrained else self.stage0_steps

    @property
    def num_prototypes(self) -> int:
        if self.num_classes is None:
            raise ConfigError("num_classes is not set (the trainer fills it from the data)")
        return self.num_classes * self.prototypes_per_class


def _read_values(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    """The keys of one configuration file merged over those of the file it ``extends`` (recursively)."""
    if not path.is_file():
        raise ConfigError(f"configuration file not found: {path}")
    resolved = path.resolve()
    if resolved in seen:
        raise ConfigError(
            f"configuration files extend each other in a loop: {' -> '.join(map(str, seen))} -> {path}"
        )
    text = path.read_text(encoding="utf-8")
    try:
        values = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot parse {path}: {err}") from err
    if not isinstance(values, dict):
        raise ConfigError(f"{path} must hold a table of settings, not {type(values).__name__}")
    parent = values.pop("extends", None)
    if set(values) == {"protovit"}:
        values = dict(values["protovit"])
        parent = values.pop("extends", parent)
    if parent is None:
        return values
    if not isinstance(parent, str):
        raise ConfigError(f"{path}: extends must be a file name, got {parent!r}")
    return {**_read_values(path.parent / parent, (*seen, resolved)), **values}
