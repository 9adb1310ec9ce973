"""ProtoViT tab: explain the classification of a product image with "this part looks like that prototype".

The reasoning sheet is contrastive (the predicted class against the runner-up) and is an image, so it gets a
full text alternative: a one-sentence alt text and the evidence of both classes as a table whose points add up
to each class's total. The tab never shows server paths. Without a trained run it shows the progress of the
background training (when the server trains one) or the command an administrator runs; torch is only imported
when this tab is first opened.
"""

from __future__ import annotations

import io
import json
from html import escape
from typing import TYPE_CHECKING, Any

import panel as pn
from PIL import Image

from dashboard import charts
from dashboard.cockpit import ImageRefused
from dashboard.i18n import format_number, format_percent, tr
from dashboard.views.base import ClientSession, SessionView, html_pane

if TYPE_CHECKING:
    from dashboard.cockpit import Reasoning

TRAIN_COMMAND = "pixi run train-protovit"
PROGRESS_REFRESH_MS = 5000


def reasoning_dict(reasoning: Reasoning) -> dict[str, Any]:
    """The reasoning as plain data (``to_dict`` when available, else the documented ``to_json``)."""
    to_dict = getattr(reasoning, "to_dict", None)
    return to_dict() if callable(to_dict) else json.loads(reasoning.to_json())


def evidence_rows(data: dict[str, Any], lang: str) -> list[list[str]]:
    """One row per prototype shown, for the predicted class then the runner-up: the class it argues for, the
    prototype, its own class, similarity, weight, points, and whether it matched the white background."""
    yes, no = tr("images.yes", lang), tr("images.no", lang)
    return [
        [
            case["class_name"],
            f"#{item['prototype']}",
            item["prototype_class"],
            format_number(item["similarity"], lang, 3),
            format_number(item["weight"], lang, 3),
            format_number(item["contribution"], lang, 3),
            yes if item["background"] else no,
        ]
        for case in data.get("cases", [])
        for item in case["positive"] + case["negative"]
    ]


def totals_sentences(data: dict[str, Any], lang: str) -> list[str]:
    return [
        tr(
            "images.total",
            lang,
            label=case["class_name"],
            total=format_number(case["total"], lang, 2),
            other=format_number(case["other_contribution"], lang, 2),
            count=case["other_count"],
        )
        for case in data.get("cases", [])
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
        self._progress = pn.indicators.Progress(
            label=tr("images.training_label", lang),
            value=0,
            max=100,
            visible=False,
            sizing_mode="stretch_width",
        )
        self._refresh: Any = None
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
            self._heading,
            self._status,
            self._progress,
            self._controls,
            self._sheet,
            self._table,
            sizing_mode="stretch_width",
        )

    def _update(self) -> None:
        lang, cockpit = self.lang, self.cockpit
        predictor = cockpit.predictor()
        catalogue = cockpit.product_catalogue()
        training = cockpit.protovit_training() if predictor is None else None
        messages = []
        self._progress.visible = bool(training and training.running)
        if training is not None and training.running:
            done = format_percent(training.fraction, lang)
            messages.append(
                f'<p role="status">{escape(tr("images.training", lang, stage=training.stage_number, stages=training.stages, done=done))}</p>'
            )
            self._progress.value = round(100 * training.fraction)
            self._watch_training()
        elif predictor is None:
            key = (
                "images.training_failed" if training is not None and training.failed else "images.missing_run"
            )
            messages.append(f"<p>{escape(tr(key, lang))}</p><pre><code>{escape(TRAIN_COMMAND)}</code></pre>")
        if not catalogue:
            messages.append(f"<p>{escape(tr('images.missing_images', lang))}</p>")
        self._status.object = "".join(messages)
        self._picker.options = dict(catalogue)
        if catalogue and self._picker.value not in self._picker.options.values():
            self._picker.value = catalogue[0][1]
        self._controls.visible = predictor is not None
        if predictor is not None and self._refresh is not None:
            self._refresh.stop()
            self._refresh = None

    def _watch_training(self) -> None:
        """Refresh the tab every few seconds while the model trains, until it is ready."""
        if self._refresh is None and pn.state.curdoc is not None:
            self._refresh = pn.state.add_periodic_callback(self._update, period=PROGRESS_REFRESH_MS)

    def explain_selected(self) -> dict[str, Any] | None:
        """Explain the uploaded image if any, else the catalogue image picked; returns the reasoning data."""
        lang = self.lang
        try:
            if self._upload.value:
                reasoning = self.cockpit.explain_upload(self._upload.value)
            elif self._picker.value:
                reasoning = self.cockpit.explain_image(self.cockpit.open_product_image(self._picker.value))
            else:
                return None
        except ImageRefused as error:
            key = "images.busy" if error.reason == "busy" else f"images.upload.{error.reason}"
            self._status.object = f'<p role="alert">{escape(tr(key, lang))}</p>'
            return None
        except (OSError, ValueError):
            self._status.object = f'<p role="alert">{escape(tr("images.bad_image", lang))}</p>'
            return None
        data = reasoning_dict(reasoning)
        sentence = summary_sentence(data, lang)
        self._sheet.param.update(
            object=_png_bytes(reasoning.render()),
            alt_text=tr("images.alt", lang, summary=sentence),
            visible=True,
        )
        totals = "".join(f"<p>{escape(line)}</p>" for line in totals_sentences(data, lang))
        self._table.object = (
            f"<p>{escape(sentence)}</p>"
            + charts.table(
                tr("images.table_caption", lang),
                [
                    tr("images.col.case", lang),
                    tr("col.prototype", lang),
                    tr("images.col.prototype_class", lang),
                    tr("col.similarity", lang),
                    tr("images.col.weight", lang),
                    tr("images.col.points", lang),
                    tr("images.col.background", lang),
                ],
                evidence_rows(data, lang),
                numeric_columns=(3, 4, 5),
            )
            + totals
        )
        self._status.object = ""
        self.session.announcement = sentence
        return data


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
