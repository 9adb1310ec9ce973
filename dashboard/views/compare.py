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
from dashboard.i18n import feature_label, feature_unit, format_number, format_percent, humanize, tr
from dashboard.views.base import CheckGroup, ClientSession, SessionView, html_pane

HISTOGRAM_BINS = 30
HEATMAP_BINS = 20
MIN_CELL_CLIENTS = 20  # a default rate on fewer clients is noise: such cells stay blank on the map
# Offered by default (when the model has them): what a manager and a client talk about; the full list is one
# search away.
CURATED_FEATURES = (
    "DAYS_BIRTH",
    "AMT_INCOME_TOTAL",
    "AMT_CREDIT",
    "AMT_ANNUITY",
    "AMT_GOODS_PRICE",
    "ANNUITY_INCOME_PERC",
    "PAYMENT_RATE",
    "CREDIT_TO_GOODS",
    "DAYS_EMPLOYED",
    "EXT_SOURCES_MEAN",
    "CNT_CHILDREN",
    "CNT_FAM_MEMBERS",
    "NAME_INCOME_TYPE",
    "NAME_EDUCATION_TYPE",
    "NAME_FAMILY_STATUS",
    "INSTAL_DPD_MEAN",
)


def human_order(feature: str) -> bool:
    """True for DAYS_* offsets (negative days before the application): shown as durations, they read backwards
    unless mirrored, so a 27-year-old would "exceed 90 % of clients"."""
    try:
        return feature_unit(feature) == "days"
    except KeyError:
        return False


def feature_options(names: list[str], lang: str) -> dict[str, str]:
    """Human label → feature name, without column codes; a repeated label gets a number to stay distinct."""
    options: dict[str, str] = {}
    for name in names:
        label = feature_label(name, lang)
        text, n = label, 2
        while text in options:
            text, n = f"{label} ({n})", n + 1
        options[text] = name
    return options


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
        ranked = [name for name, _ in self.cockpit.ranked_features()]
        everything = feature_options(ranked, lang)
        curated = [name for name in CURATED_FEATURES if name in set(ranked)] or ranked[:15]
        options = feature_options(curated, lang)
        numeric_names = self.cockpit.numeric_features()
        numeric = {label: name for label, name in everything.items() if name in set(numeric_names)}
        self.param.update(
            feature=self.feature or next((n for n in curated if n in set(numeric_names)), numeric_names[0]),
            x_feature=self.x_feature or numeric_names[0],
            y_feature=self.y_feature or numeric_names[min(1, len(numeric_names) - 1)],
        )
        self._feature_select = pn.widgets.Select(
            label=tr("compare.feature", lang),
            options=options,
            value=self.feature if self.feature in options.values() else None,
            sizing_mode="stretch_width",
        )
        self._feature_search = pn.widgets.AutocompleteInput(
            label=tr("compare.search_feature", lang),
            options=list(everything),
            search_strategy="includes",
            case_sensitive=False,
            min_characters=2,
            restrict=True,
            sizing_mode="stretch_width",
        )
        self._feature_search.param.watch(
            lambda event: event.new in everything and setattr(self, "feature", everything[event.new]), "value"
        )
        self._criteria_box = CheckGroup(
            legend=tr("compare.filters", lang),
            options={criterion_label(key, lang): key for key in CRITERIA},
            value=list(self.criteria),
            sizing_mode="stretch_width",
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
            pn.FlexBox(self._feature_select, self._feature_search),
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
        percentiles = self._human_shares(
            feature, self.cockpit.client_percentiles(feature, value if numeric else None, groups)
        )
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
        marker = None if value is None else float(value)
        sign = -1 if human_order(feature) else 1
        if sign < 0:  # mirror the axis so durations grow to the right
            edges = [(-end, -start) for start, end in reversed(edges)]
            all_shares, group_shares = all_shares[::-1], group_shares[::-1]
            marker = None if marker is None else -marker

        def axis_format(v: float) -> str:
            return humanize(feature, sign * v, lang)

        summary = tr(
            "compare.distribution_summary",
            lang,
            value=shown_value,
            group=name,
            all_pct=self._percent_below(feature, value, None),
            group_pct=self._percent_below(feature, value, group.cohort),
        )
        legend = tr(
            "compare.histogram_legend",
            lang,
            group=name,
        )
        chart = charts.histogram(
            edges,
            all_shares,
            overlay=group_shares,
            marker=marker,
            marker_text=shown_value,
            axis_format=axis_format,
            label=tr("compare.distribution_label", lang, feature=label, group=name, value=shown_value),
            x_title=label,
            y_title=tr("chart.share.y", lang),
            y_format=lambda share: format_percent(share, lang, 0),
        )
        rows = [
            [
                f"{axis_format(start)} – {axis_format(end)}",
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
            + f'<p class="legend">{escape(legend)}</p>'
            + charts.details(tr("compare.show_data", lang), table)
        )

    def _percent_below(self, feature: str, value: Any, cohort: Cohort | None) -> str:
        """Share of the cohort below the client, in human order (a shorter duration is below)."""
        share = self._human_shares(feature, [self.cockpit.percentile_of(feature, value, cohort)])[0]
        return format_percent(share, self.lang, 0)

    @staticmethod
    def _human_shares(feature: str, shares: list[float | None]) -> list[float | None]:
        if not human_order(feature):
            return shares
        return [None if share is None else 1 - share for share in shares]

    def bivariate_html(self, snapshot: ClientSnapshot) -> str:
        """Density map of two numeric features over all clients (binned in DuckDB), the client's cell framed."""
        lang, cockpit = self.lang, self.cockpit
        x, y = self.x_feature, self.y_feature
        if self._is_categorical(x) or self._is_categorical(y):
            return f"<p>{escape(tr('compare.numeric_only', lang))}</p>"
        cells = cockpit.bivariate(x, y, HEATMAP_BINS)
        x_edges, y_edges = cockpit.bin_edges(x, HEATMAP_BINS), cockpit.bin_edges(y, HEATMAP_BINS)
        x_sign, y_sign = (-1 if human_order(x) else 1), (-1 if human_order(y) else 1)
        nx, ny = len(x_edges) - 1, len(y_edges) - 1

        def x_index(i: int) -> int:  # durations mirrored so they grow to the right / upwards
            return nx - 1 - i if x_sign < 0 else i

        def y_index(i: int) -> int:
            return ny - 1 - i if y_sign < 0 else i

        if x_sign < 0:
            x_edges = [-edge for edge in reversed(x_edges)]
        if y_sign < 0:
            y_edges = [-edge for edge in reversed(y_edges)]
        indexed = [
            (x_index(row["x_index"]), y_index(row["y_index"]), row["count"], row["default_rate"])
            for row in cells.iter_rows(named=True)
        ]
        x_value, y_value = snapshot.value(x), snapshot.value(y)
        highlight = None
        if x_value is not None and y_value is not None:
            highlight = (
                x_index(cockpit.bin_of(x, x_value, HEATMAP_BINS)),
                y_index(cockpit.bin_of(y, y_value, HEATMAP_BINS)),
            )
        x_label, y_label = feature_label(x, lang), feature_label(y, lang)
        rated = [
            (ix, iy, rate)
            for ix, iy, count, rate in indexed
            if count >= MIN_CELL_CLIENTS and rate is not None
        ]
        highest = max((rate for _, _, rate in rated), default=0.0)
        chart = charts.heatmap(
            x_edges,
            y_edges,
            rated,
            highlight=highlight,
            label=tr("compare.heatmap_label", lang, x=x_label, y=y_label, n=MIN_CELL_CLIENTS),
            x_title=x_label,
            y_title=y_label,
            legend=(
                tr("compare.heatmap_legend_few", lang),
                tr("compare.heatmap_legend_many", lang, rate=format_percent(highest, lang, 0)),
            ),
            x_format=lambda v: humanize(x, x_sign * v, lang),
            y_format=lambda v: humanize(y, y_sign * v, lang),
        )

        def cell_range(edges: list[float], index: int, feature: str) -> str:
            sign = x_sign if feature == x else y_sign
            return f"{humanize(feature, sign * edges[index], lang)} – {humanize(feature, sign * edges[index + 1], lang)}"

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
