"""Login, logout and the authenticated user for ``panel serve --auth-module`` (Bokeh's auth hooks).

Bokeh calls :func:`get_user` for the page and for the websocket; both refuse (redirect or 403) when it returns
None. The user is carried by Tornado's signed cookies (``user``, ``login``; HttpOnly, SameSite=Lax, Secure over
HTTPS or behind a TLS proxy with ``--use-xheaders``), valid for at most ``CREDIT_SESSION_HOURS``. The login they
name is kept in the user store with its last activity, so idle expiry (``CREDIT_IDLE_MINUTES``) and sign-out hold
in every server process and a replayed cookie of an ended login is refused.

Session binding: with ``--sign-sessions`` a made-up session id or token fails Bokeh's signature check. A real
token copied from another user is refused here: Bokeh's token carries the cookies of the page request that made
it, and the websocket is accepted only when they name the same user and login as the connecting browser's own.
"""

from __future__ import annotations

import contextlib
import secrets
from html import escape
from urllib.parse import parse_qs, quote, urlencode, urlparse

from bokeh.util.token import get_token_payload
from tornado.web import RequestHandler, decode_signed_value
from tornado.websocket import WebSocketHandler

from dashboard.access.audit import AuditUnavailable
from dashboard.access.runtime import access_config, audit_trail, user_store
from dashboard.i18n import LANGUAGES, parse_language, tr

USER_COOKIE = "user"
LOGIN_COOKIE = "login"
LOGIN_URL = "/login"
LOGOUT_URL = "/logout"

PAGE_CSS = """
:root { --ink: #1a1a1a; --accent: #0b5d91; --line: #6b6b6b; --alert: #a4161a; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink); }
body { margin: 0; }
main { max-width: 26rem; margin: 3rem auto; padding: 1.5rem; border: 1px solid var(--line); border-radius: 6px; }
h1 { font-size: 1.4rem; margin-top: 0; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input { display: block; width: 100%; box-sizing: border-box; padding: 0.5rem; font-size: 1rem;
        border: 1px solid var(--line); border-radius: 4px; margin-top: 0.25rem; }
button { margin-top: 1.25rem; padding: 0.6rem 1.2rem; font-size: 1rem; font-weight: 600; color: #fff;
         background: var(--accent); border: 0; border-radius: 4px; cursor: pointer; }
a { color: var(--accent); font-weight: 600; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.alert { color: var(--alert); border-left: 4px solid var(--alert); padding-left: 0.75rem; }
nav { text-align: right; margin: 0.5rem 1rem; }
"""


def _language(handler: RequestHandler) -> str:
    """The page's language: ``?lang=``, else that of the page the user was going to, else the browser's."""
    raw = handler.get_argument("lang", None)
    if raw is None:
        raw = (parse_qs(urlparse(handler.get_argument("next", "")).query).get("lang") or [None])[0]
    if raw is None:
        accepted = handler.request.headers.get("Accept-Language", "")
        raw = "en" if accepted.lower().startswith("en") else "fr"
    return parse_language(raw)


def _page(lang: str, title: str, body: str, switch_query: dict[str, str]) -> str:
    other = next(code for code in LANGUAGES if code != lang)
    switch = f"?{urlencode({**switch_query, 'lang': other})}"
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{PAGE_CSS}</style></head><body>"
        f'<nav aria-label="{escape(tr("app.switch_language_hint", lang))}"><a href="{escape(switch)}" '
        f'lang="{other}">{escape(tr("app.switch_language", lang))}</a></nav>'
        f"<main>{body}</main></body></html>"
    )


def safe_next(raw: str | None) -> str:
    """A local path to go to after login; anything else (another host, a scheme) means the app's root."""
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")) or any(c in raw for c in "\r\n"):
        return "/"
    return raw


def _cookie_secret(handler: RequestHandler) -> bytes | str:
    return handler.application.settings["cookie_secret"]


def _decode(handler: RequestHandler, name: str, value: str | None, max_age_days: float) -> str | None:
    if not value:
        return None
    decoded = decode_signed_value(_cookie_secret(handler), name, value, max_age_days=max_age_days)
    return decoded.decode("utf-8") if decoded else None


def _set_identity(handler: RequestHandler, username: str, login_id: str) -> None:
    """Issue the signed identity cookies (the idle time and sign-out are kept with the login, server-side)."""
    options = {
        "httponly": True,
        "secure": handler.request.protocol == "https",
        "samesite": "Lax",
        "expires_days": None,  # gone when the browser closes
    }
    handler.set_secure_cookie(USER_COOKIE, username, **options)
    handler.set_secure_cookie(LOGIN_COOKIE, login_id, **options)


def _identity(handler: RequestHandler, cookies: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(user, login id) from the request's cookies (or from ``cookies``): signed, at most a working day old,
    and of an open login of an enabled user seen within the idle time."""
    config = access_config()
    max_age = config.session_hours / 24
    if cookies is None:
        cookies = {name: morsel.value for name, morsel in handler.request.cookies.items()}
    user = _decode(handler, USER_COOKIE, cookies.get(USER_COOKIE), max_age)
    login_id = _decode(handler, LOGIN_COOKIE, cookies.get(LOGIN_COOKIE), max_age)
    if not user or not login_id:
        return None
    if not user_store().login_active(login_id, config.idle_seconds):
        return None
    return user, login_id


def get_user(handler: RequestHandler) -> str | None:
    """The signed-in user of a page or websocket request; None sends the page to the login form (or 403)."""
    identity = _identity(handler)
    if identity is None:
        return None
    if isinstance(handler, WebSocketHandler):
        protocols = handler.request.headers.get("Sec-WebSocket-Protocol", "").split(",")
        if len(protocols) != 2:
            return None
        try:
            payload = get_token_payload(protocols[1].strip())
        except Exception:  # a malformed token is simply not authenticated
            return None
        if _identity(handler, payload.get("cookies") or {}) != identity:
            return None
        return identity[0]
    user_store().seen(identity[1])  # a page request is activity
    return identity[0]


def record_quietly(**fields: object) -> None:
    """Record an action that is not refused when the audit is down (failed login, logout): the failure is
    already counted and logged by the audit trail."""
    with contextlib.suppress(AuditUnavailable):
        audit_trail().record(**fields)


class LoginHandler(RequestHandler):
    """The login form (French or English) and its check against the local user store."""

    def get(self) -> None:
        lang = _language(self)
        error = self.get_argument("error", "")
        next_url = safe_next(self.get_argument("next", "/"))
        message = ""
        if error in ("failed", "audit"):
            key = "access.login_failed" if error == "failed" else "access.audit_down"
            message = f'<p class="alert" role="alert">{escape(tr(key, lang))}</p>'
        body = (
            f"<h1>{escape(tr('access.login_heading', lang))}</h1>{message}"
            f'<form method="post" action="{LOGIN_URL}">'
            f'<input type="hidden" name="next" value="{escape(next_url)}">'
            f'<input type="hidden" name="lang" value="{lang}">'
            f'<label for="username">{escape(tr("access.username", lang))}</label>'
            f'<input id="username" name="username" autocomplete="username" required maxlength="64" autofocus>'
            f'<label for="password">{escape(tr("access.password", lang))}</label>'
            f'<input id="password" name="password" type="password" autocomplete="current-password" required>'
            f'<button type="submit">{escape(tr("access.submit", lang))}</button></form>'
        )
        self.set_header("Cache-Control", "no-store")
        self.write(_page(lang, tr("access.login_title", lang), body, {"next": next_url}))

    def post(self) -> None:
        lang = parse_language(self.get_argument("lang", "fr"))
        next_url = safe_next(self.get_argument("next", "/"))
        username = self.get_argument("username", "")[:64]
        result = user_store().authenticate(username, self.get_argument("password", ""))
        login_id = secrets.token_urlsafe(12)
        if result.user is None:
            record_quietly(
                user=username or "-", role="-", session=login_id, action="login_failed", detail=result.reason
            )
            self._back(lang, next_url, "failed")
            return
        try:
            audit_trail().record(
                user=result.user.username, role=result.user.role, session=login_id, action="login"
            )
        except AuditUnavailable:
            self._back(lang, next_url, "audit")
            return
        user_store().start_login(login_id, result.user.username)
        _set_identity(self, result.user.username, login_id)
        self.redirect(next_url)

    def _back(self, lang: str, next_url: str, error: str) -> None:
        self.redirect(f"{LOGIN_URL}?{urlencode({'lang': lang, 'next': next_url, 'error': error})}")


def _login_of(handler: RequestHandler) -> tuple[str, str] | None:
    """(user, login id) of validly signed cookies, whether or not the login is still open (to sign it out)."""
    max_age = access_config().session_hours / 24
    user = _decode(handler, USER_COOKIE, handler.get_cookie(USER_COOKIE), max_age)
    login_id = _decode(handler, LOGIN_COOKIE, handler.get_cookie(LOGIN_COOKIE), max_age)
    return (user, login_id) if user and login_id else None


class LogoutHandler(RequestHandler):
    """Clears the identity cookies, records the logout (or the idle expiry) and offers to sign in again."""

    def get(self) -> None:
        lang = _language(self)
        idle = self.get_argument("reason", "") == "idle"
        identity = _login_of(self)
        if identity is not None:
            user = user_store().get(identity[0])
            record_quietly(
                user=identity[0],
                role=user.role if user else "-",
                session=identity[1],
                action="session_expired" if idle else "logout",
            )
            user_store().end_login(identity[1])
        self.clear_cookie(USER_COOKIE)
        self.clear_cookie(LOGIN_COOKIE)
        message = tr("access.expired" if idle else "access.logged_out", lang)
        body = (
            f"<h1>{escape(tr('access.login_heading', lang))}</h1>"
            f'<p role="status">{escape(message)}</p>'
            f'<p><a href="{LOGIN_URL}?lang={quote(lang)}">{escape(tr("access.login_again", lang))}</a></p>'
        )
        self.set_header("Cache-Control", "no-store")
        self.write(_page(lang, tr("access.login_title", lang), body, {"reason": "idle"} if idle else {}))
