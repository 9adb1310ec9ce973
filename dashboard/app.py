"""Entry point: ``panel serve dashboard/app.py``.

Reads the data paths from ``CREDIT_WAREHOUSE``, ``CREDIT_MODEL_DIR``, ``PROTOVIT_RUN`` and ``PROTOVIT_IMAGES``
(see ``dashboard/resources.py``) into the process's one :class:`dashboard.cockpit.Cockpit`; the language, client
and view from the URL (``?lang=en&client=100002&view=why``).
Shared resources load once per process; this script runs once per session and only builds that session's page.
"""

from __future__ import annotations

import logging
import sys
from html import escape
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import panel as pn
from panel.io.location import Location
from panel.util import parse_query

if __package__ in (None, ""):  # `panel serve dashboard/app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.access.current import session_access
from dashboard.access.guard import AccessRefused
from dashboard.access.panels import refusal_page, watch_idle
from dashboard.cockpit import get_cockpit
from dashboard.i18n import parse_language, tr
from dashboard.incidents import callback_failed, register_page, report_incident
from dashboard.lifetime import discard_when_closed
from dashboard.shell import Dashboard, missing_data_page
from dashboard.template import build_page
from dashboard.views.base import html_pane

log = logging.getLogger("dashboard.app")


def _query_value(name: str) -> str | None:
    values = pn.state.session_args.get(name) if pn.state.session_args else None
    return values[0].decode("utf-8", "replace") if values else None


def _drop_values_panel_cannot_parse() -> None:
    """Give this session an address Panel can parse, whatever the link carried.

    Panel (1.9) converts every digit-only query value with ``int()``: a value of over 4,300 digits (or "²") raises
    there and would kill the page before our code runs. When the address holds such a value, the session's
    ``Location`` is built from the address without it; the dashboard still reads the raw value from the request
    and says what is wrong with it.
    """
    request = (
        pn.state.curdoc.session_context.request
        if pn.state.curdoc and pn.state.curdoc.session_context
        else None
    )
    if request is None or not request.uri:
        return
    pairs = parse_qsl(urlsplit(request.uri).query, keep_blank_values=True)
    kept = [(name, value) for name, value in pairs if _panel_can_parse(value)]
    if len(kept) < len(pairs):
        search = f"?{urlencode(kept)}" if kept else ""
        pn.state._locations[pn.state.curdoc] = Location(pathname=urlsplit(request.uri).path, search=search)


def _panel_can_parse(value: str) -> bool:
    try:
        parse_query("?value=" + quote(value))
    except ValueError:
        return False
    return True


def create_page() -> pn.Template:
    """This session's page: the dashboard, a refusal, the "data missing" page (commands for admins), or, when
    building it fails, a page with an incident reference (never a blank page or a traceback)."""
    lang = parse_language(_query_value("lang"))
    _drop_values_panel_cannot_parse()
    try:
        try:
            access = session_access()
        except AccessRefused as refusal:
            return refusal_page(lang, refusal.key)
        cockpit = get_cockpit()
        if not cockpit.ready:
            return missing_data_page(lang, cockpit, show_paths=access.role == "admin")
        cockpit.warm_up_in_background()
        dashboard = Dashboard(
            cockpit, lang, view=_query_value("view") or "", client_text=_query_value("client"), access=access
        )
        if not access.demo:  # nothing to expire without a sign-in
            watch_idle(access, dashboard.expire)
        page = dashboard.page()
    except Exception:
        incident = report_incident(log, "page creation failed")
        message = tr("error.page_incident", lang, incident=incident)
        title = tr("app.title", lang, client=tr("app.no_client", lang))
        return build_page(lang, title, main=html_pane(f'<p role="alert">{escape(message)}</p>'))
    register_page(dashboard.session)
    return page


pn.extension(notifications=False, exception_handler=callback_failed)

# What ``pn.state.served`` tests, without its ``inspect.stack()``: that walk of every frame cost about a quarter of
# a new session's server CPU.
if __name__.startswith("bokeh_app_"):
    discard_when_closed(pn.state.curdoc)
    create_page().servable()
