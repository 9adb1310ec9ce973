"""The views' logic on the small fixtures, without a browser: what each view computes and shows."""

from __future__ import annotations

import io
import math

import polars as pl
import pytest

from dashboard.cockpit import similar_cohort
from dashboard.shell import VIEWS, Dashboard, parse_view
from dashboard.views.compare import CompareView
from dashboard.views.decision import DecisionCard, decision_figures
from dashboard.views.images import ImagesView
from dashboard.views.portfolio import ImportanceView, PortfolioView, demote_headings
from dashboard.views.profile import ProfileView, display_value, with_duration
from dashboard.views.search import ClientSearch
from dashboard.views.whatif import WhatIfView, parse_number
from dashboard.views.why import WhyView, contributions_csv, printable_html
from tests.dashboard.rendering import rendered


@pytest.fixture
def shown(session, client_ids):
    session.show(client_ids[0])
    return session


def test_every_view_opens_without_error_in_both_languages(cockpit, client_ids, lang):
    dashboard = Dashboard(cockpit, lang, client_text=str(client_ids[0]))
    for key in VIEWS:
        view = dashboard.open_view(key)
        assert view._error.object == "", (key, view._error.object)
        assert dashboard.nav.current == dashboard.session.view == key
        assert len(dashboard.main.objects) == (3 if view.with_decision_card else 2)  # meta, [card], view


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("profile", "profile"),
        ("PROFILE", "profile"),
        (None, "decision"),
        ("../../etc/passwd", "decision"),
        ("<b>", "decision"),
    ],
)
def test_view_key_from_url_is_validated(raw, expected):
    assert parse_view(raw) == expected


def test_search_suggests_ids_from_the_warehouse_and_nothing_for_garbage(shown, client_ids):
    search = ClientSearch(shown)
    prefix = str(client_ids[0])[:4]
    search.update_suggestions(prefix)
    assert search.suggestions and all(str(i).startswith(prefix) for i in search.suggestions)
    assert [key for key, _ in search._suggestion_links.items] == [str(sk_id) for sk_id in search.suggestions]
    search._suggestion_links.current = str(search.suggestions[1])  # a click on a link shows that client
    assert shown.client_id == search.suggestions[1] and shown.recent[0] == search.suggestions[1]
    assert search._suggestion_links.current == ""
    assert [key for key, _ in search._recent_links.items] == [str(i) for i in shown.recent]
    for garbage in ("abc", "1", "'; --", ""):
        search.update_suggestions(garbage)
        assert search.suggestions == [] and search._suggestion_links.items == []


def test_decision_card_shows_policy_figures_and_simulation_is_explicit(shown):
    card = DecisionCard(shown)
    card.activate()
    explanation = shown.snapshot.explanation
    assert card.figures().threshold == explanation.threshold and not card.figures().simulated
    assert "SIMULATION" not in rendered(card) and 'role="img"' in rendered(card)
    low = max(explanation.probability * 100 / 2, 1.0)
    card.param.update(simulate=True, simulated_threshold_percent=low)
    figures = card.figures()
    assert figures.simulated and figures.decision == (
        "refused" if explanation.probability >= low / 100 else "granted"
    )
    assert "SIMULATION" in rendered(card)


def test_decision_figures_margin_and_grey_zone():
    class Explanation:
        probability, threshold, decision, margin_points, in_grey_zone = 0.12, 0.09, "refused", 3.0, False

    figures = decision_figures(Explanation, 0.02, 0.11)
    assert figures.decision == "refused" and math.isclose(figures.margin_points, 1.0) and figures.in_grey_zone
    assert decision_figures(Explanation, 0.02, 0.2).decision == "granted"


def test_why_view_sentence_waterfall_and_table(shown):
    view = WhyView(shown)
    view.activate()
    html = rendered(view)
    explanation = shown.snapshot.explanation
    assert explanation.sentence.split(" ")[0] in html
    assert "log-odds" in html and "<table>" in html and "<details>" in html


def test_contributions_csv_adds_up_to_the_score(shown):
    text = contributions_csv(shown.snapshot)
    header, body = text.split("\n", 1)
    frame = pl.read_csv(io.StringIO(body))
    explanation = shown.snapshot.explanation
    assert frame.height == explanation.contributions.height
    assert math.isclose(
        frame["contribution_log_odds"].sum() + explanation.base_value, explanation.raw_score, abs_tol=1e-6
    )
    assert f"decision={explanation.decision}" in header


def test_printable_page_is_a_complete_accessible_document(shown, lang):
    html = printable_html(shown.snapshot, lang, grey_zone=0.01)
    assert html.startswith(f'<!DOCTYPE html><html lang="{lang}">')
    assert html.count("<h1>") == 1 and "<title>" in html and str(shown.snapshot.sk_id) in html
    assert "<details open>" in html


def test_profile_writes_missing_values_and_human_units(shown, lang):
    view = ProfileView(shown)
    view.activate()
    html = rendered(view)
    assert "<h3>" in html and "nan" not in html.lower().replace("financ", "")
    assert display_value({}, "annual_income", "money", lang) == ("manquant" if lang == "fr" else "missing")
    assert display_value({"owns_car": True}, "owns_car", "bool", lang) in ("oui", "yes")
    assert with_duration({"credit_amount": 100000.0, "annuity": 10000.0})["duration_years"] == 10.0
    assert with_duration({"credit_amount": 1.0, "annuity": None})["duration_years"] is None


def test_comparison_groups_have_sizes_and_default_rates(shown, cockpit):
    groups = cockpit.comparison_groups(shown.snapshot, ("age", "contract"), k=20)
    by_key = {group.key: group for group in groups}
    assert [group.key for group in groups] == ["all", "decision", "similar", "nearest"]
    assert by_key["all"].n == cockpit.warehouse.cohort_stats(None)["n"]
    assert by_key["nearest"].n == 20
    assert 0 < by_key["similar"].n <= by_key["all"].n
    assert by_key["decision"].n <= by_key["all"].n


def test_similar_cohort_is_centred_on_the_client():

    profile = {"age_years": 40.0, "annual_income": 100000.0, "contract_type": "Cash loans", "gender": None}
    cohort = similar_cohort(profile, ("age", "income", "contract", "gender"))
    assert cohort.age_range == (35.0, 45.0) and cohort.income_range == (75000.0, 125000.0)
    assert cohort.contract_type == "Cash loans" and cohort.gender is None
    assert similar_cohort({}, ("age",)) is None


def test_compare_view_numeric_categorical_and_bivariate(shown):
    view = CompareView(shown)
    view.activate()
    html = rendered(view)
    assert html.count("<svg") >= 2 and "<table>" in html
    assert ("Tous les clients" if shown.lang == "fr" else "All clients") in html
    categorical = [name for name, is_cat in shown.cockpit.ranked_features() if is_cat]
    if categorical:
        view.feature = categorical[0]
        assert "<table>" in rendered(view) and 'role="alert"' not in rendered(view)


def test_what_if_rescores_at_once_and_reports_bad_values_inline(shown):
    view = WhatIfView(shown)
    view.activate()
    income = next(
        name for name, spec in view.form.specs.items() if spec.kind != "choice" and "INCOME" in name
    )
    view.form.inputs[income].value = "abc"
    assert view.rescore() is None
    assert 'role="alert"' in view.form.errors[income].object
    spec = view.form.specs[income]
    view.form.inputs[income].value = str(spec.maximum * 10)
    assert view.rescore() is None and "alert" in view.form.errors[income].object
    view.form.inputs[income].value = f"{spec.maximum:.0f}"
    explanation = view.rescore()
    assert explanation is not None and 0 <= explanation.probability <= 1
    assert "<table>" in view._result.object and shown.announcement


def test_new_client_form_requires_values_then_scores(shown):
    view = WhatIfView(shown)
    view.activate()
    assert view.score_new_client() is None
    assert any("alert" in pane.object for pane in view.new_form.errors.values())
    view.new_form.set_values(shown.cockpit.field_values(shown.snapshot))
    explanation = view.score_new_client()
    assert explanation is not None and '<p class="result">' in view._new_result.object


@pytest.mark.parametrize(
    ("text", "expected"),
    [("202 500", 202500.0), ("1,5", 1.5), ("1.5", 1.5), ("", None), ("1\u202f000", 1000.0)],
)
def test_parse_number_reads_french_and_english(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["abc", "inf", "nan", "1..2"])
def test_parse_number_refuses_non_numbers(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_portfolio_view_marks_the_policy_threshold(shown):
    view = PortfolioView(shown)
    view.activate()
    html = rendered(view)
    assert view._error.object == ""
    assert html.count("<h1") == 0 and 'lang="en"' in html and "stroke-dasharray" in html
    assert "AUC" in html and "cv_auc" not in html.split('lang="en"')[0]


def test_approval_rate_is_the_share_of_stored_scores_below_the_threshold(cockpit, scored_warehouse):
    import duckdb

    with duckdb.connect(str(scored_warehouse), read_only=True) as con:
        granted, total = con.sql(
            "SELECT count(*) FILTER (WHERE PROBABILITY < ?), count(*) FROM scores", params=[cockpit.threshold]
        ).fetchall()[0]
    assert cockpit.approval_rate() == pytest.approx(granted / total)


def test_demote_headings_keeps_a_single_h1():
    assert demote_headings("# A\n## B\ntext #1") == "### A\n#### B\ntext #1"


def test_importance_view_lists_top_features_with_a_table(shown):
    view = ImportanceView(shown)
    view.activate()
    assert rendered(view).count("<tr>") > 2 and "<svg" in rendered(view)


def test_images_tab_without_a_run_says_how_to_train_one(shown):
    view = ImagesView(shown)
    view.activate()
    assert "train_protovit.py" in rendered(view)
    assert view._controls.visible is False


def test_rescoring_an_unedited_file_gives_the_clients_own_score(shown):
    view = WhatIfView(shown)
    view.activate()
    assert view.form.read(only_changed=True) == ({}, {})
    assert view.rescore().probability == pytest.approx(shown.snapshot.explanation.probability)


def test_new_client_form_works_without_a_client_shown(session):
    view = WhatIfView(session)
    view.activate()
    assert view._client_part.visible is False and view._error.object == ""
    assert view.score_new_client() is None  # empty form: inline errors, no crash


def test_profile_and_filters_speak_the_dictionarys_words(shown, lang):
    """Category labels and levels come from the one vocabulary: no Kaggle code reaches the page."""
    view = ProfileView(shown)
    view.activate()
    html = rendered(view)
    gender = shown.snapshot.profile["gender"]
    assert ("Sexe" if lang == "fr" else "Sex") in html and "Genre" not in html
    words = {"F": ("Femme", "Woman"), "M": ("Homme", "Man")}
    if gender in words:
        assert f"<td>{words[gender][0 if lang == 'fr' else 1]}</td>" in html
    for code in ("Cash loans", "Revolving loans", "<td>F</td>", "<td>M</td>", "Working", "XNA"):
        assert code not in html
    compare = CompareView(shown)
    labels = list(compare._criteria_box.options)
    assert ("Sexe" if lang == "fr" else "Sex") in labels and len(labels) == 6


def test_the_cockpit_is_typed_with_the_real_classes():
    """No ``Any`` where the warehouse, scorer, predictor or explanation travel (the façade's contract)."""
    import typing

    from dashboard import cockpit as module
    from dashboard.resources import Resources
    from models import Explanation, Scorer
    from protovit import Predictor
    from warehouse import Warehouse

    names = {"Warehouse": Warehouse, "Scorer": Scorer, "Predictor": Predictor}

    def hints(obj: object) -> dict:
        return typing.get_type_hints(obj, localns=names)

    assert hints(module.Cockpit.warehouse.fget)["return"] is Warehouse
    assert hints(module.Cockpit.scorer.fget)["return"] is Scorer
    assert hints(module.Cockpit.predictor)["return"] == Predictor | None
    assert hints(module.Cockpit.what_if)["return"] is Explanation
    assert hints(module.ClientSnapshot)["explanation"] is Explanation
    assert hints(Resources)["warehouse"] == Warehouse | None and hints(Resources)["scorer"] == Scorer | None


def test_no_view_shows_a_column_code(shown):
    """Every page a manager sees speaks in words: no Kaggle column code outside the English model card."""
    import re

    from dashboard.shell import VIEWS, Dashboard

    dashboard = Dashboard(shown.cockpit, shown.lang, client_text=str(shown.client_id))
    for key in VIEWS:
        view = dashboard.open_view(key)
        html = rendered(view).split('<div lang="en">')[0]  # the model card is the scorer's English document
        text = re.sub(r"<[^>]+>", " ", html + rendered(dashboard.card))
        assert not re.findall(r"\b[A-Z][A-Z0-9]+_[A-Z0-9_]+\b", text), key
