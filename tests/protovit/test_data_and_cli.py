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

from protovit import (
    DataError,
    Predictor,
    cv_split,
    duplicate_groups,
    load_run,
    read_manifest,
    stratified_split,
)
from protovit.data import Augmentation, InMemoryImages, load_image, pad_and_resize
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
    for name, message in (("broken.jpg", "unreadable image"), ("huge.png", "decompression bomb")):
        with pytest.raises(DataError, match=message):
            load_image(folder_copy / "images" / name, 50_000_000)


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


def test_tensor_augmentation_is_reproducible_per_image_and_epoch_and_fills_white(image_folder):
    samples = read_manifest(image_folder)[:4]
    plain = InMemoryImages(samples, ["blue", "green", "red"], 32, progress=False)
    strong = Augmentation(15, 10, 0.5, (0.8, 1.1), 0.1, 0.2, 0.25)
    augmented = plain.augmented(strong, seed=1)
    first = augmented.collate([(0, 0), (1, 0)])[0]
    assert torch.equal(augmented.collate([(1, 0)])[0][0], first[1])  # same image, same transform in any batch
    assert not torch.equal(plain.collate([(1, 0)])[0][0], first[1])
    augmented.set_epoch(1)
    assert not torch.equal(augmented.collate([(1, 0)])[0][0], first[1])
    blank = plain.augmented(Augmentation(45, 0, 0.0), seed=0)
    blank.pixels = torch.full_like(plain.pixels, 255)
    corners = blank.collate([(0, 0)])[0][0, :, 0, 0]
    white = (torch.ones(3) - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    assert torch.allclose(corners, white, atol=1e-4)  # rotated-in corners are white, like the background


def test_duplicates_never_cross_a_split(tmp_path, image_folder):
    folder = Path(shutil.copytree(image_folder, tmp_path / "dups"))
    rows = list(csv.reader((folder / "manifest.csv").read_text(encoding="utf-8").splitlines()))
    extra = []
    for source in ("red_0.png", "green_3.png", "blue_5.png"):
        category = source.split("_")[0]
        shutil.copy(folder / "images" / source, folder / "images" / f"copy_{source}")  # byte-identical
        Image.open(folder / "images" / source).resize((90, 90)).save(folder / "images" / f"near_{source}")
        extra += [[f"copy_{source}", category, "copy"], [f"near_{source}", category, "rescaled copy"]]
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows + extra)
    samples = sorted(read_manifest(folder), key=lambda s: s.relative)
    groups = duplicate_groups(samples)
    by_name = {s.relative: g for s, g in zip(samples, groups, strict=True)}
    for source in ("red_0.png", "green_3.png", "blue_5.png"):
        assert (
            by_name[f"images/{source}"]
            == by_name[f"images/copy_{source}"]
            == by_name[f"images/near_{source}"]
        )
    assert len(set(groups)) == len(samples) - 6
    for fold in range(3):
        train_part, held_out = cv_split(samples, 3, fold, seed=0)
        train_groups = {by_name[s.relative] for s in train_part}
        assert not train_groups & {by_name[s.relative] for s in held_out}
        assert len(train_part) + len(held_out) == len(samples)


def test_evaluation_json_on_a_generated_folder(tmp_path, trained_run):
    other_folder = write_image_folder(tmp_path / "other", per_class=3, seed=7)
    out = tmp_path / "eval.json"
    completed = run_script(
        "evaluate_protovit.py", trained_run, "--data", other_folder, "--out", out, "--compare", trained_run,
        "--all-images",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    result = json.loads(out.read_text())
    assert (
        result["n_images"] == 9
        and result["training_images_included"] == 0
        and "warning" not in completed.stderr
    )
    assert set(result["per_class"]) == {"blue", "green", "red"}
    assert set(result["per_class"]["red"]) >= {"precision", "recall", "f1"}
    assert sum(map(sum, result["confusion_matrix"])) == 9
    assert 0.0 <= result["accuracy"] <= 1.0 and 0.0 <= result["macro_f1"] <= 1.0
    assert set(result["interpretability"]["background_prototypes_per_class"]) == {"blue", "green", "red"}
    assert 0.0 <= result["interpretability"]["background_sub_patch_rate"] <= 1.0
    assert 0.0 <= result["interpretability"]["mean_purity"] <= 1.0
    assert 0 <= result["interpretability"]["prototypes_sharing_a_source_image"] <= 6
    mcnemar = result["compare"]["mcnemar"]
    assert mcnemar["only_first_correct"] == mcnemar["only_second_correct"] == 0 and mcnemar["p_value"] == 1.0


def test_evaluation_defaults_to_held_out_images_and_flags_training_images(
    tmp_path, trained_run, image_folder
):
    out = tmp_path / "held_out.json"
    completed = run_script("evaluate_protovit.py", trained_run, "--data", image_folder, "--out", out)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(out.read_text())
    held_out = set(json.loads((trained_run / "split.json").read_text())["val"])
    assert {p["image"] for p in result["predictions"]} == held_out and result["training_images_included"] == 0
    assert result["training"]["steps"]["backbone"] == 6 and result["training"]["total_seconds"] > 0
    everything = run_script(
        "evaluate_protovit.py", trained_run, "--data", image_folder, "--out", out, "--all-images"
    )
    assert everything.returncode == 0
    assert json.loads(out.read_text())["training_images_included"] == 24 - len(held_out)
    assert "were used to train this run" in everything.stderr


def test_evaluation_refuses_unknown_categories(tmp_path, trained_run, folder_copy):
    _write_manifest(folder_copy, [("red_0.png", "red"), ("red_1.png", "violet")])
    completed = run_script(
        "evaluate_protovit.py",
        trained_run,
        "--data",
        folder_copy,
        "--out",
        tmp_path / "e.json",
        "--all-images",
    )
    assert completed.returncode == 2 and "violet" in completed.stderr


def test_explain_image_writes_a_contrastive_sheet_whose_points_sum_to_both_logits(
    tmp_path, trained_run, image_folder
):
    completed = run_script(
        "explain_image.py",
        trained_run,
        image_folder / "images" / "green_1.png",
        "--out",
        tmp_path,
        "--top-k",
        "2",
    )
    assert completed.returncode == 0, completed.stderr
    reasoning = json.loads((tmp_path / "green_1.json").read_text())
    assert Image.open(tmp_path / "green_1.png").size[0] > 800
    predicted, runner_up = reasoning["cases"]
    assert (
        predicted["class_name"] == reasoning["predicted_class"]
        and runner_up["class_name"] != predicted["class_name"]
    )
    assert predicted["logit"] >= runner_up["logit"]
    assert runner_up["logit"] == max(
        v for k, v in reasoning["logits"].items() if k != predicted["class_name"]
    )
    for case in reasoning["cases"]:
        assert case["total"] == pytest.approx(case["logit"], abs=1e-4)
        assert len(case["positive"]) <= 2 and len(case["negative"]) <= 2
        assert all(e["contribution"] > 0 for e in case["positive"])
        assert all(e["contribution"] < 0 for e in case["negative"])
        shown = sum(e["contribution"] for e in case["positive"] + case["negative"])
        assert shown + case["other_contribution"] == pytest.approx(case["logit"], abs=1e-4)
        shown_count = len(case["positive"]) + len(case["negative"])
        assert case["other_count"] == 6 - shown_count
        for evidence in case["positive"] + case["negative"]:
            assert evidence["contribution"] == pytest.approx(
                evidence["similarity"] * evidence["weight"], rel=1e-5
            )
            assert evidence["source_image"].startswith("images/") and isinstance(evidence["background"], bool)


def test_background_matches_are_flagged_on_mostly_white_patches(trained_run):
    """A sub-patch that is three-quarters white is a background match, not only a fully blank one."""
    from protovit.metrics import is_background, near_white_share

    patch = np.full((8, 8, 3), 255, np.uint8)
    patch[:2] = 40  # a quarter of the patch is product
    assert near_white_share(patch) == 0.75 and is_background(patch)
    patch[:4] = 40
    assert not is_background(patch)
    predictor = load_run(trained_run)
    white = Image.new("RGB", (40, 40), "white")
    reasoning = predictor.explain(white)
    evidence = [e for case in reasoning.cases for e in case.positive + case.negative]
    assert evidence and all(e.background for e in evidence)  # a blank image can only match background
    flagged = [r["index"] for r in predictor.prototypes if r["background"]]
    cards = [c for name in predictor.classes for c in predictor.prototype_gallery(name)]
    assert [c.prototype for c in cards if c.background] == flagged


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
    assert not (tmp_path / "r" / "model.safetensors").exists()
    (folder_copy / "manifest.csv").write_text("image\nred_0.png\n", encoding="utf-8")
    bad = run_script("train_protovit.py", "--data", folder_copy, "--out", tmp_path / "r2", "--config", config)
    assert bad.returncode == 2 and "lacks column" in bad.stderr
    config.write_text('{"not_a_setting": 1}', encoding="utf-8")
    unknown = run_script(
        "train_protovit.py", "--data", folder_copy, "--out", tmp_path / "r3", "--config", config
    )
    assert unknown.returncode == 2 and "unknown configuration keys: not_a_setting" in unknown.stderr


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("protovit_cpu*.toml")), ids=lambda p: p.stem)
def test_shipped_cpu_configs_load_and_build_their_backbone(path):
    """A stale key (a removed backbone argument) in a shipped recipe fails here, not an hour into a study."""
    from protovit import ProtoViT, ProtoViTConfig

    config = ProtoViTConfig.load(path)
    config.num_classes = 7
    model = ProtoViT(config)
    assert model.grid == (config.img_size // 8, config.img_size // 8)


def test_a_recipe_variant_extends_its_base_and_states_only_what_it_changes(tmp_path):
    from protovit import ConfigError, ProtoViTConfig

    base = ProtoViTConfig.load(ROOT / "configs" / "protovit_cpu.toml").to_dict()
    variant = ProtoViTConfig.load(ROOT / "configs" / "protovit_cpu_lr3e4.toml").to_dict()
    assert {key for key in base if base[key] != variant[key]} == {"stage0_lr"}
    assert variant["stage0_lr"] == 3e-4

    (tmp_path / "sub").mkdir()
    (tmp_path / "base.toml").write_text("img_size = 32\nbatch_size = 8\n", encoding="utf-8")
    (tmp_path / "sub" / "mid.toml").write_text('extends = "../base.toml"\nbatch_size = 4\n', encoding="utf-8")
    (tmp_path / "leaf.toml").write_text('extends = "sub/mid.toml"\nseed = 3\n', encoding="utf-8")
    leaf = ProtoViTConfig.load(tmp_path / "leaf.toml")
    assert (leaf.img_size, leaf.batch_size, leaf.seed) == (32, 4, 3)

    (tmp_path / "nested.toml").write_text('extends = "base.toml"\n[protovit]\nseed = 5\n', encoding="utf-8")
    (tmp_path / "inner.toml").write_text('[protovit]\nextends = "base.toml"\nseed = 6\n', encoding="utf-8")
    (tmp_path / "variant.json").write_text('{"extends": "leaf.toml", "img_size": 48}', encoding="utf-8")
    for name, expected in (
        ("nested.toml", (32, 8, 5)),
        ("inner.toml", (32, 8, 6)),
        ("variant.json", (48, 4, 3)),
    ):
        loaded = ProtoViTConfig.load(tmp_path / name)
        assert (loaded.img_size, loaded.batch_size, loaded.seed) == expected, name

    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a table of settings"):
        ProtoViTConfig.load(tmp_path / "list.json")
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="in a loop"):
        ProtoViTConfig.load(tmp_path / "a.toml")
    (tmp_path / "orphan.toml").write_text('extends = "gone.toml"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not found: .*gone\.toml"):
        ProtoViTConfig.load(tmp_path / "orphan.toml")


def test_another_training_seed_keeps_the_folds_and_another_split_seed_changes_them(
    tmp_path, image_folder, trained_run
):
    """A study repeats an arm with a second training seed on the very same held-out images."""
    from protovit import train

    folds = json.loads((trained_run / "split.json").read_text())
    train(micro_config(model="features", seed=7), image_folder, tmp_path / "seed", progress=False)
    assert json.loads((tmp_path / "seed" / "split.json").read_text()) == folds
    train(micro_config(model="features", split_seed=7), image_folder, tmp_path / "split", progress=False)
    assert json.loads((tmp_path / "split" / "split.json").read_text()) != folds


@pytest.mark.parametrize("arm", ["resnet10t", "features"])
def test_baselines_train_on_the_same_split_and_compare(tmp_path, image_folder, trained_run, arm):
    from protovit import train

    config = (
        micro_config(model="features") if arm == "features" else micro_config(model="cnn", baseline_arch=arm)
    )
    run_dir = tmp_path / arm
    train(config, image_folder, run_dir, progress=False)
    assert json.loads((run_dir / "split.json").read_text()) == json.loads(
        (trained_run / "split.json").read_text()
    )
    out = tmp_path / "compare.json"
    completed = run_script(
        "evaluate_protovit.py", trained_run, "--data", image_folder, "--out", out, "--compare", run_dir
    )
    assert completed.returncode == 0, completed.stderr
    compare = json.loads(out.read_text())["compare"]
    assert compare["architecture"] == config.architecture and 0.0 <= compare["mcnemar"]["p_value"] <= 1.0
    probabilities = load_run(run_dir).predict_proba([Image.open(image_folder / "images" / "red_0.png")])
    assert probabilities.shape == (1, 3) and probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    if arm == "resnet10t":
        assert json.loads((run_dir / "history.json").read_text())[-2]["budget_steps"] == 3
    else:
        assert (
            load_run(run_dir).predict_proba([Image.open(image_folder / "images" / "red_0.png")]).argmax() == 2
        )


@pytest.mark.slow
def test_vgg16_bn_baseline_trains(tmp_path, image_folder):
    from protovit import train

    train(
        micro_config(model="cnn", baseline_arch="vgg16_bn", baseline_steps=1),
        image_folder,
        tmp_path,
        progress=False,
    )
    assert load_run(tmp_path).config.architecture == "vgg16_bn"


@pytest.mark.skipif(
    not (FLIPKART / "manifest.csv").is_file(), reason=f"Flipkart images not found at {FLIPKART}"
)
def test_the_real_flipkart_folder_reads_cleanly():
    samples = read_manifest(FLIPKART)
    assert len(samples) == 837 and len({s.category for s in samples}) == 7
    train_part, val_part = stratified_split(samples, 0.2, 0)
    assert 160 <= len(val_part) <= 176 and not {s.relative for s in train_part} & {
        s.relative for s in val_part
    }


def test_report_is_generated_from_the_studys_evaluation_files(tmp_path, trained_run, image_folder):
    from protovit import train
    from protovit.evaluation import evaluate_run

    evals = tmp_path / "evals"
    evals.mkdir()
    floor = tmp_path / "features"
    train(micro_config(model="features"), image_folder, floor, progress=False)
    for arm, run in (("protovit", trained_run), ("features", floor)):
        (evals / f"{arm}_fold0.json").write_text(
            json.dumps(evaluate_run(run, image_folder)), encoding="utf-8"
        )
    report, img_dir = tmp_path / "docs" / "results.md", tmp_path / "docs" / "img"
    report.parent.mkdir()
    completed = run_script(
        "report_protovit.py", "--evals", evals, "--data", image_folder, "--run", trained_run, "--out", report,
        "--img-dir", img_dir,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    text = report.read_text()
    for heading in ("## Results", "McNemar", "sub-prototypes kept", "Background prototypes per class",
                    "## Training cost", "## Honest limits", "random initialisation", "study_protovit.py"):  # fmt: skip
        assert heading in text, heading
    protovit = json.loads((evals / "protovit_fold0.json").read_text())
    assert f"{100 * protovit['accuracy']:.1f} % (1 fold, no sd)" in text
    figures = sorted(img_dir.glob("protovit_*.png"))
    assert figures and all(f.stat().st_size < 300_000 for f in figures)
    assert all(f"img/{f.name}" in text for f in figures)


def test_the_study_repeats_an_arm_with_another_seed_on_the_same_folds_and_the_report_pools_the_seeds(
    tmp_path, trained_run, image_folder
):
    from protovit.evaluation import evaluate_run

    evals, runs, config = tmp_path / "evals", tmp_path / "runs", tmp_path / "micro.json"
    micro_config(cv_folds=4).save(config)  # fold 0 of 4 is the held-out part of ``trained_run``
    evals.mkdir()
    (evals / "protovit_fold0.json").write_text(
        json.dumps(evaluate_run(trained_run, image_folder)), encoding="utf-8"
    )
    for seed in ([], ["--seed", "3"], ["--seed", "0"]):  # seed 0 is the configuration's own: the plain arm
        study = (
            "study_protovit.py",
            "--data",
            image_folder,
            "--runs",
            runs,
            "--evals",
            evals,
            "--config",
            config,
        )
        completed = run_script(*study, "--arms", "resnet10t", "--folds", "0", "--no-progress", *seed)
        assert completed.returncode == 0, completed.stderr
    repeat = json.loads((evals / "resnet10t-seed3_fold0.json").read_text())
    first = json.loads((evals / "resnet10t_fold0.json").read_text())
    assert (
        repeat["arm"] == "resnet10t-seed3"
        and json.loads((runs / "resnet10t-seed3" / "fold_0" / "config.json").read_text())["seed"] == 3
    )
    assert [p["image"] for p in repeat["predictions"]] == [p["image"] for p in first["predictions"]]

    report = tmp_path / "results.md"
    assert (
        run_script("report_protovit.py", "--evals", evals, "--data", image_folder, "--out", report).returncode
        == 0
    )
    assert repeat["seed"] == 3 and first["seed"] == 0 and not (evals / "resnet10t-seed0_fold0.json").exists()
    row = next(line for line in report.read_text().splitlines() if line.startswith("| resnet10t | 0, 3 |"))
    pooled = (first["accuracy"] + repeat["accuracy"]) / 2
    assert f"seed 0: {100 * first['accuracy']:.1f} %, seed 3: {100 * repeat['accuracy']:.1f} %" in row
    assert f"| {100 * pooled:.1f} % ± " in row


def test_cpu_benchmark_records_its_section(tmp_path, trained_run, image_folder, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    config, out = tmp_path / "micro.json", tmp_path / "benchmarks.md"
    micro_config().save(config)
    out.write_text("# Benchmarks\n\n<!-- other:begin -->\nkept\n<!-- other:end -->\n", encoding="utf-8")
    completed = run_script(
        "bench_protovit.py", "--run", trained_run, "--data", image_folder, "--config", config,
        "--train-steps", "1", "--repeats", "1", "--threads", "1", "--out", out,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    text = out.read_text()
    assert "kept" in text and "<!-- protovit:begin -->" in text and "Whole default pipeline" in text
    assert "stage-0 step" in text and "joint step" in text and "step of the CNN baseline" in text
