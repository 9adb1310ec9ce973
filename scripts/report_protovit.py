"""Generate docs/protovit_results.md from evaluation JSON files and the two run folders.

    python scripts/report_protovit.py --protovit-eval FILE.json --vgg16-eval FILE.json \\
        --protovit-run RUN_DIR --vgg16-run RUN_DIR --data DIR [--out docs/protovit_results.md] [--img-dir docs/img]

The ProtoViT evaluation should come from ``evaluate_protovit.py ... --compare VGG16_RUN`` so that it carries the
paired McNemar test. Example reasoning sheets and one prototype gallery are rendered from the ProtoViT run and
stored as small PNGs under --img-dir. Every number in the report comes from these files.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from protovit import Predictor, load_run
from protovit.data import load_image

MAX_FIGURE_WIDTH = 720


def percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def save_small_png(image: Image.Image, path: Path) -> None:
    """Downscale to at most MAX_FIGURE_WIDTH px and quantise, so committed figures stay small."""
    if image.width > MAX_FIGURE_WIDTH:
        image = image.resize(
            (MAX_FIGURE_WIDTH, round(image.height * MAX_FIGURE_WIDTH / image.width)), Image.Resampling.LANCZOS
        )
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def confusion_table(result: dict[str, Any]) -> str:
    names = result["class_names"]
    header = "| true \\ predicted | " + " | ".join(names) + " |"
    lines = [header, "|---" * (len(names) + 1) + "|"]
    for name, row in zip(names, result["confusion_matrix"], strict=True):
        lines.append(f"| **{name}** | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def stage_summaries(run_dir: Path) -> list[dict[str, Any]]:
    """The per-stage history entries (duration and validation accuracy) of a run."""
    return [e for e in json.loads((run_dir / "history.json").read_text()) if "stage_seconds" in e]


def stage_times(run_dir: Path) -> tuple[str, float]:
    stages = stage_summaries(run_dir)
    total = sum(e["stage_seconds"] for e in stages)
    return ", ".join(f"{e['stage']} {e['stage_seconds'] / 60:.1f} min" for e in stages), total


def stage_accuracy(run_dir: Path, stage: str) -> float:
    return next(e["val_accuracy"] for e in stage_summaries(run_dir) if e["stage"] == stage)


def mean_epoch_seconds(run_dir: Path, stage: str) -> float:
    history = json.loads((run_dir / "history.json").read_text())
    epochs = [e["seconds"] for e in history if e.get("stage") == stage and "epoch" in e]
    return sum(epochs) / len(epochs) if epochs else float("nan")


def parameter_count(predictor) -> int:
    return sum(p.numel() for p in predictor.model.parameters())


def example_sheets(
    predictor: Predictor, evaluation: dict[str, Any], data_dir: Path, img_dir: Path, count: int
) -> list[tuple[str, str]]:
    """Reasoning sheets for the first correctly and the first wrongly classified evaluated images."""
    figures = []
    correct = [p for p in evaluation["predictions"] if p["true"] == p["predicted"]]
    wrong = [p for p in evaluation["predictions"] if p["true"] != p["predicted"]]
    for kind, chosen in (("correct", correct[: (count + 1) // 2]), ("wrong", wrong[: count // 2])):
        for item in chosen:
            image = load_image(data_dir / item["image"], predictor.config.max_image_pixels)
            reasoning = predictor.explain(image, top_k=3)
            name = f"protovit_sheet_{kind}_{Path(item['image']).stem[:8]}.png"
            save_small_png(reasoning.render(), img_dir / name)
            caption = f"{kind} prediction: true {item['true']}, predicted {reasoning.predicted_class} (p = {reasoning.probability:.2f})"
            figures.append((name, caption))
    return figures


def build_report(args: argparse.Namespace) -> str:
    proto = json.loads(args.protovit_eval.read_text())
    vgg = json.loads(args.vgg16_eval.read_text())
    predictor = load_run(args.protovit_run)
    baseline = load_run(args.vgg16_run)
    if not isinstance(predictor, Predictor):
        raise SystemExit(f"{args.protovit_run} is not a ProtoViT run")
    args.img_dir.mkdir(parents=True, exist_ok=True)
    figures = example_sheets(predictor, proto, args.data, args.img_dir, args.examples)
    gallery_class = predictor.classes[0]
    gallery_name = "protovit_gallery.png"
    save_small_png(predictor.render_gallery(gallery_class), args.img_dir / gallery_name)
    config, vgg_config = predictor.config, baseline.config
    proto_times, proto_total = stage_times(args.protovit_run)
    vgg_times, vgg_total = stage_times(args.vgg16_run)
    provenance = predictor.provenance
    mcnemar = proto.get("compare", {}).get("mcnemar")
    pretrained = provenance.get("pretrained", False)
    relative_img = Path(args.img_dir).resolve().relative_to(Path(args.out).resolve().parent)

    lines = [
        "# ProtoViT vs VGG16 on the Flipkart product images",
        "",
        f"Generated by `scripts/report_protovit.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from "
        f"`{args.protovit_eval}` and `{args.vgg16_eval}` (written by `scripts/evaluate_protovit.py`) and the run "
        f"folders `{args.protovit_run}` and `{args.vgg16_run}`. Do not edit by hand.",
        "",
    ]
    if not pretrained:
        lines += [
            "> **Both models were trained from random initialisation** (no ImageNet weights exist on the machine that",
            "> produced these numbers, and it has no network). These figures are a smoke test of the pipeline, not",
            "> the comparison the project needs: the reference numbers (ProtoViT 88.1 %, VGG16 83.3 % on a 210-image",
            "> hold-out) use ImageNet-pretrained backbones. Rerun with `--weights FILE` (or `--pretrained` with",
            "> network) for both models to reproduce that setting.",
            "",
        ]
    lines += [
        "## Setup",
        "",
        "| | ProtoViT | VGG16 |",
        "|---|---|---|",
        f"| architecture | {config.backbone}, {config.prototypes_per_class} prototypes/class x K={config.sub_prototypes}, r={config.radius} | timm vgg16 |",
        f"| weights | {provenance.get('weights_source')} | {baseline.provenance.get('weights_source')} |",
        f"| parameters | {parameter_count(predictor):,} | {parameter_count(baseline):,} |",
        f"| image size | {config.img_size} px (white pad to square) | {vgg_config.img_size} px (white pad to square) |",
        f"| schedule | warm-up {config.warmup_epochs} / joint {config.joint_epochs} / slots {config.slots_epochs} / projection / last layer {config.last_layer_epochs} epochs | {vgg_config.baseline_epochs} fine-tuning epoch(s) |",
        f"| training time | {proto_total / 60:.1f} min ({proto_times}) | {vgg_total / 60:.1f} min ({vgg_times}) |",
        f"| device | {provenance.get('device')}, {provenance.get('threads')} thread(s), {provenance.get('processor')} | {baseline.provenance.get('device')}, {baseline.provenance.get('threads')} thread(s) |",
        f"| loss semantics | {config.semantics} | cross-entropy |",
        "",
        f"Data: `{provenance.get('data_dir')}`, stratified split with seed {config.seed}: {provenance.get('n_train')} training and "
        f"{provenance.get('n_val')} validation images (identical split for both runs). Evaluated images: {proto['images']} "
        f"({proto['n_images']}). Augmentation on the fly for both: rotation ±{config.rotation_degrees:g}°, shear ±{config.shear_degrees:g}°, "
        f"horizontal flip p={config.flip_probability:g}. Model selection on the validation split only (best last-layer epoch for "
        "ProtoViT, best epoch for VGG16); the 210-image hold-out was never used.",
        "",
        "## Results",
        "",
        "| model | accuracy (95 % Wilson) | macro-F1 |",
        "|---|---|---|",
        f"| ProtoViT | {percent(proto['accuracy'])} [{percent(proto['accuracy_wilson95'][0])}, {percent(proto['accuracy_wilson95'][1])}] | {proto['macro_f1']:.3f} |",
        f"| VGG16 | {percent(vgg['accuracy'])} [{percent(vgg['accuracy_wilson95'][0])}, {percent(vgg['accuracy_wilson95'][1])}] | {vgg['macro_f1']:.3f} |",
        "",
    ]
    if mcnemar:
        lines += [
            f"Exact McNemar test on the same {mcnemar['n_images']} images: ProtoViT right and VGG16 wrong on "
            f"{mcnemar['only_first_correct']}, the reverse on {mcnemar['only_second_correct']}; two-sided p = {mcnemar['p_value']:.2g}"
            + (" (significant at 5 %)." if mcnemar["p_value"] < 0.05 else " (not significant at 5 %)."),
            "",
        ]
    trajectory = " → ".join(
        f"{e['stage']} {percent(e['val_accuracy'])}" for e in stage_summaries(args.protovit_run)
    )
    lines += [
        f"ProtoViT validation accuracy after each stage: {trajectory}. The last one is the model evaluated above.",
        "",
        "### Per-class F1",
        "",
        "| class | ProtoViT P / R / F1 | VGG16 P / R / F1 | F1 difference |",
        "|---|---|---|---|",
    ]
    for name in proto["class_names"]:
        p, v = proto["per_class"][name], vgg["per_class"][name]
        lines.append(
            f"| {name} | {p['precision']:.2f} / {p['recall']:.2f} / {p['f1']:.2f} | {v['precision']:.2f} / {v['recall']:.2f} / {v['f1']:.2f} | {p['f1'] - v['f1']:+.2f} |"
        )
    lines += [
        "",
        "### Confusion matrices",
        "",
        "ProtoViT:",
        "",
        confusion_table(proto),
        "",
        "VGG16:",
        "",
        confusion_table(vgg),
        "",
    ]
    interpretability = proto.get("interpretability")
    if interpretability:
        histogram = ", ".join(
            f"{k} active: {v}" for k, v in interpretability["active_sub_prototypes_histogram"].items()
        )
        lines += [
            "## Interpretability (no part labels needed)",
            "",
            f"- Prototype class purity@{interpretability['purity_k']}: on average {percent(interpretability['mean_purity'])} of each "
            f"prototype's {interpretability['purity_k']} most similar evaluated images belong to its class; "
            f"{percent(interpretability['share_pure_prototypes'])} of prototypes have at least half.",
            f"- Stability under Gaussian noise (std {interpretability['stability_noise_std']}, clipped ±0.25, normalised pixels): "
            f"mean IoU of the matched cells of the 10 most activated prototypes {interpretability['stability_mean_iou']:.2f}; "
            f"prediction unchanged for {percent(interpretability['stability_prediction_agreement'])} of the images.",
            f"- Sub-prototypes kept by slot pruning, per prototype: {histogram}."
            + (
                " Nothing was pruned: with the paper's slot learning rate a slot logit moves by about the learning "
                "rate per step, and a few hundred steps on 669 images cannot bring it from 0.1 to below 0 (CUB's "
                "30x offline augmentation gives far more steps)."
                if set(interpretability["active_sub_prototypes_histogram"]) == {str(config.sub_prototypes)}
                else ""
            ),
            f"- {percent(interpretability['prototype_background_patch_rate'])} of the active sub-prototypes were projected "
            "onto blank white background (near-uniform patches of the source image): they match any image's margins "
            "and explain nothing about the product.",
            f"- {interpretability['prototypes_sharing_a_source_image']} of the {config.num_prototypes} prototypes were projected onto a "
            "training image that another prototype also uses (possible near-duplicates; the gallery below shows them).",
            "",
        ]
    lines += ["## Example reasoning sheets", ""]
    lines += [
        "Each row: matched sub-patches on the image (left), the prototype's training image with its sub-patches "
        "(middle), similarity x weight = points (right). The footer adds all prototypes' points: the total equals "
        "the class logit. Box colours are the Okabe-Ito palette and each box carries its sub-prototype number.",
        "",
    ]
    for name, caption in figures:
        lines += [f"![{caption}]({relative_img / name})", "", f"*{caption}*", ""]
    lines += [
        f"Global view, prototypes of {gallery_class}:",
        "",
        f"![prototypes of {gallery_class}]({relative_img / gallery_name})",
        "",
    ]
    lines += [
        "## Honest limits",
        "",
        "- "
        + (
            "Random initialisation: neither network saw ImageNet; accuracy is far below the pretrained reference and the "
            "ranking of the two models says little about the pretrained setting."
            if not pretrained
            else "Pretrained weights as recorded above."
        ),
        f"- Reduced training to fit a shared 2-core CPU: {config.img_size} px, {config.joint_epochs} joint epochs for ProtoViT and "
        f"{vgg_config.baseline_epochs} epoch(s) for VGG16: one VGG16 epoch took {mean_epoch_seconds(args.vgg16_run, 'finetune') / 60:.1f} min "
        f"against {mean_epoch_seconds(args.protovit_run, 'joint') / 60:.1f} min for a ProtoViT joint epoch on the same images, so "
        "the two models had similar wall-clock budgets but very different numbers of updates. "
        "The default configuration (`pixi run train-protovit`) is the paper's full schedule at 224 px.",
        f"- {proto['n_images']} validation images: a 95 % interval on accuracy is about ±{50 * (proto['accuracy_wilson95'][1] - proto['accuracy_wilson95'][0]):.0f} points; one seed only.",
        f"- Projection moved the validation accuracy from {percent(stage_accuracy(args.protovit_run, 'slots'))} to "
        f"{percent(stage_accuracy(args.protovit_run, 'projection'))} before the last layer was retrained: the paper stresses that "
        "a well-trained first stage is needed for projection to cost little, which random-init features are not.",
        "- Prototypes can match background, white space or text; ProtoViT is not immune to location misalignment, and "
        "prototype explanations can be manipulated adversarially (Baniecki & Biecek 2025).",
        "- The validation split selected the final epochs, so its figures are slightly optimistic; the project's 210-image "
        "hold-out is evaluated separately with `scripts/evaluate_protovit.py`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--protovit-eval", required=True, type=Path)
    parser.add_argument("--vgg16-eval", required=True, type=Path)
    parser.add_argument("--protovit-run", required=True, type=Path)
    parser.add_argument("--vgg16-run", required=True, type=Path)
    parser.add_argument("--data", required=True, type=Path, help="the folder the evaluations ran on")
    parser.add_argument("--out", type=Path, default=Path("docs/protovit_results.md"))
    parser.add_argument("--img-dir", type=Path, default=Path("docs/img"))
    parser.add_argument("--examples", type=int, default=2, help="number of example reasoning sheets")
    args = parser.parse_args(argv)
    args.out.write_text(build_report(args), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
