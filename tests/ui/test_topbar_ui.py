"""The compact top bar and the state of the page's controls, in real Chromium: search and menu sit above the
decision, which gets the full width; the simulation toggle says whether it is pressed; the similar-client
criteria are a named group of checkboxes."""

from __future__ import annotations

import pytest

from tests.ui.harness import open_app
from tests.ui.test_dashboard_ui import axe_violations, card_heading, client_ids  # noqa: F401 (session fixture)

pytestmark = pytest.mark.ui


def test_search_and_menu_form_a_top_bar_above_a_full_width_decision(browser, server, client_ids):  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        open_app(page, f"{server.url}?lang=fr&view=decision&client={client_ids[0]}")
        search = page.get_by_role("search").bounding_box()
        menu = page.get_by_role("navigation", name="Vues du tableau de bord").bounding_box()
        main = page.locator("#main-content").bounding_box()
        assert search["y"] + search["height"] <= main["y"] + 1 and menu["y"] + menu["height"] <= main["y"] + 1
        assert main["width"] >= 0.9 * 1366  # no side column any more
        assert menu["y"] < search["y"] + search["height"]  # the menu shares the search's row
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_toggle_exposes_its_state_and_checkboxes_have_a_group_label(page, server, client_ids, lang):  # noqa: F811
    open_app(page, f"{server.url}?lang={lang}&view=decision&client={client_ids[0]}")
    name = "Mode simulation du seuil" if lang == "fr" else "Threshold simulation mode"
    toggle = page.get_by_role("button", name=name)
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    page.get_by_role("button", name=name, pressed=True).wait_for()
    page.get_by_label("Seuil simulé (%)" if lang == "fr" else "Simulated threshold (%)").wait_for()
    assert axe_violations(page) == []
    toggle.click()
    page.get_by_role("button", name=name, pressed=False).wait_for()

    open_app(page, f"{server.url}?lang={lang}&view=compare&client={client_ids[0]}")
    legend = "Critères des clients similaires" if lang == "fr" else "Criteria for similar clients"
    group = page.get_by_role("group", name=legend)
    assert group.get_by_role("checkbox").count() == 6
    first = group.get_by_role("checkbox").first
    before = first.is_checked()
    first.click()
    assert first.is_checked() != before
    assert axe_violations(page) == []


def test_a_recent_client_opens_again_after_another_was_typed(page, server, client_ids):  # noqa: F811
    """Choosing the same recent link a second time (another client typed in between) shows it again."""
    first, second = client_ids[0], client_ids[1]
    open_app(page, f"{server.url}?lang=fr&client={first}")
    search = page.get_by_label("Numéro de dossier client")
    for _ in range(2):
        search.fill(str(second))
        search.press("Enter")
        card_heading(page, second).wait_for()
        page.get_by_role("link", name=f"Afficher le client {first}").click()
        card_heading(page, first).wait_for(timeout=10_000)
