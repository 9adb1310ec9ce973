"""The client letter in real headless Chromium: one A4 page when printed, plain words, axe-clean, FR and EN,
for a refused, a grey-zone and a granted client; reachable from the dashboard."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from tests.ui.test_dashboard_ui import axe_violations

pytestmark = pytest.mark.ui

CODE = re.compile(r"[A-Z0-9]+(_[A-Z0-9]+)+")
PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


@pytest.fixture(scope="session")
def letter_clients(scored_warehouse, small_model_dir) -> dict[str, int]:
    from models import Scorer
    from warehouse import Warehouse

    scorer = Scorer.load(small_model_dir)
    with Warehouse(scored_warehouse) as warehouse:
        frame = warehouse.model_frame(split=None)
    probability = scorer.probabilities(frame)
    ids = frame.get_column("SK_ID_CURR").to_numpy()
    refused = np.flatnonzero(probability >= scorer.threshold + scorer.grey_zone)
    grey = np.flatnonzero(np.abs(probability - scorer.threshold) <= scorer.grey_zone)
    granted = np.flatnonzero(probability < scorer.threshold - scorer.grey_zone)
    return {
        "refused": int(ids[refused[np.argmax(probability[refused])]]),
        "grey": int(ids[grey[0]]),
        "granted": int(ids[granted[np.argmin(probability[granted])]]),
    }


def letter_url(server, client: object, lang: str) -> str:
    return server.url.rsplit("/", 1)[0] + f"/letter?client={client}&lang={lang}"


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("kind", ["refused", "grey", "granted"])
def test_letter_prints_as_one_a4_page_in_plain_words(page, server, letter_clients, kind, lang):
    page.goto(letter_url(server, letter_clients[kind], lang))
    page.wait_for_selector("main.letter h1")
    assert page.evaluate("document.documentElement.lang") == lang
    assert str(letter_clients[kind]) in page.title()
    text = page.inner_text("body")
    assert not CODE.search(text), CODE.search(text)
    assert "NaN" not in text and "log-odds" not in text
    for heading in page.locator("main.letter h2").all():
        items = heading.locator("xpath=following-sibling::*[1][self::ul]/li")
        assert items.count() <= 4
    assert axe_violations(page) == []
    pdf = page.pdf(format="A4", print_background=True)
    assert len(PDF_PAGE.findall(pdf)) == 1


def test_letter_csv_link_is_a_french_spreadsheet_file(page, server, letter_clients):
    page.goto(letter_url(server, letter_clients["refused"], "fr"))
    href = page.get_by_role("link", name="Télécharger l'explication (CSV)").get_attribute("href")
    data = base64.b64decode(href.split(",", 1)[1])
    assert data.startswith(b"\xef\xbb\xbf") and data.decode("utf-8-sig").startswith("Rubrique;Élément;")


@pytest.mark.parametrize("client", ["999999999999999999999999999999", "abc", ""])
def test_unknown_client_gets_a_message(page, server, client):
    page.goto(letter_url(server, client, "fr"))
    page.wait_for_selector("main.letter h1")
    assert "Aucun client ne porte ce numéro" in page.inner_text("main")
