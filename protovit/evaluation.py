"""Evaluate a trained run on any folder laid out like the training data (manifest.csv + images/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from protovit.data import load_image, read_manifest, to_tensor
from protovit.explain import ClassifierPredictor, Predictor, load_run
from protovit.metrics import (
    background_patch_rate,
    classification_report,
    matching_stability,
    mcnemar_exact,
    prototype_purity,
)


def validation_images(run_dir: Path) -> set[str]:
    """The images a run held out for validation (its split.json), relative to the data folder."""
    return set(json.loads((Path(run_dir) / "split.json").read_text(encoding="utf-8"))["val"])


def predict_folder(
    predictor: ClassifierPredictor, data_dir: Path, only: set[str] | None = None, batch_size: int = 32
) -> tuple[list[str], list[int], list[int]]:
    """(image paths, true labels, predicted labels) for every manifest row (or those in ``only``), in manifest order.

    Categories unknown to the model are an error (:class:`protovit.data.DataError`), not silently dropped.
    """
    samples = read_manifest(data_dir, class_names=predictor.classes)
    if only is not None:
        samples = [s for s in samples if s.relative in only]
        if not samples:
            raise ValueError(f"none of the selected images is listed in {data_dir}/manifest.csv")
    index = {name: i for i, name in enumerate(predictor.classes)}
    predictions: list[int] = []
    for start in range(0, len(samples), batch_size):
        chunk = samples[start : start + batch_size]
        images = [load_image(s.path, predictor.config.max_image_pixels) for s in chunk]
        predictions.extend(predictor.predict_proba(images).argmax(axis=1).tolist())
    return [s.relative for s in samples], [index[s.category] for s in samples], predictions


@torch.inference_mode()
def interpretability_metrics(
    predictor: Predictor, data_dir: Path, images: list[str], labels: list[int]
) -> dict[str, Any]:
    """Label-free interpretability figures of a ProtoViT on the evaluated images.

    Prototype purity@6 (share of each prototype's 6 most similar images that belong to its class), stability of
    the matched cells under small Gaussian noise, the number of active sub-prototypes per prototype, the share
    of active sub-prototypes whose source patch is blank background, and how many prototypes were projected onto
    a training image that another prototype also uses (near-duplicate prototypes).
    """
    model = predictor.model
    tensors = torch.stack(
        [
            to_tensor(predictor.view(load_image(data_dir / name, predictor.config.max_image_pixels)))
            for name in images
        ]
    ).to(predictor.device)
    latents = torch.cat([model.encode(chunk) for chunk in tensors.split(32)])
    purity = prototype_purity(model, latents.cpu(), torch.tensor(labels))
    chunks = tensors.split(32)
    stability = [matching_stability(model, chunk, seed=n) for n, chunk in enumerate(chunks)]
    sizes = [len(chunk) for chunk in chunks]
    active = (model.slots() > 0.5).sum(dim=1).tolist()
    sources = [record["source_image"] for record in predictor.prototypes]
    source_patches = [
        np.asarray(Image.open(card.source_png).convert("RGB").crop(patch.box))
        for name in predictor.classes
        for card in predictor.prototype_gallery(name)
        if card.source_png and Path(card.source_png).is_file()
        for patch in card.source_patches
        if patch.active
    ]
    return {
        "purity_k": purity["k"],
        "mean_purity": purity["mean_purity"],
        "share_pure_prototypes": purity["share_pure_prototypes"],
        "stability_mean_iou": sum(s["mean_iou"] * n for s, n in zip(stability, sizes, strict=True))
        / len(images),
        "stability_prediction_agreement": sum(
            s["prediction_agreement"] * n for s, n in zip(stability, sizes, strict=True)
        )
        / len(images),
        "stability_noise_std": stability[0]["noise_std"],
        "active_sub_prototypes_histogram": {str(k): active.count(k) for k in sorted(set(active))},
        "prototype_background_patch_rate": background_patch_rate(source_patches),
        "prototypes_sharing_a_source_image": sum(sources.count(source) > 1 for source in sources),
    }


def evaluate_run(
    run_dir: Path, data_dir: Path, compare_dir: Path | None = None, *, validation_only: bool = False
) -> dict[str, Any]:
    """Metrics of ``run_dir`` on ``data_dir``; with ``compare_dir``, also that run's metrics and a paired McNemar.

    ``validation_only`` restricts the images to the run's own validation split (``data_dir`` must then be the
    folder it was trained on); the compared run must have been trained on the same split.
    """
    predictor = load_run(run_dir)
    only = validation_images(run_dir) if validation_only else None
    if compare_dir is not None and validation_only and validation_images(compare_dir) != only:
        raise ValueError(f"{compare_dir} and {run_dir} were trained on different splits")
    images, truth, predicted = predict_folder(predictor, data_dir, only)
    result: dict[str, Any] = {
        "run": str(run_dir),
        "model": predictor.config.model,
        "architecture": predictor.config.architecture,
        "weights_source": predictor.provenance.get("weights_source", "unknown"),
        "data": str(data_dir),
        "images": "validation split of the run" if validation_only else "all images of the folder",
        **classification_report(truth, predicted, predictor.classes),
        "predictions": [
            {"image": i, "true": predictor.classes[t], "predicted": predictor.classes[p]}
            for i, t, p in zip(images, truth, predicted, strict=True)
        ],
    }
    if isinstance(predictor, Predictor):
        result["interpretability"] = interpretability_metrics(predictor, Path(data_dir), images, truth)
    if compare_dir is not None:
        other = load_run(compare_dir)
        if other.classes != predictor.classes:
            raise ValueError(
                f"{compare_dir} was trained on classes {other.classes}, {run_dir} on {predictor.classes}"
            )
        _, _, other_predicted = predict_folder(other, data_dir, only)
        result["compare"] = {
            "run": str(compare_dir),
            "model": other.config.model,
            "accuracy": classification_report(truth, other_predicted, other.classes)["accuracy"],
            "macro_f1": classification_report(truth, other_predicted, other.classes)["macro_f1"],
            "mcnemar": mcnemar_exact(truth, predicted, other_predicted),
        }
    return result
