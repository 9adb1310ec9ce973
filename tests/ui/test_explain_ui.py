"""The explanation pages in real Chromium, for a refused, a grey-zone and a granted client, in French and English:
the visible text (shadow roots included) has no column code, no "NaN", no log-odds, at most four reasons each way;
the age axis of the comparison ascends; axe-core finds no violation."""

from __future__ import annotations

import re

import pytest

from tests.ui.harness import open_app
from tests.ui.test_dashboard_ui import axe_violations
from tests.ui.test_letter_ui import CODE, letter_clients  # noqa: F401 (session fixture shared with the letter)

pytestmark = pytest.mark.ui

VISIBLE_TEXT = """() => {
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { return node.data }
    let text = ""
    if (node.nodeType === Node.ELEMENT_NODE) {
      if (["SCRIPT", "STYLE", "TEMPLATE"].includes(node.tagName)) { return "" }
      const style = getComputedStyle(node)
      if (style.display === "none" || style.visibility === "hidden") { return "" }
      if (node.tagName === "DETAILS" && !node.open) { return walk(node.querySelector("summary") || document.createTextNode("")) }
      if (node.shadowRoot) { text += walk(node.shadowRoot) + " " }
    }
    for (const child of node.childNodes) { text += walk(child) + " " }
    return text
  }
  return walk(document.body).replace(/\\s+/g, " ")
}"""
REASON_LISTS = """() => {
  const counts = []
  const visit = (root) => {
    for (const heading of root.querySelectorAll("h3")) {
      const list = heading.nextElementSibling
      if (list && list.tagName === "UL") { counts.push([heading.textContent, list.children.length]) }
    }
    for (const element of root.querySelectorAll("*")) { if (element.shadowRoot) { visit(element.shadowRoot) } }
  }
  visit(document)
  return counts
}"""
AXIS_TEXTS = """() => {
  const found = []
  const visit = (root) => {
    for (const svg of root.querySelectorAll("svg[aria-label]")) {
      if (/^(Histogramme|Histogram)/.test(svg.getAttribute("aria-label"))) {
        found.push([...svg.querySelectorAll("text")].map((t) => [Number(t.getAttribute("y")), Number(t.getAttribute("x")), t.textContent]))
      }
    }
    for (const element of root.querySelectorAll("*")) { if (element.shadowRoot) { visit(element.shadowRoot) } }
  }
  visit(document)
  return found
}"""


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("kind", ["refused", "grey", "granted"])
@pytest.mark.parametrize("view", ["decision", "compare"])
def test_pages_speak_plainly_and_pass_axe(page, server, letter_clients, view, kind, lang):  # noqa: F811
    open_app(page, f"{server.url}?lang={lang}&view={view}&client={letter_clients[kind]}")
    page.wait_for_function("() => document.body.innerText.length > 0")
    text = page.evaluate(VISIBLE_TEXT)
    assert str(letter_clients[kind]) in text
    assert not CODE.search(text), CODE.search(text).group(0)
    assert "NaN" not in text and "log-odds" not in text and "log-cote" not in text
    if view == "decision":
        reasons = {heading: n for heading, n in page.evaluate(REASON_LISTS)}
        assert reasons and all(n <= 4 for n in reasons.values()), reasons
    else:
        ages = []
        for chart in page.evaluate(AXIS_TEXTS):
            ticks = [
                (y, x, t) for y, x, t in chart if re.fullmatch(r"\d+(?:[.,]\d)? (?:ans|years)", t.strip())
            ]
            lowest = max((y for y, _, _ in ticks), default=None)  # tick labels sit under the axis
            ages += [
                float(t.split()[0].replace(",", "."))
                for y, _, t in sorted(ticks, key=lambda k: k[1])
                if y == lowest
            ]
        assert len(ages) >= 3 and ages == sorted(ages), ages  # the age axis ascends
    assert axe_violations(page) == []


@pytest.mark.parametrize(
    ("width", "height"),
    [(1366, 768), (683, 384)],  # a laptop screen, and the same screen zoomed to 200 %
    ids=["1366x768", "200pct-zoom"],
)
def test_verdict_probability_and_threshold_visible_without_scrolling(
    browser,
    server,
    letter_clients,  # noqa: F811
    width,
    height,
):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        open_app(page, f"{server.url}?lang=fr&view=decision&client={letter_clients['refused']}")
        for selector in ("p.verdict", "dl.figures"):
            box = page.locator(selector).first.bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box)
        # search and menu stay in their landmarks (the top bar, or right after the decision on a short screen)
        assert page.get_by_role("search").count() == 1 and page.get_by_role("navigation").count() == 1
        assert axe_violations(page) == []
    finally:
        context.close()
