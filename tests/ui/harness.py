"""Helpers for the browser tests: Chromium flags, and opening a page until Bokeh has rendered it (never a sleep).

The server itself is started by :mod:`dashboard.local_server`, shared with the benchmark.
"""

from __future__ import annotations

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BOKEH_READY = (
    "() => window.Bokeh !== undefined && Bokeh.documents.length > 0 && Bokeh.documents[0].roots().length > 0"
)
PAGE_READY_SELECTOR = "nav a[aria-current=page], #main-content h2"


def open_app(page, url: str) -> None:
    """Navigate and wait until Bokeh has rendered the document's roots and the page's menu or main heading."""
    page.goto(url)
    page.wait_for_function(BOKEH_READY)
    page.wait_for_selector(PAGE_READY_SELECTOR)
