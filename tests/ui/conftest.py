"""Browser fixtures: one ``panel serve`` per test session on a free loopback port, one headless Chromium.

The server runs the real app (``dashboard/app.py``) against the small shared fixtures (``scored_warehouse``,
``small_model_dir``) through the same environment variables production uses. Without Chromium or Playwright the
UI tests are skipped with a message, except in CI (``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.local_server import LocalServer, start_local_server
from tests.ui.harness import CHROMIUM_FLAGS


def _chromium_path() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM_PATH"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        "/usr/bin/chromium",
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _require_browser() -> str:
    """The Chromium path; skip (or fail in CI) with a clear message when the browser stack is missing."""
    missing = []
    try:
        import axe_playwright_python  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as error:
        missing.append(f"python package ({error.name}); pip install playwright axe-playwright-python")
    chromium = _chromium_path()
    if chromium is None:
        missing.append("Chromium (apt-get install chromium, or set CHROMIUM_PATH)")
    if missing:
        message = "UI tests need " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — required in CI", pytrace=False)
        pytest.skip(message)
    return chromium


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return _require_browser()


@pytest.fixture(scope="session")
def server(chromium_path, scored_warehouse, small_model_dir, tmp_path_factory) -> Iterator[LocalServer]:
    """The dashboard on the small fixtures, with a micro ProtoViT run trained on generated product images."""
    from protovit import train
    from tests.protovit.conftest import micro_config, write_image_folder

    folder = tmp_path_factory.mktemp("ui_server")
    images = write_image_folder(folder / "images")
    train(micro_config(), images, folder / "protovit_run", progress=False)
    running = start_local_server(
        {
            "CREDIT_WAREHOUSE": str(scored_warehouse),
            "CREDIT_MODEL_DIR": str(small_model_dir),
            "PROTOVIT_RUN": str(folder / "protovit_run"),
            "PROTOVIT_IMAGES": str(images),
            # The explicit local demo mode (no login, every view); login itself is tested in test_access_ui.py.
            "CREDIT_AUTH": "demo",
            "CREDIT_ACCESS_DIR": str(folder / "access"),
        },
        folder / "server.log",
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(chromium_path):
    """One Chromium per test module: Playwright's synchronous API keeps an event loop running in the main thread
    while it is open, which would stop later tests that run their own loop (Bokeh's client, tornado)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()
