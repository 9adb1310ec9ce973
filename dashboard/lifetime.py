"""A closed page's server document is freed at Bokeh's next check, not after the unused-session lifetime.

Bokeh keeps a session whose browser has gone until it has been unused for ``--unused-session-lifetime``: that
grace is for a page whose websocket has not connected yet (a slow first load). A page that was connected and lost
its websocket is never attached again here (Panel's ``reconnect`` is off: a reload opens a fresh session), so
keeping its document only holds memory: under managers' churn, several closed pages per manager would wait out
that lifetime in every process.
"""

from __future__ import annotations

from bokeh.document import Document
from bokeh.events import ConnectionLost


def discard_when_closed(document: Document) -> None:
    """Ask Bokeh to discard ``document``'s session as soon as its last websocket has closed.

    Args:
        document: a document served by ``panel serve`` (one without a server session is left alone).
    """

    def expire(_event: ConnectionLost) -> None:
        session = getattr(document.session_context, "session", None)
        if session is not None:
            session.request_expiration()  # discarded at the next check once no connection is left

    document.on_event(ConnectionLost, expire)
