"""Stage-explicit ProtoViT training: backbone (stage 0), warm-up, joint, slot pruning, projection, last layer.

Design choices (protovit.md §4, docs/protovit.md "Training recipe"):

- Stage 0 trains the backbone with a temporary linear head (cross-entropy with label smoothing, strong tensor
  augmentation, one-cycle schedule); the ProtoViT stages then start from it as from a pretrained encoder. With
  pretrained weights it runs ``stage0_steps_pretrained`` steps (0 = skipped). Its backbone is also written as
  ``backbone.safetensors``, a timm-loadable weights file.
- Each stage creates its own AdamW optimizer with explicit weight decay per group, trains only its parameters
  (``requires_grad``) for a number of optimizer steps, reseeds from (seed, stage, rank) and ends with a
  checkpoint. Resuming restarts at the first unfinished stage and reproduces an uninterrupted run exactly.
- Frozen stages cache: the warm-up (encoder frozen) trains on cached latent tokens, the slot and last-layer
  stages on cached matched cosines (exact in eval mode, because matching ignores the slots), so they can afford
  the thousands of steps that make slots prune and off-class weights shrink.
- With ``select_best_epoch`` the last-layer epoch with the best validation accuracy is kept; cross-validation
  runs turn it off, so the held-out fold only measures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from protovit.baseline import train_baseline
from protovit.checkpoint import (
    BACKBONE_WEIGHTS,
    FINAL_CHECKPOINT,
    build_model,
    read_checkpoint,
    save_backbone,
)
from protovit.config import ProtoViTConfig
from protovit.data import Sample
from protovit.loop import (
    ParameterGroups,
    RunSetup,
    StageForward,
    accuracy,
    adamw,
    batched,
    cross_entropy_step,
    finish_stage,
    latest_checkpoint,
    on_device,
    prepare_run,
    provenance,
    run_steps,
    set_trainable,
)
from protovit.losses import LossTerms, stage_loss
from protovit.metrics import is_background, near_white_share
from protovit.model import ProtoViT

PROTOVIT_STAGES = ("backbone", "warmup", "joint", "slots", "projection", "last_layer")


def stage_parameter_groups(model: ProtoViT, stage: str, config: ProtoViTConfig) -> list:
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


def stage_steps(config: ProtoViTConfig, stage: str, steps_per_epoch: int) -> int:
    """Optimizer steps of a stage: its ``*_steps`` value, else its epochs x steps per epoch."""
    steps = getattr(config, f"{stage}_steps")
    return steps if steps is not None else getattr(config, f"{stage}_epochs") * steps_per_epoch


def last_layer_sparsity(model: ProtoViT, tolerance: float = 1e-3) -> dict[str, float]:
    """How far the evidence layer left its +1 / -0.5 start: off-class weights near zero, their mean magnitude."""
    weight = model.last_layer.weight.detach().cpu()
    off_class = weight[(1.0 - model.class_identity.T.cpu()).bool()]
    return {
        "off_class_near_zero_share": round(float((off_class.abs() <= tolerance).float().mean()), 4),
        "off_class_mean_abs": round(float(off_class.abs().mean()), 6),
        "own_class_mean": round(float(weight[model.class_identity.T.cpu().bool()].mean()), 6),
    }


def stage0_parameter_groups(backbone: nn.Module, head: nn.Module, config: ProtoViTConfig) -> ParameterGroups:
    """Stage 0's (parameters, learning rate, weight decay): the backbone and the temporary head at
    ``stage0_lr``, and the patch embedding (the convolutional stem of hybrids) at ``stage0_stem_lr`` when set."""
    decay = config.stage0_weight_decay
    stem = list(backbone.patch_embed.parameters()) if config.stage0_stem_lr is not None else []
    in_stem = {id(p) for p in stem}
    rest = [p for p in backbone.parameters() if id(p) not in in_stem] + list(head.parameters())
    return [(rest, config.stage0_lr, decay)] + ([(stem, config.stage0_stem_lr, decay)] if stem else [])


class ProtoViTTrainer:
    """Runs the six stages on one :class:`ProtoViT`, caching frozen-encoder outputs where allowed."""

    def __init__(self, setup: RunSetup, model: ProtoViT) -> None:
        self.setup = setup
        self.model = model.to(setup.device)
        self.config = setup.config
        self._latents: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.prototype_records: list[dict[str, Any]] | None = None

    # -- cached encoder outputs -------------------------------------------------------------------------------
    def latents(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Eval-mode latent tokens and labels of the plain train or val images, cached until invalidated."""
        if split not in self._latents:
            self.model.eval()
            images, labels = self.setup.images(split).tensors()
            encode = on_device(self.setup, self.model.encode)
            self._latents[split] = batched(encode, images, self.config.eval_batch_size), labels
        return self._latents[split]

    def matched_cosines(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        latents, labels = self.latents(split)
        match = on_device(self.setup, lambda chunk: self.model.match(chunk).cosines)
        return batched(match, latents, self.config.eval_batch_size), labels

    @torch.inference_mode()
    def val_accuracy(self) -> float:
        self.model.eval()
        cosines, labels = self.matched_cosines("val")
        logits = self.model.score(cosines.to(self.setup.device))[1].cpu()
        return accuracy(logits, labels)

    # -- steps: the input of a batch is images, cached latent tokens, or cached matched cosines ------------------
    def _step(self, stage: str) -> Callable:
        def step(
            forward: nn.Module, inputs: torch.Tensor, labels: torch.Tensor
        ) -> tuple[LossTerms, torch.Tensor]:
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

    def _train_stage(
        self, stage: str, stage_index: int, dataset: Dataset, forward: Callable, schedule: str, **kwargs: Any
    ) -> None:
        groups = stage_parameter_groups(self.model, stage, self.config)
        set_trainable(self.model, (p for params, _, _ in groups for p in params))
        steps = stage_steps(self.config, stage, self.setup.steps_per_epoch(dataset))
        run_steps(
            self.setup, stage, stage_index, dataset, StageForward(self.model, forward), self._step(stage),
            adamw(groups), steps, schedule=schedule, **kwargs,
        )  # fmt: skip

    # -- stages -----------------------------------------------------------------------------------------------
    def run(self, start_index: int) -> None:
        for stage_index, stage in enumerate(PROTOVIT_STAGES):
            if stage_index < start_index:
                continue
            self.setup.seed_stage(stage_index)
            started = time.perf_counter()
            extra = getattr(self, f"stage_{stage}")(stage_index) or {}
            finish_stage(
                self.setup, self.model, stage, stage_index, started,
                val_accuracy=self.val_accuracy(), prototypes=self.prototype_records, **extra,
            )  # fmt: skip

    def stage_backbone(self, stage_index: int) -> dict[str, Any]:
        """Stage 0: supervised training of the backbone with a temporary linear head on the class token."""
        c, setup, backbone = self.config, self.setup, self.model.backbone
        steps = c.stage0_budget()
        if steps <= 0:
            setup.record(
                {"stage": "backbone", "skipped": True, "weights": self.model.weights_source.describe()}
            )
            return {}
        head = nn.Linear(int(backbone.num_features), c.num_classes).to(setup.device)
        set_trainable(self.model, backbone.parameters())
        optimizer = adamw(stage0_parameter_groups(backbone, head, c))

        def forward(images: torch.Tensor) -> torch.Tensor:
            return head(backbone.forward_features(images)[:, 0])

        step = cross_entropy_step(c.label_smoothing)

        @torch.inference_mode()
        def head_val_accuracy(_epoch: int) -> dict[str, Any]:
            self.model.eval()
            images, labels = setup.images("val").tensors()
            logits = batched(on_device(setup, forward), images, c.eval_batch_size)
            self.model.train()
            return {"val_accuracy": accuracy(logits, labels)}

        self.model.train()
        run_steps(
            setup, "backbone", stage_index, setup.augmented_train(stage_index), StageForward(self.model, forward, head),
            step, optimizer, steps, schedule="one_cycle", after_epoch=head_val_accuracy,
        )  # fmt: skip
        self._latents.clear()
        if setup.dist.is_main:
            save_backbone(
                setup.out_dir / BACKBONE_WEIGHTS, backbone, f"{c.backbone} after stage 0 ({steps} steps)"
            )
        return {}

    def stage_warmup(self, stage_index: int) -> None:
        c = self.config
        if c.freeze_encoder_in_warmup:
            self.model.eval()
            dataset, forward = TensorDataset(*self.latents("train")), self._from_latents
        else:
            self.model.train()
            dataset, forward = self.setup.augmented_train(stage_index), self._from_images
        self._train_stage("warmup", stage_index, dataset, forward, "constant")
        if not c.freeze_encoder_in_warmup:
            self._latents.clear()

    def stage_joint(self, stage_index: int) -> None:
        self.model.train()
        dataset = self.setup.augmented_train(stage_index)
        self._train_stage("joint", stage_index, dataset, self._from_images, self.config.schedule)
        self._latents.clear()

    def stage_slots(self, stage_index: int) -> dict[str, Any]:
        self.model.eval()
        dataset = TensorDataset(*self.matched_cosines("train"))
        self._train_stage("slots", stage_index, dataset, self._from_cosines, self.config.schedule)
        kept = int((self.model.slots() > 0.5).sum())
        pruning = {"sub_prototypes_kept": kept, "sub_prototypes_total": self.model.slot_logits.numel()}
        self.setup.record({"stage": "slots", **pruning})
        return {"pruning": pruning}

    def stage_projection(self, stage_index: int) -> None:
        self.model.eval()
        latents, labels = self.latents("train")
        self.prototype_records = project_prototypes(self.model, latents, labels, self.setup.train_samples)
        kept = sum(sum(r["active"]) for r in self.prototype_records)
        self.setup.logger.info(
            "projection: %d active sub-prototypes of %d", kept, self.model.slot_logits.numel()
        )
        mark_background(self.prototype_records, self.setup.images("train"))
        if self.setup.dist.is_main:
            save_prototype_sources(self.setup, self.prototype_records)

    def stage_last_layer(self, stage_index: int) -> dict[str, Any]:
        c, model = self.config, self.model
        best = {
            "accuracy": self.val_accuracy(),
            "epoch": 0,
            "weight": model.last_layer.weight.detach().clone(),
        }

        def keep_best(epoch: int) -> dict[str, Any]:
            score = self.val_accuracy()
            if c.select_best_epoch and score > best["accuracy"]:
                best.update(accuracy=score, epoch=epoch + 1, weight=model.last_layer.weight.detach().clone())
            return {"val_accuracy": score}

        model.eval()
        dataset = TensorDataset(*self.matched_cosines("train"))
        schedule = "cosine" if c.schedule == "cosine" else "constant"
        self._train_stage(
            "last_layer", stage_index, dataset, self._from_cosines, schedule, after_epoch=keep_best
        )
        if c.select_best_epoch:
            with torch.no_grad():
                model.last_layer.weight.copy_(best["weight"])
            self.setup.record(
                {
                    "stage": "last_layer",
                    "selected_epoch": best["epoch"],
                    "selected_val_accuracy": best["accuracy"],
                }
            )
        sparsity = last_layer_sparsity(model)
        self.setup.record({"stage": "last_layer", **sparsity})
        return {"sparsity": sparsity}


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


def mark_background(records: list[dict[str, Any]], images: Any) -> None:
    """Flag, per prototype, the active sub-patches that sit mostly on near-white background on the source view."""
    index_of = {sample.relative: i for i, sample in enumerate(images.samples)}
    for record in records:
        view = images.pixels[index_of[record["source_image"]]].permute(1, 2, 0).numpy()
        shares, flags = [], []
        for (left, top, right, bottom), active in zip(record["boxes"], record["active"], strict=True):
            patch = view[top:bottom, left:right]
            shares.append(round(near_white_share(patch), 4))
            flags.append(bool(active and is_background(patch)))
        active_count = max(1, sum(record["active"]))
        record["near_white_share"] = shares
        record["background_patches"] = flags
        record["background"] = sum(flags) * 2 >= active_count and any(flags)


def save_prototype_sources(setup: RunSetup, records: list[dict[str, Any]]) -> None:
    """Store each source image as the model saw it, so explanations work without the data folder."""
    folder = setup.out_dir / "prototypes"
    folder.mkdir(exist_ok=True)
    images = setup.images("train")
    index_of = {s.relative: i for i, s in enumerate(images.samples)}
    for record in records:
        name = Path(record["source_image"]).stem + ".png"
        record["source_png"] = f"prototypes/{name}"
        if not (folder / name).exists():
            pixels = images.pixels[index_of[record["source_image"]]].permute(1, 2, 0).numpy()
            Image.fromarray(np.ascontiguousarray(pixels)).save(folder / name, optimize=True)
    (setup.out_dir / "prototypes.json").write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")


def train(
    config: ProtoViTConfig,
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    resume: bool = True,
    progress: bool = True,
) -> Path:
    """Train a ProtoViT (or a baseline, by ``config.model``) into ``out_dir``; returns the final checkpoint.

    With ``resume`` and an existing run in ``out_dir`` (same configuration), training continues after the last
    finished stage and gives the same result as an uninterrupted run.
    """
    setup = prepare_run(config, Path(data_dir), Path(out_dir), resume=resume, progress=progress)
    try:
        torch.manual_seed(config.seed)
        model = build_model(config, load_backbone_weights=True)
        setup.dist.broadcast(model)
        start_index = 0
        checkpoint = latest_checkpoint(setup.out_dir) if resume else None
        payload: dict[str, Any] = {}
        if checkpoint is not None:
            payload = read_checkpoint(checkpoint)
            model.load_state_dict(payload["model_state"])
            setup.history.extend(payload["history"])
            start_index = payload["stage_index"] + 1
            setup.logger.info("resuming after stage %s from %s", payload["stage"], checkpoint)
        if config.model == "protovit":
            setup.stage_count = len(PROTOVIT_STAGES)
            trainer = ProtoViTTrainer(setup, model)
            trainer.prototype_records = payload.get("prototypes")
            trainer.run(start_index)
        else:
            train_baseline(setup, model, start_index)
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
