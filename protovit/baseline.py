"""Baselines trained under the same conditions as ProtoViT: a timm CNN and a histogram + HOG logistic regression.

Same data folder, cross-validation fold, image size, white padding, tensor augmentation, seed and weight
condition (a ``--weights`` file, the hub, or random initialisation for all). The CNN (``baseline_arch``:
``vgg16_bn``, ``resnet10t`` ...) trains with cross-entropy and label smoothing under a one-cycle schedule for
``baseline_steps`` optimizer steps, by default exactly as many as ProtoViT's image stages (stage 0 + joint):
the stated budget is equal optimizer steps on equally augmented batches of the same size. The feature model is
the floor: a multinomial logistic regression on colour histograms and HOG of the plain training views.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from torch import nn

from protovit.checkpoint import FeatureClassifier
from protovit.config import ProtoViTConfig
from protovit.features import image_features
from protovit.loop import (
    RunSetup,
    StageForward,
    accuracy,
    adamw,
    batched,
    cross_entropy_step,
    finish_stage,
    on_device,
    run_steps,
    set_trainable,
)

BASELINE_STAGE = "finetune"


def image_stage_steps(config: ProtoViTConfig, steps_per_epoch: int) -> int:
    """The optimizer steps ProtoViT takes on images (stage 0 + joint): the baselines' equal budget."""
    if config.baseline_steps is not None:
        return config.baseline_steps
    joint = config.joint_steps if config.joint_steps is not None else config.joint_epochs * steps_per_epoch
    return config.stage0_budget() + joint


def train_baseline(setup: RunSetup, model: nn.Module, start_index: int) -> None:
    """One training stage; skipped when resuming a finished run."""
    if start_index > 0:
        return
    setup.seed_stage(0)
    started = time.perf_counter()
    model.to(setup.device)
    if isinstance(model, FeatureClassifier):
        fit_feature_classifier(setup, model)
    else:
        train_cnn(setup, model)
    images, labels = setup.images("val").tensors()
    model.eval()
    logits = batched(on_device(setup, model), images, setup.config.eval_batch_size)
    finish_stage(setup, model, BASELINE_STAGE, 0, started, accuracy(logits, labels))


def train_cnn(setup: RunSetup, model: nn.Module) -> None:
    config = setup.config
    dataset = setup.augmented_train(0)
    steps = image_stage_steps(config, setup.steps_per_epoch(dataset))
    optimizer = adamw(
        [(set_trainable(model, model.parameters()), config.baseline_lr, config.stage0_weight_decay)]
    )

    @torch.inference_mode()
    def val_accuracy(_epoch: int) -> dict[str, Any]:
        model.eval()
        images, labels = setup.images("val").tensors()
        logits = batched(on_device(setup, model), images, config.eval_batch_size)
        model.train()
        return {"val_accuracy": accuracy(logits, labels)}

    step = cross_entropy_step(config.label_smoothing)

    model.train()
    run_steps(
        setup, BASELINE_STAGE, 0, dataset, StageForward(model, model), step, optimizer, steps,
        schedule="one_cycle", after_epoch=val_accuracy,
    )  # fmt: skip
    setup.record(
        {"stage": BASELINE_STAGE, "budget_steps": steps, "budget": "equal optimizer steps (stage 0 + joint)"}
    )


def fit_feature_classifier(setup: RunSetup, model: FeatureClassifier) -> None:
    """Fit the logistic regression with scikit-learn, then store it as the model's tensors."""
    images = setup.images("train")
    features = image_features(images.pixels).numpy()
    scaler = StandardScaler().fit(features)
    regression = LogisticRegression(C=setup.config.features_c, max_iter=3000)
    regression.fit(scaler.transform(features), images.labels.numpy())
    with torch.no_grad():
        model.mean.copy_(torch.from_numpy(scaler.mean_).float())
        model.scale.copy_(torch.from_numpy(scaler.scale_).float().clamp(min=1e-8))
        model.linear.weight.copy_(torch.from_numpy(regression.coef_).float())
        model.linear.bias.copy_(torch.from_numpy(regression.intercept_).float())
    setup.record(
        {
            "stage": BASELINE_STAGE,
            "train_accuracy": float(regression.score(scaler.transform(features), images.labels.numpy())),
        }
    )
