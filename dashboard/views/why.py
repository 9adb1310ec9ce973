"""Why: the scorer's plain-language sentence, reasons for and against, the waterfall in probability points with
its table, and the exports (the explanation as CSV for spreadsheets, the one-page client letter)."""

from __future__ import annotations

import io
from html import escape

import panel as pn
import polars as pl

from dashboard import charts
from dashboard.cockpit import ClientSnapshot, Counterfactual, Explanation
from dashboard.i18n import format_percent, tr
from dashboard.views.base import SessionView, html_pane, show_while_filled
from dashboard.views.letter import explanation_csv, letter_link, points_text

WATERFALL_STEPS = 8


def waterfall_steps(
    grouped: pl.DataFrame, lang: str, limit: int = WATERFALL_STEPS
) -> list[tuple[str, float]]:
    """The ``limit`` largest groups by size in points, then one step summing all the others (so the sum holds)."""
    ordered = grouped.sort(pl.col("points").abs(), descending=True)
    head, tail = ordered.head(limit), ordered.slice(limit)
    steps = [
        (row["label"][:1].upper() + row["label"][1:], row["points"]) for row in head.iter_rows(named=True)
    ]
    if tail.height:
        steps.append((tr("why.others_groups", lang, n=tail.height), float(tail["points"].sum())))
    return steps


def _effect(points: float, lang: str) -> str:
    if abs(points) < 0.05:
        return tr("why.no_effect", lang)
    return tr("why.increases" if points > 0 else "why.decreases", lang)


def contributions_rows(contributions: pl.DataFrame, lang: str) -> list[list[str]]:
    """Table rows: label, client value, signed effect in points, effect in words (direction never by colour)."""
    ordered = contributions.sort(pl.col("points").abs(), descending=True)
    return [
        [
            row["label"],
            row["display_value"],
            points_text(row["points"], lang, 2),
            _effect(row["points"], lang),
        ]
        for row in ordered.iter_rows(named=True)
    ]


def reasons_html(explanation: Explanation, lang: str) -> str:
    """Reasons against then for (at most four each), as headed lists with their effect in points."""
    parts = []
    for key, reasons in (
        ("why.reasons_against", explanation.reasons_against),
        ("why.reasons_for", explanation.reasons_for),
    ):
        items = "".join(
            f"<li>{escape(reason.text(lang))} ({escape(points_text(reason.points, lang))})</li>"
            for reason in reasons
        )
        parts.append(
            f"<h3>{escape(tr(key, lang))}</h3>"
            + (f"<ul>{items}</ul>" if items else f"<p>{escape(tr('why.no_reason', lang))}</p>")
        )
    if explanation.not_provided:
        parts.append(
            f"<p>{escape(tr('why.not_provided', lang, items=', '.join(explanation.not_provided)))}</p>"
        )
    return "".join(parts)


def explanation_body(snapshot: ClientSnapshot, lang: str, heading_level: int = 2) -> str:
    """Sentence, reasons, waterfall in probability points (axis, threshold) and the table."""
    explanation = snapshot.explanation
    steps = waterfall_steps(explanation.grouped, lang)
    percent = {
        "base": format_percent(explanation.base_probability, lang),
        "probability": format_percent(explanation.probability, lang),
        "threshold": format_percent(explanation.threshold, lang),
    }
    chart = charts.waterfall(
        100 * explanation.base_probability,
        steps,
        100 * explanation.probability,
        label=tr("why.chart_label", lang, n=len(steps), **percent),
        base_text=tr("why.base", lang),
        final_text=tr("why.final", lang),
        value_format=lambda v: points_text(v, lang),
        threshold=100 * explanation.threshold,
        threshold_text=tr("why.threshold_mark", lang, value=percent["threshold"]),
        axis_format=lambda v: format_percent(v / 100, lang, 0),
    )
    table = charts.table(
        tr("why.table_caption", lang),
        [
            tr("col.feature", lang),
            tr("col.value", lang),
            tr("col.contribution", lang),
            tr("col.effect", lang),
        ],
        contributions_rows(explanation.contributions, lang),
        numeric_columns=(2,),
    )
    h, sub = f"h{heading_level}", f"h{heading_level + 1}"
    return (
        f"<{h}>{escape(tr('why.heading', lang))}</{h}>"
        f'<p class="sentence"><strong>{escape(explanation.sentence)}</strong></p>'
        + reasons_html(explanation, lang)
        + f"<{sub}>{escape(tr('why.chart_heading', lang))}</{sub}>"
        f"<p>{escape(tr('why.points_note', lang, **percent))}</p>{chart}"
        + charts.details(tr("why.show_table", lang), table)
    )


def would_take_html(answer: Counterfactual, lang: str) -> str:
    """The "what it would take" block: proposals with the risk they give, or a plain "nothing realistic"."""
    if not answer.needed:
        return ""
    items = "".join(
        f"<li>{escape(option.text(lang)[:1].upper() + option.text(lang)[1:])} "
        f"({escape(tr('letter.new_risk', lang, probability=format_percent(option.probability, lang)))})</li>"
        for option in answer.options
    )
    target = tr("why.would_take_target", lang, target=format_percent(answer.target, lang))
    return (
        f"<h3>{escape(tr('letter.would_take', lang))}</h3><p>{escape(target)}</p>"
        f"<p>{escape(answer.summary(lang))}</p>" + (f"<ul>{items}</ul>" if items else "")
    )


class WhyView(SessionView):
    """The local explanation of the client shown, with its exports."""

    def _build(self) -> pn.Column:
        self._body = html_pane()
        self._csv = pn.widgets.FileDownload(
            callback=self._csv_file,
            filename="contributions.csv",
            label=tr("export.csv", self.lang),
            color="primary",
            width=380,
        )
        self._letter = html_pane()  # the exports' heading and the letter's link: one pane, one model
        # Joins the page once computed: an empty pane is still a model every page pays for.
        self._would_take = html_pane()
        # On demand: it scores a few hundred candidate loans (a fraction of a second), too slow for every switch.
        self._would_take_button = pn.widgets.Button(
            label=tr("why.would_take_button", self.lang), color="primary", width=380
        )
        self._would_take_button.on_click(lambda _event: self.show_what_it_would_take())
        self._parts = pn.Column(
            self._body, self._would_take_button, self._letter, self._csv, sizing_mode="stretch_width"
        )
        return self._parts

    def _update(self) -> None:
        snapshot = self.session.snapshot
        self._body.object = explanation_body(snapshot, self.lang)
        explanation = snapshot.explanation
        self._would_take_button.visible = explanation.decision == "refused" or explanation.in_grey_zone
        show_while_filled(self._parts, self._would_take, "", before=self._letter)
        self._csv.filename = f"{'explication' if self.lang == 'fr' else 'explanation'}_{snapshot.sk_id}.csv"
        heading = f"<h3>{escape(tr('export.heading', self.lang))}</h3>"
        self._letter.object = heading + letter_link(snapshot.sk_id, self.lang)

    def show_what_it_would_take(self) -> None:
        """Compute and show the smallest realistic loan changes for the client shown."""
        snapshot = self.session.snapshot
        if snapshot is not None:
            answer = would_take_html(self.cockpit.what_it_would_take(snapshot), self.lang)
            show_while_filled(self._parts, self._would_take, answer, before=self._letter)  # below its button

    def _traced(self, detail: str) -> None:
        """Record the export first; an export that cannot be recorded is not produced (fail closed)."""
        if not self.session.trace("export", self.session.client_id, detail):
            raise PermissionError("export refused: the audit trail is unavailable")

    def _csv_file(self) -> io.BytesIO:
        self._traced("explanation_csv")
        return io.BytesIO(explanation_csv(self.session.snapshot, self.lang))
