"""Every text exists in French and English with the same placeholders; numbers follow each language's rules."""

from __future__ import annotations

import pytest

from dashboard.i18n import (
    TEXT,
    format_money,
    format_percent,
    format_points,
    format_signed,
    missing_keys,
    parse_language,
    tr,
)


def test_every_key_has_both_languages_and_the_same_placeholders():
    assert missing_keys() == []


def test_missing_keys_detects_a_missing_language_and_a_placeholder_mismatch():
    broken = {"a": {"fr": "x"}, "b": {"fr": "{n} x", "en": "{m} x"}, "c": {"fr": "{n}", "en": "{n}"}}
    assert missing_keys(broken) == ["a", "b"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("fr", "fr"),
        (None, "fr"),
        ("", "fr"),
        ("de", "fr"),
        ("<script>alert(1)</script>", "fr"),
        (b"en", "en"),
        ("en" * 1000, "fr"),
    ],
)
def test_parse_language_accepts_only_known_languages(raw, expected):
    assert parse_language(raw) == expected


def test_numbers_follow_french_and_english_typography():
    assert format_percent(0.1234, "fr") == "12,3\u202f%"
    assert format_percent(0.1234, "en") == "12.3%"
    assert format_money(202500, "fr") == "202\u202f500\u202f€"
    assert format_money(202500, "en") == "€202,500"
    assert format_percent(None, "fr") == "manquant"
    assert format_money(float("nan"), "en") == "missing"


def test_points_and_signs_never_rely_on_colour():
    assert format_points(3.14, "fr") == "3,1 points"
    assert format_points(1.0, "fr") == "1,0 point"
    assert format_points(1.0, "en") == "1.0 point"
    assert format_signed(0.25, "en") == "+0.250"
    assert format_signed(-0.25, "fr") == "−0,250"


def test_unknown_language_falls_back_to_french():
    assert tr("app.heading", "de") == TEXT["app.heading"]["fr"]
