"""What every trainer shares (ProtoViT and the baselines): the run folder, data, split, device, processes, the
optimizer-step loop with its learning-rate schedules, and per-stage checkpoints.

- Data: every image is decoded, padded and resized once (:class:`protovit.data.InMemoryImages`) and augmented as
  a tensor batch; the split is a stratified, duplicate-grouped cross-validation fold.
- Schedules are counted in optimizer steps: a small data set gives few steps per epoch, so budgets copied from
  a large data set's epoch counts leave stages untrained.
- Data parallel: under ``torchrun`` (``WORLD_SIZE`` > 1) each stage's trainable forward is wrapped in torch's
  :class:`~torch.nn.parallel.DistributedDataParallel`; every rank trains on its shard of each batch
  (``DistributedSampler``, per-rank batch = global batch / world size). Only rank 0 writes files.
- Mixed precision: bfloat16 autocast on CUDA (``config.amp``); CPU runs stay in float32.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import math
import os
import platform
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from tqdm.auto import tqdm

from protovit.checkpoint import FINAL_CHECKPOINT, save_checkpoint
from protovit.config import ConfigError, ProtoViTConfig
from protovit.data import Augmentation, InMemoryImages, Sample, class_names_of, cv_split, read_manifest
from protovit.losses import LossTerms

RANDOM_INIT_WARNING = (
    "TRAINING FROM RANDOM INITIALISATION: no ImageNet weights were loaded. Accuracy will be far below the "
    "pretrained reference; pass --weights FILE (or pretrained=True with network access) for a real comparison."
)
# Config fields that may change between a run and its resumption without changing the results.
_RESUME_FREE_FIELDS = {"device", "num_threads", "num_workers", "amp"}


@dataclass
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    initialised_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, module: nn.Module, device: torch.device) -> nn.Module:
        """``module`` under DistributedDataParallel when several processes train, else unchanged."""
        if self.world_size == 1:
            return module
        device_ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=device_ids, find_unused_parameters=True)

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


class StageForward(nn.Module):
    """The trainable forward of one stage as a module, so DistributedDataParallel can wrap it."""

    def __init__(
        self, model: nn.Module, forward: Callable[[torch.Tensor], Any], extra: nn.Module | None = None
    ):
        super().__init__()
        self.model, self.extra, self._forward = model, extra, forward

    def forward(self, inputs: torch.Tensor) -> Any:
        return self._forward(inputs)


@dataclass
class RunSetup:
    """Everything a trainer needs besides the model: data, split, device, processes, logging."""

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
    stage_count: int = 1  # stages of this model family, for progress.json
    _images: dict[str, InMemoryImages] = field(default_factory=dict)

    def write_progress(self, stage: str, stage_index: int, done: int, total: int) -> None:
        """progress.json: the stage and the share of the run done, for a server showing background training."""
        if not self.dist.is_main:
            return
        fraction = (stage_index + (done / total if total else 1.0)) / self.stage_count
        data = {"stage": stage, "stage_index": stage_index, "stages": self.stage_count, "step": done,
                "steps": total, "fraction": round(min(1.0, fraction), 4)}  # fmt: skip
        temporary = self.out_dir / "progress.json.tmp"
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, self.out_dir / "progress.json")

    def images(self, split: str) -> InMemoryImages:
        """The plain (non-augmented) in-memory images of "train" or "val", decoded once per run."""
        if split not in self._images:
            samples = self.train_samples if split == "train" else self.val_samples
            self._images[split] = InMemoryImages(
                samples, self.class_names, self.config.img_size, max_pixels=self.config.max_image_pixels,
                progress=self.progress_bars and self.dist.is_main,
            )  # fmt: skip
        return self._images[split]

    def augmented_train(self, stage_index: int) -> InMemoryImages:
        c = self.config
        augmentation = Augmentation(
            c.rotation_degrees, c.shear_degrees, c.flip_probability, tuple(c.scale_range), c.translate_fraction,
            c.colour_jitter, c.erase_probability,
        )  # fmt: skip
        return self.images("train").augmented(augmentation, seed=c.seed * 10 + stage_index)

    def seed_stage(self, stage_index: int) -> None:
        torch.manual_seed(self.config.seed * 1000 + stage_index * 10 + self.dist.rank)

    def record(self, entry: dict[str, Any]) -> None:
        self.history.append(entry)
        self.logger.info(json.dumps(entry))

    def progress(self, iterable: Iterable, **kwargs: Any) -> Iterable:
        return tqdm(iterable, disable=not (self.progress_bars and self.dist.is_main), leave=False, **kwargs)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.device.type == "cuda" and self.config.amp:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def loader(self, dataset: Dataset, *, shuffle: bool, seed: int) -> tuple[DataLoader, DistributedSampler]:
        sampler = DistributedSampler(
            dataset, num_replicas=self.dist.world_size, rank=self.dist.rank, shuffle=shuffle, seed=seed
        )
        batch_size = max(1, self.config.batch_size // self.dist.world_size)  # same global batch at any size
        collate = getattr(dataset, "collate", None)
        loader = DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            num_workers=self.config.num_workers,
            collate_fn=collate,
        )
        return loader, sampler

    def steps_per_epoch(self, dataset: Dataset) -> int:
        per_rank = math.ceil(len(dataset) / self.dist.world_size)
        return math.ceil(per_rank / max(1, self.config.batch_size // self.dist.world_size))


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
    if config.fold is None:
        folds, fold = max(2, round(1 / config.val_fraction)), 0
    else:
        folds, fold = config.cv_folds, config.fold
    train_samples, val_samples = cv_split(samples, folds, fold, config.split_seed)
    if context.is_main:
        config.save(out_dir / "config.json")
        split = {
            "folds": folds,
            "fold": fold,
            "train": [s.relative for s in train_samples],
            "val": [s.relative for s in val_samples],
        }
        (out_dir / "split.json").write_text(json.dumps(split, indent=1) + "\n", encoding="utf-8")
    setup = RunSetup(
        config, data_dir, out_dir, class_names, train_samples, val_samples, device, context,
        _run_logger(out_dir, context.is_main), progress_bars=progress,
    )  # fmt: skip
    setup.logger.info(
        "run %s: model=%s architecture=%s classes=%d train=%d val=%d (fold %d of %d) device=%s world_size=%d",
        out_dir, config.model, config.architecture, len(class_names), len(train_samples), len(val_samples),
        fold, folds, device, context.world_size,
    )  # fmt: skip
    if not config.pretrained:
        setup.logger.warning(RANDOM_INIT_WARNING)
    return setup


def _clear_previous_run(out_dir: Path) -> None:
    """Starting over: remove the outputs a previous run left (only the names this package writes)."""
    for folder in ("checkpoints", "prototypes"):
        if (out_dir / folder).is_dir():
            shutil.rmtree(out_dir / folder)
    for name in (
        FINAL_CHECKPOINT,
        "backbone.safetensors",
        "history.json",
        "run.json",
        "prototypes.json",
        "progress.json",
    ):
        (out_dir / name).unlink(missing_ok=True)


def latest_checkpoint(out_dir: Path) -> Path | None:
    candidates = sorted((Path(out_dir) / "checkpoints").glob("[0-9][0-9]_*.safetensors"))
    return candidates[-1] if candidates else None


def _check_resumable(out_dir: Path, config: ProtoViTConfig) -> None:
    """Refuse to continue a run under another configuration (a folder without checkpoints may be reused)."""
    config_path = out_dir / "config.json"
    if not config_path.is_file() or latest_checkpoint(out_dir) is None:
        return
    previous = ProtoViTConfig.load(config_path).to_dict()
    if "split_seed" not in json.loads(config_path.read_text(encoding="utf-8")):
        previous["split_seed"] = previous["seed"]  # saved before split_seed existed: its folds came from seed
    current = config.to_dict()
    changed = sorted(
        k for k in current if k not in _RESUME_FREE_FIELDS and _plain(previous.get(k)) != _plain(current[k])
    )
    if changed:
        raise ConfigError(
            f"{config_path.parent} holds a run with a different configuration ({', '.join(changed)}); "
            "use a new run folder, the same configuration to resume, or --no-resume (resume=False) to start over"
        )


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


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


ParameterGroups = list[tuple[list[nn.Parameter], float, float]]


def adamw(groups: ParameterGroups) -> torch.optim.AdamW:
    """AdamW over (parameters, learning rate, weight decay) groups; weight decay is always explicit."""
    return torch.optim.AdamW([{"params": params, "lr": lr, "weight_decay": wd} for params, lr, wd in groups])


def lr_multiplier(
    kind: str, total_steps: int, steps_per_epoch: int, config: ProtoViTConfig
) -> Callable[[int], float]:
    """Learning-rate factor at optimizer step t.

    "one_cycle": linear warm-up over the first 10 % of steps, then cosine to zero; "cosine": cosine to zero;
    "step": x ``step_gamma`` every ``step_size`` epochs (the paper's StepLR); "constant".
    """
    if kind == "one_cycle":
        warm = max(1, total_steps // 10)
        return lambda t: (
            (t + 1) / warm
            if t < warm
            else 0.5 * (1 + math.cos(math.pi * (t - warm) / max(1, total_steps - warm)))
        )
    if kind == "cosine":
        return lambda t: 0.5 * (1 + math.cos(math.pi * t / max(1, total_steps)))
    if kind == "step":
        return lambda t: config.step_gamma ** ((t // steps_per_epoch) // config.step_size)
    return lambda t: 1.0


StepFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], tuple[LossTerms, torch.Tensor]]


def _endless(loader: DataLoader, sampler: DistributedSampler, dataset: Dataset) -> Iterator[tuple[int, Any]]:
    for epoch in itertools.count():
        sampler.set_epoch(epoch)
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        for batch in loader:
            yield epoch, batch


def run_steps(
    setup: RunSetup,
    stage: str,
    stage_index: int,
    dataset: Dataset,
    forward: nn.Module,
    step: StepFn,
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    *,
    schedule: str = "constant",
    after_epoch: Callable[[int], dict[str, Any]] | None = None,
) -> None:
    """Train ``total_steps`` optimizer steps over shuffled, sharded batches; log one entry per epoch.

    ``forward`` (a :class:`StageForward`) is wrapped in DistributedDataParallel under torchrun; ``step`` gets the
    wrapped module, the inputs and the labels and returns the loss terms and the logits.
    """
    setup.write_progress(stage, stage_index, 0, total_steps)
    if total_steps <= 0:
        return
    loader, sampler = setup.loader(dataset, shuffle=True, seed=setup.config.seed + stage_index)
    factor = lr_multiplier(schedule, total_steps, max(1, len(loader)), setup.config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    wrapped = setup.dist.wrap(forward, setup.device)
    started, totals, correct, seen, current = time.perf_counter(), {}, 0, 0, 0
    batches = _endless(loader, sampler, dataset)
    for number in setup.progress(range(total_steps), desc=stage, unit="step"):
        epoch, (inputs, labels) = next(batches)
        if epoch != current:
            _log_epoch(setup, stage, current, started, totals, correct, seen, number, after_epoch)
            setup.write_progress(stage, stage_index, number, total_steps)
            started, totals, correct, seen, current = time.perf_counter(), {}, 0, 0, epoch
        inputs, labels = inputs.to(setup.device), labels.to(setup.device)
        optimizer.zero_grad(set_to_none=True)
        with setup.autocast():
            terms, logits = step(wrapped, inputs, labels)
        terms.total.backward()
        optimizer.step()
        scheduler.step()
        for name, value in {"loss": float(terms.total.detach()), **terms.parts}.items():
            totals[name] = totals.get(name, 0.0) + value * len(labels)
        correct += int((logits.argmax(dim=1) == labels).sum())
        seen += len(labels)
    _log_epoch(setup, stage, current, started, totals, correct, seen, total_steps, after_epoch)


def _log_epoch(
    setup: RunSetup, stage: str, epoch: int, started: float, totals: dict[str, float], correct: int, seen: int,
    steps_done: int, after_epoch: Callable[[int], dict[str, Any]] | None,
) -> None:  # fmt: skip
    entry = {
        "stage": stage,
        "epoch": epoch + 1,
        "steps": steps_done,
        "seconds": round(time.perf_counter() - started, 3),
    }
    entry.update({name: round(total / max(1, seen), 6) for name, total in totals.items()})
    entry["train_accuracy"] = round(correct / max(1, seen), 4)
    if after_epoch is not None:
        entry.update(after_epoch(epoch))
    setup.record(entry)


@torch.inference_mode()
def batched(
    fn: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor, batch_size: int
) -> torch.Tensor:
    """``fn`` over ``inputs`` in chunks, results concatenated on the CPU."""
    return (
        torch.cat([fn(chunk).float().cpu() for chunk in inputs.split(batch_size)]) if len(inputs) else inputs
    )


def on_device(
    setup: RunSetup, fn: Callable[[torch.Tensor], torch.Tensor]
) -> Callable[[torch.Tensor], torch.Tensor]:
    def apply(chunk: torch.Tensor) -> torch.Tensor:
        with setup.autocast():
            return fn(chunk.to(setup.device))

    return apply


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return round(float((logits.argmax(dim=1) == labels).float().mean()), 4)


def finish_stage(
    setup: RunSetup, model: nn.Module, stage: str, stage_index: int, started: float, val_accuracy: float,
    **metadata: Any,
) -> None:  # fmt: skip
    """Log the stage with its duration and validation accuracy, then (rank 0) write its checkpoint and history."""
    seconds = round(time.perf_counter() - started, 2)
    setup.record({"stage": stage, "stage_seconds": seconds, "val_accuracy": val_accuracy})
    setup.write_progress(stage, stage_index, 1, 1)
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
    path = setup.out_dir / "checkpoints" / f"{stage_index:02d}_{stage}.safetensors"
    save_checkpoint(path, model, stage=stage, stage_index=stage_index, **payload)
    (setup.out_dir / "history.json").write_text(json.dumps(setup.history, indent=1) + "\n", encoding="utf-8")


def cross_entropy_step(
    label_smoothing: float,
) -> Callable[[nn.Module, torch.Tensor, torch.Tensor], tuple[LossTerms, torch.Tensor]]:
    """The supervised step shared by stage 0 and the CNN baselines: cross-entropy with label smoothing, so that
    both arms of the comparison are trained by the very same loss."""

    def step(module: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[LossTerms, torch.Tensor]:
        logits = module(images)
        loss = nn.functional.cross_entropy(logits, labels, label_smoothing=label_smoothing)
        return LossTerms(total=loss, parts={"ce": float(loss.detach())}), logits

    return step
