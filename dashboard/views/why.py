"""Why: the scorer's plain-language sentence, reasons for and against, the local waterfall with its table, and
the exports (contributions as CSV, a printable one-page explanation as HTML)."""

from __future__ import annotations

import datetime as dt
import io
from html import escape
from typing import Any

import panel as pn
import polars as pl

from dashboard import charts
from dashboard.cockpit import ClientSnapshot, Explanation
from dashboard.i18n import format_signed, tr
from dashboard.views.base import ClientSession, SessionView, html_pane
from dashboard.views.decision import CARD_CSS, decision_figures, render_card

WATERFALL_STEPS = 10


def _log_odds(value: float, lang: str) -> str:
    return format_signed(value, lang, 3)


def waterfall_steps(
    contributions: pl.DataFrame, lang: str, limit: int = WATERFALL_STEPS
) -> list[tuple[str, float]]:
    """The ``limit`` largest contributions by size, then one step summing all the others (so the sum holds)."""
    ordered = contributions.sort(pl.col("contribution").abs(), descending=True)
    head, tail = ordered.head(limit), ordered.slice(limit)
    steps = [
        (f"{row['label']} = {row['display_value']}", row["contribution"])
        for row in head.iter_rows(named=True)
    ]
    if tail.height:
        steps.append((tr("why.others", lang, n=tail.height), float(tail["contribution"].sum())))
    return steps


def contributions_rows(contributions: pl.DataFrame, lang: str) -> list[list[str]]:
    """Table rows: label, client value, signed contribution, effect in words (direction never by colour)."""
    ordered = contributions.sort(pl.col("contribution").abs(), descending=True)
    return [
        [
            row["label"],
            row["display_value"],
            _log_odds(row["contribution"], lang),
            tr("why.increases" if row["contribution"] > 0 else "why.decreases", lang),
        ]
        for row in ordered.iter_rows(named=True)
    ]


def contributions_csv(snapshot: ClientSnapshot) -> str:
    """The full contribution table as CSV (machine-readable: feature codes, raw contribution in log-odds)."""
    explanation = snapshot.explanation
    frame = explanation.contributions.select(
        pl.lit(snapshot.sk_id).alias("SK_ID_CURR"),
        "feature",
        "group",
        "label",
        "display_value",
        pl.col("contribution").alias("contribution_log_odds"),
    ).sort(pl.col("contribution_log_odds").abs(), descending=True)
    header = (
        f"# probability={explanation.probability:.6f};threshold={explanation.threshold:.6f};"
        f"decision={explanation.decision};base_value={explanation.base_value:.6f}\n"
    )
    return header + frame.write_csv()


def reasons_html(explanation: Explanation, lang: str) -> str:
    """Reasons against then for, as headed lists (h3) with the strength in words."""
    parts = []
    for key, reasons in (
        ("why.reasons_against", explanation.reasons_against),
        ("why.reasons_for", explanation.reasons_for),
    ):
        items = "".join(
            f"<li>{escape(reason.text(lang))} – {escape(reason.strength)} "
            f"({_log_odds(reason.contribution, lang)})</li>"
            for reason in reasons
        )
        parts.append(
            f"<h3>{escape(tr(key, lang))}</h3>"
            + (f"<ul>{items}</ul>" if items else f"<p>{escape(tr('why.no_reason', lang))}</p>")
        )
    return "".join(parts)


def explanation_body(snapshot: ClientSnapshot, lang: str, heading_level: int = 2) -> str:
    """Sentence, reasons, waterfall and table: shared by the page and the printable export."""
    explanation = snapshot.explanation
    steps = waterfall_steps(explanation.contributions, lang)
    chart = charts.waterfall(
        explanation.base_value,
        steps,
        explanation.raw_score,
        label=tr(
            "why.chart_label",
            lang,
            n=len(steps),
            base=_log_odds(explanation.base_value, lang),
            score=_log_odds(explanation.raw_score, lang),
        ),
        base_text=tr("why.base", lang),
        final_text=tr("why.final", lang),
        value_format=lambda v: _log_odds(v, lang),
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
        f"<p>{escape(tr('why.log_odds_note', lang))}</p>{chart}"
        + charts.details(tr("why.show_table", lang), table)
    )


def printable_html(
    snapshot: ClientSnapshot, lang: str, grey_zone: float, now: dt.datetime | None = None
) -> str:
    """A self-contained one-page explanation for the client (print it from the browser or save it)."""
    explanation = snapshot.explanation
    title = tr("export.print_title", lang, id=snapshot.sk_id)
    card = render_card(
        snapshot.sk_id, decision_figures(explanation, grey_zone, None), lang, explanation.threshold
    )
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    body = explanation_body(snapshot, lang).replace("<details>", "<details open>")
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:1rem auto;color:#1a1a1a}}"
        f"{charts.TABLE_CSS}{CARD_CSS}@media print{{details summary{{display:none}}}}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{card}{body}"
        f"<p>{escape(tr('export.generated', lang, date=stamp))}</p></main></body></html>"
    )


class WhyView(SessionView):
    """The local explanation of the client shown, with its exports."""

    def __init__(self, session: ClientSession, **params: Any) -> None:
        super().__init__(session, **params)
        self._body = html_pane()
        self._csv = pn.widgets.FileDownload(
            callback=self._csv_file,
            filename="contributions.csv",
            label=tr("export.csv", self.lang),
            color="primary",
            width=380,
        )
        self._print = pn.widgets.FileDownload(
            callback=self._print_file,
            filename="explication.html",
            label=tr("export.print", self.lang),
            width=380,
        )
        self._export_heading = html_pane(f"<h3>{escape(tr('export.heading', self.lang))}</h3>")
        self._content = pn.Column(
            self._body, self._export_heading, pn.FlexBox(self._csv, self._print), sizing_mode="stretch_width"
        )

    def _update(self) -> None:
        snapshot = self.session.snapshot
        self._body.object = explanation_body(snapshot, self.lang)
        self._csv.filename = f"contributions_client_{snapshot.sk_id}.csv"
        self._print.filename = (
            f"{'explication' if self.lang == 'fr' else 'explanation'}_client_{snapshot.sk_id}.html"
        )

    def _csv_file(self) -> io.StringIO:
        return io.StringIO(contributions_csv(self.session.snapshot))

    def _print_file(self) -> io.StringIO:
        return io.StringIO(printable_html(self.session.snapshot, self.lang, self.cockpit.grey_zone))
