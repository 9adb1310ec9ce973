"""VGG16 transfer-learning baseline (timm ``vgg16``), trained under the same conditions as ProtoViT.

Same data folder, split, image size, white padding, on-the-fly augmentation, seed, and weight condition (a
``--weights`` file, the hub, or random initialisation for both), so that the comparison isolates the model.
The convolutional features get a small learning rate and the classifier (fc6/fc7 + a new head) a larger one;
the epoch with the best validation accuracy is kept.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from protovit.losses import LossTerms
from protovit.train import RunSetup, accuracy, adamw, dataset_tensors, finish_stage, run_epochs, set_trainable

BASELINE_STAGE = "finetune"


def classifier_parameters(model: nn.Module) -> list[nn.Parameter]:
    return [*model.pre_logits.parameters(), *model.get_classifier().parameters()]


def train_baseline(setup: RunSetup, model: nn.Module, start_index: int) -> None:
    """One fine-tuning stage with validation-based epoch selection; skipped when resuming a finished run."""
    if start_index > 0:
        return
    config = setup.config
    model.to(setup.device)
    setup.seed_stage(0)
    started = time.perf_counter()
    head = classifier_parameters(model)
    head_ids = {id(p) for p in head}
    features = [p for p in model.parameters() if id(p) not in head_ids]
    optimizer = adamw(
        [
            (features, config.baseline_features_lr, config.encoder_weight_decay),
            (head, config.baseline_head_lr, config.encoder_weight_decay),
        ]
    )
    set_trainable(model, model.parameters())
    val_dataset = setup.dataset(setup.val_samples, augment=False)

    def val_accuracy() -> float:
        model.eval()
        logits, labels = dataset_tensors(setup, val_dataset, model, "validate")
        model.train()
        return accuracy(logits, labels)

    best: dict[str, Any] = {"accuracy": -1.0, "epoch": 0, "state": None}

    def keep_best(epoch: int) -> dict[str, Any]:
        score = val_accuracy()
        if score > best["accuracy"]:
            best.update(
                accuracy=score,
                epoch=epoch + 1,
                state={k: v.detach().clone() for k, v in model.state_dict().items()},
            )
        return {"val_accuracy": score}

    def step(images: torch.Tensor, labels: torch.Tensor) -> tuple[LossTerms, torch.Tensor]:
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        return LossTerms(total=loss, parts={"ce": float(loss.detach())}), logits

    model.train()
    train_dataset = setup.dataset(setup.train_samples, augment=True)
    run_epochs(
        setup,
        BASELINE_STAGE,
        0,
        train_dataset,
        step,
        optimizer,
        config.baseline_epochs,
        after_epoch=keep_best,
    )
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    setup.record(
        {"stage": BASELINE_STAGE, "selected_epoch": best["epoch"], "selected_val_accuracy": best["accuracy"]}
    )
    finish_stage(setup, model.eval(), BASELINE_STAGE, 0, started, best["accuracy"])
