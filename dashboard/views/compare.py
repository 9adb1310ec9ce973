"""Compare: the client's position among all clients, clients with the same decision, similar clients (explainable
criteria) and nearest neighbours (standardised important features), plus a two-feature density map.

Every number comes from an aggregate computed in DuckDB by the warehouse (histograms, percentiles, group
default rates, binned counts); no interaction moves the population into Python. Results that depend only on a
small spec (feature, cohort) are cached per process, so many managers looking at similar clients share them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import panel as pn
import param
import polars as pl

from dashboard import charts
from dashboard.i18n import format_number, format_percent, tr
from dashboard.neighbours import neighbour_index
from dashboard.resources import in_parallel
from dashboard.session import ClientSession, ClientSnapshot
from dashboard.views.base import SessionView, html_pane
from warehouse import Cohort
from warehouse.dictionary import humanize
from warehouse.dictionary import label as feature_label

NEAREST_K = 50
NEAREST_FEATURES = 8
WARM_PERCENTILE_FEATURES = 10  # x 3 population-wide groups: within the warehouse's cache of 32
HISTOGRAM_BINS = 30
HEATMAP_BINS = 20
CACHE_SIZE = 2048

# criterion key -> (i18n label key, Cohort field)
CRITERIA: dict[str, tuple[str, str]] = {
    "age": ("compare.filter.age", "age_range"),
    "income": ("compare.filter.income", "income_range"),
    "contract": ("compare.filter.contract", "contract_type"),
    "gender": ("compare.filter.gender", "gender"),
    "family": ("compare.filter.family", "family_status"),
    "education": ("compare.filter.education", "education"),
}
DEFAULT_CRITERIA = ("age", "income", "contract")
AGE_BAND_YEARS = 5.0
INCOME_BAND = 0.25


@dataclass(frozen=True)
class Group:
    """One comparison group: its key, label, cohort spec, size and observed default rate."""

    key: str
    label: str
    cohort: Any
    n: int
    default_rate: float | None


# ----------------------------------------------------------------------------------------------- cached queries
@functools.lru_cache(maxsize=CACHE_SIZE)
def cohort_stats(warehouse: Any, cohort: Any) -> dict:
    """Size and default rate of a cohort, cached on the (hashable) cohort spec."""
    return warehouse.cohort_stats(cohort)


@functools.lru_cache(maxsize=CACHE_SIZE)
def histogram(warehouse: Any, feature: str, cohort: Any, bins: int = HISTOGRAM_BINS) -> pl.DataFrame:
    return warehouse.histogram(feature, cohort, bins=bins)


@functools.lru_cache(maxsize=CACHE_SIZE)
def group_default_rates(warehouse: Any, feature: str, cohort: Any) -> pl.DataFrame:
    return warehouse.group_default_rates(feature, cohort)


@functools.lru_cache(maxsize=256)
def bivariate(warehouse: Any, x: str, y: str, bins: int = HEATMAP_BINS) -> pl.DataFrame:
    return warehouse.bivariate(x, y, None, bins=bins)


@functools.lru_cache(maxsize=8)
def ranked_features(scorer: Any, warehouse: Any) -> tuple[tuple[str, bool], ...]:
    """Features in order of global importance, with whether each is categorical (for pickers and KNN)."""
    catalog = warehouse.feature_catalog()
    categorical = dict(zip(catalog["name"].to_list(), catalog["is_categorical"].to_list(), strict=True))
    importance = scorer.global_importance.sort("mean_abs_shap", descending=True)
    ranked = [name for name in importance["feature"].to_list() if name in categorical]
    rest = [
        name for name in categorical if name not in ranked and name not in ("SK_ID_CURR", "split", "TARGET")
    ]
    return tuple((name, categorical[name]) for name in [*ranked, *rest])


def knn_features(scorer: Any, warehouse: Any) -> tuple[str, ...]:
    """The standardised features of the nearest-neighbour group: the most important numeric ones."""
    return tuple(name for name, is_categorical in ranked_features(scorer, warehouse) if not is_categorical)[
        :NEAREST_FEATURES
    ]


def warm_percentiles(resources: Any, count: int = WARM_PERCENTILE_FEATURES) -> None:
    """Fill the warehouse's percentile cache for the population-wide groups (all clients, each decision) on the
    most important numeric features, so that a client's first comparison on them scans nothing."""
    warehouse = resources.warehouse
    numeric = [
        name for name, is_categorical in ranked_features(resources.scorer, warehouse) if not is_categorical
    ]
    for feature in numeric[:count]:
        for cohort in (None, Cohort(decision="granted"), Cohort(decision="refused")):
            warehouse.percentile_of(feature, 0.0, cohort)


# ------------------------------------------------------------------------------------------------- pure logic
def similar_cohort(profile: dict[str, Any], criteria: tuple[str, ...]) -> Cohort | None:
    """The explainable "similar clients" cohort: the ticked criteria, centred on the client's own values.

    Criteria whose client value is missing are skipped (a filter on "missing" would not be explainable).
    """
    fields: dict[str, Any] = {}
    for key in criteria:
        _, field = CRITERIA[key]
        if key == "age" and profile.get("age_years") is not None:
            age = float(profile["age_years"])
            fields[field] = (age - AGE_BAND_YEARS, age + AGE_BAND_YEARS)
        elif key == "income" and profile.get("annual_income") is not None:
            income = float(profile["annual_income"])
            fields[field] = (income * (1 - INCOME_BAND), income * (1 + INCOME_BAND))
        elif key not in ("age", "income") and profile.get(field) is not None:
            fields[field] = profile[field]
    return Cohort(**fields) if fields else None


def comparison_groups(
    resources: Any, snapshot: ClientSnapshot, criteria: tuple[str, ...], lang: str, k: int = NEAREST_K
) -> list[Group]:
    """All clients, same decision, similar (criteria) and k nearest neighbours, each with size and default rate."""
    warehouse, scorer = resources.warehouse, resources.scorer
    decision = snapshot.explanation.decision
    index = neighbour_index(warehouse, knn_features(scorer, warehouse))
    nearest_ids, _ = index.nearest(snapshot.sk_id, k)
    specs = [
        ("all", tr("compare.group.all", lang), None),
        (
            "decision",
            tr("compare.group.decision", lang, decision=tr(f"decision.{decision}", lang)),
            Cohort(decision=decision),
        ),
        ("similar", tr("compare.group.similar", lang), similar_cohort(snapshot.profile, criteria)),
    ]
    all_stats = in_parallel(*[functools.partial(cohort_stats, warehouse, cohort) for _, _, cohort in specs])
    groups = [
        Group(key, label, cohort, int(stats["n"]), stats["default_rate"])
        for (key, label, cohort), stats in zip(specs, all_stats, strict=True)
    ]
    size, default_rate = index.outcome_stats(nearest_ids)
    groups.append(
        Group(
            "nearest",
            tr("compare.group.nearest", lang, k=size),
            Cohort(client_ids=tuple(sorted(int(i) for i in nearest_ids))),
            size,
            default_rate,
        )
    )
    return groups


def client_percentiles(resources: Any, feature: str, value: Any, groups: list[Group]) -> list[float | None]:
    """Share of each group below the client's value; None where it does not apply.

    The nearest-neighbour group is answered from the in-memory index when it holds the feature (it usually does:
    the default feature is the most important one); the other groups are queried concurrently in DuckDB.
    """
    warehouse = resources.warehouse
    index = neighbour_index(warehouse, knn_features(resources.scorer, warehouse))

    def share(group: Group) -> float | None:
        if value is None or not group.n:
            return None
        if group.key == "nearest" and feature in index.features:
            return index.percentile_of(feature, float(value), np.asarray(group.cohort.client_ids))
        return warehouse.percentile_of(feature, float(value), group.cohort)

    return in_parallel(*[functools.partial(share, group) for group in groups])


def client_value(snapshot: ClientSnapshot, feature: str) -> Any:
    """The client's value of a feature (model units), None when missing."""
    if feature not in snapshot.features.columns:
        return None
    value = snapshot.features[feature][0]
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


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
        ranked = ranked_features(self.resources.scorer, self.resources.warehouse)
        options = {f"{feature_label(name, lang)} ({name})": name for name, _ in ranked}
        numeric = {label: name for label, name in options.items() if not dict(ranked)[name]}
        numeric_names = list(numeric.values())
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
            options={tr(CRITERIA[key][0], lang): key for key in CRITERIA},
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
        groups = comparison_groups(self.resources, snapshot, tuple(self.criteria), lang)
        self._heading.object = f"<h2>{escape(tr('compare.heading', lang, id=snapshot.sk_id))}</h2>"
        self._groups.object = self.groups_html(snapshot, groups)
        self._distribution.object = self.distribution_html(snapshot, groups)
        self._bivariate.object = self.bivariate_html(snapshot)

    def ranked(self) -> tuple[tuple[str, bool], ...]:
        """(feature, is categorical) in order of global importance."""
        return ranked_features(self.resources.scorer, self.resources.warehouse)

    def _is_categorical(self, feature: str) -> bool:
        return dict(self.ranked()).get(feature, False)

    def groups_html(self, snapshot: ClientSnapshot, groups: list[Group]) -> str:
        """The four groups: size, observed default rate and, for numeric features, the client's percentile."""
        lang, feature = self.lang, self.feature
        value = client_value(snapshot, feature)
        numeric = not self._is_categorical(feature)
        percentiles = client_percentiles(self.resources, feature, value if numeric else None, groups)
        rows = [
            [
                group.label,
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
        lang, feature, warehouse = self.lang, self.feature, self.resources.warehouse
        label = feature_label(feature, lang)
        group = next(g for g in groups if g.key == self.plotted_group)
        value = client_value(snapshot, feature)
        shown_value = humanize(feature, value, lang)
        heading = f"<h3>{escape(tr('compare.distribution_heading', lang, feature=label))}</h3>"
        if self._is_categorical(feature):
            rates = group_default_rates(warehouse, feature, group.cohort)
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
        everyone = histogram(warehouse, feature, None)
        plotted = histogram(warehouse, feature, group.cohort)
        all_shares = _shares(everyone)
        group_shares = _shares(plotted)
        edges = list(zip(everyone["bin_start"].to_list(), everyone["bin_end"].to_list(), strict=True))
        summary = tr(
            "compare.distribution_summary",
            lang,
            value=shown_value,
            group=group.label,
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
            label=tr("compare.distribution_label", lang, feature=label, group=group.label, value=shown_value),
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
            [tr("col.range", lang), tr("compare.group.all", lang), group.label],
            rows,
            numeric_columns=(1, 2),
        )
        return (
            heading
            + f"<p>{escape(summary)}</p>"
            + chart
            + charts.details(tr("compare.show_data", lang), table)
        )

    def _percent_below(self, feature: str, value: Any, cohort: Any) -> str:
        if value is None:
            return tr("profile.missing", self.lang)
        return format_percent(
            self.resources.warehouse.percentile_of(feature, float(value), cohort), self.lang, 0
        )

    def bivariate_html(self, snapshot: ClientSnapshot) -> str:
        """Density map of two numeric features over all clients (binned in DuckDB), the client's cell framed."""
        lang, warehouse = self.lang, self.resources.warehouse
        x, y = self.x_feature, self.y_feature
        if self._is_categorical(x) or self._is_categorical(y):
            return f"<p>{escape(tr('compare.numeric_only', lang))}</p>"
        cells = bivariate(warehouse, x, y)
        x_edges, y_edges = (
            _edges(histogram(warehouse, x, None, HEATMAP_BINS)),
            _edges(histogram(warehouse, y, None, HEATMAP_BINS)),
        )
        indexed = [
            (_index(row["x_bin"], x_edges), _index(row["y_bin"], y_edges), row["count"], row["default_rate"])
            for row in cells.iter_rows(named=True)
        ]
        x_value, y_value = client_value(snapshot, x), client_value(snapshot, y)
        highlight = None
        if x_value is not None and y_value is not None:
            highlight = (_index(float(x_value), x_edges), _index(float(y_value), y_edges))
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


def _edges(frame: pl.DataFrame) -> list[float]:
    return [*frame["bin_start"].to_list(), frame["bin_end"][-1]]


def _index(value: float, edges: list[float]) -> int:
    """The bin holding ``value`` (end bins absorb the outliers, as the warehouse's binning does)."""
    width = (edges[-1] - edges[0]) / (len(edges) - 1) or 1.0
    return min(max(math.floor((value - edges[0]) / width + 1e-9), 0), len(edges) - 2)
