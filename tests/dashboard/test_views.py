"""The views' logic on the small fixtures, without a browser: what each view computes and shows."""

from __future__ import annotations

import math
import re

import panel as pn
import polars as pl
import pytest

from dashboard.cockpit import similar_cohort
from dashboard.i18n import tr
from dashboard.shell import VIEWS, Dashboard, parse_view
from dashboard.views.compare import CompareView
from dashboard.views.decision import DecisionCard, decision_figures
from dashboard.views.images import ImagesView
from dashboard.views.portfolio import ImportanceView, PortfolioView, demote_headings
from dashboard.views.profile import ProfileView, display_value, with_duration
from dashboard.views.search import ClientSearch
from dashboard.views.whatif import WhatIfView, parse_number
from dashboard.views.why import WhyView, waterfall_steps
from tests.dashboard.rendering import rendered


@pytest.fixture
def shown(session, client_ids):
    session.show(client_ids[0])
    return session


def test_every_view_opens_without_error_in_both_languages(cockpit, client_ids, lang):
    dashboard = Dashboard(cockpit, lang, client_text=str(client_ids[0]))
    for key in filter(dashboard.may_open, VIEWS):  # the audit's views need a signed-in user (tests/access)
        view = dashboard.open_view(key)
        assert view._error.object == "", (key, view._error.object)
        assert dashboard.nav.current == dashboard.session.view == key
        assert len(dashboard.main.objects) == (2 if view.with_decision_card else 1)  # [card], view


def test_a_page_builds_only_what_it_shows(cockpit, client_ids):
    """Without a client the page holds the search, the menu and the decision view's prompt: the decision card and
    the view's widgets are built with the first client, the other views when their tab is first opened."""
    dashboard = Dashboard(cockpit, "fr")
    why = dashboard.views["decision"]
    assert list(dashboard.views) == ["decision"]
    assert not why.built and not dashboard.card.built
    assert dashboard.main.objects == [pn.panel(why)]  # no empty card on the page
    assert tr("status.pick_client", "fr") in why._error.object
    assert pn.panel(why).objects == [why._error]  # the prompt, and no widgets yet

    dashboard.session.show(client_ids[0])
    assert why.built and dashboard.card.built
    assert dashboard.main.objects == [pn.panel(dashboard.card), pn.panel(why)]
    assert str(client_ids[0]) in dashboard.card._card.object and why._body.object
    assert pn.panel(why).objects == [why._content]  # the prompt's pane, empty now, is off the page
    assert pn.panel(dashboard.card).objects == [dashboard.card._content]
    assert list(dashboard.views) == ["decision"]  # the other tabs are still not built

    profile = dashboard.open_view("profile")
    assert list(dashboard.views) == ["decision", "profile"] and profile.built
    dashboard.session.show(client_ids[1])  # a client switch refreshes only the view shown
    assert str(client_ids[1]) in profile._body.object and str(client_ids[1]) not in why._body.object


def test_an_expired_page_stays_expired_when_a_client_is_shown_after(cockpit, client_ids):
    dashboard = Dashboard(cockpit, "fr", client_text=str(client_ids[0]))
    dashboard.expire()
    dashboard.session.show(client_ids[1])  # e.g. typed in the search box before the browser left the page
    assert len(dashboard.main.objects) == 1
    assert tr("access.expired", "fr") in dashboard.main.objects[0].object.replace("&#x27;", "'")


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
    assert card._controls.objects == [card._toggle]  # the threshold input is built when first needed
    low = max(explanation.probability * 100 / 2, 1.0)
    card.param.update(simulate=True, simulated_threshold_percent=low)
    figures = card.figures()
    assert figures.simulated and figures.decision == (
        "refused" if explanation.probability >= low / 100 else "granted"
    )
    assert "SIMULATION" in rendered(card)
    assert card._controls.objects == [card._toggle, card._threshold_input] and card._threshold_input.visible
    assert card._toggle.value and card._threshold_input.value == low
    card.simulate = False
    assert not card._toggle.value and not card._threshold_input.visible and "SIMULATION" not in rendered(card)


@pytest.mark.parametrize("bad", [150.0, 0.0, -5.0, None, float("nan")])
def test_invalid_simulated_thresholds_are_refused_out_loud(shown, bad):
    card = DecisionCard(shown)
    card.activate()
    card.param.update(simulate=True, simulated_threshold_percent=bad)
    assert not card.figures().simulated
    assert 'role="alert"' in card._card.object and "NaN" not in card._card.object
    card.simulated_threshold_percent = 20.0
    assert card.figures().simulated and 'role="alert"' not in card._card.object
    label = "Seuil simulé (non officiel)" if shown.lang == "fr" else "Simulated threshold (not official)"
    assert label in card._card.object
    assert f"letter?client={shown.snapshot.sk_id}" in card._card.object


def test_decision_figures_margin_and_grey_zone():
    class Explanation:
        probability, threshold, decision, margin_points, in_grey_zone = 0.12, 0.09, "refused", 3.0, False

    figures = decision_figures(Explanation, 0.02, 0.11)
    assert figures.decision == "refused" and math.isclose(figures.margin_points, 1.0) and figures.in_grey_zone
    assert decision_figures(Explanation, 0.02, 0.2).decision == "granted"


def test_why_view_speaks_in_probability_points_with_a_threshold_and_no_code(shown, lang):
    view = WhyView(shown)
    view.activate()
    html = rendered(view)
    explanation = shown.snapshot.explanation
    assert explanation.sentence.split(" ")[0] in html
    assert "log-odds" not in html and "<table>" in html and "<details>" in html
    assert 'stroke-dasharray="6 3"' in html  # the threshold line on the waterfall
    assert view._body.object.count("<li>") <= 8  # at most four reasons each way
    visible = re.sub(r"<[^>]+>", " ", html)
    assert not re.search(r"[A-Z0-9]+(_[A-Z0-9]+)+", visible)
    steps = waterfall_steps(explanation.grouped, lang)
    total = 100 * explanation.base_probability + sum(points for _, points in steps)
    assert math.isclose(total, 100 * explanation.probability, abs_tol=1e-6)
    assert f"letter?client={shown.snapshot.sk_id}&amp;lang={lang}" in view._letter.object
    needed = shown.snapshot.explanation.decision == "refused" or shown.snapshot.explanation.in_grey_zone
    assert view._would_take_button.visible == needed and view._would_take.object == ""
    assert view._would_take not in view._parts.objects  # an empty pane would be a model the page pays for
    view.show_what_it_would_take()
    assert bool(view._would_take.object) == needed
    assert (view._would_take in view._parts.objects) == needed


def test_what_it_would_take_joins_the_page_below_its_button_and_leaves_with_the_client(session, cockpit):
    ids = cockpit.search_clients("1", limit=200)
    refused = [sk_id for sk_id, decision in cockpit.stored_decisions(ids).items() if decision == "refused"]
    assert len(refused) >= 2, "the small warehouse has refused clients"
    session.show(refused[0])
    view = WhyView(session)
    view.activate()
    assert view._would_take_button.visible and view._would_take not in view._parts.objects
    view.show_what_it_would_take()
    parts = view._parts.objects
    assert (
        view._would_take.object and parts.index(view._would_take) == parts.index(view._would_take_button) + 1
    )
    session.show(refused[1])  # another client: the answer was about the first one
    assert view._would_take not in view._parts.objects and view._would_take.object == ""


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
    assert tr("chart.share.y", shown.lang) in html  # the histograms' vertical axis is named and scaled
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
    result = view._result.object
    assert tr("whatif.diff_caption", shown.lang) in result and "log" not in result.lower()  # in points
    assert result.count("\N{NARROW NO-BREAK SPACE}pt") >= 4  # the change and each row's before/after/change


def test_new_client_form_requires_values_then_scores(shown):
    view = WhatIfView(shown)
    view.activate()
    assert view.score_new_client() is None
    assert any("alert" in pane.object for pane in view.new_form.errors.values())
    view.new_form.set_values(shown.cockpit.field_values(shown.snapshot))
    explanation = view.score_new_client()
    assert explanation is not None and '<p class="result">' in view._new_result.object


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("202 500", "fr", 202500.0),
        ("10,5", "fr", 10.5),
        ("1\u202f000", "fr", 1000.0),
        ("", "fr", None),
        ("10.5", "en", 10.5),
        ("202,500", "en", 202500.0),
        ("-5", "en", -5.0),
    ],
)
def test_parse_number_reads_the_page_languages_way(text, lang, expected):
    assert parse_number(text, lang) == expected


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("abc", "fr"),
        ("inf", "en"),
        ("nan", "fr"),
        ("1..2", "en"),
        ("10.5", "fr"),
        ("10,5", "en"),
        ("1,5,6", "fr"),
    ],
)
def test_parse_number_refuses_anything_else(text, lang):
    with pytest.raises(ValueError):
        parse_number(text, lang)


def test_what_if_form_speaks_the_page_language_and_checks_cross_field_rules(shown, lang):
    view = WhatIfView(shown)
    view.activate()
    assert "CODE_GENDER" not in view.form.inputs  # gender is not a model input, never editable
    age = view.form.inputs["AGE_YEARS"]
    assert ("," in age.value or age.value.isdigit()) if lang == "fr" else "," not in age.value
    assert "(ans) (ans)" not in age.label and "(années) (ans)" not in age.label
    view.form.inputs["CNT_FAM_MEMBERS"].value = "2,5" if lang == "fr" else "2.5"
    assert view.rescore() is None and "alert" in view.form.errors["CNT_FAM_MEMBERS"].object
    view.form.inputs["CNT_FAM_MEMBERS"].value = "1"
    view.form.inputs["CNT_CHILDREN"].value = "3"
    assert view.rescore() is None
    message = view.form.errors["CNT_FAM_MEMBERS"].object
    assert "alert" in message and "CNT_" not in message
    assert all(
        view.new_form.inputs[name].value == ""
        for name, spec in view.new_form.specs.items()
        if spec.kind == "choice"
    )


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
    assert "pixi run train-protovit" in rendered(view)
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


def test_compare_shows_ages_in_human_order_and_no_column_code(shown, lang):
    view = CompareView(shown)
    view.activate()
    assert not any(re.search(r"[A-Z0-9]+(_[A-Z0-9]+)+", label) for label in view._feature_select.options)
    assert len(view._feature_select.options) <= 16 and len(view._feature_search.options) > 16
    view.feature = "DAYS_BIRTH"
    html = view._distribution.object
    unit = "ans" if lang == "fr" else "years"
    starts = [
        float(a.replace(",", "."))
        for a, _ in re.findall(rf"(\d+(?:[.,]\d)?) {unit} – (\d+(?:[.,]\d)?) {unit}", html)
    ]
    assert len(starts) > 5 and starts == sorted(starts)  # the age axis ascends
    age = -shown.snapshot.value("DAYS_BIRTH") / 365.25
    younger = (
        shown.cockpit.warehouse.model_frame(columns=["DAYS_BIRTH"])
        .filter(pl.col("DAYS_BIRTH") > shown.snapshot.value("DAYS_BIRTH"))
        .height
        / shown.cockpit.warehouse.model_frame(columns=["DAYS_BIRTH"]).height
    )
    shown_share = re.search(r"(\d+)\s?%", view._distribution.object.split("<svg")[0]).group(1)
    assert abs(int(shown_share) - 100 * younger) <= 2, (age, shown_share, younger)


def test_fairness_table_has_human_labels_and_large_gaps_are_flagged(shown, lang):
    from dashboard.views.portfolio import approval_gaps, fairness_table

    fairness = pl.DataFrame(
        {
            "attribute": ["CODE_GENDER", "CODE_GENDER", "age_band", "age_band"],
            "group": ["F", "M", "< 30", "60+"],
            "n": [1000, 900, 500, 400],
            "approval_rate": [0.70, 0.68, 0.48, 0.84],
        }
    )
    html = fairness_table(fairness, lang)
    assert "CODE_GENDER" not in html and "age_band" not in html
    assert ("Femme" if lang == "fr" else "Woman") in html and "<td>F</td>" not in html
    gaps = approval_gaps(fairness, lang)
    assert len(gaps) == 1 and "36" in gaps[0]  # only the 36-point age gap, not the 2-point gender one


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
    from protovit.service import BackgroundTraining, ExplanationGate
    from warehouse import Warehouse

    names = {"Warehouse": Warehouse, "Scorer": Scorer, "Predictor": Predictor}
    names |= {"BackgroundTraining": BackgroundTraining, "ExplanationGate": ExplanationGate}

    def hints(obj: object) -> dict:
        return typing.get_type_hints(obj, localns=names)

    assert hints(module.Cockpit.warehouse.fget)["return"] is Warehouse
    assert hints(module.Cockpit.scorer.fget)["return"] is Scorer
    assert hints(module.Cockpit.predictor)["return"] == Predictor | None
    assert hints(module.Cockpit.what_if)["return"] is Explanation
    assert hints(module.ClientSnapshot)["explanation"] is Explanation
    assert hints(Resources)["warehouse"] == Warehouse | None and hints(Resources)["scorer"] == Scorer | None


def test_without_a_client_the_page_asks_for_one_once(session):
    card, view = DecisionCard(session), WhyView(session)
    card.activate()
    view.activate()
    texts = card._error.object + view._error.object
    assert texts.count(tr("status.pick_client", session.lang)) == 1


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


@pytest.mark.parametrize("feature", ["INSTAL_LATE_SUM", "CNT_CHILDREN", "INSTAL_DPD_SUM"])
def test_compare_shows_counts_as_counts_not_percentages(shown, lang, feature):
    view = CompareView(shown)
    view.activate()
    view.feature = feature
    html = rendered(view)
    summary = re.search(r"(?:Valeur du client :|Client value:) ([^<]*?)\. ", html).group(1)
    assert "%" not in summary and re.search(r"\d", summary), summary
    ranges = re.findall(r"<td>([^<]* – [^<]*)</td>", html)
    assert ranges and not any("%" in cell for cell in ranges), ranges


def test_every_portfolio_chart_has_a_title_and_named_axes(shown, lang):
    from html import unescape

    portfolio, importance = PortfolioView(shown), ImportanceView(shown)
    portfolio.activate()
    importance.activate()
    svgs = re.findall(r"<svg.*?</svg>", rendered(portfolio) + rendered(importance), re.S)
    texts = [[unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)] for svg in svgs]
    expected = [
        ("chart.scores.title", "chart.scores.x", "chart.scores.y"),
        ("chart.cost.title", "chart.cost.x", "chart.cost.y"),
        ("chart.importance.title", "chart.importance.x"),
    ]
    assert len(svgs) == len(expected)
    for words, keys in zip(texts, expected, strict=True):
        assert [tr(key, lang) for key in keys] == [w for w in words if w in {tr(k, lang) for k in keys}]
    threshold_axis = texts[0]  # the score axis is in probabilities, the count axis in numbers of clients
    assert any("%" in t for t in threshold_axis) and any(t.strip() == "0" for t in threshold_axis)


def test_search_suggestions_show_the_stored_decision(shown, client_ids, scored_warehouse, lang):
    import duckdb

    with duckdb.connect(str(scored_warehouse), read_only=True) as con:
        stored = dict(con.sql("SELECT SK_ID_CURR, DECISION FROM scores").fetchall())
    search = ClientSearch(shown)
    search.update_suggestions(str(client_ids[0])[:4])
    labels = dict(search._suggestion_links.items)
    assert labels and set(labels) == {str(i) for i in search.suggestions}
    words = {"granted": tr("decision.granted_long", lang), "refused": tr("decision.refused_long", lang)}
    for key, text in labels.items():
        decision = stored.get(int(key))
        assert text.startswith(tr("search.show", lang, id=key))
        assert (words[decision] in text) if decision else text == tr("search.show", lang, id=key)
    assert any(int(key) in stored for key in labels)
    assert shown.cockpit.stored_decisions([]) == {} and shown.cockpit.stored_decisions([-1]) == {}
