"""Evaluate a trained run on any folder laid out like the training data (manifest.csv + images/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from protovit.data import load_image, read_manifest, to_tensor
from protovit.explain import ClassifierPredictor, Predictor, load_run
from protovit.metrics import (
    classification_report,
    matching_stability,
    mcnemar_exact,
    prototype_purity,
)


def run_split(run_dir: Path) -> dict[str, Any]:
    """The run's split.json: its training and held-out (validation) images, relative to the data folder."""
    return json.loads((Path(run_dir) / "split.json").read_text(encoding="utf-8"))


def validation_images(run_dir: Path) -> set[str]:
    """The images a run held out (its cross-validation fold), relative to the data folder."""
    return set(run_split(run_dir)["val"])


def training_cost(run_dir: Path) -> dict[str, Any]:
    """Seconds per stage and in total, steps, slot pruning and last-layer sparsity, from the run's history."""
    history = json.loads((Path(run_dir) / "history.json").read_text(encoding="utf-8"))
    run = json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8"))
    cost: dict[str, Any] = {
        "total_seconds": run["total_seconds"],
        "stage_seconds": {e["stage"]: e["stage_seconds"] for e in history if "stage_seconds" in e},
        "steps": {e["stage"]: e["steps"] for e in history if "steps" in e},
        "threads": run["provenance"].get("threads"),
        "device": run["provenance"].get("device"),
    }
    stage0 = [e for e in history if e.get("stage") == "backbone" and "epoch" in e]
    if stage0:  # the backbone's own accuracy (temporary linear head) at the end of stage 0
        cost["stage0_train_accuracy"] = stage0[-1]["train_accuracy"]
        cost["stage0_head_val_accuracy"] = stage0[-1].get("val_accuracy")
    for entry in history:
        for key in (
            "sub_prototypes_kept",
            "sub_prototypes_total",
            "off_class_near_zero_share",
            "off_class_mean_abs",
            "budget_steps",
        ):
            if key in entry:
                cost[key] = entry[key]
    return cost


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


def background_by_class(predictor: Predictor) -> dict[str, Any]:
    """Prototypes whose active source sub-patches sit mostly on near-white background, counted per class."""
    records = predictor.prototypes
    flags = [
        flag
        for r in records
        for flag, active in zip(r.get("background_patches", []), r["active"], strict=True)
        if active
    ]
    return {
        "per_class": {
            name: sum(1 for r in records if r.get("background") and r["class_index"] == index)
            for index, name in enumerate(predictor.classes)
        },
        "prototypes": sum(1 for r in records if r.get("background")),
        "sub_patch_rate": sum(flags) / len(flags) if flags else 0.0,
    }


@torch.inference_mode()
def interpretability_metrics(
    predictor: Predictor, data_dir: Path, images: list[str], labels: list[int]
) -> dict[str, Any]:
    """Label-free interpretability figures of a ProtoViT on the evaluated images.

    Prototype purity@6 (share of each prototype's 6 most similar images that belong to its class), stability of
    the matched cells under small Gaussian noise, the number of active sub-prototypes per prototype, the share
    of prototypes whose active source sub-patches are mostly near-white background (per class), and how many prototypes were projected onto
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
    background = background_by_class(predictor)
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
        "background_prototypes_per_class": background["per_class"],
        "background_prototypes": background["prototypes"],
        "background_sub_patch_rate": background["sub_patch_rate"],
        "prototypes_sharing_a_source_image": sum(sources.count(source) > 1 for source in sources),
    }


def evaluate_run(
    run_dir: Path, data_dir: Path, compare_dir: Path | None = None, *, all_images: bool = False
) -> dict[str, Any]:
    """Metrics of ``run_dir`` on ``data_dir``; with ``compare_dir``, also that run's metrics and a paired McNemar.

    By default only the run's held-out images are evaluated (``data_dir`` must then be the folder it was trained
    on). ``all_images`` evaluates every image of the folder; the result then counts how many of them the run was
    trained on (``training_images_included``), because accuracy on training images says little.
    """
    predictor = load_run(run_dir)
    only = None if all_images else validation_images(run_dir)
    if compare_dir is not None and not all_images and validation_images(compare_dir) != only:
        raise ValueError(f"{compare_dir} and {run_dir} were trained on different splits")
    images, truth, predicted = predict_folder(predictor, data_dir, only)
    trained_on = (
        set(run_split(run_dir)["train"])
        if Path(data_dir).resolve() == Path(predictor.provenance.get("data_dir", "")).resolve()
        else set()
    )
    result: dict[str, Any] = {
        "run": str(run_dir),
        "model": predictor.config.model,
        "architecture": predictor.config.architecture,
        "seed": predictor.config.seed,
        "fold": run_split(run_dir).get("fold"),
        "folds": run_split(run_dir).get("folds"),
        "weights_source": predictor.provenance.get("weights_source", "unknown"),
        "data": str(data_dir),
        "images": "all images of the folder" if all_images else "held-out images of the run",
        "training_images_included": sum(name in trained_on for name in images),
        "training": training_cost(run_dir),
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
        report = classification_report(truth, other_predicted, other.classes)
        result["compare"] = {
            "run": str(compare_dir),
            "model": other.config.model,
            "architecture": other.config.architecture,
            "accuracy": report["accuracy"],
            "macro_f1": report["macro_f1"],
            "mcnemar": mcnemar_exact(truth, predicted, other_predicted),
        }
    return result
