"""Reasons from per-feature effects: grouping, direction, what is never a reason, at most four each way."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from models.groups import group_of
from models.reasons import (
    MAX_REASONS,
    MIN_POINTS,
    FeatureEffect,
    build_reasons,
    probability_points,
    summary_sentence,
)

FEATURES = [  # feature, label, display value, log-odds, points, missing
    ("EXT_SOURCE_3", "Score externe 3", "12 sur 100", 0.6, 6.0, False),
    ("EXT_SOURCES_MEAN", "Moyenne des scores externes", "20 sur 100", 0.3, 3.0, False),
    ("EXT_SOURCE_1", "Score externe 1", "information non fournie", 0.4, 4.0, True),
    ("EXT_SOURCE_2", "Score externe 2", "80 sur 100", -0.1, -1.0, False),
    ("DAYS_BIRTH", "Âge", "58 ans", -0.4, -4.0, False),
    ("PAYMENT_RATE", "Taux de remboursement", "3,1 %", 0.2, 2.0, False),
    ("WEEKDAY_APPR_PROCESS_START", "Jour de la demande", "samedi", 0.5, 5.0, False),
    ("PREV_HOUR_APPR_PROCESS_START_MEAN", "Heure des demandes précédentes", "9 h", 0.5, 5.0, False),
    ("CODE_GENDER", "Genre", "homme", 0.5, 5.0, False),
    ("REGION_RATING_CLIENT", "Note de la région", "2", 0.02, 0.2, False),
]


def _reasons(lang: str = "fr", features=FEATURES):
    keys = [group_of(name).key for name, *_ in features]
    labels = [group_of(name).label(lang) for name, *_ in features]
    effects = [FeatureEffect(*row) for row in features]
    return build_reasons(keys, labels, effects, lang)


def test_related_features_are_grouped_and_split_by_direction() -> None:
    against, favour, _ = _reasons()
    assert [r.group for r in against] == ["external_scores", "loan_burden"]
    assert [r.group for r in favour] == ["age"]
    external = against[0]
    assert external.points == pytest.approx(8.0)  # 6 + 3 − 1: the missing EXT_SOURCE_1 is not counted
    assert external.features[0].feature == "EXT_SOURCE_3"
    assert external.strength == "fort" and favour[0].strength == "modéré"
    assert external.text("fr") == "Vos notes de crédit externes — Score externe 3 : 12 sur 100"
    assert _reasons("en")[1][0].text("en") == "Your age — Âge: 58 ans"


def test_missing_calendar_gender_and_tiny_effects_are_never_reasons() -> None:
    against, favour, not_provided = _reasons()
    cited = {e.feature for r in (*against, *favour) for e in r.features}
    groups = {r.group for r in (*against, *favour)}
    assert "EXT_SOURCE_1" not in cited
    assert not groups & {"calendar", "gender", "region"}
    assert not_provided == ["Score externe 1"]
    assert all(abs(r.points) >= MIN_POINTS for r in (*against, *favour))


def test_at_most_four_reasons_each_way() -> None:
    names = [
        "EXT_SOURCE_2",
        "DAYS_BIRTH",
        "AMT_INCOME_TOTAL",
        "CNT_CHILDREN",
        "NAME_EDUCATION_TYPE",
        "BURO_DAYS_CREDIT_MAX",
        "INSTAL_DPD_MEAN",
    ]
    rows = [
        (n, n.lower(), "x", s * 0.1 * (i + 1), s * (i + 1.0), False)
        for i, n in enumerate(names)
        for s in (1,)
    ]
    rows += [
        (n, n.lower(), "x", -0.1, -1.0, False)
        for n in ("POS_COUNT", "CC_COUNT", "PREV_COUNT", "FLAG_OWN_CAR", "DOCUMENT_COUNT")
    ]
    against, favour, _ = _reasons(features=rows)
    assert len(against) == MAX_REASONS and len(favour) == MAX_REASONS
    assert [r.points for r in against] == [7.0, 6.0, 5.0, 4.0]  # the largest ones, in order


def test_points_add_up_to_the_probability_minus_the_base_probability() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        contributions = rng.normal(0, 0.4, 30) * (rng.random(30) < 0.5)
        base, slope, intercept = rng.normal(-2.5, 0.5), rng.uniform(0.5, 1.5), rng.normal(0, 0.3)
        points, p0, p = probability_points(contributions, base, slope, intercept)
        assert p == pytest.approx(expit(slope * (base + contributions.sum()) + intercept))
        assert p0 == pytest.approx(expit(slope * base + intercept))
        assert points.sum() == pytest.approx(100 * (p - p0), abs=1e-9)
        assert (np.sign(points) == np.sign(contributions)).all()
    points, p0, p = probability_points(np.array([0.3, -0.3]), -2.0, 1.0, 0.0)
    assert p == pytest.approx(p0) and points[0] == pytest.approx(-points[1]) and points[0] > 0


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_summary_is_short_and_names_the_main_reason(lang: str) -> None:
    against, favour, _ = _reasons(lang)
    sentence = summary_sentence(0.123, 0.091, True, False, against, favour, lang)
    expected = (
        "Risque de défaut estimé : 12,3\u202f%, pour une limite de 9,1\u202f% : crédit refusé."
        if lang == "fr"
        else "Estimated default risk: 12.3%, against a limit of 9.1%: credit refused."
    )
    assert sentence.startswith(expected)
    assert against[0].headline in sentence and len(sentence.split()) < 40
    grey = summary_sentence(0.08, 0.091, False, True, against, favour, lang)
    assert favour[0].headline in grey
    assert ("proche de la limite" if lang == "fr" else "Close to the limit") in grey


def test_unknown_features_are_their_own_group() -> None:
    assert group_of("SOME_NEW_COLUMN") is None
    assert group_of("BURO_DAYS_CREDIT_MAX").key == "bureau"
    assert group_of("INSTAL_DPD_MEAN").key == "instalments"
    assert group_of("CREDIT_TO_GOODS").key == "loan_burden"
    assert group_of("HOUR_APPR_PROCESS_START").key == "calendar"
    assert not group_of("CODE_GENDER").is_reason
