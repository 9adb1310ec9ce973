"""What ``scripts/serve.py`` adds to ``panel serve`` for access control, secure by default.

``local`` (the default) creates the user store and, when it is empty, a first ``admin`` with a random password
printed once on the console (like Jupyter's token); it generates and keeps a cookie secret and a session-signing
key in ``<access dir>/secrets.json`` (mode 600) unless they come from the environment. ``oidc`` uses Panel's
generic OAuth provider (configured by the ``PANEL_OAUTH_*`` variables, see docs/security.md). ``demo`` serves
without login, on the loopback interface only, and the page says so.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from dashboard.access.config import AccessConfig, ConfigError
from dashboard.access.users import UserStore, ensure_first_admin

AUTH_MODULE = Path(__file__).with_name("auth_module.py")
SESSION_TOKEN_SECONDS = 60
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def load_secrets(access_dir: Path) -> dict[str, str]:
    """The cookie secret and session key of this deployment, generated on first use and kept private."""
    path = access_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    access_dir.mkdir(parents=True, exist_ok=True)
    values = {"cookie_secret": secrets.token_urlsafe(48), "session_key": secrets.token_urlsafe(48)}
    partial = path.with_suffix(".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(values, handle)
    os.replace(partial, path)
    return values


def panel_access_args(config: AccessConfig, *, use_xheaders: bool = False) -> list[str]:
    """The ``panel serve`` options of an access mode (secrets travel in the environment, not on the command
    line where ``ps`` shows them)."""
    args = ["--use-xheaders"] if use_xheaders else []
    if config.auth == "demo":
        return args
    args += ["--session-ids", "signed", "--session-token-expiration", str(SESSION_TOKEN_SECONDS)]
    if config.auth == "local":
        return [*args, "--auth-module", str(AUTH_MODULE)]
    expiry_days = f"{config.idle_seconds / 86400:.6f}"
    return [*args, "--oauth-provider", "generic", "--oauth-expiry-days", expiry_days]


def prepare_access(environ: dict[str, str], *, address: str, use_xheaders: bool = False) -> list[str]:
    """Check and complete the environment for serving; returns the extra ``panel serve`` options.

    Raises :class:`ConfigError` (nothing started) for a configuration that would serve data unprotected.
    """
    config = AccessConfig.from_env(environ)
    if config.auth == "demo" and address not in LOOPBACK:
        raise ConfigError(f"demo mode (no login) serves on the loopback interface only, not on {address}")
    if config.auth in ("local", "oidc"):
        config.access_dir.mkdir(parents=True, exist_ok=True)
        config.access_dir.chmod(0o700)  # user store, audit file and secrets: the server's account only
        stored = load_secrets(config.access_dir)
        environ.setdefault("PANEL_COOKIE_SECRET", stored["cookie_secret"])
        environ.setdefault("BOKEH_SECRET_KEY", stored["session_key"])
    config.check_production(
        cookie_secret=environ.get("PANEL_COOKIE_SECRET"), session_secret=environ.get("BOKEH_SECRET_KEY")
    )
    if config.auth == "local":
        password = ensure_first_admin(UserStore(config.users_db))
        if password is not None:
            print(
                "==> first start: created the administrator 'admin' with the password\n"
                f"        {password}\n"
                "    (shown once; add users with: python -m dashboard.access.users add NAME --role manager)",
                flush=True,
            )
    if config.auth == "demo":
        print("==> DEMO MODE: no login and no access control (loopback only)", flush=True)
    return panel_access_args(config, use_xheaders=use_xheaders)
