"""The served dashboard in real headless Chromium: axe-core on every view in both languages (zero violations),
keyboard-only use, the client id in the URL, hostile input, the CSV export and 200 % zoom."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from dashboard.local_server import start_local_server
from dashboard.shell import VIEWS
from tests.ui.harness import open_app

pytestmark = pytest.mark.ui

DEEP_ACTIVE_ELEMENT = """() => {
  let element = document.activeElement
  while (element && element.shadowRoot && element.shadowRoot.activeElement) { element = element.shadowRoot.activeElement }
  return element ? {tag: element.tagName, text: (element.innerText || element.value || element.getAttribute('aria-label') || '').trim().slice(0, 80),
                    outline: getComputedStyle(element).outlineStyle, placeholder: element.getAttribute('placeholder') || ''} : null
}"""


@pytest.fixture(scope="session")
def client_ids(scored_warehouse) -> list[int]:
    from warehouse import Warehouse

    with Warehouse(scored_warehouse) as warehouse:
        return warehouse.search_clients("1", limit=3)


def axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): "
        + "; ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
    ]


def card_heading(page, client_id: int, lang: str = "fr"):
    text = f"Décision pour le client {client_id}" if lang == "fr" else f"Decision for client {client_id}"
    return page.get_by_role("heading", name=text)


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("view", list(VIEWS))
def test_axe_finds_no_violation(page, server, client_ids, view, lang):
    open_app(page, f"{server.url}?lang={lang}&view={view}&client={client_ids[0]}")
    assert page.evaluate("document.documentElement.lang") == lang
    assert str(client_ids[0]) in page.title()
    for disclosure in page.locator("summary").all():  # the table alternatives must pass too
        disclosure.click()
    assert axe_violations(page) == []


def test_axe_finds_no_violation_on_the_data_missing_page(browser, tmp_path):
    missing = start_local_server(
        {
            "CREDIT_WAREHOUSE": str(tmp_path / "none.duckdb"),
            "CREDIT_MODEL_DIR": str(tmp_path / "none"),
            "CREDIT_AUTH": "demo",  # the demo's operator is an admin: commands and paths are shown
            "CREDIT_ACCESS_DIR": str(tmp_path / "access"),
        },
        tmp_path / "server.log",
    )
    try:
        page = browser.new_page()
        for lang in ("fr", "en"):
            open_app(page, f"{missing.url}?lang={lang}")
            assert "build_warehouse.py" in page.content() or page.get_by_text("build_warehouse.py").count()
            assert axe_violations(page) == []
        page.close()
    finally:
        missing.stop()


def test_keyboard_only_selects_a_client_and_reaches_the_decision_and_reasons(page, server, client_ids):
    open_app(page, f"{server.url}?lang=fr")
    page.keyboard.press("Tab")
    first = page.evaluate(DEEP_ACTIVE_ELEMENT)
    assert first["text"] == "Aller au contenu principal"
    for _ in range(10):  # from the skip link to the search box
        page.keyboard.press("Tab")
        if page.evaluate(DEEP_ACTIVE_ELEMENT)["tag"] == "INPUT":
            break
    focused = page.evaluate(DEEP_ACTIVE_ELEMENT)
    assert focused["tag"] == "INPUT" and focused["outline"] != "none"
    page.keyboard.type(str(client_ids[1]))
    page.keyboard.press("Enter")
    card_heading(page, client_ids[1]).wait_for()
    reached = []
    for _ in range(40):  # on through the menu and the card to the reasons' table
        page.keyboard.press("Tab")
        active = page.evaluate(DEEP_ACTIVE_ELEMENT)
        reached.append(active["text"])
        assert active["outline"] != "none", f"no visible focus on {active}"
        if active["tag"] == "SUMMARY":
            break
    assert "Décision et raisons" in reached
    page.keyboard.press("Enter")
    page.get_by_role("table", name=re.compile("Effet de chaque élément")).wait_for()
    assert page.get_by_role("heading", name="Ce qui joue contre le client").is_visible()
    assert "Client" in page.locator("#live-region").inner_text()


def test_client_id_lives_in_the_url(page, server, client_ids):
    open_app(page, f"{server.url}?client={client_ids[0]}&view=profile")
    page.get_by_role("heading", name=f"Profil du client {client_ids[0]}").wait_for()
    page.get_by_label("Numéro de dossier client").fill(str(client_ids[2]))
    page.get_by_label("Numéro de dossier client").press("Enter")
    card_heading(page, client_ids[2]).wait_for()
    page.wait_for_function(f"() => window.location.search.includes('client={client_ids[2]}')")
    query = parse_qs(urlparse(page.url).query)
    assert query["client"] == [str(client_ids[2])] and query["view"] == ["profile"]
    assert str(client_ids[2]) in page.title()


@pytest.mark.parametrize("text", ['<img src=x onerror="window.__pwned=1">', "100002' OR 1=1 --", "9" * 40])
def test_hostile_input_gives_a_message_and_breaks_nothing(page, server, client_ids, text):
    open_app(page, f"{server.url}?client={client_ids[0]}")
    search = page.get_by_label("Numéro de dossier client")
    search.fill(text)
    search.press("Enter")
    page.get_by_role("alert").wait_for()
    assert page.evaluate("window.__pwned === undefined")
    assert card_heading(page, client_ids[0]).is_visible()


def test_hostile_url_parameters_still_render_the_page(page, server):
    open_app(page, f"{server.url}?client=%3Cscript%3E&view=..%2F..&lang=%22%3E")
    assert page.evaluate("document.documentElement.lang") == "fr"
    page.get_by_role("alert").wait_for()


def test_explanation_export_is_a_csv_for_french_spreadsheets(page, server, client_ids, tmp_path):
    open_app(page, f"{server.url}?lang=fr&view=why&client={client_ids[0]}")
    button = page.get_by_role("button", name="Télécharger l'explication (CSV pour tableur)")
    with page.expect_download() as download_info:
        button.click()
    path = Path(tmp_path / "explication.csv")
    download_info.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Rubrique;Élément;Valeur;Effet (points de pourcentage)"
    assert len(lines) > 10 and not any(line.startswith("#") for line in lines)


def test_image_reasoning_is_shown_with_its_table_and_passes_axe(page, server):
    open_app(page, f"{server.url}?lang=en&view=images")
    page.get_by_role("button", name="Explain this image").click()
    page.get_by_role("table", name="Prototypes explaining the prediction").wait_for()
    assert page.get_by_role("img", name=re.compile("ProtoViT reasoning sheet")).count() == 1
    assert axe_violations(page) == []


def test_usable_at_200_percent_zoom_without_horizontal_scrolling(browser, server, client_ids):
    context = browser.new_context(viewport={"width": 640, "height": 900}, device_scale_factor=2)
    page = context.new_page()
    try:
        for view in ("decision", "compare", "whatif"):
            open_app(page, f"{server.url}?client={client_ids[0]}&view={view}")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{view}: {overflow} px of horizontal scrolling at 200 %"
    finally:
        context.close()
