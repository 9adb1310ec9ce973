"""ProtoViT tab: explain the classification of a product image with "this part looks like that prototype".

The reasoning sheet is an image, so it gets a full text alternative: a one-sentence alt text and the evidence
(prototype, class, similarity, weight, contribution) as a table. Without a trained run the tab says which
command trains one; torch is only imported when this tab is first opened.
"""

from __future__ import annotations

import io
import json
from html import escape
from typing import TYPE_CHECKING, Any

import panel as pn
from PIL import Image, UnidentifiedImageError

from dashboard import charts
from dashboard.i18n import format_number, format_percent, tr
from dashboard.views.base import ClientSession, SessionView, html_pane

if TYPE_CHECKING:
    from dashboard.cockpit import Reasoning

MAX_UPLOAD_BYTES = 8 * 1024 * 1024


def reasoning_dict(reasoning: Reasoning) -> dict[str, Any]:
    """The reasoning as plain data (``to_dict`` when available, else the documented ``to_json``)."""
    to_dict = getattr(reasoning, "to_dict", None)
    return to_dict() if callable(to_dict) else json.loads(reasoning.to_json())


def evidence_rows(data: dict[str, Any], lang: str) -> list[list[str]]:
    """One row per prototype shown: number, its class, similarity, weight and contribution."""
    return [
        [
            f"#{item['prototype']}",
            item["prototype_class"],
            format_number(item["similarity"], lang, 3),
            format_number(item["weight"], lang, 3),
            format_number(item["contribution"], lang, 3),
        ]
        for item in data.get("evidence", [])
    ]


def summary_sentence(data: dict[str, Any], lang: str) -> str:
    return tr(
        "images.prediction",
        lang,
        label=data["predicted_class"],
        confidence=format_percent(float(data["probability"]), lang),
    )


class ImagesView(SessionView):
    """Pick a catalogue image or upload one, then show the reasoning sheet and its table."""

    needs_client = False
    with_decision_card = False

    def __init__(self, session: ClientSession, **params: Any) -> None:
        super().__init__(session, **params)
        lang = self.lang
        self._heading = html_pane(
            f"<h2>{escape(tr('images.heading', lang))}</h2><p>{escape(tr('images.intro', lang))}</p>"
        )
        self._status = html_pane()
        self._picker = pn.widgets.Select(
            label=tr("images.pick", lang), options={}, sizing_mode="stretch_width"
        )
        self._upload = pn.widgets.FileInput(
            label=tr("images.upload", lang), accept=".png,.jpg,.jpeg", multiple=False
        )
        self._explain = pn.widgets.Button(label=tr("images.explain", lang), color="primary", width=260)
        self._sheet = pn.pane.PNG(None, alt_text="", sizing_mode="scale_width", max_width=900, visible=False)
        self._table = html_pane()
        self._explain.on_click(lambda _event: self.explain_selected())
        self._controls = pn.Column(self._picker, self._upload, self._explain, sizing_mode="stretch_width")
        self._content = pn.Column(
            self._heading, self._status, self._controls, self._sheet, self._table, sizing_mode="stretch_width"
        )

    def _update(self) -> None:
        lang, cockpit = self.lang, self.cockpit
        predictor = cockpit.predictor()
        catalogue = cockpit.product_catalogue()
        messages = []
        if predictor is None:
            problem = cockpit.protovit_problem
            messages.append(
                f"<p>{escape(tr('images.missing_run', lang, path=problem.path))} "
                f"{escape(tr('app.build_with', lang))}</p><pre><code>{escape(problem.command)}</code></pre>"
            )
        if not catalogue:
            messages.append(f"<p>{escape(tr('images.missing_images', lang, path=cockpit.images_folder))}</p>")
        self._status.object = "".join(messages)
        self._picker.options = dict(catalogue)
        if catalogue and self._picker.value not in self._picker.options.values():
            self._picker.value = catalogue[0][1]
        self._controls.visible = predictor is not None

    def explain_selected(self) -> dict[str, Any] | None:
        """Explain the uploaded image if any, else the catalogue image picked; returns the reasoning data."""
        lang = self.lang
        try:
            if self._upload.value:
                if len(self._upload.value) > MAX_UPLOAD_BYTES:
                    raise UnidentifiedImageError("too large")
                with Image.open(io.BytesIO(self._upload.value)) as uploaded:
                    image = uploaded.convert("RGB")
            elif self._picker.value:
                image = self.cockpit.open_product_image(self._picker.value)
            else:
                return None
        except (UnidentifiedImageError, OSError, ValueError):
            self._status.object = f'<p role="alert">{escape(tr("images.bad_image", lang))}</p>'
            return None
        reasoning = self.cockpit.explain_image(image)
        data = reasoning_dict(reasoning)
        sentence = summary_sentence(data, lang)
        self._sheet.param.update(
            object=_png_bytes(reasoning.render()),
            alt_text=tr("images.alt", lang, summary=sentence),
            visible=True,
        )
        self._table.object = f"<p>{escape(sentence)}</p>" + charts.table(
            tr("images.table_caption", lang),
            [
                tr("col.prototype", lang),
                tr("col.class", lang),
                tr("col.similarity", lang),
                tr("col.weight", lang),
                tr("col.logit_contribution", lang),
            ],
            evidence_rows(data, lang),
            numeric_columns=(2, 3, 4),
        )
        self._status.object = ""
        self.session.announcement = sentence
        return data


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
