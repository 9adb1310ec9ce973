"""Compare: the client's position among all clients, clients with the same decision, similar clients (explainable
criteria) and nearest neighbours (standardised important features), plus a two-feature density map.

Every number comes from an aggregate computed in DuckDB by the warehouse (histograms, percentiles, group
default rates, binned counts); no interaction moves the population into Python. Results that depend only on a
small spec (feature, cohort) are cached per process, so many managers looking at similar clients share them.
"""

from __future__ import annotations

from html import escape
from typing import Any

import panel as pn
import param
import polars as pl

from dashboard import charts
from dashboard.cockpit import CRITERIA, DEFAULT_CRITERIA, NEAREST_K, ClientSnapshot, Cohort, Group
from dashboard.i18n import feature_label, format_number, format_percent, humanize, tr
from dashboard.views.base import ClientSession, SessionView, html_pane

HISTOGRAM_BINS = 30
HEATMAP_BINS = 20


def group_label(group: Group, snapshot: ClientSnapshot, lang: str) -> str:
    """ "Tous les clients", "Même décision (refusé)", "Clients similaires", "Les 50 plus proches voisins"."""
    if group.key == "decision":
        decision = snapshot.explanation.decision
        return tr("compare.group.decision", lang, decision=tr(f"decision.{decision}", lang))
    if group.key == "nearest":
        return tr("compare.group.nearest", lang, k=group.n)
    return tr(f"compare.group.{group.key}", lang)


def criterion_label(key: str, lang: str) -> str:
    """ "Tranche d'âge (± 5 ans)", or the dictionary's label of the column a criterion filters ("Sexe")."""
    column = CRITERIA[key][1]
    return tr(f"compare.filter.{key}", lang) if column is None else feature_label(column, lang)


def _rate(value: float | None, lang: str) -> str:
    return format_percent(value, lang) if value is not None else tr("profile.missing", lang)


# ------------------------------------------------------------------------------------------------------ view
class CompareView(SessionView):
    """Position of the client for a feature the manager picks, in four groups, and a two-feature density map."""

    feature = param.String(default="", doc="Feature compared (column of the features table).")
    criteria = param.ListSelector(
        default=list(DEFAULT_CRITERIA),
        objects=list(CRITERIA),
        doc="Criteria defining the similar-clients group.",
    )
    plotted_group = param.Selector(
        default="similar",
        objects=["decision", "similar", "nearest"],
        doc="Group drawn against all clients in the histogram.",
    )
    x_feature = param.String(default="", doc="Horizontal feature of the density map.")
    y_feature = param.String(default="", doc="Vertical feature of the density map.")

    def __init__(self, session: ClientSession, **params: Any) -> None:
        super().__init__(session, **params)
        lang = self.lang
        ranked = self.cockpit.ranked_features()
        options = {feature_label(name, lang): name for name, _ in ranked}  # labels are unique: no column code
        numeric_names = self.cockpit.numeric_features()
        numeric = {label: name for label, name in options.items() if name in set(numeric_names)}
        self.param.update(
            feature=self.feature or numeric_names[0],
            x_feature=self.x_feature or numeric_names[0],
            y_feature=self.y_feature or numeric_names[min(1, len(numeric_names) - 1)],
        )
        self._feature_select = pn.widgets.Select(
            label=tr("compare.feature", lang),
            options=options,
            value=self.feature,
            sizing_mode="stretch_width",
        )
        self._criteria_box = pn.widgets.CheckBoxGroup(
            label=tr("compare.filters", lang),
            options={criterion_label(key, lang): key for key in CRITERIA},
            value=list(self.criteria),
            inline=True,
            sizing_mode="stretch_width",
            stylesheets=[".bk-input-group.bk-inline { flex-wrap: wrap; gap: 0.25rem 1rem; }"],
        )
        group_labels = {
            tr("compare.group.decision_short", lang): "decision",
            tr("compare.group.similar", lang): "similar",
            tr("compare.group.nearest", lang, k=NEAREST_K): "nearest",
        }
        self._group_select = pn.widgets.Select(
            label=tr("compare.histogram_group", lang),
            options=group_labels,
            value=self.plotted_group,
            width=320,
        )
        self._x_select = pn.widgets.Select(
            label=tr("compare.x", lang), options=numeric, value=self.x_feature, sizing_mode="stretch_width"
        )
        self._y_select = pn.widgets.Select(
            label=tr("compare.y", lang), options=numeric, value=self.y_feature, sizing_mode="stretch_width"
        )
        for widget, name in (
            (self._feature_select, "feature"),
            (self._criteria_box, "criteria"),
            (self._group_select, "plotted_group"),
            (self._x_select, "x_feature"),
            (self._y_select, "y_feature"),
        ):
            widget.param.watch(lambda event, name=name: setattr(self, name, event.new), "value")
        self._heading = html_pane()
        self._criteria_help = html_pane(f"<p>{escape(tr('compare.filters_help', lang, k=NEAREST_K))}</p>")
        self._groups = html_pane()
        self._distribution = html_pane()
        self._bivariate_heading = html_pane(f"<h3>{escape(tr('compare.bivariate_heading', lang))}</h3>")
        self._bivariate = html_pane()
        self._content = pn.Column(
            self._heading,
            self._feature_select,
            self._criteria_box,
            self._criteria_help,
            self._groups,
            self._group_select,
            self._distribution,
            self._bivariate_heading,
            pn.FlexBox(self._x_select, self._y_select),
            self._bivariate,
            sizing_mode="stretch_width",
        )

    @param.depends("feature", "criteria", "plotted_group", watch=True)
    def _choice_changed(self) -> None:
        if self._active:
            self.refresh()
        else:
            self._stale = True

    @param.depends("x_feature", "y_feature", watch=True)
    def _axes_changed(self) -> None:
        if self._active and self.session.snapshot is not None:
            self._bivariate.object = self.bivariate_html(self.session.snapshot)

    def _update(self) -> None:
        snapshot = self.session.snapshot
        lang = self.lang
        groups = self.cockpit.comparison_groups(snapshot, tuple(self.criteria))
        self._heading.object = f"<h2>{escape(tr('compare.heading', lang, id=snapshot.sk_id))}</h2>"
        self._groups.object = self.groups_html(snapshot, groups)
        self._distribution.object = self.distribution_html(snapshot, groups)
        self._bivariate.object = self.bivariate_html(snapshot)

    def _is_categorical(self, feature: str) -> bool:
        return self.cockpit.is_categorical(feature)

    def groups_html(self, snapshot: ClientSnapshot, groups: list[Group]) -> str:
        """The four groups: size, observed default rate and, for numeric features, the client's percentile."""
        lang, feature = self.lang, self.feature
        value = snapshot.value(feature)
        numeric = not self._is_categorical(feature)
        percentiles = self.cockpit.client_percentiles(feature, value if numeric else None, groups)
        rows = [
            [
                group_label(group, snapshot, lang),
                format_number(group.n, lang),
                _rate(group.default_rate, lang),
                "–" if share is None else format_percent(share, lang, 0),
            ]
            for group, share in zip(groups, percentiles, strict=True)
        ]
        return f"<h3>{escape(tr('compare.groups_heading', lang))}</h3>" + charts.table(
            tr("compare.groups_heading", lang),
            [
                tr("col.group", lang),
                tr("col.size", lang),
                tr("col.default_rate", lang),
                tr("col.percentile", lang),
            ],
            rows,
            numeric_columns=(1, 2, 3),
        )

    def distribution_html(self, snapshot: ClientSnapshot, groups: list[Group]) -> str:
        """Histogram of all clients with the plotted group's outline and the client's marker, plus its table;
        for a categorical feature, the default rate per level in the plotted group."""
        lang, feature, cockpit = self.lang, self.feature, self.cockpit
        label = feature_label(feature, lang)
        group = next(g for g in groups if g.key == self.plotted_group)
        name = group_label(group, snapshot, lang)
        value = snapshot.value(feature)
        shown_value = humanize(feature, value, lang)
        heading = f"<h3>{escape(tr('compare.distribution_heading', lang, feature=label))}</h3>"
        if self._is_categorical(feature):
            rates = cockpit.group_default_rates(feature, group.cohort)
            rows = [
                [
                    humanize(feature, r["group"], lang),
                    format_number(r["n"], lang),
                    _rate(r["default_rate"], lang),
                ]
                for r in rates.iter_rows(named=True)
            ]
            return (
                heading
                + f"<p>{escape(tr('compare.categorical_summary', lang, value=shown_value))}</p>"
                + charts.table(
                    tr("compare.levels_caption", lang, feature=label),
                    [tr("col.group", lang), tr("col.size", lang), tr("col.default_rate", lang)],
                    rows,
                    numeric_columns=(1, 2),
                )
            )
        if group.n == 0:
            return heading + f"<p>{escape(tr('compare.empty_group', lang))}</p>"
        everyone = cockpit.histogram(feature, None, HISTOGRAM_BINS)
        plotted = cockpit.histogram(feature, group.cohort, HISTOGRAM_BINS)
        all_shares = _shares(everyone)
        group_shares = _shares(plotted)
        edges = list(zip(everyone["bin_start"].to_list(), everyone["bin_end"].to_list(), strict=True))
        summary = tr(
            "compare.distribution_summary",
            lang,
            value=shown_value,
            group=name,
            all_pct=self._percent_below(feature, value, None),
            group_pct=self._percent_below(feature, value, group.cohort),
        )
        chart = charts.histogram(
            edges,
            all_shares,
            overlay=group_shares,
            marker=None if value is None else float(value),
            marker_text=shown_value,
            axis_format=lambda v: humanize(feature, v, lang),
            label=tr("compare.distribution_label", lang, feature=label, group=name, value=shown_value),
        )
        rows = [
            [
                f"{humanize(feature, start, lang)} – {humanize(feature, end, lang)}",
                format_percent(a, lang),
                format_percent(g, lang),
            ]
            for (start, end), a, g in zip(edges, all_shares, group_shares, strict=True)
        ]
        table = charts.table(
            tr("compare.bins_caption", lang, feature=label),
            [tr("col.range", lang), tr("compare.group.all", lang), name],
            rows,
            numeric_columns=(1, 2),
        )
        return (
            heading
            + f"<p>{escape(summary)}</p>"
            + chart
            + charts.details(tr("compare.show_data", lang), table)
        )

    def _percent_below(self, feature: str, value: Any, cohort: Cohort | None) -> str:
        return format_percent(self.cockpit.percentile_of(feature, value, cohort), self.lang, 0)

    def bivariate_html(self, snapshot: ClientSnapshot) -> str:
        """Density map of two numeric features over all clients (binned in DuckDB), the client's cell framed."""
        lang, cockpit = self.lang, self.cockpit
        x, y = self.x_feature, self.y_feature
        if self._is_categorical(x) or self._is_categorical(y):
            return f"<p>{escape(tr('compare.numeric_only', lang))}</p>"
        cells = cockpit.bivariate(x, y, HEATMAP_BINS)
        x_edges, y_edges = cockpit.bin_edges(x, HEATMAP_BINS), cockpit.bin_edges(y, HEATMAP_BINS)
        indexed = [
            (row["x_index"], row["y_index"], row["count"], row["default_rate"])
            for row in cells.iter_rows(named=True)
        ]
        x_value, y_value = snapshot.value(x), snapshot.value(y)
        highlight = None
        if x_value is not None and y_value is not None:
            highlight = (cockpit.bin_of(x, x_value, HEATMAP_BINS), cockpit.bin_of(y, y_value, HEATMAP_BINS))
        x_label, y_label = feature_label(x, lang), feature_label(y, lang)
        densest = max((count for _, _, count, _ in indexed), default=0)
        chart = charts.heatmap(
            x_edges,
            y_edges,
            [(ix, iy, count) for ix, iy, count, _ in indexed],
            highlight=highlight,
            label=tr("compare.heatmap_label", lang, x=x_label, y=y_label),
            x_title=x_label,
            y_title=y_label,
            legend=(
                tr("compare.heatmap_legend_few", lang),
                tr("compare.heatmap_legend_many", lang, count=format_number(densest, lang)),
            ),
            x_format=lambda v: humanize(x, v, lang),
            y_format=lambda v: humanize(y, v, lang),
        )

        def cell_range(edges: list[float], index: int, feature: str) -> str:
            return f"{humanize(feature, edges[index], lang)} – {humanize(feature, edges[index + 1], lang)}"

        summary = tr("compare.heatmap_outside", lang)
        if highlight is not None:
            match = next((cell for cell in indexed if (cell[0], cell[1]) == highlight), None)
            count, rate = (match[2], match[3]) if match else (0, None)
            summary = tr(
                "compare.heatmap_summary",
                lang,
                x=x_label,
                y=y_label,
                x_range=cell_range(x_edges, highlight[0], x),
                y_range=cell_range(y_edges, highlight[1], y),
                count=format_number(count, lang),
                rate=_rate(rate, lang),
            )
        rows = [
            [
                cell_range(x_edges, ix, x),
                cell_range(y_edges, iy, y),
                format_number(count, lang),
                _rate(rate, lang),
            ]
            for ix, iy, count, rate in indexed
        ]
        table = charts.table(
            tr("compare.heatmap_caption", lang),
            [x_label, y_label, tr("col.count", lang), tr("col.default_rate", lang)],
            rows,
            numeric_columns=(2, 3),
        )
        return f"<p>{escape(summary)}</p>" + chart + charts.details(tr("compare.show_data", lang), table)


def _shares(frame: pl.DataFrame) -> list[float]:
    total = frame["count"].sum() or 1
    return [count / total for count in frame["count"].to_list()]
