"""Stage-explicit training: warm-up, joint, slot pruning, projection, last-layer fine-tuning (paper §3.4).

Design choices (protovit.md §4, §9, §12):

- Each stage creates its own AdamW optimizer with explicit weight decay per group, trains only its parameters
  (``requires_grad``), reseeds from (seed, stage, rank) and ends with a checkpoint. Resuming therefore restarts
  at the first unfinished stage and reproduces an uninterrupted run exactly.
- Frozen stages may cache: with ``cache_frozen_stages`` the warm-up (encoder frozen, a documented deviation from
  the paper's LR 1e-7) trains on cached latent tokens, and the slot and last-layer stages on cached matched
  cosines. In eval mode this is exact (matching ignores the slots) but uses non-augmented images.
- Model selection uses the validation split inside the data folder only: after each last-layer epoch the
  validation accuracy is measured and the best epoch's evidence layer is kept.
- Data parallel: under ``torchrun`` (``WORLD_SIZE`` > 1) every rank trains on its shard of each epoch
  (``DistributedSampler``) and gradients are averaged with an all-reduce before each optimizer step, which is
  what DistributedDataParallel does; one mechanism covers the image stages and the cached stages alike. Only
  rank 0 writes files.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, TensorDataset
from tqdm.auto import tqdm

from protovit.checkpoint import FINAL_CHECKPOINT, build_model, read_checkpoint, save_checkpoint
from protovit.config import ConfigError, ProtoViTConfig
from protovit.data import (
    Augmentation,
    ImageFolderDataset,
    Sample,
    class_names_of,
    read_manifest,
    stratified_split,
)
from protovit.losses import LossTerms, stage_loss
from protovit.model import ProtoViT

PROTOVIT_STAGES = ("warmup", "joint", "slots", "projection", "last_layer")
RANDOM_INIT_WARNING = (
    "TRAINING FROM RANDOM INITIALISATION: no ImageNet weights were loaded. Accuracy will be far below the "
    "pretrained reference; pass --weights FILE (or pretrained=True with network access) for a real comparison."
)
# Config fields that may change between a run and its resumption without changing the results.
_RESUME_FREE_FIELDS = {"device", "num_threads", "num_workers"}


@dataclass
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    initialised_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def average_gradients(self, parameters: Iterable[nn.Parameter]) -> None:
        if self.world_size == 1:
            return
        for parameter in parameters:
            if parameter.grad is not None:
                dist.all_reduce(parameter.grad, op=dist.ReduceOp.SUM)
                parameter.grad /= self.world_size

    def broadcast(self, module: nn.Module) -> None:
        if self.world_size == 1:
            return
        for tensor in module.state_dict().values():
            dist.broadcast(tensor, src=0)

    def close(self) -> None:
        if self.initialised_here:
            dist.destroy_process_group()


def distributed_context(device: torch.device) -> DistributedContext:
    """Join the process group torchrun describes (gloo on CPU, NCCL on GPU), or run alone."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return DistributedContext(dist.get_rank(), dist.get_world_size(), initialised_here=True)
    if dist.is_initialized():
        return DistributedContext(dist.get_rank(), dist.get_world_size())
    return DistributedContext()


def resolve_device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


@dataclass
class RunSetup:
    """Everything a trainer needs besides the model: data, split, device, distributed context, logging."""

    config: ProtoViTConfig
    data_dir: Path
    out_dir: Path
    class_names: list[str]
    train_samples: list[Sample]
    val_samples: list[Sample]
    device: torch.device
    dist: DistributedContext
    logger: logging.Logger
    history: list[dict[str, Any]] = field(default_factory=list)
    progress_bars: bool = True

    def dataset(self, samples: list[Sample], *, augment: bool) -> ImageFolderDataset:
        c = self.config
        augmentation = (
            Augmentation(c.rotation_degrees, c.shear_degrees, c.flip_probability) if augment else None
        )
        return ImageFolderDataset(
            samples,
            self.class_names,
            c.img_size,
            augmentation=augmentation,
            max_pixels=c.max_image_pixels,
            seed=c.seed,
        )

    def seed_stage(self, stage_index: int) -> None:
        torch.manual_seed(self.config.seed * 1000 + stage_index * 10 + self.dist.rank)

    def record(self, entry: dict[str, Any]) -> None:
        self.history.append(entry)
        self.logger.info(json.dumps(entry))

    def progress(self, iterable: Iterable, **kwargs: Any) -> Iterable:
        return tqdm(iterable, disable=not (self.progress_bars and self.dist.is_main), leave=False, **kwargs)


def _run_logger(out_dir: Path, is_main: bool) -> logging.Logger:
    logger = logging.getLogger(f"protovit.run.{out_dir.resolve()}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)
    if is_main:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
        for handler in (
            logging.FileHandler(out_dir / "train.log", encoding="utf-8"),
            logging.StreamHandler(),
        ):
            handler.setFormatter(formatter)
            logger.addHandler(handler)
    else:
        logger.addHandler(logging.NullHandler())
    return logger


def prepare_run(
    config: ProtoViTConfig, data_dir: Path, out_dir: Path, *, resume: bool = True, progress: bool = True
) -> RunSetup:
    """Read and split the data, fill ``config.num_classes``, check resumability, write config and split."""
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    samples = read_manifest(data_dir)
    class_names = class_names_of(samples)
    if config.num_classes not in (None, len(class_names)):
        raise ConfigError(
            f"config.num_classes={config.num_classes} but the data has {len(class_names)} classes"
        )
    config.num_classes = len(class_names)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = resolve_device(config.device)
    context = distributed_context(device)
    out_dir.mkdir(parents=True, exist_ok=True)
    if resume:
        _check_resumable(out_dir, config)
    elif context.is_main:
        _clear_previous_run(out_dir)
    train_samples, val_samples = stratified_split(samples, config.val_fraction, config.seed)
    if context.is_main:
        config.save(out_dir / "config.json")
        split = {"train": [s.relative for s in train_samples], "val": [s.relative for s in val_samples]}
        (out_dir / "split.json").write_text(json.dumps(split, indent=1) + "\n", encoding="utf-8")
    setup = RunSetup(
        config, data_dir, out_dir, class_names, train_samples, val_samples, device, context,
        _run_logger(out_dir, context.is_main), progress_bars=progress,
    )  # fmt: skip
    setup.logger.info(
        "run %s: model=%s architecture=%s classes=%d train=%d val=%d device=%s world_size=%d",
        out_dir, config.model, config.architecture, len(class_names), len(train_samples), len(val_samples),
        device, context.world_size,
    )  # fmt: skip
    if not config.pretrained:
        setup.logger.warning(RANDOM_INIT_WARNING)
    return setup


def _clear_previous_run(out_dir: Path) -> None:
    """Starting over: remove the outputs a previous run left (only the names this module writes)."""
    for folder in ("checkpoints", "prototypes"):
        if (out_dir / folder).is_dir():
            shutil.rmtree(out_dir / folder)
    for name in (FINAL_CHECKPOINT, "history.json", "run.json", "prototypes.json"):
        (out_dir / name).unlink(missing_ok=True)


def _check_resumable(out_dir: Path, config: ProtoViTConfig) -> None:
    """Refuse to continue a run under another configuration (a folder without checkpoints may be reused)."""
    config_path = out_dir / "config.json"
    if not config_path.is_file() or latest_checkpoint(out_dir) is None:
        return
    previous = ProtoViTConfig.load(config_path).to_dict()
    current = config.to_dict()
    changed = sorted(k for k in current if k not in _RESUME_FREE_FIELDS and previous.get(k) != current[k])
    if changed:
        raise ConfigError(
            f"{config_path.parent} holds a run with a different configuration ({', '.join(changed)}); "
            "use a new run folder, the same configuration to resume, or --no-resume (resume=False) to start over"
        )


def provenance(setup: RunSetup, model: nn.Module) -> dict[str, Any]:
    """Where the run's weights, data and software came from; stored in every checkpoint."""
    import timm  # imported by protovit.backbones after the torchvision workaround

    source = model.weights_source
    return {
        "weights_source": source.describe(),
        "weights_kind": source.kind,
        "pretrained": source.is_pretrained,
        "warning": "" if source.is_pretrained else RANDOM_INIT_WARNING,
        "data_dir": str(setup.data_dir.resolve()),
        "n_train": len(setup.train_samples),
        "n_val": len(setup.val_samples),
        "seed": setup.config.seed,
        "semantics": setup.config.semantics,
        "device": str(setup.device),
        "world_size": setup.dist.world_size,
        "threads": torch.get_num_threads(),
        "torch": str(torch.__version__),
        "timm": str(timm.__version__),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
    }


def set_trainable(model: nn.Module, parameters: Iterable[nn.Parameter]) -> list[nn.Parameter]:
    """Freeze everything, then unfreeze ``parameters``; returns them as a list."""
    chosen = list(parameters)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for parameter in chosen:
        parameter.requires_grad_(True)
    return chosen


StepFn = Callable[[torch.Tensor, torch.Tensor], tuple[LossTerms, torch.Tensor]]


def run_epochs(
    setup: RunSetup,
    stage: str,
    stage_index: int,
    dataset: Dataset,
    step: StepFn,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    *,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    after_epoch: Callable[[int], dict[str, Any]] | None = None,
) -> None:
    """Shared training loop: sharded shuffled batches, averaged gradients, per-epoch log entries."""
    context = setup.dist
    sampler = DistributedSampler(
        dataset,
        num_replicas=context.world_size,
        rank=context.rank,
        shuffle=True,
        seed=setup.config.seed + stage_index,
    )
    batch_size = max(1, setup.config.batch_size // context.world_size)  # same global batch at any world size
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=setup.config.num_workers)
    trainable = [p for group in optimizer.param_groups for p in group["params"]]
    for epoch in setup.progress(range(epochs), desc=stage, unit="epoch"):
        sampler.set_epoch(epoch)
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        started, totals, correct, seen = time.perf_counter(), {}, 0, 0
        for inputs, labels in setup.progress(loader, desc=f"{stage} {epoch + 1}/{epochs}", unit="batch"):
            inputs, labels = inputs.to(setup.device), labels.to(setup.device)
            optimizer.zero_grad(set_to_none=True)
            terms, logits = step(inputs, labels)
            terms.total.backward()
            context.average_gradients(trainable)
            optimizer.step()
            for name, value in {"loss": float(terms.total.detach()), **terms.parts}.items():
                totals[name] = totals.get(name, 0.0) + value * len(labels)
            correct += int((logits.argmax(dim=1) == labels).sum())
            seen += len(labels)
        if scheduler is not None:
            scheduler.step()
        entry = {"stage": stage, "epoch": epoch + 1, "seconds": round(time.perf_counter() - started, 3)}
        entry.update({name: round(total / seen, 6) for name, total in totals.items()})
        entry["train_accuracy"] = round(correct / seen, 4)
        if after_epoch is not None:
            entry.update(after_epoch(epoch))
        setup.record(entry)


ParameterGroups = list[tuple[list[nn.Parameter], float, float]]


def stage_parameter_groups(model: ProtoViT, stage: str, config: ProtoViTConfig) -> ParameterGroups:
    """The (parameters, learning rate, weight decay) trained in each stage; everything else is frozen."""
    prototypes_wd = config.other_weight_decay
    if stage == "warmup":
        groups = [([model.prototype_vectors], config.warmup_prototype_lr, prototypes_wd)]
        if not config.freeze_encoder_in_warmup:
            groups.append(
                (list(model.backbone.parameters()), config.warmup_encoder_lr, config.encoder_weight_decay)
            )
        return groups
    if stage == "joint":
        return [
            (list(model.backbone.parameters()), config.joint_encoder_lr, config.encoder_weight_decay),
            ([model.prototype_vectors], config.joint_prototype_lr, prototypes_wd),
        ]
    if stage == "slots":
        return [([model.slot_logits], config.slots_lr, prototypes_wd)]
    if stage == "last_layer":
        return [([model.last_layer.weight], config.last_layer_lr, prototypes_wd)]
    raise ValueError(f"stage {stage!r} trains no parameters")


def adamw(groups: ParameterGroups) -> torch.optim.AdamW:
    """AdamW over (parameters, learning rate, weight decay) groups; weight decay is always explicit."""
    return torch.optim.AdamW([{"params": params, "lr": lr, "weight_decay": wd} for params, lr, wd in groups])


@torch.inference_mode()
def batched(
    fn: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor, batch_size: int
) -> torch.Tensor:
    return torch.cat([fn(chunk) for chunk in inputs.split(batch_size)]) if len(inputs) else inputs


@torch.inference_mode()
def dataset_tensors(setup: RunSetup, dataset: Dataset, fn: Callable[[torch.Tensor], torch.Tensor], desc: str):
    """Apply ``fn`` to a deterministic dataset in batches; returns (outputs on CPU, labels)."""
    loader = DataLoader(
        dataset, batch_size=setup.config.eval_batch_size, num_workers=setup.config.num_workers
    )
    outputs, labels = [], []
    for images, batch_labels in setup.progress(loader, desc=desc, unit="batch"):
        outputs.append(fn(images.to(setup.device)).cpu())
        labels.append(batch_labels)
    return torch.cat(outputs), torch.cat(labels)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return round(float((logits.argmax(dim=1) == labels).float().mean()), 4)


def finish_stage(
    setup: RunSetup, model: nn.Module, stage: str, stage_index: int, started: float, val_accuracy: float,
    **metadata: Any,
) -> None:  # fmt: skip
    """Log the stage with its duration and validation accuracy, then (rank 0) write its checkpoint and history."""
    seconds = round(time.perf_counter() - started, 2)
    setup.record({"stage": stage, "stage_seconds": seconds, "val_accuracy": val_accuracy})
    if not setup.dist.is_main:
        return
    payload = {
        "config": setup.config.to_dict(),
        "class_names": setup.class_names,
        "provenance": provenance(setup, model),
        "history": setup.history,
        "val_accuracy": val_accuracy,
        **metadata,
    }
    path = setup.out_dir / "checkpoints" / f"{stage_index:02d}_{stage}.pt"
    save_checkpoint(path, model, stage=stage, stage_index=stage_index, **payload)
    (setup.out_dir / "history.json").write_text(json.dumps(setup.history, indent=1) + "\n", encoding="utf-8")


def latest_checkpoint(out_dir: Path) -> Path | None:
    candidates = sorted((Path(out_dir) / "checkpoints").glob("[0-9][0-9]_*.pt"))
    return candidates[-1] if candidates else None


class ProtoViTTrainer:
    """Runs the five stages on one :class:`ProtoViT`, caching frozen-encoder outputs where allowed."""

    def __init__(self, setup: RunSetup, model: ProtoViT) -> None:
        self.setup = setup
        self.model = model.to(setup.device)
        self.config = setup.config
        self.train_plain = setup.dataset(setup.train_samples, augment=False)
        self.train_augmented = setup.dataset(setup.train_samples, augment=True)
        self.val_plain = setup.dataset(setup.val_samples, augment=False)
        self._latents: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.prototype_records: list[dict[str, Any]] | None = None

    # -- cached encoder outputs -------------------------------------------------------------------------------
    def latents(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Eval-mode latent tokens and labels of the non-augmented train or val split, cached until invalidated."""
        if split not in self._latents:
            dataset = self.train_plain if split == "train" else self.val_plain
            self.model.eval()
            self._latents[split] = dataset_tensors(self.setup, dataset, self.model.encode, f"encode {split}")
        return self._latents[split]

    def matched_cosines(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        latents, labels = self.latents(split)
        device_fn = lambda chunk: self.model.match(chunk.to(self.setup.device)).cosines.cpu()  # noqa: E731
        return batched(device_fn, latents, self.config.eval_batch_size), labels

    def val_accuracy(self) -> float:
        self.model.eval()
        cosines, labels = self.matched_cosines("val")
        with torch.inference_mode():
            logits = self.model.score(cosines.to(self.setup.device))[1].cpu()
        return accuracy(logits, labels)

    # -- steps: the input of a batch is images, cached latent tokens, or cached matched cosines ------------------
    def _step(
        self, stage: str, forward: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
    ) -> StepFn:
        def step(inputs: torch.Tensor, labels: torch.Tensor) -> tuple[LossTerms, torch.Tensor]:
            logits, sub_cosines = forward(inputs)
            return stage_loss(stage, self.model, logits, sub_cosines, labels, self.config), logits

        return step

    def _from_images(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        output = self.model(images)
        return output.logits, output.sub_cosines

    def _from_latents(self, latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        output = self.model.forward_latents(latents)
        return output.logits, output.sub_cosines

    def _from_cosines(self, cosines: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.score(cosines)[1], cosines

    def _encoder_frozen_inputs(self, stage: str) -> tuple[Dataset, StepFn]:
        """Slot and last-layer stages: cached matched cosines (eval mode), or augmented images (train mode)."""
        if self.config.cache_frozen_stages:
            self.model.eval()
            return TensorDataset(*self.matched_cosines("train")), self._step(stage, self._from_cosines)
        self.model.train()
        return self.train_augmented, self._step(stage, self._from_images)

    def _optimizer(self, stage: str) -> torch.optim.AdamW:
        groups = stage_parameter_groups(self.model, stage, self.config)
        set_trainable(self.model, (p for params, _, _ in groups for p in params))
        return adamw(groups)

    # -- stages -----------------------------------------------------------------------------------------------
    def run(self, start_index: int) -> None:
        for stage_index, stage in enumerate(PROTOVIT_STAGES):
            if stage_index < start_index:
                continue
            self.setup.seed_stage(stage_index)
            started = time.perf_counter()
            getattr(self, f"stage_{stage}")(stage_index)
            finish_stage(
                self.setup, self.model, stage, stage_index, started,
                val_accuracy=self.val_accuracy(), prototypes=self.prototype_records,
            )  # fmt: skip

    def stage_warmup(self, stage_index: int) -> None:
        c, model = self.config, self.model
        optimizer = self._optimizer("warmup")
        if c.freeze_encoder_in_warmup and c.cache_frozen_stages:
            dataset, step = TensorDataset(*self.latents("train")), self._step("warmup", self._from_latents)
            model.eval()
        else:
            dataset, step = self.train_augmented, self._step("warmup", self._from_images)
            model.train()
        run_epochs(self.setup, "warmup", stage_index, dataset, step, optimizer, c.warmup_epochs)
        if not c.freeze_encoder_in_warmup:
            self._latents.clear()

    def stage_joint(self, stage_index: int) -> None:
        c, model = self.config, self.model
        optimizer = self._optimizer("joint")
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, c.step_size, c.step_gamma)
        model.train()
        run_epochs(
            self.setup, "joint", stage_index, self.train_augmented, self._step("joint", self._from_images), optimizer,
            c.joint_epochs, scheduler=scheduler,
        )  # fmt: skip
        self._latents.clear()

    def stage_slots(self, stage_index: int) -> None:
        c = self.config
        optimizer = self._optimizer("slots")
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, c.step_size, c.step_gamma)
        dataset, step = self._encoder_frozen_inputs("slots")
        run_epochs(
            self.setup, "slots", stage_index, dataset, step, optimizer, c.slots_epochs, scheduler=scheduler
        )

    def stage_projection(self, stage_index: int) -> None:
        self.model.eval()
        latents, labels = self.latents("train")
        self.prototype_records = project_prototypes(self.model, latents, labels, self.setup.train_samples)
        kept = sum(sum(r["active"]) for r in self.prototype_records)
        self.setup.logger.info(
            "projection: %d active sub-prototypes of %d", kept, self.model.slot_logits.numel()
        )
        if self.setup.dist.is_main:
            save_prototype_sources(self.setup, self.prototype_records)

    def stage_last_layer(self, stage_index: int) -> None:
        c, model = self.config, self.model
        optimizer = self._optimizer("last_layer")
        best = {
            "accuracy": self.val_accuracy(),
            "epoch": 0,
            "weight": model.last_layer.weight.detach().clone(),
        }

        def keep_best(epoch: int) -> dict[str, Any]:
            score = self.val_accuracy()
            if score > best["accuracy"]:
                best.update(accuracy=score, epoch=epoch + 1, weight=model.last_layer.weight.detach().clone())
            return {"val_accuracy": score}

        dataset, step = self._encoder_frozen_inputs("last_layer")
        run_epochs(
            self.setup,
            "last_layer",
            stage_index,
            dataset,
            step,
            optimizer,
            c.last_layer_epochs,
            after_epoch=keep_best,
        )
        with torch.no_grad():
            model.last_layer.weight.copy_(best["weight"])
        self.setup.record(
            {
                "stage": "last_layer",
                "selected_epoch": best["epoch"],
                "selected_val_accuracy": best["accuracy"],
            }
        )


@torch.inference_mode()
def project_prototypes(
    model: ProtoViT, latents: torch.Tensor, labels: torch.Tensor, samples: list[Sample], batch_size: int = 64
) -> list[dict[str, Any]]:
    """Round and freeze the slots, then move every active sub-prototype onto its closest own-class training token.

    For each prototype the training image of its class with the smallest K - g_j wins (strictly smaller, so ties
    go to the first image in path order); its latent tokens at the K matched positions replace the active
    sub-prototypes and pruned ones become zero vectors, as in the official code. Returns one provenance record
    per prototype (source image path, token indices, grid cells, pixel boxes, active flags, distance).
    """
    device = model.prototype_vectors.device
    with torch.no_grad():
        model.slot_logits.copy_(torch.where(model.slots() >= 0.5, 200.0, -200.0)[None])
    active = model.slots() > 0.5  # [m, K]
    m, k_sub = active.shape
    best_distance = torch.full((m,), float("inf"))
    best_image = torch.full((m,), -1, dtype=torch.long)
    best_tokens = torch.zeros(m, k_sub, dtype=torch.long)
    prototype_class = model.prototype_class.cpu()
    for start in range(0, len(latents), batch_size):
        chunk = latents[start : start + batch_size].to(device)
        output = model.forward_latents(chunk)
        distance = (k_sub - output.scores).cpu()  # [b, m]
        own_class = labels[start : start + batch_size, None] == prototype_class[None, :]
        distance = distance.masked_fill(~own_class, float("inf"))
        chunk_best, chunk_index = distance.min(dim=0)  # first minimum on ties
        improved = chunk_best < best_distance
        best_distance = torch.where(improved, chunk_best, best_distance)
        best_image = torch.where(improved, chunk_index + start, best_image)
        best_tokens[improved] = output.token_indices.cpu()[
            chunk_index[improved], improved.nonzero().squeeze(1)
        ]
    missing = (best_image < 0).nonzero().flatten().tolist()
    if missing:
        raise ValueError(f"prototypes {missing} have no training image of their class to project onto")
    new_vectors = latents[best_image[:, None], best_tokens]  # [m, K, d]
    new_vectors = new_vectors * active.cpu()[..., None]
    model.prototype_vectors.copy_(new_vectors.permute(0, 2, 1).to(device))
    records = []
    for j in range(m):
        sample = samples[int(best_image[j])]
        tokens = best_tokens[j].tolist()
        records.append(
            {
                "index": j,
                "class_index": int(prototype_class[j]),
                "source_image": sample.relative,
                "source_category": sample.category,
                "tokens": tokens,
                "cells": [list(model.token_cell(t)) for t in tokens],
                "boxes": [list(model.token_box(t)) for t in tokens],
                "active": [bool(a) for a in active[j].tolist()],
                "distance": round(float(best_distance[j]), 6),
            }
        )
    return records


def save_prototype_sources(setup: RunSetup, records: list[dict[str, Any]]) -> None:
    """Store each source image as the model saw it, so explanations work without the data folder."""
    folder = setup.out_dir / "prototypes"
    folder.mkdir(exist_ok=True)
    view = setup.dataset(setup.train_samples, augment=False)
    index_of = {s.relative: i for i, s in enumerate(setup.train_samples)}
    for record in records:
        name = Path(record["source_image"]).stem + ".png"
        record["source_png"] = f"prototypes/{name}"
        if not (folder / name).exists():
            view.view(index_of[record["source_image"]]).save(folder / name, optimize=True)
    (setup.out_dir / "prototypes.json").write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")


def train(
    config: ProtoViTConfig,
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    resume: bool = True,
    progress: bool = True,
) -> Path:
    """Train a ProtoViT (or the VGG16 baseline, by ``config.model``) into ``out_dir``; returns the final checkpoint.

    With ``resume`` and an existing run in ``out_dir`` (same configuration), training continues after the last
    finished stage and gives the same result as an uninterrupted run.
    """
    from protovit.baseline import train_baseline  # the baseline reuses this module's loop

    setup = prepare_run(config, Path(data_dir), Path(out_dir), resume=resume, progress=progress)
    try:
        torch.manual_seed(config.seed)
        model = build_model(config, load_backbone_weights=True)
        setup.dist.broadcast(model)
        start_index = 0
        checkpoint = latest_checkpoint(setup.out_dir) if resume else None
        if checkpoint is not None:
            payload = read_checkpoint(checkpoint)
            model.load_state_dict(payload["model_state"])
            setup.history.extend(payload["history"])
            start_index = payload["stage_index"] + 1
            setup.logger.info("resuming after stage %s from %s", payload["stage"], checkpoint)
        if config.model == "vgg16":
            train_baseline(setup, model, start_index)
        else:
            trainer = ProtoViTTrainer(setup, model)
            if checkpoint is not None:
                trainer.prototype_records = payload.get("prototypes")
            trainer.run(start_index)
        final = setup.out_dir / FINAL_CHECKPOINT
        if setup.dist.is_main:
            last = latest_checkpoint(setup.out_dir)
            final.write_bytes(last.read_bytes())
            summary = {
                "final_checkpoint": FINAL_CHECKPOINT,
                "total_seconds": round(sum(e.get("stage_seconds", 0.0) for e in setup.history), 2),
                "provenance": provenance(setup, model),
                "config": asdict(config),
            }
            (setup.out_dir / "run.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        return final
    finally:
        setup.dist.close()
