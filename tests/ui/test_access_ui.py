"""Login, roles, sign-out, idle expiry, session binding and the audit trail, end to end: ``panel serve`` with the
local user store (the options serve.py uses), real Chromium, and a real websocket client speaking Bokeh's
protocol. Each action is checked in the audit file the server wrote."""

from __future__ import annotations

import http.cookiejar
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dashboard.access.audit import AuditTrail
from dashboard.access.config import AccessConfig
from dashboard.access.serving import panel_access_args
from dashboard.access.users import UserStore
from dashboard.local_server import LocalServer, start_local_server
from tests.ui.harness import open_app

pytestmark = pytest.mark.ui
PASSWORD = "correct horse battery staple"
USERS = {"alice": "manager", "bruno": "manager", "lena": "lead", "root": "admin"}


def _serve(folder: Path, warehouse: Path, model_dir: Path, idle_minutes: str = "15") -> LocalServer:
    access_dir = folder / "access"
    store = UserStore(access_dir / "users.sqlite")
    for name, role in USERS.items():
        store.add(name, PASSWORD, role)
    env = {
        "CREDIT_WAREHOUSE": str(warehouse),
        "CREDIT_MODEL_DIR": str(model_dir),
        "PROTOVIT_RUN": str(folder / "no_run"),
        "CREDIT_AUTH": "local",
        "CREDIT_ACCESS_DIR": str(access_dir),
        "CREDIT_IDLE_MINUTES": idle_minutes,
        "PANEL_COOKIE_SECRET": "c" * 48,
        "BOKEH_SECRET_KEY": "k" * 48,
    }
    args = panel_access_args(AccessConfig.from_env(env))
    return start_local_server(env, folder / "server.log", extra_args=tuple(args))


@pytest.fixture(scope="module")
def secured(chromium_path, scored_warehouse, small_model_dir, tmp_path_factory) -> Iterator[LocalServer]:
    running = _serve(tmp_path_factory.mktemp("secured"), scored_warehouse, small_model_dir)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client_ids(scored_warehouse) -> list[int]:
    from warehouse import Warehouse

    with Warehouse(scored_warehouse) as warehouse:
        return warehouse.search_clients("1", limit=3)


def _base(server: LocalServer) -> str:
    return server.url.rsplit("/", 1)[0]


def _trail(server: LocalServer) -> AuditTrail:
    return AuditTrail(str(server.log.parent / "access" / "audit.sqlite"))


def _actions(server: LocalServer, user: str) -> list[str]:
    return [row.action for row in _trail(server).rows() if row.username == user]


def login(page, server: LocalServer, user: str, password: str = PASSWORD, query: str = "") -> None:
    """Open the app (which sends the browser to the login form, in the app's language) and sign in."""
    page.goto(f"{server.url}{query or '?'}&lang=fr")
    page.get_by_label("Identifiant").fill(user)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http_login(
    server: LocalServer, user: str
) -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar]:
    """Sign in without a browser; returns an opener carrying the session cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    data = urllib.parse.urlencode({"username": user, "password": PASSWORD, "next": "/app"}).encode()
    opener.open(f"{_base(server)}/login", data=data, timeout=30).read()
    return opener, jar


def _cookie_header(jar: http.cookiejar.CookieJar) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def page_token(opener: urllib.request.OpenerDirector, server: LocalServer) -> str:
    html = opener.open(server.url, timeout=60).read().decode()
    return re.search(r'"token":\s*"([^"]+)"', html.replace('\\"', '"')).group(1)


def websocket_answer(server: LocalServer, token: str, cookie: str) -> str:
    """Open the app's websocket as Bokeh's client does and return what the server says first: 'ACK' when the
    session is served, 'closed' when it refuses the token, or the HTTP status of a refused handshake."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.ioloop import IOLoop
    from tornado.websocket import websocket_connect

    url = server.url.replace("http://", "ws://") + "/ws"
    port = urllib.parse.urlparse(server.url).port

    async def talk() -> str:
        request = HTTPRequest(url, headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"})
        try:
            socket = await websocket_connect(request, subprotocols=["bokeh", token])
        except HTTPClientError as error:
            return f"HTTP {error.code}"
        first = await socket.read_message()
        socket.close()
        return "closed" if first is None else ("ACK" if '"ACK"' in first else first[:80])

    return IOLoop().run_sync(talk, timeout=30)


def test_page_and_websocket_refuse_unauthenticated_requests(secured):
    from bokeh.client import pull_session

    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(secured.url, timeout=30)
    assert refused.value.code == 302 and "login?next=" in refused.value.headers["Location"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(f"{_base(secured)}/letter?client=100001&lang=fr", timeout=30)
    assert refused.value.code == 302 and "login?next=" in refused.value.headers["Location"]
    with pytest.raises(OSError, match="error code: 403"):
        pull_session(url=secured.url)  # Bokeh's own client, no cookie


def test_sessions_are_signed_and_bound_to_their_user(secured):
    from bokeh.util.token import generate_jwt_token, generate_session_id

    alice, alice_jar = http_login(secured, "alice")
    token = page_token(alice, secured)
    assert websocket_answer(secured, token, _cookie_header(alice_jar)) == "ACK"
    # A made-up session id and token (not signed with the server's key) is refused, even when it carries
    # Alice's own cookies so that it passes the user binding: then Bokeh's signature check closes it.
    made_up = generate_jwt_token(generate_session_id(secret_key=None, signed=False))
    assert websocket_answer(secured, made_up, _cookie_header(alice_jar)) == "HTTP 403"
    cookies = {cookie.name: cookie.value.strip('"') for cookie in alice_jar}
    crafted = generate_jwt_token(
        generate_session_id(secret_key=None, signed=False), extra_payload={"cookies": cookies}
    )
    assert websocket_answer(secured, crafted, _cookie_header(alice_jar)) == "closed"
    # Alice's real token replayed with another user's cookies is refused before any session is served.
    _bruno, bruno_jar = http_login(secured, "bruno")
    assert websocket_answer(secured, token, _cookie_header(bruno_jar)) == "HTTP 403"
    # A forged identity cookie (right name, no valid signature) gets nothing either.
    assert websocket_answer(secured, token, "user=alice; login=whatever") == "HTTP 403"


def test_forged_and_replayed_cookies_are_refused(secured):
    alice, jar = http_login(secured, "alice")
    cookies = _cookie_header(jar)
    alice.open(f"{_base(secured)}/logout", timeout=30).read()
    opener = urllib.request.build_opener(_NoRedirect)
    for header in (cookies, "user=root; login=abc", cookies.replace("alice", "root")):
        request = urllib.request.Request(secured.url, headers={"Cookie": header})
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(request, timeout=30)
        assert refused.value.code == 302, header


def test_wrong_password_gives_a_clear_message_and_is_recorded(page, secured):
    from tests.ui.test_dashboard_ui import axe_violations

    login(page, secured, "alice", "not the password")
    page.get_by_role("alert").wait_for()
    assert "incorrect" in page.get_by_role("alert").inner_text()
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert axe_violations(page) == []
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading", name="Sign in to credit scoring").is_visible()
    assert axe_violations(page) == []
    assert "login_failed" in _actions(secured, "alice")


def test_manager_signs_in_is_refused_a_lead_view_by_url_and_signs_out(page, secured, client_ids):
    from tests.ui.test_dashboard_ui import axe_violations

    login(page, secured, "alice", query=f"?client={client_ids[0]}")
    page.wait_for_selector("nav a[aria-current=page]")
    assert page.get_by_text("Connecté : alice (chargé de clientèle)").is_visible()
    page.get_by_label("Votre décision").wait_for()  # the decision record under the card
    assert axe_violations(page) == []
    assert page.locator("nav a", has_text="Portefeuille").count() == 0
    open_app(page, f"{secured.url}?view=portfolio&client={client_ids[0]}")
    page.get_by_role("heading", name=re.compile("Accès refusé")).wait_for()
    assert page.get_by_role("heading", name=re.compile("Score des clients|Portfolio")).count() == 0
    page.get_by_role("link", name="Se déconnecter").click()
    page.get_by_text("Vous êtes déconnecté.").wait_for()
    assert axe_violations(page) == []
    page.goto(f"{secured.url}?lang=fr")
    page.get_by_label("Mot de passe").wait_for()  # back on the login form
    actions = _actions(secured, "alice")
    for action in ("login", "session_start", "client_opened", "view_refused", "logout"):
        assert action in actions, action


def test_each_action_is_recorded_and_no_client_data_reaches_the_log(
    browser, secured, client_ids, scored_warehouse
):
    from warehouse import Warehouse

    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    client = client_ids[1]
    login(page, secured, "bruno", query=f"?client={client}")
    page.get_by_role("heading", name=f"Décision pour le client {client}").wait_for()
    with page.expect_download():
        page.get_by_role("button", name="Télécharger l'explication (CSV pour tableur)").click()
    outcome = page.get_by_label("Votre décision")
    override = next(text for text in outcome.locator("option").all_inner_texts() if "Ne pas suivre" in text)
    outcome.select_option(label=override)
    save = page.get_by_role("button", name="Enregistrer la décision")
    expect(save).to_be_disabled()  # no override without a justification
    page.get_by_label("Justification (obligatoire)").fill("Garant solide présenté en agence")
    expect(save).to_be_enabled()
    save.click()
    page.locator("#main-content").get_by_text("Décision enregistrée.").wait_for()
    page.get_by_text(re.compile("bruno : .*score non suivi")).wait_for()
    page.goto(f"{_base(secured)}/letter?client={client}&lang=fr")  # the letter is served to the same sign-in
    page.get_by_role("heading", level=1).wait_for()
    context.close()
    rows = [row for row in _trail(secured).rows() if row.username == "bruno"]
    assert {"login", "session_start", "client_opened", "view_opened", "export", "decision", "letter"} <= {
        r.action for r in rows
    }
    assert all(row.client_id in (None, client) for row in rows)
    with Warehouse(scored_warehouse) as warehouse:
        profile = warehouse.client_profile(client)
    values = {str(value) for value in profile.values() if value is not None and len(str(value)) >= 4}
    values |= {f"{value:.0f}" for value in profile.values() if isinstance(value, float) and value >= 1000}
    log = secured.log.read_text()
    assert "WebSocket connection opened" in log  # the session did run through this server
    assert sorted(value for value in values if value in log) == []


def test_lead_sees_team_decisions_and_admin_sees_a_broken_chain(browser, secured, client_ids):
    trail = _trail(secured)
    trail.record(user="alice", role="manager", session="s", action="decision", client_id=client_ids[0],
                 detail='{"score": "granted", "outcome": "follow", "final": "granted"}')  # fmt: skip
    lead = browser.new_page()
    login(lead, secured, "lena", query="?view=team")
    lead.get_by_role("heading", name="Décisions de l'équipe").wait_for()
    assert lead.get_by_role("table", name=re.compile("taux de non-suivi")).is_visible()
    open_app(lead, f"{secured.url}?view=audit")
    lead.get_by_role("heading", name=re.compile("Accès refusé")).wait_for()
    lead.close()
    admin = browser.new_page()
    login(admin, secured, "root", query="?view=audit")
    admin.get_by_text(re.compile("Chaîne d'intégrité vérifiée")).wait_for()
    path = secured.log.parent / "access" / "audit.sqlite"
    with sqlite3.connect(path) as connection:  # an intruder edits a row behind the application's back
        connection.execute("DROP TRIGGER audit_no_update")
        connection.execute("UPDATE audit SET client_id = 1 WHERE seq = 2")
    open_app(admin, f"{secured.url}?view=audit")
    admin.get_by_text(re.compile("Chaîne d'intégrité ROMPUE à la ligne 2")).wait_for()
    admin.close()


def test_an_idle_session_expires(browser, scored_warehouse, small_model_dir, tmp_path):
    server = _serve(tmp_path, scored_warehouse, small_model_dir, idle_minutes="0.15")  # 9 s
    try:
        page = browser.new_page()
        login(page, server, "alice")
        # The page opens, nobody touches it, and it ends up on the sign-out page saying why.
        page.get_by_text(re.compile("Votre session a expiré")).wait_for(timeout=60_000)
        assert "reason=idle" in page.url
        page.goto(f"{server.url}?lang=fr")
        page.get_by_label("Mot de passe").wait_for()
        page.close()
        actions = _actions(server, "alice")
        assert actions.index("login") < actions.index("session_start") < actions.index("session_expired")
    finally:
        server.stop()
