"""One Bokeh session's access: who is signed in, their role, their idle time, and recording their actions.

Built once per session by ``dashboard/app.py`` from what the server authenticated (the local user store, the
identity provider's id token, or the explicit demo mode); the shell asks it before building a view and records
every traced action through it. Actions in ``FAIL_CLOSED`` raise :class:`AuditUnavailable` when they cannot be
recorded, so the caller refuses them; the others are recorded when possible.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dashboard.access.audit import FAIL_CLOSED, AuditTrail, AuditUnavailable
from dashboard.access.config import AccessConfig
from dashboard.access.roles import highest, may_open
from dashboard.access.users import User

SHARE_ACTIVITY_SECONDS = 10.0


class AccessRefused(Exception):
    """No page for this session; ``key`` is the i18n key of the reason shown instead."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass
class SessionAccess:
    """The signed-in user of one session and the audit trail their actions go to."""

    user: str
    role: str
    session_id: str
    mode: str
    trail: AuditTrail
    idle_seconds: float
    clock: Callable[[], float] = time.monotonic
    # Shares activity with the login (so a page reload after long work is not refused) and says whether the
    # login is still open (signed out in another tab, user disabled); both None in demo and OIDC modes.
    on_activity: Callable[[], None] | None = None
    login_open: Callable[[], bool] | None = None
    last_activity: float = field(default=0.0)
    ended: bool = False
    _shared_at: float = field(default=float("-inf"), repr=False)

    def __post_init__(self) -> None:
        self.last_activity = self.clock()

    @property
    def demo(self) -> bool:
        return self.mode == "demo"

    def may_open(self, view: str) -> bool:
        return may_open(self.role, view)

    def touch(self) -> None:
        """The user did something: restart the idle clock (and the login's, at most every few seconds)."""
        self.last_activity = self.clock()
        every = min(SHARE_ACTIVITY_SECONDS, self.idle_seconds / 4)
        if self.on_activity is not None and self.last_activity - self._shared_at > every:
            self._shared_at = self.last_activity
            self.on_activity()

    def should_end(self) -> bool:
        """Idle for too long, or the login was closed elsewhere (sign-out, disabled user)."""
        if self.clock() - self.last_activity > self.idle_seconds:
            return True
        return self.login_open is not None and not self.login_open()

    def record(self, action: str, client_id: int | None = None, detail: str = "") -> None:
        """Trace an action of this user; raises :class:`AuditUnavailable` only for fail-closed actions."""
        self.touch()
        try:
            self.trail.record(
                user=self.user, role=self.role, session=self.session_id, action=action,
                client_id=client_id, detail=detail,
            )  # fmt: skip
        except AuditUnavailable:
            if action in FAIL_CLOSED:
                raise


def _claim(info: dict[str, Any], path: str) -> list[str]:
    value: Any = info
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return value.replace(",", " ").split()
    return [str(item) for item in value] if isinstance(value, list) else []


def role_from_claims(info: dict[str, Any] | None, claim: str, role_map: dict[str, str]) -> str | None:
    """Our role from an id token's claims: the claim at a dotted path (``realm_access.roles``), names mapped
    through ``role_map`` when one is configured (otherwise taken as they are), the strongest kept."""
    names = _claim(info or {}, claim)
    return highest([role_map[name] for name in names if name in role_map] if role_map else names)


def resolve_access(
    config: AccessConfig,
    *,
    session_id: str,
    user: str | None,
    user_info: dict[str, Any] | None,
    lookup: Callable[[str], User | None],
    trail: AuditTrail,
    login: tuple[Callable[[], None], Callable[[], bool]] | None = None,
) -> SessionAccess:
    """The access of a new session, or :class:`AccessRefused`; records the session's start (fail closed)."""
    if config.auth is None:
        raise AccessRefused("access.not_configured")
    if config.auth == "demo":
        name, role = "demo", config.demo_role
    elif not user:
        raise AccessRefused("access.not_configured")
    elif config.auth == "local":
        stored = lookup(user)
        if stored is None or stored.disabled:
            raise AccessRefused("access.no_role")
        name, role = user, stored.role
    else:
        role = role_from_claims(user_info, config.role_claim, config.role_map)
        if role is None:
            raise AccessRefused("access.no_role")
        name = user
    on_activity, login_open = login if login is not None and config.auth == "local" else (None, None)
    access = SessionAccess(
        name, role, session_id, config.auth, trail, config.idle_seconds,
        on_activity=on_activity, login_open=login_open,
    )  # fmt: skip
    try:
        access.record("session_start", detail=config.auth)
    except AuditUnavailable:
        raise AccessRefused("access.audit_down") from None
    return access
