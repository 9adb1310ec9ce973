"""Loading a trained run and explaining predictions: "this part of the image looks like that prototype".

``load_run(run_dir)`` returns a :class:`Predictor` (or, for a VGG16 baseline run, a :class:`ClassifierPredictor`
that only predicts). ``Predictor.explain(image)`` returns a contrastive :class:`Reasoning` (paper Fig. 3): for the
predicted class and the runner-up, the prototypes adding and taking away the most points (similarity x weight)
with the matched sub-patch boxes on the image and on the prototype's source image, the rest summed, and the
total, which equals the class's logit. Matches on near-white background are flagged. The module
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
from protovit.metrics import is_background
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
    background: bool = False  # the patch sits mostly on near-white background


@dataclass
class PrototypeEvidence:
    prototype: int
    prototype_class: str
    similarity: float  # g_j, in [-K, K]
    weight: float  # evidence-layer weight from prototype j to the class of the case
    contribution: float  # similarity * weight: points towards (or, when negative, against) that class
    patches: list[SubPatch]
    source_image: str  # path of the training image, relative to the data folder
    source_patches: list[SubPatch]
    source_png: str | None = None  # absolute path of the stored source view in the run folder
    background: bool = False  # most active matched sub-patches on this image are near-white background
    source_background: bool = False  # the prototype itself was projected onto background


@dataclass
class ClassCase:
    """The evidence for one class: the prototypes that add the most points, those that take the most away, and
    the rest summed, so ``sum(positive) + sum(negative) + other_contribution == total == logit``."""

    class_name: str
    logit: float
    probability: float
    positive: list[PrototypeEvidence]
    negative: list[PrototypeEvidence]
    other_contribution: float
    other_count: int
    total: float

    @property
    def shown(self) -> float:
        return sum(e.contribution for e in self.positive + self.negative)


@dataclass
class Reasoning:
    """Contrastive reasoning (paper Fig. 3): the predicted class and the runner-up, side by side."""

    predicted_class: str
    probability: float
    logit: float
    probabilities: dict[str, float]
    logits: dict[str, float]
    cases: list[ClassCase]  # [predicted class, runner-up]
    num_prototypes: int
    weights_note: str
    image: Image.Image | None = field(default=None, repr=False)  # the model's input view of the image

    @property
    def runner_up(self) -> ClassCase:
        return self.cases[1]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; the image is left out (``asdict`` would deep-copy it first)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("image", "cases")}
        data["cases"] = [asdict(case) for case in self.cases]
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
    background: bool = False  # projected onto near-white background: it says nothing about the product

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

    def _evidence(
        self, j: int, class_index: int, output: Any, contributions: torch.Tensor, view: np.ndarray
    ) -> PrototypeEvidence:
        source_image, source_png, source_patches = self._source(j)
        slots = output.slots.cpu()
        patches = []
        for k, t in enumerate(output.token_indices[0, j].tolist()):
            left, top, right, bottom = self.model.token_box(t)
            patches.append(
                SubPatch(
                    k,
                    bool(slots[j, k] > 0.5),
                    self.model.token_cell(t),
                    (left, top, right, bottom),
                    float(output.sub_cosines[0, j, k]),
                    is_background(view[top:bottom, left:right]),
                )
            )
        active = [p for p in patches if p.active]
        record = self.prototypes[j] if self.prototypes else {}
        return PrototypeEvidence(
            prototype=j,
            prototype_class=self.class_names[int(self.model.prototype_class[j])],
            similarity=float(output.scores[0, j]),
            weight=float(self.model.last_layer.weight[class_index, j]),
            contribution=float(contributions[j]),
            patches=patches,
            source_image=source_image,
            source_patches=source_patches,
            source_png=source_png,
            background=bool(active) and 2 * sum(p.background for p in active) >= len(active),
            source_background=bool(record.get("background", False)),
        )

    def _case(
        self, class_index: int, output: Any, probabilities: torch.Tensor, top_k: int, view: np.ndarray
    ) -> ClassCase:
        contributions = self.model.contributions(output.scores)[0, class_index].cpu()  # [m]
        order = torch.argsort(contributions, descending=True, stable=True)
        positive = [j for j in order[:top_k].tolist() if contributions[j] > 0]
        negative = [j for j in order.flip(0)[:top_k].tolist() if contributions[j] < 0 and j not in positive]
        shown = positive + negative
        total = float(contributions.sum())
        return ClassCase(
            class_name=self.class_names[class_index],
            logit=float(output.logits[0, class_index]),
            probability=float(probabilities[class_index]),
            positive=[self._evidence(j, class_index, output, contributions, view) for j in positive],
            negative=[self._evidence(j, class_index, output, contributions, view) for j in negative],
            other_contribution=total - float(contributions[shown].sum()) if shown else total,
            other_count=self.model.num_prototypes - len(shown),
            total=total,
        )

    @torch.inference_mode()
    def explain(self, image: Image.Image, top_k: int = 3) -> Reasoning:
        """Predict one image; gather, for the predicted class and the runner-up, the ``top_k`` prototypes adding
        the most points and the ``top_k`` taking the most away."""
        view = self.view(image)
        output = self.model(to_tensor(view)[None].to(self.device))
        logits = output.logits[0].cpu()
        probabilities = torch.softmax(logits, dim=0)
        ranked = torch.argsort(logits, descending=True, stable=True).tolist()
        pixels = np.asarray(view)
        predicted = ranked[0]
        return Reasoning(
            predicted_class=self.class_names[predicted],
            probability=float(probabilities[predicted]),
            logit=float(logits[predicted]),
            probabilities={name: float(p) for name, p in zip(self.class_names, probabilities, strict=True)},
            logits={name: float(v) for name, v in zip(self.class_names, logits, strict=True)},
            cases=[self._case(c, output, probabilities, top_k, pixels) for c in ranked[:2]],
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
            background = bool(self.prototypes[j].get("background", False)) if self.prototypes else False
            cards.append(
                PrototypeCard(
                    j,
                    class_name,
                    source_image,
                    source_png,
                    source_patches,
                    float(weight[class_index, j]),
                    background,
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
        flagged = sum(card.background for card in cards)
        draw.text(
            (8, 6), f"Prototypes of {class_name} ({flagged} on background)", fill="black", font=_font(16)
        )
        for n, card in enumerate(cards):
            x, y = (n % columns) * tile, 30 + (n // columns) * (tile + label)
            picture = card.image()
            if picture is not None:
                sheet.paste(picture.resize((tile - 8, tile - 8), Image.Resampling.NEAREST), (x + 4, y + 4))
            draw.text(
                (x + 4, y + tile - 2),
                f"#{card.prototype}  w={card.own_class_weight:.2f}{'  background' if card.background else ''}",
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


def _evidence_lines(item: PrototypeEvidence) -> list[str]:
    cosines = ", ".join(f"{p.cosine:.2f}" for p in item.patches if p.active and p.cosine is not None)
    flags = [
        text
        for flag, text in (
            (item.background, "matched on background"),
            (item.source_background, "prototype on background"),
        )
        if flag
    ]
    return [
        f"Prototype #{item.prototype} ({item.prototype_class})",
        f"similarity {item.similarity:.3f} x weight {item.weight:.3f}",
        f"= {item.contribution:+.3f} points",
        f"sub-patch cosines: {cosines}",
        *(["! " + ", ".join(flags)] if flags else []),
    ]


def render_reasoning(reasoning: Reasoning) -> Image.Image:
    """Contrastive reasoning sheet: the predicted class (left) and the runner-up (right), each with the prototypes
    adding and taking away the most points (this image's matched sub-patches, the prototype's source patch),
    the rest summed, and the total that equals the class's logit."""
    if reasoning.image is None:
        raise ValueError(
            "this Reasoning carries no image (it was rebuilt from JSON); explain the image again"
        )
    size = reasoning.image.width * _display_scale(reasoning.image.width)
    text_width, pad, header, case_header, footer = 300, 10, 56, 30, 66
    column = 2 * size + text_width + 3 * pad
    rows = max(len(case.positive) + len(case.negative) for case in reasoning.cases) or 1
    width = len(reasoning.cases) * column + pad
    height = header + case_header + rows * (size + pad) + footer
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text(
        (pad, 8),
        f"Predicted: {reasoning.predicted_class} (probability {reasoning.probability:.2f})"
        + (
            f"   vs runner-up: {reasoning.runner_up.class_name} ({reasoning.runner_up.probability:.2f})"
            if len(reasoning.cases) > 1
            else ""
        ),
        fill="black",
        font=_font(18),
    )
    draw.text(
        (pad, 34),
        "Per class: this image (matched sub-patches) | prototype source | similarity x weight = points.",
        fill="#444444",
        font=_font(13),
    )
    for n, case in enumerate(reasoning.cases):
        x = pad + n * column
        title = "Why " + case.class_name if n == 0 else "Why not " + case.class_name
        draw.text((x, header + 4), f"{title}: total {case.total:.2f} points", fill="black", font=_font(16))
        for row, item in enumerate(case.positive + case.negative):
            y = header + case_header + row * (size + pad)
            sheet.paste(draw_boxes(reasoning.image, item.patches), (x, y))
            if item.source_png and Path(item.source_png).is_file():
                sheet.paste(
                    draw_boxes(Image.open(item.source_png).convert("RGB"), item.source_patches),
                    (x + size + pad, y),
                )
            else:
                draw.rectangle((x + size + pad, y, x + 2 * size + pad, y + size), outline="#888888")
                draw.text(
                    (x + size + 2 * pad, y + size // 2),
                    "source image not stored",
                    fill="#444444",
                    font=_font(12),
                )
            colour = "#005A32" if item.contribution >= 0 else "#A50026"
            for line_number, line in enumerate(_evidence_lines(item)):
                draw.text(
                    (x + 2 * size + 2 * pad, y + 8 + 22 * line_number), line,
                    fill=colour if line_number == 2 else "black", font=_font(14 if line_number < 3 else 12),
                )  # fmt: skip
        y = height - footer + 6
        draw.text(
            (x, y),
            f"shown {case.shown:+.3f}  + other {case.other_count} prototypes {case.other_contribution:+.3f}",
            fill="black",
            font=_font(14),
        )
        draw.text(
            (x, y + 20), f"= total {case.total:.3f} = logit {case.logit:.3f}", fill="black", font=_font(14)
        )
    draw.text(
        (pad, height - 18), f"Backbone weights: {reasoning.weights_note}", fill="#444444", font=_font(12)
    )
    return sheet
