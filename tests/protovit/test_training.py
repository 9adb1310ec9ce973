"""Training stages: gradient flow, projection, full pipeline, resume, reproducibility, data parallel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from protovit import ProtoViT, load_run, project_prototypes, stage_loss, train
from protovit.checkpoint import read_checkpoint
from protovit.data import InMemoryImages, read_manifest, stratified_split, to_tensor
from protovit.train import set_trainable, stage_parameter_groups
from tests.protovit.conftest import micro_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stage", ["warmup", "joint", "slots", "last_layer"])
def test_each_stage_updates_exactly_its_parameters(stage):
    torch.manual_seed(0)
    config = micro_config(num_classes=3, freeze_encoder_in_warmup=False)
    model = ProtoViT(config).train()
    groups = stage_parameter_groups(model, stage, config)
    trained = {id(p) for params, _, _ in groups for p in params}
    set_trainable(model, (p for params, _, _ in groups for p in params))
    output = model(torch.randn(6, 3, 32, 32))
    stage_loss(
        stage, model, output.logits, output.sub_cosines, torch.tensor([0, 1, 2, 0, 1, 2]), config
    ).total.backward()
    for name, parameter in model.named_parameters():
        if id(parameter) in trained:
            assert parameter.grad is not None and parameter.grad.abs().sum() > 0, (
                f"{stage}: no gradient to {name}"
            )
        else:
            assert parameter.grad is None, f"{stage}: {name} should be frozen"
    names = {name.split(".")[0] for name, p in model.named_parameters() if id(p) in trained}
    expected = {"warmup": {"backbone", "prototype_vectors"}, "joint": {"backbone", "prototype_vectors"},
                "slots": {"slot_logits"}, "last_layer": {"last_layer"}}[stage]  # fmt: skip
    assert names == expected


def test_warmup_with_frozen_encoder_trains_prototypes_only():
    config = micro_config(num_classes=3)
    groups = stage_parameter_groups(ProtoViT(config), "warmup", config)
    assert len(groups) == 1 and groups[0][0][0].shape == (6, 32, 3)


def _latents(model: ProtoViT, image_folder: Path):
    samples, _ = stratified_split(read_manifest(image_folder), 0.25, 0)
    images, labels = InMemoryImages(samples, ["blue", "green", "red"], 32, progress=False).tensors()
    with torch.inference_mode():
        latents = model.encode(images)
    return samples, latents, labels


def test_projection_puts_every_active_sub_prototype_on_an_own_class_training_token(image_folder):
    torch.manual_seed(0)
    model = ProtoViT(micro_config(num_classes=3)).eval()
    with torch.no_grad():
        model.slot_logits[0, 1, 2] = -1.0  # one pruned sub-prototype
    samples, latents, labels = _latents(model, image_folder)
    records = project_prototypes(model, latents, labels, samples)
    assert model.slots()[1, 2] == 0.0 and model.slots()[0, 0] == 1.0
    image_index = {s.relative: i for i, s in enumerate(samples)}
    for record in records:
        j = record["index"]
        source = image_index[record["source_image"]]
        assert int(labels[source]) == record["class_index"] == int(model.prototype_class[j])
        assert record["source_category"] == ["blue", "green", "red"][record["class_index"]]
        assert len(record["cells"]) == len(record["boxes"]) == 3
        for k, (token, active) in enumerate(zip(record["tokens"], record["active"], strict=True)):
            vector = model.prototype_vectors[j, :, k]
            if active:
                assert torch.equal(vector, latents[source, token]), (
                    f"prototype {j}.{k} is not a training token"
                )
                assert record["cells"][k] == list(divmod(token, 4))
            else:
                assert torch.all(vector == 0)
    assert records[1]["active"] == [True, True, False]


def test_projection_is_deterministic(image_folder):
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        model = ProtoViT(micro_config(num_classes=3)).eval()
        samples, latents, labels = _latents(model, image_folder)
        results.append((project_prototypes(model, latents, labels, samples), model.prototype_vectors.clone()))
    assert results[0][0] == results[1][0] and torch.equal(results[0][1], results[1][1])


def test_full_pipeline_writes_checkpoints_logs_and_provenance(trained_run):
    for name in (
        "config.json",
        "split.json",
        "train.log",
        "history.json",
        "prototypes.json",
        "run.json",
        "model.safetensors",
        "backbone.safetensors",
    ):
        assert (trained_run / name).is_file(), name
    checkpoints = sorted(p.name for p in (trained_run / "checkpoints").iterdir())
    assert checkpoints == [
        "00_backbone.safetensors",
        "01_warmup.safetensors",
        "02_joint.safetensors",
        "03_slots.safetensors",
        "04_projection.safetensors",
        "05_last_layer.safetensors",
    ]
    payload = read_checkpoint(trained_run / "model.safetensors")
    assert payload["class_names"] == ["blue", "green", "red"]
    assert (
        payload["provenance"]["weights_kind"] == "random-init"
        and "RANDOM" in payload["provenance"]["warning"]
    )
    assert len(payload["prototypes"]) == 6 and all(
        r["source_png"].startswith("prototypes/") for r in payload["prototypes"]
    )
    assert "RANDOM INITIALISATION" in (trained_run / "train.log").read_text()
    stages = [
        e["stage"] for e in json.loads((trained_run / "history.json").read_text()) if "stage_seconds" in e
    ]
    assert stages == ["backbone", "warmup", "joint", "slots", "projection", "last_layer"]
    history = json.loads((trained_run / "history.json").read_text())
    steps = {e["stage"]: e["steps"] for e in history if "steps" in e}
    assert steps["backbone"] == 6 and steps["slots"] == 5  # schedules are counted in optimizer steps
    assert any("sub_prototypes_kept" in e for e in history) and any(
        "off_class_near_zero_share" in e for e in history
    )
    assert all(isinstance(r["background"], bool) for r in payload["prototypes"])


def test_stage_0_then_protovit_with_the_residual_stem_hybrid(tmp_path, image_folder):
    """The default CPU backbone (a timm-registered residual-stem ViT) through every stage on tiny images."""
    train(
        micro_config(backbone="resstem_vit_tiny", backbone_kwargs={}),
        image_folder,
        tmp_path / "run",
        progress=False,
    )
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [e["stage"] for e in history if "stage_seconds" in e] == [
        "backbone", "warmup", "joint", "slots", "projection", "last_layer",
    ]  # fmt: skip
    assert all(0.0 <= e["val_accuracy"] <= 1.0 for e in history if e["stage"] == "backbone" and "epoch" in e)
    predictor = load_run(tmp_path / "run")
    assert predictor.model.backbone.default_cfg["architecture"] == "resstem_vit_tiny"
    assert predictor.model.stride == (8, 8)


def test_resume_after_an_interruption_gives_the_same_model(tmp_path, image_folder, trained_run):
    run_dir = tmp_path / "interrupted"
    shutil.copytree(trained_run, run_dir)
    for name in ("04_projection.safetensors", "05_last_layer.safetensors"):
        (run_dir / "checkpoints" / name).unlink()
    (run_dir / "model.safetensors").unlink()
    train(micro_config(), image_folder, run_dir, progress=False)
    resumed = read_checkpoint(run_dir / "model.safetensors")["model_state"]
    original = read_checkpoint(trained_run / "model.safetensors")["model_state"]
    assert resumed.keys() == original.keys()
    assert all(torch.equal(resumed[k], original[k]) for k in original)
    assert "resuming after stage slots" in (run_dir / "train.log").read_text()


def test_training_is_reproducible_and_restored_models_give_identical_logits(
    tmp_path, image_folder, trained_run
):
    train(micro_config(), image_folder, tmp_path / "again", progress=False)
    first, second = load_run(trained_run), load_run(tmp_path / "again")
    images = torch.stack([to_tensor(first.view(i)) for i in _some_images(image_folder)])
    with torch.inference_mode():
        assert torch.equal(first.model(images).logits, second.model(images).logits)


def _some_images(image_folder: Path):
    from PIL import Image

    return [Image.open(p) for p in sorted((image_folder / "images").iterdir())[:4]]


def test_resuming_with_another_configuration_is_refused_and_no_resume_starts_over(
    tmp_path, image_folder, trained_run
):
    from protovit import ConfigError

    run_dir = tmp_path / "other"
    shutil.copytree(trained_run, run_dir)
    with pytest.raises(ConfigError, match="different configuration"):
        train(micro_config(radius=2), image_folder, run_dir, progress=False)
    train(micro_config(radius=2, last_layer_epochs=1), image_folder, run_dir, resume=False, progress=False)
    history = json.loads((run_dir / "history.json").read_text())
    assert [e["epoch"] for e in history if e["stage"] == "last_layer" and "epoch" in e] == [1]
    assert read_checkpoint(run_dir / "model.safetensors")["config"]["radius"] == 2


def test_a_run_saved_before_split_seed_keeps_its_folds_or_is_refused(tmp_path, image_folder, trained_run):
    """Its folds came from ``seed``: resuming it under split_seed 0 would train and measure on other images."""
    from protovit import ConfigError

    run_dir = tmp_path / "old"
    shutil.copytree(trained_run, run_dir)
    saved = json.loads((run_dir / "config.json").read_text())
    del saved["split_seed"]
    (run_dir / "config.json").write_text(json.dumps({**saved, "seed": 3}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"different configuration \(split_seed\)"):
        train(micro_config(seed=3), image_folder, run_dir, progress=False)


def _torchrun(tmp_path: Path, image_folder: Path, run_dir: Path, processes: int) -> None:
    config_path = tmp_path / "ddp.json"
    micro_config(stage0_steps=4, last_layer_epochs=1).save(config_path)
    torchrun = Path(sys.executable).with_name("torchrun")
    command = [str(torchrun), "--standalone", "--nproc_per_node", str(processes), str(ROOT / "scripts" / "train_protovit.py"),
               "--data", str(image_folder), "--out", str(run_dir), "--config", str(config_path), "--no-progress"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(command, capture_output=True, text=True, timeout=400, env=env, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr[-3000:]


@pytest.mark.slow
def test_data_parallel_training_with_two_cpu_processes_matches_one_process(tmp_path, image_folder):
    """DistributedDataParallel under torchrun: 2 processes with half batches each take the same steps as 1."""
    _torchrun(tmp_path, image_folder, tmp_path / "one", 1)
    _torchrun(tmp_path, image_folder, tmp_path / "two", 2)
    assert "world_size=2" in (tmp_path / "two" / "train.log").read_text()
    one, two = (read_checkpoint(tmp_path / name / "model.safetensors") for name in ("one", "two"))
    assert two["provenance"]["world_size"] == 2 and one["provenance"]["world_size"] == 1
    after_stage_0 = [
        read_checkpoint(tmp_path / n / "checkpoints" / "00_backbone.safetensors") for n in ("one", "two")
    ]
    for key, tensor in after_stage_0[0]["model_state"].items():
        assert torch.allclose(after_stage_0[1]["model_state"][key], tensor, atol=2e-4), key
    images = torch.stack([to_tensor(load_run(tmp_path / "one").view(i)) for i in _some_images(image_folder)])
    with torch.inference_mode():
        logits = [load_run(tmp_path / name).model(images).logits for name in ("one", "two")]
    assert torch.allclose(logits[0], logits[1], atol=1e-2)


def test_trainer_and_baselines_import_in_any_order_without_a_circle():
    """The shared loop lives in protovit.loop; the baselines never import the ProtoViT trainer (issue 8)."""
    baseline_source = (ROOT / "protovit" / "baseline.py").read_text(encoding="utf-8")
    assert "protovit.train" not in baseline_source
    for first, second in (("protovit.baseline", "protovit.train"), ("protovit.train", "protovit.baseline")):
        code = f"import importlib; importlib.import_module('{first}'); importlib.import_module('{second}')"
        completed = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
        )
        assert completed.returncode == 0, completed.stderr[-2000:]


def test_stage_0_gives_the_convolutional_stem_its_own_rate_when_set():
    from torch import nn

    from protovit import ProtoViT
    from protovit.train import stage0_parameter_groups

    config = micro_config(num_classes=3, backbone="resstem_vit_tiny", backbone_kwargs={}, img_size=32)
    backbone = ProtoViT(config).backbone
    head = nn.Linear(int(backbone.num_features), 3)
    ((everything, rate, decay),) = stage0_parameter_groups(backbone, head, config)
    assert rate == config.stage0_lr and decay == config.stage0_weight_decay
    assert len(everything) == len(list(backbone.parameters())) + 2

    split = config.replace(stage0_stem_lr=2e-3, stage0_lr=5e-4)
    (rest, rest_rate, _), (stem, stem_rate, _) = stage0_parameter_groups(backbone, head, split)
    assert (rest_rate, stem_rate) == (5e-4, 2e-3)
    assert {id(p) for p in stem} == {id(p) for p in backbone.patch_embed.parameters()}
    assert len(stem) + len(rest) == len(everything) and not {id(p) for p in stem} & {id(p) for p in rest}


def test_a_non_positive_stem_rate_is_refused():
    from protovit import ConfigError

    with pytest.raises(ConfigError, match="stage0_stem_lr"):
        micro_config(stage0_stem_lr=0.0)
