"""Client and loan profile: the warehouse's ``clients`` row in human units, grouped as a manager reads a file.

Missing values are written "manquant" / "missing", never left blank or shown as NaN.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from dashboard import charts
from dashboard.i18n import feature_label, format_money, format_number, format_percent, humanize, tr
from dashboard.views.base import HtmlSessionView

# Categories of the clients view and the application column whose words (label and levels) they take from the
# warehouse's dictionary: one vocabulary for the profile, the explanations and the analyst's catalogue.
CATEGORY_COLUMNS: dict[str, str] = {
    "gender": "CODE_GENDER",
    "family_status": "NAME_FAMILY_STATUS",
    "education": "NAME_EDUCATION_TYPE",
    "housing": "NAME_HOUSING_TYPE",
    "income_type": "NAME_INCOME_TYPE",
    "occupation": "OCCUPATION_TYPE",
    "employer_sector": "ORGANIZATION_TYPE",
    "contract_type": "NAME_CONTRACT_TYPE",
}

# (clients-view column, kind); kind says how to write the value.
PROFILE_SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "profile.identity": (
        ("age_years", "years"),
        ("gender", "category"),
        ("family_status", "category"),
        ("children", "count"),
        ("household_size", "count"),
        ("education", "category"),
    ),
    "profile.housing": (
        ("housing", "category"),
        ("owns_home", "bool"),
        ("owns_car", "bool"),
        ("region_rating", "count"),
    ),
    "profile.employment": (
        ("employed", "bool"),
        ("seniority_years", "years"),
        ("income_type", "category"),
        ("occupation", "category"),
        ("employer_sector", "category"),
        ("annual_income", "money"),
    ),
    "profile.loan": (
        ("contract_type", "category"),
        ("credit_amount", "money"),
        ("annuity", "money"),
        ("goods_price", "money"),
        ("payment_rate_pct", "percent"),
        ("duration_years", "years"),
        ("annuity_income_pct", "percent"),
        ("credit_income_ratio", "times"),
    ),
    "profile.external": (("ext_source_1", "score"), ("ext_source_2", "score"), ("ext_source_3", "score")),
}


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def with_duration(profile: dict[str, Any]) -> dict[str, Any]:
    """Add the loan duration in years (credit / yearly annuity), which the clients view does not hold."""
    credit, annuity = profile.get("credit_amount"), profile.get("annuity")
    duration = None if _is_missing(credit) or _is_missing(annuity) or not annuity else credit / annuity
    return {**profile, "duration_years": duration}


def display_value(profile: dict[str, Any], name: str, kind: str, lang: str) -> str:
    """One profile value in human units and the session language."""
    value = profile.get(name)
    if _is_missing(value):
        return tr("profile.missing", lang)
    if kind == "category":
        return humanize(CATEGORY_COLUMNS[name], value, lang)
    if kind == "money":
        return format_money(float(value), lang)
    if kind == "years":
        return tr("unit.years", lang, value=format_number(float(value), lang, 1))
    if kind == "percent":
        return format_percent(float(value) / 100, lang)
    if kind == "times":
        return tr("unit.times", lang, value=format_number(float(value), lang, 2))
    if kind == "score":
        return format_number(float(value), lang, 2)
    if kind == "count":
        return format_number(float(value), lang, 0)
    if kind == "bool":
        return tr("bool.yes" if value else "bool.no", lang)
    return str(value)


def field_label(name: str, lang: str) -> str:
    """The row label: the dictionary's for a category column, the dashboard's for a clients-view figure."""
    return (
        feature_label(CATEGORY_COLUMNS[name], lang) if name in CATEGORY_COLUMNS else tr(f"field.{name}", lang)
    )


def profile_html(sk_id: int, profile: dict[str, Any], lang: str) -> str:
    """The profile as one two-column table per section, under an h2 with h3 section headings."""
    profile = with_duration(profile)
    parts = [f"<h2>{escape(tr('profile.heading', lang, id=sk_id))}</h2>"]
    for section, fields in PROFILE_SECTIONS.items():
        rows = [[field_label(name, lang), display_value(profile, name, kind, lang)] for name, kind in fields]
        parts.append(f"<h3>{escape(tr(section, lang))}</h3>")
        if section == "profile.external":
            parts.append(f"<p>{escape(tr('profile.external_note', lang))}</p>")
        parts.append(charts.table(tr(section, lang), [tr("col.field", lang), tr("col.value", lang)], rows))
    return "".join(parts)


class ProfileView(HtmlSessionView):
    """Identity, family, housing, employment, income, the loan asked for and the external scores."""

    def _update(self) -> None:
        snapshot = self.session.snapshot
        self._body.object = profile_html(snapshot.sk_id, snapshot.profile, self.lang)
