"""Loading a trained run and explaining predictions: "this part of the image looks like that prototype".

``load_run(run_dir)`` returns a :class:`Predictor` (or, for a VGG16 baseline run, a :class:`ClassifierPredictor`
that only predicts). ``Predictor.explain(image)`` returns a :class:`Reasoning`: the predicted class and
probability, the top-k prototypes by contribution (similarity x weight) with the matched sub-patch boxes on the
image and on the prototype's source image, and the sum of all contributions, which equals the logit. The module
holds no UI code: ``Reasoning.render()`` draws a PIL reasoning sheet and ``to_dict()``/``to_json()`` feed any UI.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import nn

from protovit.checkpoint import FINAL_CHECKPOINT, read_checkpoint, restore_model
from protovit.config import ProtoViTConfig
from protovit.data import pad_and_resize, to_tensor
from protovit.model import ProtoViT

# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies. Boxes also carry their number.
BOX_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442", "#000000")
DISPLAY_SIZE = 224  # images are shown at least this large, whatever the model's input size


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@dataclass
class SubPatch:
    """One sub-prototype's matched cell: on the explained image, or on the prototype's source image."""

    sub_prototype: int
    active: bool
    cell: tuple[int, int]  # (row, col) on the token grid
    box: tuple[int, int, int, int]  # (left, top, right, bottom) in model-input pixels
    cosine: float | None = None  # cosine to the explained image's token (None on the source image)


@dataclass
class PrototypeEvidence:
    prototype: int
    prototype_class: str
    similarity: float  # g_j, in [-K, K]
    weight: float  # evidence-layer weight from prototype j to the predicted class
    contribution: float  # similarity * weight: points towards the predicted class
    patches: list[SubPatch]
    source_image: str  # path of the training image, relative to the data folder
    source_patches: list[SubPatch]
    source_png: str | None = None  # absolute path of the stored source view in the run folder


@dataclass
class Reasoning:
    predicted_class: str
    probability: float
    logit: float
    probabilities: dict[str, float]
    logits: dict[str, float]
    evidence: list[PrototypeEvidence]
    total_contribution: float  # sum over all prototypes; equals ``logit`` up to float rounding
    other_contribution: float  # prototypes not among the top-k
    num_prototypes: int
    weights_note: str
    image: Image.Image | None = field(default=None, repr=False)  # the model's input view of the image

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; the image is left out (``asdict`` would deep-copy it first)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("image", "evidence")}
        data["evidence"] = [asdict(item) for item in self.evidence]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def render(self) -> Image.Image:
        """The reasoning sheet as a PIL image (see :func:`render_reasoning`)."""
        return render_reasoning(self)


@dataclass
class PrototypeCard:
    """A prototype for the global, per-class view: where it came from and how strongly it votes."""

    prototype: int
    class_name: str
    source_image: str
    source_png: str | None
    source_patches: list[SubPatch]
    own_class_weight: float

    def image(self) -> Image.Image | None:
        """The source view with the prototype's boxes, or None when the run folder lacks the source PNG."""
        if self.source_png is None or not Path(self.source_png).is_file():
            return None
        return draw_boxes(Image.open(self.source_png).convert("RGB"), self.source_patches)


class ClassifierPredictor:
    """Class probabilities for PIL images from any run (ProtoViT or VGG16 baseline)."""

    def __init__(
        self,
        model: nn.Module,
        config: ProtoViTConfig,
        class_names: list[str],
        run_dir: Path,
        provenance: dict[str, Any],
    ) -> None:
        self.model = model.eval()
        self.config = config
        self.class_names = list(class_names)
        self.run_dir = Path(run_dir)
        self.provenance = provenance
        self.device = next(model.parameters()).device

    @property
    def classes(self) -> list[str]:
        return self.class_names

    def view(self, image: Image.Image) -> Image.Image:
        """The model's input view: RGB, padded to a white square, resized."""
        return pad_and_resize(image.convert("RGB"), self.config.img_size)

    def _logits(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model(batch)

    @torch.inference_mode()
    def predict_proba(self, images: list[Image.Image], batch_size: int = 32) -> np.ndarray:
        """[n, C] class probabilities, columns in ``classes`` order."""
        outputs = []
        for start in range(0, len(images), batch_size):
            batch = torch.stack([to_tensor(self.view(image)) for image in images[start : start + batch_size]])
            outputs.append(torch.softmax(self._logits(batch.to(self.device)), dim=1).cpu())
        return torch.cat(outputs).numpy() if outputs else np.zeros((0, len(self.class_names)))

    def to(self, device: str | torch.device) -> ClassifierPredictor:
        self.model.to(device)
        self.device = torch.device(device)
        return self


class Predictor(ClassifierPredictor):
    """A trained ProtoViT with its prototype provenance: predictions, reasoning sheets, prototype galleries."""

    model: ProtoViT

    def __init__(
        self,
        model: ProtoViT,
        config: ProtoViTConfig,
        class_names: list[str],
        run_dir: Path,
        provenance: dict[str, Any],
        prototypes: list[dict[str, Any]] | None,
    ) -> None:
        super().__init__(model, config, class_names, run_dir, provenance)
        self.prototypes = prototypes or []

    def _logits(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model(batch).logits

    def _source(self, prototype: int) -> tuple[str, str | None, list[SubPatch]]:
        if not self.prototypes:  # a run stopped before projection: prototypes have no source yet
            return "", None, []
        record = self.prototypes[prototype]
        patches = [
            SubPatch(k, active, tuple(cell), tuple(box))
            for k, (active, cell, box) in enumerate(
                zip(record["active"], record["cells"], record["boxes"], strict=True)
            )
        ]
        png = record.get("source_png")
        return record["source_image"], str(self.run_dir / png) if png else None, patches

    @torch.inference_mode()
    def explain(self, image: Image.Image, top_k: int = 3) -> Reasoning:
        """Predict one image and gather the evidence of its ``top_k`` most contributing prototypes."""
        view = self.view(image)
        output = self.model(to_tensor(view)[None].to(self.device))
        logits = output.logits[0].cpu()
        probabilities = torch.softmax(logits, dim=0)
        predicted = int(logits.argmax())
        contributions = self.model.contributions(output.scores)[0, predicted].cpu()  # [m]
        weights = self.model.last_layer.weight[predicted].cpu()
        slots = output.slots.cpu()
        order = torch.argsort(contributions, descending=True, stable=True)[:top_k]
        evidence = []
        for j in order.tolist():
            source_image, source_png, source_patches = self._source(j)
            tokens = output.token_indices[0, j].tolist()
            patches = [
                SubPatch(
                    k,
                    bool(slots[j, k] > 0.5),
                    self.model.token_cell(t),
                    self.model.token_box(t),
                    float(output.sub_cosines[0, j, k]),
                )
                for k, t in enumerate(tokens)
            ]
            evidence.append(
                PrototypeEvidence(
                    prototype=j,
                    prototype_class=self.class_names[int(self.model.prototype_class[j])],
                    similarity=float(output.scores[0, j]),
                    weight=float(weights[j]),
                    contribution=float(contributions[j]),
                    patches=patches,
                    source_image=source_image,
                    source_patches=source_patches,
                    source_png=source_png,
                )
            )
        total = float(contributions.sum())
        shown = sum(e.contribution for e in evidence)
        return Reasoning(
            predicted_class=self.class_names[predicted],
            probability=float(probabilities[predicted]),
            logit=float(logits[predicted]),
            probabilities={name: float(p) for name, p in zip(self.class_names, probabilities, strict=True)},
            logits={name: float(v) for name, v in zip(self.class_names, logits, strict=True)},
            evidence=evidence,
            total_contribution=total,
            other_contribution=total - shown,
            num_prototypes=self.model.num_prototypes,
            weights_note=self.provenance.get("weights_source", "unknown weights"),
            image=view,
        )

    def prototype_gallery(self, class_name: str) -> list[PrototypeCard]:
        """The prototypes of one class with their source images and boxes (the global explanation)."""
        if class_name not in self.class_names:
            raise KeyError(f"unknown class {class_name!r}; known: {', '.join(self.class_names)}")
        class_index = self.class_names.index(class_name)
        weight = self.model.last_layer.weight.detach().cpu()
        cards = []
        for j in (self.model.prototype_class.cpu() == class_index).nonzero().flatten().tolist():
            source_image, source_png, source_patches = self._source(j)
            cards.append(
                PrototypeCard(
                    j, class_name, source_image, source_png, source_patches, float(weight[class_index, j])
                )
            )
        return cards

    def render_gallery(self, class_name: str, columns: int = 5) -> Image.Image:
        """All prototypes of a class as a grid of source views with boxes, labelled with their own-class weight."""
        cards = self.prototype_gallery(class_name)
        columns = max(1, min(columns, len(cards)))
        tile, label = DISPLAY_SIZE // 2 + 32, 18
        rows = max(1, -(-len(cards) // columns))
        sheet = Image.new("RGB", (max(columns * tile, 260), 30 + rows * (tile + label)), "white")
        draw = ImageDraw.Draw(sheet)
        draw.text((8, 6), f"Prototypes of {class_name}", fill="black", font=_font(16))
        for n, card in enumerate(cards):
            x, y = (n % columns) * tile, 30 + (n // columns) * (tile + label)
            picture = card.image()
            if picture is not None:
                sheet.paste(picture.resize((tile - 8, tile - 8), Image.Resampling.NEAREST), (x + 4, y + 4))
            draw.text(
                (x + 4, y + tile - 2),
                f"#{card.prototype}  w={card.own_class_weight:.2f}",
                fill="black",
                font=_font(12),
            )
        return sheet


def load_run(run_dir: str | Path, *, device: str | torch.device = "cpu") -> ClassifierPredictor:
    """Load ``run_dir/model.pt``: a :class:`Predictor` for ProtoViT runs, a :class:`ClassifierPredictor` for VGG16."""
    run_dir = Path(run_dir)
    path = run_dir / FINAL_CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {run_dir} a finished training run?")
    payload = read_checkpoint(path)
    model, config = restore_model(payload)
    model.to(device)
    provenance = payload.get("provenance", {})
    if config.model == "protovit":
        return Predictor(
            model, config, payload["class_names"], run_dir, provenance, payload.get("prototypes")
        )
    return ClassifierPredictor(model, config, payload["class_names"], run_dir, provenance)


def _display_scale(size: int) -> int:
    return max(1, round(DISPLAY_SIZE / size))


def draw_boxes(image: Image.Image, patches: list[SubPatch]) -> Image.Image:
    """Upscale the model-input view to display size and outline the active sub-patches, numbered, in fixed colours."""
    scale = _display_scale(image.width)
    canvas = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, canvas.width - 1, canvas.height - 1), outline="#BBBBBB")  # frames white backgrounds
    for patch in patches:
        if not patch.active:
            continue
        colour = BOX_COLOURS[patch.sub_prototype % len(BOX_COLOURS)]
        left, top, right, bottom = (v * scale for v in patch.box)
        draw.rectangle((left, top, right - 1, bottom - 1), outline=colour, width=3)
        draw.text((left + 3, top + 1), str(patch.sub_prototype + 1), fill=colour, font=_font(12))
    return canvas


def render_reasoning(reasoning: Reasoning) -> Image.Image:
    """Reasoning sheet: header with the prediction, one row per top prototype, footer with the points total."""
    if reasoning.image is None:
        raise ValueError(
            "this Reasoning carries no image (it was rebuilt from JSON); explain the image again"
        )
    size = reasoning.image.width * _display_scale(reasoning.image.width)
    text_width, pad, header, footer = 330, 10, 58, 60
    row_height = size + pad
    width = 2 * size + text_width + 4 * pad
    height = header + row_height * max(1, len(reasoning.evidence)) + footer
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text(
        (pad, 8),
        f"Predicted: {reasoning.predicted_class}  (probability {reasoning.probability:.2f})",
        fill="black",
        font=_font(18),
    )
    draw.text(
        (pad, 34),
        "Left: this image.  Middle: prototype source.  Boxes: matched sub-patches.",
        fill="#444444",
        font=_font(13),
    )
    for row, item in enumerate(reasoning.evidence):
        y = header + row * row_height
        sheet.paste(draw_boxes(reasoning.image, item.patches), (pad, y))
        if item.source_png and Path(item.source_png).is_file():
            sheet.paste(
                draw_boxes(Image.open(item.source_png).convert("RGB"), item.source_patches),
                (2 * pad + size, y),
            )
        else:
            draw.rectangle((2 * pad + size, y, 2 * pad + 2 * size, y + size), outline="#888888")
            draw.text(
                (3 * pad + size, y + size // 2), "source image not stored", fill="#444444", font=_font(12)
            )
        cosines = ", ".join(f"{p.cosine:.2f}" for p in item.patches if p.active and p.cosine is not None)
        lines = [
            f"Prototype #{item.prototype} ({item.prototype_class})",
            f"similarity  {item.similarity:.3f}",
            f"x weight    {item.weight:.3f}",
            f"= points    {item.contribution:.3f}",
            f"sub-patch cosines: {cosines}",
        ]
        for n, line in enumerate(lines):
            draw.text(
                (3 * pad + 2 * size, y + 8 + 22 * n), line, fill="black", font=_font(15 if n < 4 else 12)
            )
    y = height - footer + 6
    draw.text(
        (pad, y),
        f"Points: top {len(reasoning.evidence)} = {reasoning.total_contribution - reasoning.other_contribution:.3f}, "
        f"other {reasoning.num_prototypes - len(reasoning.evidence)} prototypes = {reasoning.other_contribution:.3f}, "
        f"total = {reasoning.total_contribution:.3f} = logit {reasoning.logit:.3f}",
        fill="black",
        font=_font(14),
    )
    draw.text((pad, y + 24), f"Backbone weights: {reasoning.weights_note}", fill="#444444", font=_font(12))
    return sheet
