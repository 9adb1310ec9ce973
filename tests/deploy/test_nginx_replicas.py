"""The deployment topology end to end: Debian's nginx (deploy/nginx) in front of two ``panel serve`` processes.

Real nginx, real TLS (self-signed), real Chromium through the proxy; then ``kill -9`` of one process while pages
are open: the other process keeps serving, and the page that lost its server says so and offers a reload
instead of showing stale figures without warning.
"""

from __future__ import annotations

import gzip
import http.client
import os
import re
import signal
import ssl
import time

import pytest

from tests.deploy.conftest import Proxy
from tests.ui.harness import BOKEH_READY, CHROMIUM_FLAGS, PAGE_READY_SELECTOR

NOTICE = "#connection-lost"


def _get(proxy: Proxy, path: str, *, https: bool = True, headers: dict[str, str] | None = None):
    if https:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", proxy.https_port, timeout=30, context=ssl._create_unverified_context()
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=30)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()


def test_tls_headers_gzip_and_sticky_cookie(proxy: Proxy) -> None:
    response, _ = _get(proxy, "/app", https=False)
    assert response.status == 301
    assert response.getheader("Location") == f"https://127.0.0.1:{proxy.https_port}/app"

    response, body = _get(proxy, "/app")
    assert response.status == 200 and b"Bokeh" in body
    assert response.getheader("Server") == "nginx"  # no version, and not Tornado's header
    assert response.getheader("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in response.getheader("Content-Security-Policy")
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Strict-Transport-Security")
    route = re.match(r"cockpit_route=([0-9a-f]{32});", response.getheader("Set-Cookie") or "")
    assert route, response.getheader("Set-Cookie")

    # With the cookie, every request lands on the process that answered the first one (its session lives there):
    # the first answer was routed on the very id it put in the cookie.
    cookie = {"Cookie": f"cockpit_route={route.group(1)}"}
    for _ in range(4):
        response, _ = _get(proxy, "/app", headers=cookie)
        assert response.status == 200 and response.getheader("Set-Cookie") is None
    time.sleep(0.5)  # nginx writes its access log line after the answer
    assert sorted(proxy.served()) == [0, 5], proxy.served()

    script = re.search(rb'src="(static/js/bokeh\.min\.js[^"]*)"', body).group(1).decode()
    response, packed = _get(proxy, "/" + script, headers={"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.getheader("Content-Encoding") == "gzip"
    assert b"Bokeh" in gzip.decompress(packed)


def _websockets(replica) -> int:
    return replica.log.read_text().count("WebSocket connection opened")


def _open(browser, proxy: Proxy, violations: list[str]):
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(proxy.url)
    page.wait_for_function(BOKEH_READY)
    page.wait_for_selector(PAGE_READY_SELECTOR)
    return page


def _show_client(page, client_id: int) -> None:
    search = page.get_by_role("textbox").first
    search.fill(str(client_id))
    search.press("Enter")
    page.wait_for_function(f"() => window.location.search.includes('client={client_id}')", timeout=30_000)


def test_killing_one_process_keeps_the_others_serving_and_warns_its_pages(
    proxy: Proxy, chromium_path: str, client_ids: list[int]
) -> None:
    from playwright.sync_api import sync_playwright

    violations: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        try:
            # New browser contexts get new route cookies; open pages until each process holds one.
            pages: dict[int, object] = {}
            for _ in range(16):
                before = [_websockets(replica) for replica in proxy.replicas]
                page = _open(browser, proxy, violations)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    after = [_websockets(replica) for replica in proxy.replicas]
                    if after != before:
                        break
                    time.sleep(0.1)
                index = next(i for i, (a, b) in enumerate(zip(after, before, strict=True)) if a > b)
                if index in pages:
                    page.context.close()
                else:
                    pages[index] = page
                if len(pages) == 2:
                    break
            assert len(pages) == 2, "16 new browsers all landed on the same process"
            for page in pages.values():
                _show_client(page, client_ids[0])
                assert page.locator(NOTICE).is_hidden()

            victim = proxy.replicas[0]
            os.kill(victim.process.pid, signal.SIGKILL)
            victim.process.wait(timeout=10)

            lost = pages[0]
            notice = lost.locator(NOTICE)
            notice.wait_for(state="visible", timeout=15_000)
            assert notice.get_attribute("role") == "alert"
            assert "connexion au serveur est perdue" in notice.inner_text()
            assert lost.evaluate("() => document.querySelector('.page-body').inert") is True
            assert lost.evaluate("() => document.activeElement.id") == "reload-page"

            # The other process's page is untouched and keeps answering.
            kept = pages[1]
            _show_client(kept, client_ids[1])
            assert kept.locator(NOTICE).is_hidden()

            # Reloading the warned page gets a fresh session from the surviving process.
            served_before = proxy.served()[1]
            lost.get_by_role("button", name="Recharger la page").click()
            lost.wait_for_function(BOKEH_READY)
            lost.wait_for_selector(PAGE_READY_SELECTOR)
            assert lost.locator(NOTICE).is_hidden()
            time.sleep(0.5)
            assert proxy.served()[1] > served_before
            _show_client(lost, client_ids[2])

            # New managers still get pages.
            fresh = _open(browser, proxy, violations)
            _show_client(fresh, client_ids[3])
        finally:
            browser.close()
    assert violations == []


@pytest.fixture(scope="module")
def client_ids(scored_warehouse) -> list[int]:
    from warehouse import Warehouse

    with Warehouse(scored_warehouse) as warehouse:
        return warehouse.search_clients("100", limit=4)
