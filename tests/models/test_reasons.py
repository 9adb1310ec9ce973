"""Reasons and sentences from a contributions table: grouping, direction, both languages, French contractions."""

from __future__ import annotations

import pytest

from models.groups import group_of
from models.reasons import FeatureEffect, build_reasons, summary_sentence

FEATURES = [  # feature, label, display value, contribution (log-odds)
    ("EXT_SOURCE_3", "Score externe 3", "0,12", 0.6),
    ("EXT_SOURCES_MEAN", "Moyenne des scores externes", "0,20", 0.3),
    ("EXT_SOURCE_1", "Score externe 1", "0,80", -0.1),
    ("DAYS_BIRTH", "Âge", "58 ans", -0.4),
    ("PAYMENT_RATE", "Taux de remboursement", "3,1 %", 0.05),
]


def _reasons(lang: str = "fr"):
    keys = [group_of(name).key for name, *_ in FEATURES]
    labels = [group_of(name).label(lang) for name, *_ in FEATURES]
    effects = [FeatureEffect(name, label, display, c) for name, label, display, c in FEATURES]
    return build_reasons(keys, labels, effects, lang)


def test_related_features_are_grouped_and_split_by_direction() -> None:
    against, favour = _reasons()
    assert [r.group for r in against] == ["external_scores", "loan_burden"]
    assert [r.group for r in favour] == ["age"]
    external = against[0]
    assert external.contribution == pytest.approx(0.8)
    # Only the features pushing the same way as the group are quoted, largest first.
    assert [e.feature for e in external.features] == ["EXT_SOURCE_3", "EXT_SOURCES_MEAN"]
    assert external.strength == "fort" and favour[0].strength == "modéré"


def test_french_sentence_for_a_refusal() -> None:
    against, favour = _reasons("fr")
    sentence = summary_sentence(0.123, 0.091, True, False, against, favour, "fr")
    assert sentence.startswith(
        "Probabilité de défaut 12,3\u202f% (seuil 9,1\u202f%) : crédit refusé, principalement à cause"
    )
    assert "à cause des scores externes (Score externe 3 : 0,12" in sentence
    assert "en faveur du client : l'âge (Âge : 58 ans)" in sentence
    assert "zone grise" not in sentence


def test_english_sentence_for_a_grant_in_the_grey_zone() -> None:
    against, favour = _reasons("en")
    sentence = summary_sentence(0.08, 0.091, False, True, against, favour, "en")
    assert sentence.startswith(
        "Default probability 8.0% (threshold 9.1%): credit granted, mainly because of age"
    )
    assert "against the client: the external scores" in sentence
    assert "Grey zone" in sentence


def test_unknown_features_are_their_own_group() -> None:
    assert group_of("SOME_NEW_COLUMN") is None
    assert group_of("BURO_DAYS_CREDIT_MAX").key == "bureau"
    assert group_of("INSTAL_DPD_MEAN").key == "instalments"
    assert group_of("CREDIT_TO_GOODS").key == "loan_burden"
