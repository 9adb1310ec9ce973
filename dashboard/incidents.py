"""Incident references: what a manager sees of an unexpected error is a short id; the details go to the log.

A traceback or an exception text can reveal paths, SQL or data of another client, and means nothing to a
manager; a reference lets support find the log entry (``grep "incident 3fa2c91b"``). This module lives outside
``app.py`` because ``panel serve`` runs that script afresh for every session, while the page registry and the
exception handler must be one per process.
"""

from __future__ import annotations

import logging
import secrets
import weakref
from typing import Any

import panel as pn

from dashboard.i18n import tr

log = logging.getLogger(__name__)
# The state of each open page (by Bokeh document), so that an error in any callback is reported on its page.
_PAGES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def report_incident(logger: logging.Logger, what: str, error: BaseException | None = None) -> str:
    """Log ``error`` (default: the exception being handled) under a new incident id; return the id (8 hex digits)."""
    incident = secrets.token_hex(4)
    logger.error("incident %s: %s", incident, what, exc_info=error or True)
    return incident


def register_page(session: Any) -> None:
    """Remember the current document's :class:`~dashboard.session.ClientSession` for :func:`callback_failed`."""
    if pn.state.curdoc is not None:
        _PAGES[pn.state.curdoc] = session


def callback_failed(error: BaseException) -> None:
    """Panel's exception handler: a callback of a page raised; log it and show the reference on that page."""
    incident = report_incident(log, "session callback failed", error)
    session = _PAGES.get(pn.state.curdoc) if pn.state.curdoc is not None else None
    if session is not None:
        message = tr("error.incident", session.lang, incident=incident)
        session.param.update(error=message, announcement=message)
