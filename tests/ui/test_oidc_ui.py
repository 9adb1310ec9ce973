"""Sign-in through a real OpenID Provider, end to end: panva's certified ``oidc-provider`` (Node.js, loopback)
with one confidential client, the dashboard started by ``scripts/serve.py --auth oidc`` configured as
docs/security.md says, and real Chromium going through the provider's login and consent pages. Roles come from
the ID token's ``realm_access.roles`` claim mapped through ``CREDIT_ROLE_MAP``, as in the Keycloak example."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.access.audit import AuditTrail
from dashboard.local_server import ROOT, free_port
from tests.ui.harness import PAGE_READY_SELECTOR, open_app

pytestmark = pytest.mark.ui
PROVIDER_DIR = ROOT / "tests" / "access" / "oidc_provider"
START_TIMEOUT_SECONDS = 90
CLIENT_ID, CLIENT_SECRET = "pret-a-depenser", "s" * 40
ACCOUNTS = {"alice": ["cockpit-manager", "offline"], "lena": ["cockpit-lead"], "omar": ["staff"]}


def _require_provider() -> str:
    """The ``node`` binary, once the provider's packages are installed (``npm ci`` in its folder)."""
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "Node.js (apt-get install nodejs npm)"
    elif not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        missing = f"the provider's packages (cd {PROVIDER_DIR.relative_to(ROOT)} && npm ci)"
    if missing:
        message = f"the OIDC sign-in test needs {missing}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — required in CI", pytrace=False)
        pytest.skip(message)
    return node


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {START_TIMEOUT_SECONDS} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def oidc_server(
    chromium_path, scored_warehouse, small_model_dir, tmp_path_factory
) -> Iterator[tuple[str, Path]]:
    """The dashboard's app URL and its access folder, signing in through the provider."""
    node = _require_provider()
    folder = tmp_path_factory.mktemp("oidc")
    provider_port, port = free_port(), free_port()
    redirect_uri = f"http://127.0.0.1:{port}/login"
    issuer = f"http://localhost:{provider_port}"
    provider_env = {
        **os.environ,
        "OIDC_PORT": str(provider_port),
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URI": redirect_uri,
        "OIDC_ROLE_CLAIM": "realm_access",
        "OIDC_ACCOUNTS": json.dumps({name: {"roles": roles} for name, roles in ACCOUNTS.items()}),
    }
    provider_log = folder / "provider.log"
    with provider_log.open("w") as handle:
        provider = subprocess.Popen(
            [node, "server.js"], cwd=PROVIDER_DIR, env=provider_env, stdout=handle, stderr=subprocess.STDOUT
        )
    try:
        _wait_for(f"{issuer}/.well-known/openid-configuration", provider, provider_log)
        extra = {
            "AUTHORIZE_URL": f"{issuer}/auth",
            "TOKEN_URL": f"{issuer}/token",
            "USER_URL": f"{issuer}/me",
            "LOGOUT_URL": f"{issuer}/session/end",
            "USER_KEY": "preferred_username",
        }
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "CREDIT_WAREHOUSE": str(scored_warehouse),
            "CREDIT_MODEL_DIR": str(small_model_dir),
            "PROTOVIT_RUN": str(folder / "no_run"),
            "CREDIT_ACCESS_DIR": str(folder / "access"),
            "PANEL_OAUTH_KEY": CLIENT_ID,
            "PANEL_OAUTH_SECRET": CLIENT_SECRET,
            "PANEL_OAUTH_REDIRECT_URI": redirect_uri,
            "PANEL_OAUTH_EXTRA_PARAMS": repr(extra),
            "PANEL_OAUTH_ENCRYPTION": "Dd5mQ3EhmyaAzuXvYYySx5AkYeGe8WGAldKYwkUIp_s=",
            "CREDIT_ROLE_CLAIM": "realm_access.roles",
            "CREDIT_ROLE_MAP": "cockpit-manager=manager,cockpit-lead=lead,cockpit-admin=admin",
        }
        log = folder / "server.log"
        command = [sys.executable, str(ROOT / "scripts" / "serve.py"), "--auth", "oidc", "--port", str(port)]
        with log.open("w") as handle:
            server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        try:
            _wait_for(f"http://127.0.0.1:{port}/liveness", server, log)
            yield f"http://127.0.0.1:{port}/app", folder / "access"
        finally:
            _stop(server)
    finally:
        _stop(provider)


def sign_in(page, url: str, user: str) -> None:
    """Open the app: the browser goes to the provider, signs in there and consents, and comes back."""
    page.goto(url)
    page.locator("input[name=login]").fill(user)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # the provider's consent page


def _rows(access_dir: Path, user: str) -> list:
    return [row for row in AuditTrail(str(access_dir / "audit.sqlite")).rows() if row.username == user]


def test_manager_and_lead_sign_in_through_the_identity_provider(browser, oidc_server):
    url, access_dir = oidc_server
    manager = browser.new_context().new_page()
    sign_in(manager, f"{url}?lang=fr", "alice")
    manager.wait_for_selector(PAGE_READY_SELECTOR)
    assert manager.get_by_text("Connecté : alice (chargé de clientèle)").is_visible()
    assert manager.locator("nav a", has_text="Portefeuille").count() == 0
    open_app(manager, f"{url}?view=portfolio&lang=fr")
    manager.get_by_role("heading", name=re.compile("Accès refusé")).wait_for()
    manager.get_by_role("link", name="Se déconnecter").click()
    manager.wait_for_url(re.compile("/logout"))
    kept = {cookie["name"] for cookie in manager.context.cookies(url)}
    assert not kept & {"user", "id_token", "access_token"}, kept  # the dashboard's sign-in is gone
    manager.context.close()

    lead = browser.new_context().new_page()
    sign_in(lead, f"{url}?view=portfolio&lang=fr", "lena")
    lead.wait_for_selector(PAGE_READY_SELECTOR)
    assert lead.get_by_text("Connecté : lena (chef d'équipe)").is_visible()
    assert lead.get_by_role("heading", name=re.compile("Accès refusé")).count() == 0
    lead.locator("nav a[aria-current=page]", has_text="Portefeuille").wait_for()
    lead.context.close()

    nobody = browser.new_context().new_page()  # signed in at the bank, but no role for this dashboard
    sign_in(nobody, f"{url}?lang=fr", "omar")
    nobody.get_by_text("aucun rôle ne vous est attribué").wait_for()
    assert nobody.locator("nav a").count() == 0
    nobody.context.close()

    alice = _rows(access_dir, "alice")
    assert [(row.role, row.detail) for row in alice if row.action == "session_start"] == [
        ("manager", "oidc"),
        ("manager", "oidc"),
    ]
    assert "view_refused" in {row.action for row in alice}
    lena = _rows(access_dir, "lena")
    assert ("lead", "oidc") in {(row.role, row.detail) for row in lena if row.action == "session_start"}
    assert "view_refused" not in {row.action for row in lena}
