"""Access settings, read from the environment so ``panel serve``, its auth module and the scripts agree.

| variable | meaning | default |
|---|---|---|
| ``CREDIT_AUTH`` | ``local`` (user store), ``oidc`` (Panel's generic OAuth provider) or ``demo`` (no login) | unset: refused |
| ``CREDIT_ACCESS_DIR`` | folder of the user store, audit file and generated secrets | ``data/access`` |
| ``CREDIT_USERS_DB`` | SQLite file of local users | ``<access dir>/users.sqlite`` |
| ``CREDIT_AUDIT_URL`` | ``postgresql://...`` or a SQLite file path | ``<access dir>/audit.sqlite`` |
| ``CREDIT_IDLE_MINUTES`` | idle time after which a session ends (may be fractional) | ``15`` |
| ``CREDIT_SESSION_HOURS`` | longest life of a login, active or not | ``10`` |
| ``CREDIT_ROLE_CLAIM`` | dotted path of the roles claim in the OIDC id token | ``roles`` |
| ``CREDIT_ROLE_MAP`` | ``idp-name=role,...`` mapping identity-provider role names to ours | identity |
| ``CREDIT_DEMO_ROLE`` | the role of everyone in demo mode | ``admin`` |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.access.roles import parse_role

ROOT = Path(__file__).resolve().parents[2]
AUTH_MODES = ("local", "oidc", "demo")


class ConfigError(ValueError):
    """A configuration the server must refuse to start with; the message says what to set."""


def _path(raw: str | None, default: Path) -> Path:
    path = Path(raw).expanduser() if raw else default
    return path if path.is_absolute() else (ROOT / path).resolve()


@dataclass(frozen=True)
class AccessConfig:
    """The access settings of one server process."""

    auth: str | None
    access_dir: Path
    users_db: Path
    audit_url: str
    idle_seconds: float
    session_hours: float = 10.0
    role_claim: str = "roles"
    role_map: dict[str, str] = field(default_factory=dict)
    demo_role: str = "admin"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AccessConfig:
        env = os.environ if environ is None else environ
        auth = (env.get("CREDIT_AUTH") or "").strip().lower() or None
        if auth is not None and auth not in AUTH_MODES:
            raise ConfigError(f"CREDIT_AUTH={auth!r}: use one of {', '.join(AUTH_MODES)}")
        access_dir = _path(env.get("CREDIT_ACCESS_DIR"), ROOT / "data" / "access")
        try:
            idle_seconds = float(env.get("CREDIT_IDLE_MINUTES") or "15") * 60
        except ValueError as error:
            raise ConfigError(f"CREDIT_IDLE_MINUTES must be a number of minutes: {error}") from None
        try:
            session_hours = float(env.get("CREDIT_SESSION_HOURS") or "10")
        except ValueError as error:
            raise ConfigError(f"CREDIT_SESSION_HOURS must be a number of hours: {error}") from None
        if idle_seconds <= 0 or session_hours <= 0:
            raise ConfigError("CREDIT_IDLE_MINUTES and CREDIT_SESSION_HOURS must be positive")
        role_map = {}
        for pair in filter(None, (env.get("CREDIT_ROLE_MAP") or "").split(",")):
            name, _, role = pair.partition("=")
            role_map[name.strip()] = parse_role(role)
        return cls(
            auth=auth,
            access_dir=access_dir,
            users_db=_path(env.get("CREDIT_USERS_DB"), access_dir / "users.sqlite"),
            audit_url=env.get("CREDIT_AUDIT_URL") or str(access_dir / "audit.sqlite"),
            idle_seconds=idle_seconds,
            session_hours=session_hours,
            role_claim=env.get("CREDIT_ROLE_CLAIM") or "roles",
            role_map=role_map,
            demo_role=parse_role(env.get("CREDIT_DEMO_ROLE") or "admin"),
        )

    def check_production(self, *, cookie_secret: str | None, session_secret: str | None) -> None:
        """Refuse to serve real data without login, a cookie secret and signed sessions (demo mode excepted)."""
        if self.auth is None:
            raise ConfigError(
                "no authentication configured: set CREDIT_AUTH=local (user store) or CREDIT_AUTH=oidc "
                "(identity provider); CREDIT_AUTH=demo serves without login, for a local demo only"
            )
        if self.auth == "demo":
            return
        if not cookie_secret or len(cookie_secret) < 32:
            raise ConfigError("a cookie secret of at least 32 characters is required (PANEL_COOKIE_SECRET)")
        if not session_secret or len(session_secret) < 32:
            raise ConfigError(
                "signed sessions need a secret key of at least 32 characters (BOKEH_SECRET_KEY)"
            )
