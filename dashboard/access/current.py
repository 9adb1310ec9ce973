"""The signed-in user of the session being created, for every app file the server serves (the dashboard and
the client letter), read from what the server itself authenticated: the signed cookies of the page request in
local mode, Panel's OAuth user in OIDC mode, nobody in the explicit demo mode."""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
from tornado.web import decode_signed_value

from dashboard.access.guard import SessionAccess, resolve_access
from dashboard.access.runtime import access_config, audit_trail, user_store
from dashboard.access.web import LOGIN_COOKIE, USER_COOKIE


def _signed_cookie(name: str) -> str | None:
    """A cookie of the page request this session was created from, if signed with the server's secret."""
    raw = pn.state.cookies.get(name)
    if not raw or not pn.config.cookie_secret:
        return None
    value = decode_signed_value(pn.config.cookie_secret, name, raw)
    return value.decode("utf-8") if value else None


def _login_hooks() -> tuple[Callable[[], None], Callable[[], bool]] | None:
    """Activity and still-open checks of the local login this page was opened with."""
    login_id = _signed_cookie(LOGIN_COOKIE)
    if not login_id:
        return None
    store, idle = user_store(), access_config().idle_seconds
    return (lambda: store.seen(login_id)), (lambda: store.login_active(login_id, idle))


def session_access() -> SessionAccess:
    """Who this session belongs to, as authenticated by the server (or the explicit demo mode).

    Raises:
        AccessRefused: nobody authenticated, no role, or the audit trail cannot record the page's start.
    """
    document = pn.state.curdoc
    access = resolve_access(
        access_config(),
        session_id=document.session_context.id if document and document.session_context else "-",
        # Local mode reads the signed cookie itself: Panel's state.user also honours an unsigned guest cookie.
        user=_signed_cookie(USER_COOKIE) if access_config().auth == "local" else pn.state.user,
        user_info=pn.state.user_info if access_config().auth == "oidc" else None,
        lookup=user_store().get,
        trail=audit_trail(),
        login=_login_hooks(),
    )
    if document is not None:
        # Changes sent by the browser (a typed value, a selection) are activity; the server's own are not.
        document.on_change(lambda event: access.touch() if getattr(event, "setter", None) else None)
    return access
