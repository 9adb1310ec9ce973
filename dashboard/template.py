"""The accessible page shell: our own Jinja template, a design that adds focus styles, and small JS components.

Why not a stock template: Panel's base template hard-codes ``<html lang="en">`` and the stock templates fail axe
(no ``main`` landmark, no ``h1``, unnamed toggles, lists with non-``li`` children; see ``stack.md`` §5). This shell
renders ``lang`` from the session language, one ``h1``, a skip link, ``banner``/``search``/``nav``/``main``/
``contentinfo`` landmarks and a polite live region outside any shadow root.

``LinkList`` renders the client lists and, as ``ViewMenu``, the view menu (with ``aria-current``) as real links;
the menu also keeps ``document.title`` in step with the client shown and writes score announcements into the
live region;
``ToggleButton`` and ``CheckGroup`` exist because Bokeh's toggle says nothing of its state (no ``aria-pressed``)
and its checkbox group has no group label a screen reader announces.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import panel as pn
import param
from panel.custom import JSComponent
from panel.io.resources import CDN_DIST, _env
from panel.theme import Native
from panel.theme.base import Inherit
from panel.viewable import Viewable

from dashboard.i18n import LANGUAGES, tr

ASSETS = Path(__file__).parent / "assets"
PAGE_TEMPLATE = (ASSETS / "page.html").read_text(encoding="utf-8")
# Compiled once per process with Panel's own Jinja environment (its macros): a template given as text is compiled
# again for every session.
COMPILED_PAGE = _env.from_string(PAGE_TEMPLATE)
PAGE_CSS = (ASSETS / "page.css").read_text(encoding="utf-8")
WIDGET_CSS = (ASSETS / "widgets.css").read_text(encoding="utf-8")


class AccessibleDesign(Native):
    """Panel's native design plus a visible focus ring and readable placeholders inside every shadow root."""

    modifiers: ClassVar[dict] = {
        Viewable: {"stylesheets": [Inherit, f"{CDN_DIST}bundled/theme/native.css", WIDGET_CSS]}
    }


_LINKS_JS = """
function renderLinks(model) {
  const list = document.createElement("ul")
  const draw = () => {
    list.replaceChildren()
    if (model.list_label) { list.setAttribute("aria-label", model.list_label) } else { list.removeAttribute("aria-label") }
    list.hidden = model.items.length === 0
    list.classList.toggle("inline", model.inline)
    for (const [key, label] of model.items) {
      const item = document.createElement("li")
      const link = document.createElement("a")
      const url = new URL(window.location.href)
      url.searchParams.set(model.query_key, key)
      link.href = url.search
      link.textContent = label
      if (model.mark_current && key === model.current) { link.setAttribute("aria-current", "page") }
      link.addEventListener("click", (event) => {
        event.preventDefault()
        model.current = key
        const main = document.getElementById("main-content")
        if (main) { main.focus() }
      })
      item.append(link)
      list.append(item)
    }
  }
  draw()
  model.on(["items", "current", "list_label", "mark_current", "inline"], draw)
  return list
}
"""


class LinkList(JSComponent):
    """A list of links that act inside the page: the view menu, suggested and recent clients.

    Links (not buttons) because each one names a place: the ``href`` is the current address with one query
    parameter changed, so it can be opened in a new tab or bookmarked; a plain click updates ``current`` without
    reloading and moves focus to the main area. One model for the whole list: relabelling it on every client
    switch is one property change instead of new widgets.
    """

    items = param.List(default=[], doc="(key, label) pairs in display order.")
    current = param.String(
        default="", doc="Key of the link last chosen (marked aria-current if mark_current)."
    )
    query_key = param.String(default="view", doc="URL query parameter each link sets to its key.")
    mark_current = param.Boolean(default=True, doc="Mark the current link with aria-current='page'.")
    list_label = param.String(default="", doc="Accessible name of the list (aria-label), if any.")
    inline = param.Boolean(default=False, doc="Lay the links out in wrapping rows instead of a column.")

    _esm = (
        """
export function render({ model }) { return renderLinks(model) }
"""
        + _LINKS_JS
    )

    _stylesheets: ClassVar[list[str]] = [
        """
ul { list-style: none; margin: 0.25rem 0; padding: 0; display: flex; flex-direction: column; }
ul.inline { flex-direction: row; flex-wrap: wrap; gap: 0.25rem 0.5rem; }
li { margin: 0; }
a { display: block; padding: 0.45rem 0.75rem; min-height: 24px; color: #0b5d91; text-decoration: underline;
    border-left: 4px solid transparent; }
ul.inline a { padding: 0.3rem 0.6rem; border-left: none; border-bottom: 4px solid transparent; }
a[aria-current="page"] { color: #1a1a1a; font-weight: 700; text-decoration: none; border-left-color: #0072B2; background: #e8f1f8; }
ul.inline a[aria-current="page"] { border-bottom-color: #0072B2; }
a[aria-current="page"]::before { content: "▸ "; }
a:focus-visible { outline: 3px solid #0b5d91; outline-offset: 2px; }
"""
    ]


class ViewMenu(LinkList):
    """The view menu, which also keeps the browser tab title current and announces score updates through the
    page's live region: one model for what every page has once."""

    title = param.String(default="", doc="Text of document.title, e.g. 'Scoring crédit – client 100002 – …'.")
    announcement = param.String(default="", doc="Message read by screen readers (polite live region).")

    _esm = (
        """
export function render({ model }) {
  const applyTitle = () => { if (model.title) { document.title = model.title } }
  const announce = () => {
    const region = document.getElementById("live-region")
    if (!region) { return }
    // Clear first so that the same message twice in a row is announced twice.
    region.textContent = ""
    window.setTimeout(() => { region.textContent = model.announcement }, 50)
  }
  applyTitle()
  model.on("title", applyTitle)
  model.on("announcement", announce)
  return renderLinks(model)
}
"""
        + _LINKS_JS
    )


class ToggleButton(JSComponent):
    """A button that stays pressed while ``value`` is true, and says so to screen readers (``aria-pressed``)."""

    value = param.Boolean(default=False, doc="Whether the button is pressed.")
    label = param.String(default="", doc="Text of the button (its accessible name).")

    _esm = """
export function render({ model }) {
  const button = document.createElement("button")
  button.type = "button"
  const draw = () => {
    button.textContent = model.label
    button.setAttribute("aria-pressed", model.value ? "true" : "false")
  }
  button.addEventListener("click", () => { model.value = !model.value })
  draw()
  model.on(["value", "label"], draw)
  return button
}
"""

    _stylesheets: ClassVar[list[str]] = [
        """
button { font: inherit; font-weight: 600; padding: 0.4rem 0.9rem; min-height: 28px; color: #1a1a1a; background: #ffffff;
         border: 2px solid #6b6b6b; border-radius: 3px; cursor: pointer; }
button[aria-pressed="true"] { color: #ffffff; background: #0b5d91; border-color: #0b5d91; }
button[aria-pressed="true"]::before { content: "✓ "; }
button:focus-visible { outline: 3px solid #0b5d91; outline-offset: 2px; }
"""
    ]


class CheckGroup(JSComponent):
    """Checkboxes in a ``fieldset`` whose ``legend`` names the group, so a screen reader says what they choose."""

    options = param.Dict(default={}, doc="Label -> key of each checkbox, in display order.")
    value = param.List(default=[], doc="Keys of the checked boxes.")
    legend = param.String(default="", doc="Name of the group, shown above the boxes.")

    _esm = """
export function render({ model }) {
  const group = document.createElement("fieldset")
  const boxes = new Map()
  const sync = () => { for (const [key, box] of boxes) { box.checked = model.value.includes(key) } }
  // Rebuilt only when the choices change: a change of value just ticks boxes, so keyboard focus stays put.
  const build = () => {
    group.replaceChildren()
    boxes.clear()
    const legend = document.createElement("legend")
    legend.textContent = model.legend
    group.append(legend)
    const entries = model.options instanceof Map ? [...model.options.entries()] : Object.entries(model.options)
    for (const [label, key] of entries) {
      const item = document.createElement("label")
      const box = document.createElement("input")
      box.type = "checkbox"
      box.addEventListener("change", () => {
        model.value = [...boxes].filter(([, other]) => other.checked).map(([k]) => k)
      })
      boxes.set(key, box)
      item.append(box, " ", label)
      group.append(item)
    }
    sync()
  }
  build()
  model.on(["options", "legend"], build)
  model.on("value", sync)
  return group
}
"""

    _stylesheets: ClassVar[list[str]] = [
        """
fieldset { border: none; margin: 0.25rem 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; }
legend { font-weight: 600; color: #1a1a1a; padding: 0; margin-bottom: 0.25rem; width: 100%; }
label { display: inline-flex; align-items: center; gap: 0.3rem; min-height: 28px; cursor: pointer; }
input { width: 1.1rem; height: 1.1rem; min-height: 0; margin: 0; }
input:focus-visible { outline: 3px solid #0b5d91; outline-offset: 2px; }
"""
    ]


class PageTemplate(pn.Template):
    """Panel's Template with a short ``repr``.

    ``Template.add_panel`` stores ``repr(self)`` for notebook display each time a panel is added, and the stock
    repr walks every component of the page: on a server that was a fifth of the CPU of opening a session.
    """

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self._render_items)})"

    def _build_layout(self) -> pn.Column:
        """Only the summary line ``add_panel`` writes to: the stock layout adds a notebook's "Launch server"
        button and its callback to every session, and this template is only ever served."""
        return pn.Column(pn.pane.Str(""))


def build_page(
    lang: str,
    title: str,
    *,
    main: object,
    search: object | None = None,
    nav: object | None = None,
    footer_note: str = "",
    notice_html: str = "",
) -> pn.Template:
    """Assemble the accessible template for one session in ``lang``.

    ``search`` and ``nav`` go in the top bar, so the decision below gets the full width; without them (the "data missing" page) the page is just the
    header, ``main`` and the footer. ``notice_html`` (escaped HTML: who is signed in) is written into the page
    above ``main`` as plain HTML: it never changes during the session, so it needs no component.
    """
    other = next(code for code in LANGUAGES if code != lang)
    page = PageTemplate(COMPILED_PAGE, design=AccessibleDesign, location=True)
    variables = {
        "lang": lang,
        "other_lang": other,
        "page_title": title,
        "page_css": PAGE_CSS,
        "app_name": tr("app.name", lang),
        "heading": tr("app.heading", lang),
        "skip_text": tr("app.skip", lang),
        "search_label": tr("app.search_region", lang),
        "nav_label": tr("app.nav", lang),
        "switch_text": tr("app.switch_language", lang),
        "switch_hint": tr("app.switch_language_hint", lang),
        "footer_text": " ".join(filter(None, [tr("app.footer", lang), footer_note])),
        "connection_lost_text": tr("app.connection_lost", lang),
        "reload_text": tr("app.reload", lang),
        "has_bar": search is not None and nav is not None,
        "notice_html": notice_html,
    }
    for name, value in variables.items():
        page.add_variable(name, value)
    if search is not None and nav is not None:
        page.add_panel("search", search)
        page.add_panel("nav", nav)
    page.add_panel("main", main)
    return page
