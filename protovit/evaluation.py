"""Evaluate a trained run on any folder laid out like the training data (manifest.csv + images/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from protovit.data import load_image, read_manifest
from protovit.explain import ClassifierPredictor, load_run
from protovit.metrics import classification_report, mcnemar_exact


def predict_folder(predictor: ClassifierPredictor, data_dir: Path, batch_size: int = 32) -> tuple[list[str], list[int], list[int]]:
    """(image paths, true labels, predicted labels) for every manifest row, in manifest order.

    Categories unknown to the model are an error (:class:`protovit.data.DataError`), not silently dropped.
    """
    samples = read_manifest(data_dir, class_names=predictor.classes)
    index = {name: i for i, name in enumerate(predictor.classes)}
    predictions: list[int] = []
    for start in range(0, len(samples), batch_size):
        chunk = samples[start : start + batch_size]
        images = [load_image(s.path, predictor.config.max_image_pixels) for s in chunk]
        predictions.extend(predictor.predict_proba(images).argmax(axis=1).tolist())
    return [s.relative for s in samples], [index[s.category] for s in samples], predictions


def evaluate_run(run_dir: Path, data_dir: Path, compare_dir: Path | None = None) -> dict[str, Any]:
    """Metrics of ``run_dir`` on ``data_dir``; with ``compare_dir``, also that run's metrics and a paired McNemar."""
    predictor = load_run(run_dir)
    images, truth, predicted = predict_folder(predictor, data_dir)
    result: dict[str, Any] = {
        "run": str(run_dir),
        "model": predictor.config.model,
        "architecture": predictor.config.architecture,
        "weights_source": predictor.provenance.get("weights_source", "unknown"),
        "data": str(data_dir),
        **classification_report(truth, predicted, predictor.classes),
        "predictions": [{"image": i, "true": predictor.classes[t], "predicted": predictor.classes[p]} for i, t, p in zip(images, truth, predicted, strict=True)],
    }
    if compare_dir is not None:
        other = load_run(compare_dir)
        if other.classes != predictor.classes:
            raise ValueError(f"{compare_dir} was trained on classes {other.classes}, {run_dir} on {predictor.classes}")
        _, _, other_predicted = predict_folder(other, data_dir)
        result["compare"] = {
            "run": str(compare_dir),
            "model": other.config.model,
            "accuracy": classification_report(truth, other_predicted, other.classes)["accuracy"],
            "macro_f1": classification_report(truth, other_predicted, other.classes)["macro_f1"],
            "mcnemar": mcnemar_exact(truth, predicted, other_predicted),
        }
    return result
