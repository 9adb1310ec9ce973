"""The client letter's content and the CSV export, on the small fixtures (the browser tests print it)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape

import numpy as np
import pytest

from dashboard.i18n import format_date
from dashboard.views.letter import LetterOptions, explanation_csv, letter_body, safe_cell

CODE = re.compile(r"[A-Z0-9]+(_[A-Z0-9]+)+")
TAGS = re.compile(r"<[^>]+>")


@pytest.fixture(scope="module")
def kinds(cockpit) -> dict[str, int]:
    """One refused, one grey-zone and one clearly granted client of the small warehouse."""
    frame = cockpit.warehouse.model_frame(split=None)
    probability = cockpit.scorer.probabilities(frame)
    ids = frame.get_column("SK_ID_CURR").to_numpy()
    threshold, grey = cockpit.threshold, cockpit.grey_zone
    refused = np.flatnonzero(probability >= threshold + grey)
    in_grey = np.flatnonzero(np.abs(probability - threshold) <= grey)
    granted = np.flatnonzero(probability < threshold - grey)
    return {
        "refused": int(ids[refused[np.argsort(probability[refused])][len(refused) // 2]]),
        "grey": int(ids[in_grey[0]]),
        "granted": int(ids[granted[np.argmin(probability[granted])]]),
    }


@pytest.mark.parametrize("kind", ["refused", "grey", "granted"])
def test_letter_says_decision_reasons_rights_and_contact_in_plain_words(cockpit, kinds, kind, lang) -> None:
    snapshot = cockpit.snapshot(kinds[kind], lang)
    answer = cockpit.what_it_would_take(snapshot)
    options = LetterOptions(dt.date(2026, 12, 2), contact="l'agence de Lyon, 04 00 00 00 00")
    html = letter_body(snapshot, answer, lang, options)
    text = unescape(TAGS.sub(" ", html))
    assert not CODE.search(text), CODE.search(text)
    assert "NaN" not in text and not re.search(r"\blog\b|log-odds|logit|log-cote", text), text
    assert ("2 décembre 2026" if lang == "fr" else "2 December 2026") in text
    assert ("art. 22" in text) and "l'agence de Lyon" in text and str(snapshot.sk_id) in text
    refused = snapshot.explanation.decision == "refused"
    assert ("Nous ne pouvons pas" if lang == "fr" else "We cannot") in text if refused else True
    for reason in (*snapshot.explanation.reasons_against, *snapshot.explanation.reasons_for):
        assert reason.headline in text
    assert html.count("<li>") <= 8 + 3
    would_take = "Ce qui pourrait changer" if lang == "fr" else "What could change"
    assert (would_take in text) == refused


def test_csv_opens_cleanly_in_a_french_spreadsheet(cockpit, kinds) -> None:
    snapshot = cockpit.snapshot(kinds["refused"], "fr")
    data = explanation_csv(snapshot, "fr")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Rubrique", "Élément", "Valeur", "Effet (points de pourcentage)"]  # no comment line
    assert all(len(row) == 4 for row in rows)
    probability = next(row for row in rows if row[1].startswith("Risque de défaut"))[2]
    assert re.fullmatch(r"\d+,\d+", probability) or probability.isdigit()
    assert float(probability.replace(",", ".")) == pytest.approx(
        100 * snapshot.explanation.probability, abs=0.01
    )
    points = [float(row[3].replace(",", ".")) for row in rows if row[0] == "Détail" and row[3]]
    assert sum(points) == pytest.approx(
        100 * (snapshot.explanation.probability - snapshot.explanation.base_probability), abs=0.01
    )
    english = explanation_csv(snapshot, "en").decode("utf-8-sig")
    assert "Estimated default risk (%)" in english and ";" in english


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 1 23", "'+33 1 23"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Revenu annuel", "Revenu annuel"),
        (-1.25, "-1,25"),
        (47.0, "47"),
        (12, "12"),
        (None, ""),
    ],
)
def test_cells_are_neutralised_and_numbers_use_the_decimal_comma(value, expected) -> None:
    assert safe_cell(value, "fr") == expected


def test_dates_are_written_in_the_page_language() -> None:
    assert format_date(dt.date(2026, 3, 1), "fr") == "1er mars 2026"
    assert format_date(dt.date(2026, 8, 15), "fr") == "15 août 2026"
    assert format_date(dt.date(2026, 8, 15), "en") == "15 August 2026"
