"""Data checks and the three command-line tools: evaluation JSON, reasoning sheets, clear errors."""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from protovit import DataError, Predictor, load_run, read_manifest, stratified_split
from protovit.data import ImageFolderDataset, pad_and_resize
from tests.protovit.conftest import FLIPKART, micro_config, write_image_folder

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ScriptResult:
    returncode: int
    stdout: str
    stderr: str


def run_script(name: str, *args: str | Path) -> ScriptResult:
    """Run a script's ``main`` in this process (the same code path as the command line, without a new import)."""
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), ROOT / "scripts" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = module.main([str(a) for a in args])
    return ScriptResult(code, stdout.getvalue(), stderr.getvalue())


def _write_manifest(
    folder: Path, rows: list[tuple[str, str]], header=("image", "category", "product_name")
) -> None:
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([(image, category, "name") for image, category in rows])


@pytest.fixture
def folder_copy(tmp_path, image_folder) -> Path:
    return Path(shutil.copytree(image_folder, tmp_path / "copy"))


def test_manifest_errors_name_the_problem(tmp_path, folder_copy):
    with pytest.raises(DataError, match=r"manifest\.csv not found"):
        read_manifest(tmp_path)
    _write_manifest(folder_copy, [("red_0.png", "red")], header=("file", "label", "x"))
    with pytest.raises(DataError, match="lacks column"):
        read_manifest(folder_copy)
    _write_manifest(folder_copy, [("absent.png", "red")])
    with pytest.raises(DataError, match=r"absent\.png not found"):
        read_manifest(folder_copy)
    _write_manifest(folder_copy, [("red_0.png", "purple")])
    with pytest.raises(DataError, match="unknown to the model: purple"):
        read_manifest(folder_copy, class_names=["blue", "green", "red"])


def test_unreadable_and_huge_images_are_refused(folder_copy):
    (folder_copy / "images" / "broken.jpg").write_bytes(b"this is not a jpeg")
    Image.new("RGB", (8000, 7000), "white").save(folder_copy / "images" / "huge.png")
    samples = read_manifest(folder_copy)
    for name, message in (("broken.jpg", "unreadable image"), ("huge.png", "decompression bomb")):
        dataset = ImageFolderDataset([s for s in samples if s.category == "red"][:1], ["red"], 32)
        dataset.samples = [type(samples[0])(folder_copy / "images" / name, f"images/{name}", "red")]
        with pytest.raises(DataError, match=message):
            dataset[0]


def test_padding_keeps_the_aspect_ratio_on_white():
    image = Image.new("RGB", (40, 20), (0, 0, 0))
    square = pad_and_resize(image, 32)
    assert square.size == (32, 32)
    assert square.getpixel((16, 2)) == (255, 255, 255) and square.getpixel((16, 16)) == (0, 0, 0)


def test_stratified_split_is_seeded_and_keeps_class_balance(image_folder):
    samples = read_manifest(image_folder)
    first, second = stratified_split(samples, 0.25, 3), stratified_split(samples, 0.25, 3)
    assert first == second
    assert sorted(s.category for s in first[1]) == ["blue", "blue", "green", "green", "red", "red"]


def test_augmentation_is_reproducible_and_changes_the_image(image_folder):
    from protovit.data import Augmentation

    samples = read_manifest(image_folder)[:2]
    plain = ImageFolderDataset(samples, ["blue", "green", "red"], 32)
    augmented = ImageFolderDataset(samples, ["blue", "green", "red"], 32, augmentation=Augmentation())
    assert torch.equal(augmented[1][0], augmented[1][0])
    assert not torch.equal(plain[1][0], augmented[1][0])
    augmented.set_epoch(1)
    first_epoch = augmented[1][0]
    augmented.set_epoch(2)
    assert not torch.equal(first_epoch, augmented[1][0])


def test_evaluation_json_on_a_generated_folder(tmp_path, trained_run):
    other_folder = write_image_folder(tmp_path / "other", per_class=3, seed=7)
    out = tmp_path / "eval.json"
    completed = run_script(
        "evaluate_protovit.py", trained_run, "--data", other_folder, "--out", out, "--compare", trained_run
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(out.read_text())
    assert result["n_images"] == 9
    assert set(result["per_class"]) == {"blue", "green", "red"}
    assert set(result["per_class"]["red"]) >= {"precision", "recall", "f1"}
    assert sum(map(sum, result["confusion_matrix"])) == 9
    assert 0.0 <= result["accuracy"] <= 1.0 and 0.0 <= result["macro_f1"] <= 1.0
    assert 0.0 <= result["interpretability"]["prototype_background_patch_rate"] <= 1.0
    assert 0.0 <= result["interpretability"]["mean_purity"] <= 1.0
    assert 0 <= result["interpretability"]["prototypes_sharing_a_source_image"] <= 6
    mcnemar = result["compare"]["mcnemar"]
    assert mcnemar["only_first_correct"] == mcnemar["only_second_correct"] == 0 and mcnemar["p_value"] == 1.0


def test_evaluation_refuses_unknown_categories(tmp_path, trained_run, folder_copy):
    _write_manifest(folder_copy, [("red_0.png", "red"), ("red_1.png", "violet")])
    completed = run_script(
        "evaluate_protovit.py", trained_run, "--data", folder_copy, "--out", tmp_path / "e.json"
    )
    assert completed.returncode == 2 and "violet" in completed.stderr


def test_explain_image_writes_a_sheet_whose_points_sum_to_the_logit(tmp_path, trained_run, image_folder):
    completed = run_script(
        "explain_image.py", trained_run, image_folder / "images" / "green_1.png", "--out", tmp_path
    )
    assert completed.returncode == 0, completed.stderr
    reasoning = json.loads((tmp_path / "green_1.json").read_text())
    assert Image.open(tmp_path / "green_1.png").size[0] > 400
    assert reasoning["total_contribution"] == pytest.approx(reasoning["logit"], abs=1e-4)
    assert len(reasoning["evidence"]) == 3
    shown = sum(e["contribution"] for e in reasoning["evidence"])
    assert shown + reasoning["other_contribution"] == pytest.approx(reasoning["logit"], abs=1e-4)
    for evidence in reasoning["evidence"]:
        assert evidence["contribution"] == pytest.approx(
            evidence["similarity"] * evidence["weight"], rel=1e-5
        )
        assert evidence["source_image"].startswith("images/")


def test_predictor_api_for_the_dashboard(trained_run, image_folder):
    predictor = load_run(trained_run)
    assert isinstance(predictor, Predictor) and predictor.classes == ["blue", "green", "red"]
    reasoning = predictor.explain(Image.open(image_folder / "images" / "red_2.png"), top_k=2)
    assert reasoning.predicted_class in predictor.classes and sum(
        reasoning.probabilities.values()
    ) == pytest.approx(1.0)
    assert reasoning.render().mode == "RGB"
    cards = predictor.prototype_gallery("red")
    assert [c.prototype for c in cards] == [4, 5] and all(c.image() is not None for c in cards)
    assert predictor.render_gallery("red").width > 0
    with pytest.raises(KeyError):
        predictor.prototype_gallery("purple")


def test_training_cli_errors(tmp_path, folder_copy):
    config = tmp_path / "micro.json"
    micro_config().save(config)
    missing = run_script(
        "train_protovit.py",
        "--data",
        folder_copy,
        "--out",
        tmp_path / "r",
        "--config",
        config,
        "--weights",
        tmp_path / "nope.pth",
    )
    assert missing.returncode == 2 and "weights file not found" in missing.stderr
    assert not (tmp_path / "r" / "model.pt").exists()
    (folder_copy / "manifest.csv").write_text("image\nred_0.png\n", encoding="utf-8")
    bad = run_script("train_protovit.py", "--data", folder_copy, "--out", tmp_path / "r2", "--config", config)
    assert bad.returncode == 2 and "lacks column" in bad.stderr
    config.write_text('{"not_a_setting": 1}', encoding="utf-8")
    unknown = run_script(
        "train_protovit.py", "--data", folder_copy, "--out", tmp_path / "r3", "--config", config
    )
    assert unknown.returncode == 2 and "unknown configuration keys: not_a_setting" in unknown.stderr


@pytest.mark.slow
def test_vgg16_baseline_trains_on_the_same_split_and_compares(tmp_path, image_folder, trained_run):
    from protovit import train

    vgg_dir = tmp_path / "vgg"
    train(micro_config(model="vgg16"), image_folder, vgg_dir, progress=False)
    assert json.loads((vgg_dir / "split.json").read_text()) == json.loads(
        (trained_run / "split.json").read_text()
    )
    out = tmp_path / "compare.json"
    completed = run_script(
        "evaluate_protovit.py", trained_run, "--data", image_folder, "--out", out, "--compare", vgg_dir
    )
    assert completed.returncode == 0, completed.stderr
    compare = json.loads(out.read_text())["compare"]
    assert compare["model"] == "vgg16" and 0.0 <= compare["mcnemar"]["p_value"] <= 1.0
    assert load_run(vgg_dir).predict_proba([Image.open(image_folder / "images" / "red_0.png")]).shape == (
        1,
        3,
    )


@pytest.mark.skipif(
    not (FLIPKART / "manifest.csv").is_file(), reason=f"Flipkart images not found at {FLIPKART}"
)
def test_the_real_flipkart_folder_reads_cleanly():
    samples = read_manifest(FLIPKART)
    assert len(samples) == 837 and len({s.category for s in samples}) == 7
    train_part, val_part = stratified_split(samples, 0.2, 0)
    assert len(val_part) == 168 and not {s.relative for s in train_part} & {s.relative for s in val_part}


def test_report_is_generated_from_evaluation_files(tmp_path, trained_run, image_folder):
    evaluation = tmp_path / "eval.json"
    assert (
        run_script(
            "evaluate_protovit.py",
            trained_run,
            "--data",
            image_folder,
            "--out",
            evaluation,
            "--compare",
            trained_run,
            "--split",
            "val",
        ).returncode
        == 0
    )
    report, img_dir = tmp_path / "docs" / "results.md", tmp_path / "docs" / "img"
    report.parent.mkdir()
    args = [
        "--protovit-eval",
        evaluation,
        "--vgg16-eval",
        evaluation,
        "--protovit-run",
        trained_run,
        "--vgg16-run",
        trained_run,
    ]
    completed = run_script(
        "report_protovit.py", *args, "--data", image_folder, "--out", report, "--img-dir", img_dir
    )
    assert completed.returncode == 0, completed.stderr
    text = report.read_text()
    for heading in (
        "## Results",
        "### Per-class F1",
        "### Confusion matrices",
        "McNemar",
        "## Honest limits",
        "random initialisation",
    ):
        assert heading in text
    figures = sorted(img_dir.glob("protovit_*.png"))
    assert figures and all(f.stat().st_size < 300_000 for f in figures)
    assert all(f"img/{f.name}" in text for f in figures)


def test_background_patch_rate_counts_blank_white_patches():
    from protovit.metrics import background_patch_rate

    white, product = (
        np.full((8, 8, 3), 250, np.uint8),
        np.random.default_rng(0).integers(0, 255, (8, 8, 3), np.uint8),
    )
    assert background_patch_rate([white, white, product, product]) == 0.5
    assert background_patch_rate([]) == 0.0
