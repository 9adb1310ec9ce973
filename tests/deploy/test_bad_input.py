"""Hostile URLs and websocket values against a real ``panel serve``, driven over the Bokeh protocol.

Whatever a link or a forged websocket message carries, the page answers with a clear message and keeps working;
unexpected errors reach the manager only as an incident reference, the details only the log.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.local_server import LocalServer, start_local_server
from scripts.bench_load import open_page

HUGE = "9" * 10_000
MALFORMED = "n'est pas un identifiant valide"
TOO_LONG = "compte trop de chiffres"


def _refused(text: str, value: str) -> bool:
    """The page said why ``value`` is no client id: too many digits, or not digits at all."""
    return (TOO_LONG if value.isascii() and value.isdigit() else MALFORMED) in text


@pytest.fixture(scope="module")
def server(
    scored_warehouse: Path, small_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalServer]:
    folder = tmp_path_factory.mktemp("bad_input")
    running = start_local_server(
        {
            "CREDIT_WAREHOUSE": str(scored_warehouse),
            "CREDIT_MODEL_DIR": str(small_model_dir),
            "CREDIT_AUTH": "demo",  # the explicit local demo mode (no login)
            "CREDIT_ACCESS_DIR": str(folder / "access"),
        },
        folder / "server.log",
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def known_ids(scored_warehouse: Path) -> list[int]:
    from warehouse import Warehouse

    with Warehouse(scored_warehouse) as warehouse:
        return warehouse.search_clients("100", limit=5)


def _texts(page) -> str:
    """Every HTML pane's text of the client's copy of the page (patched by the server)."""
    models = page.session.document.models
    text = " ".join(str(model.text) for model in models if "text" in model.properties() and model.text)
    return html.unescape(html.unescape(text))  # Panel escapes the pane's HTML into an attribute: twice


def test_a_10000_digit_url_value_gives_a_message_and_a_working_page(server: LocalServer, known_ids) -> None:
    page, _ = open_page(server.url, f"client={HUGE}&view={HUGE}&lang={HUGE}")
    try:
        assert TOO_LONG in _texts(page)
        assert HUGE not in _texts(page)  # the message quotes a short prefix, not the whole value
        assert page.switch(known_ids[0]) > 0  # the page still works
        assert "view=decision" in page.location.search and "lang=fr" in page.location.search
    finally:
        page.close()


@pytest.mark.parametrize("forged", [HUGE, "abc", "-1", "１２３", "1e9", "<script>", ""])
def test_forged_client_link_keys_give_a_message_and_keep_the_session(
    server: LocalServer, known_ids, forged: str
) -> None:
    page, _ = open_page(server.url, f"client={known_ids[0]}")
    try:
        connection = page.session._connection
        page.client_links.current = forged
        if forged:  # an empty key means "nothing chosen": no message expected
            loop = connection.io_loop
            timer = loop.call_later(20, loop.stop)
            connection._loop_until(lambda: _refused(_texts(page), forged) or not connection.connected)
            loop.remove_timeout(timer)
            assert _refused(_texts(page), forged) and connection.connected
        assert f"client={known_ids[0]}" in page.location.search  # the client shown did not change
        assert page.switch(known_ids[1]) > 0
    finally:
        page.close()
