"""The team lead's views: portfolio (score distribution, approval rate, metrics, cost curve, fairness, model card)
and global feature importance. Both read only small, precomputed tables: the scorer's artifact and the
warehouse's score histogram (aggregated in DuckDB), computed once per process."""

from __future__ import annotations

import re
from html import escape
from typing import Any

import polars as pl
from markdown_it import MarkdownIt

from dashboard import charts
from dashboard.i18n import TEXT, feature_label, format_number, format_percent, humanize, tr
from dashboard.views.base import HtmlSessionView

IMPORTANCE_TOP = 20


# Metrics shown with a human label, in this order, and how to write each (the rest is in the model card).
KEY_METRICS: tuple[tuple[str, str], ...] = (
    ("cv_auc", "number"),
    ("oof_auc", "number"),
    ("threshold", "percent"),
    ("business_cost", "number"),
    ("recall_at_threshold", "percent"),
    ("precision_at_threshold", "percent"),
    ("approval_rate", "percent"),
    ("default_rate", "percent"),
    ("brier", "number"),
    ("grey_zone", "percent"),
    ("n_train", "count"),
    ("n_features", "count"),
)


def key_metric_rows(metrics: dict[str, Any], lang: str) -> list[list[str]]:
    """The scorer's headline metrics with human labels and units; missing ones are skipped."""
    rows = []
    for name, kind in KEY_METRICS:
        value = metrics.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        text = (
            format_percent(value, lang)
            if kind == "percent"
            else format_number(value, lang)
            if kind == "count"
            else format_number(value, lang, 4)
        )
        rows.append([tr(f"metric.{name}", lang), text])
    return rows


def demote_headings(markdown: str, levels: int = 2) -> str:
    """Push Markdown headings down (# → ###) so an embedded document keeps the page's single h1 and order."""
    return re.sub(
        r"^(#{1,6})(\s)",
        lambda m: "#" * min(len(m.group(1)) + levels, 6) + m.group(2),
        markdown,
        flags=re.MULTILINE,
    )


APPROVAL_GAP_POINTS = 10.0  # a gap in approval rates this large between groups is flagged in words
MIN_GROUP_CLIENTS = 100  # smaller groups' rates are too noisy to compare


def fairness_words(attribute: str, group: str | None, lang: str) -> tuple[str, str]:
    """The attribute and group of a fairness row in words ("Sexe", "Femme"; "Tranche d'âge", "30-39 ans"),
    never a column code; a group the scorer could not place is "manquant"."""
    if group in (None, "unknown"):
        shown = tr("profile.missing", lang)
    elif attribute == "age_band":
        shown = tr("unit.years", lang, value=group)
    else:
        shown = humanize(attribute, group, lang)
    name = tr("fairness.age_band", lang) if attribute == "age_band" else feature_label(attribute, lang)
    return name, shown


def fairness_table(fairness: pl.DataFrame, lang: str) -> str:
    """The scorer's fairness table with translated headers, attributes and groups in words; rates as
    percentages, counts with separators."""
    headers = [
        tr(f"fairness.{column}", lang) if f"fairness.{column}" in TEXT else column
        for column in fairness.columns
    ]
    rows = []
    for row in fairness.iter_rows(named=True):
        words = fairness_words(row["attribute"], row["group"], lang)
        row = {**row, "attribute": words[0], "group": words[1]}
        cells = []
        for column, value in row.items():
            if isinstance(value, str) or value is None:
                cells.append(value if value is not None else tr("profile.missing", lang))
            elif column == "n":
                cells.append(format_number(value, lang))
            else:
                cells.append(format_percent(value, lang))
        rows.append(cells)
    numeric = tuple(i for i, column in enumerate(fairness.columns) if fairness.schema[column].is_numeric())
    return charts.table(tr("portfolio.fairness_caption", lang), headers, rows, numeric_columns=numeric)


def approval_gaps(fairness: pl.DataFrame, lang: str) -> list[str]:
    """One sentence per attribute whose groups' approval rates differ by ``APPROVAL_GAP_POINTS`` or more."""
    sentences = []
    for attribute in fairness.get_column("attribute").unique(maintain_order=True).to_list():
        groups = fairness.filter(
            (pl.col("attribute") == attribute) & (pl.col("n") >= MIN_GROUP_CLIENTS)
        ).drop_nulls("approval_rate")
        if groups.height < 2:
            continue
        low = groups.row(int(groups.get_column("approval_rate").arg_min()), named=True)
        high = groups.row(int(groups.get_column("approval_rate").arg_max()), named=True)
        gap = 100 * (high["approval_rate"] - low["approval_rate"])
        if gap >= APPROVAL_GAP_POINTS:
            sentences.append(
                tr(
                    "portfolio.approval_gap",
                    lang,
                    attribute=fairness_words(attribute, None, lang)[0],
                    points=format_number(gap, lang, 0),
                    high=fairness_words(attribute, high["group"], lang)[1],
                    high_rate=format_percent(high["approval_rate"], lang, 0),
                    low=fairness_words(attribute, low["group"], lang)[1],
                    low_rate=format_percent(low["approval_rate"], lang, 0),
                )
            )
    return sentences


def model_card_html(markdown: str) -> str:
    """The scorer's model card (written in English) as HTML marked ``lang="en"`` (WCAG 3.1.2), headings demoted."""
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    return f'<div lang="en">{renderer.render(demote_headings(markdown))}</div>'


class PortfolioView(HtmlSessionView):
    """Score distribution with the policy threshold, approval rate, model metrics, cost curve, fairness, card."""

    needs_client = False
    with_decision_card = False

    def _update(self) -> None:
        self._body.object = self.body_html() + model_card_html(self.cockpit.model_card)

    def body_html(self) -> str:
        lang, cockpit = self.lang, self.cockpit
        threshold = format_percent(cockpit.threshold, lang)
        parts = [f"<h2>{escape(tr('portfolio.heading', lang))}</h2>"]
        histogram = cockpit.score_histogram()
        parts.append(f"<h3>{escape(tr('portfolio.distribution_heading', lang))}</h3>")
        if histogram is None:
            parts.append(f"<p>{escape(tr('portfolio.no_scores', lang))}</p>")
        else:
            total = int(histogram["count"].sum())
            parts.append(
                f"<p>{escape(tr('portfolio.approval', lang, threshold=threshold, rate=format_percent(cockpit.approval_rate(), lang), n=format_number(total, lang)))}</p>"
            )
            edges = list(zip(histogram["bin_start"].to_list(), histogram["bin_end"].to_list(), strict=True))
            counts = [float(c) for c in histogram["count"].to_list()]
            parts.append(
                charts.histogram(
                    edges,
                    counts,
                    label=tr("portfolio.distribution_label", lang, threshold=threshold),
                    axis_format=lambda v: format_percent(v, lang, 0),
                    threshold=cockpit.threshold,
                    threshold_text=tr("gauge.threshold", lang, value=threshold),
                    title=tr("chart.scores.title", lang),
                    x_title=tr("chart.scores.x", lang),
                    y_title=tr("chart.scores.y", lang),
                    y_format=lambda v: format_number(v, lang),
                )
            )
            rows = [
                [f"{format_percent(s, lang, 0)} – {format_percent(e, lang, 0)}", format_number(c, lang)]
                for (s, e), c in zip(edges, counts, strict=True)
                if c
            ]
            parts.append(
                charts.details(
                    tr("compare.show_data", lang),
                    charts.table(
                        tr("portfolio.distribution_caption", lang),
                        [tr("col.range", lang), tr("col.count", lang)],
                        rows,
                        numeric_columns=(1,),
                    ),
                )
            )
        parts.append(f"<h3>{escape(tr('portfolio.metrics_heading', lang))}</h3>")
        parts.append(
            charts.table(
                tr("portfolio.metrics_heading", lang),
                [tr("col.metric", lang), tr("col.metric_value", lang)],
                key_metric_rows(cockpit.metrics, lang),
                numeric_columns=(1,),
            )
        )
        parts.append(f"<p>{escape(tr('portfolio.metrics_note', lang))}</p>")
        parts.append(self._cost_html(threshold))
        parts.append(f"<h3>{escape(tr('portfolio.fairness_heading', lang))}</h3>")
        parts += [f'<p class="gap">{escape(text)}</p>' for text in approval_gaps(cockpit.fairness, lang)]
        parts.append(fairness_table(cockpit.fairness, lang))
        parts.append(f"<h3>{escape(tr('portfolio.model_card_heading', lang))}</h3>")
        return "".join(parts)

    def _cost_html(self, threshold_text: str) -> str:
        lang, cockpit = self.lang, self.cockpit
        curve = cockpit.cost_curve
        xs, ys = curve["threshold"].to_list(), curve["cost"].to_list()
        at_policy = min(zip(xs, ys, strict=True), key=lambda point: abs(point[0] - cockpit.threshold))[1]
        chart = charts.line_chart(
            xs,
            ys,
            marker_x=cockpit.threshold,
            marker_text=tr("gauge.threshold", lang, value=threshold_text),
            label=tr(
                "portfolio.cost_label", lang, threshold=threshold_text, cost=format_number(at_policy, lang, 3)
            ),
            x_format=lambda v: format_percent(v, lang, 0),
            y_format=lambda v: format_number(v, lang, 2),
            title=tr("chart.cost.title", lang),
            x_title=tr("chart.cost.x", lang),
            y_title=tr("chart.cost.y", lang),
        )
        rows = [[format_percent(x, lang, 0), format_number(y, lang, 4)] for x, y in zip(xs, ys, strict=True)]
        table = charts.table(
            tr("portfolio.cost_caption", lang),
            [tr("col.threshold", lang), tr("col.cost", lang)],
            rows,
            numeric_columns=(0, 1),
        )
        return (
            f"<h3>{escape(tr('portfolio.cost_heading', lang))}</h3>"
            + chart
            + charts.details(tr("compare.show_data", lang), table)
        )


def importance_rows(importance: list[tuple[str, float]], lang: str) -> list[tuple[str, float]]:
    """(human label, mean |contribution|) of the features given, in their order."""
    return [(feature_label(feature, lang), weight) for feature, weight in importance]


class ImportanceView(HtmlSessionView):
    """Global importance: how much each feature weighs on decisions in general (not for one client)."""

    needs_client = False
    with_decision_card = False

    def _update(self) -> None:
        lang = self.lang
        rows = importance_rows(self.cockpit.global_importance(IMPORTANCE_TOP), lang)
        value_format = lambda v: format_number(v, lang, 3)  # noqa: E731
        chart = charts.horizontal_bars(
            rows,
            value_format=value_format,
            label=tr("importance.chart_label", lang, n=len(rows), first=rows[0][0] if rows else ""),
            title=tr("chart.importance.title", lang),
            x_title=tr("chart.importance.x", lang),
        )
        table = charts.table(
            tr("importance.caption", lang),
            [tr("col.feature", lang), tr("col.importance", lang)],
            [[name, value_format(value)] for name, value in rows],
            numeric_columns=(1,),
        )
        self._body.object = (
            f"<h2>{escape(tr('importance.heading', lang))}</h2>"
            f"<p>{escape(tr('importance.intro', lang))}</p>{chart}{table}"
        )
