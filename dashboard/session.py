"""Per-session state: which client is shown, in which language, and what the server computed for it.

The state is a plain ``param.Parameterized`` so the logic (input validation, loading a client, recent list,
announcements) is testable without a browser; views watch it. Loading a client is one function,
:meth:`Cockpit.snapshot`, which is also what the benchmark times as "server-side work to show a client".
"""

from __future__ import annotations

import re
from typing import Any

import param

from dashboard.cockpit import ClientSnapshot, Cockpit
from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGES, decision_text, format_percent, tr

MAX_ID_DIGITS = 12
RECENT_LIMIT = 8
_DIGITS = re.compile(r"[0-9]+")


def parse_client_id(text: str | None) -> tuple[int | None, str | None]:
    """Validate what a user typed (or put in the URL) as a client id.

    Returns ``(id, None)`` or ``(None, i18n error key)``; spaces are tolerated ("100 002"), anything but digits is
    refused before any query runs, and absurdly long input is cut off so the message itself stays short.
    """
    cleaned = (text or "").strip().replace(" ", "").replace("\u202f", "")
    if not cleaned:
        return None, "error.empty"
    if not _DIGITS.fullmatch(cleaned) or len(cleaned) > MAX_ID_DIGITS:
        return None, "error.malformed"
    return int(cleaned), None


class ClientSession(param.Parameterized):
    """The state of one browser session; views read it and call :meth:`show` / :meth:`show_text`."""

    lang = param.Selector(
        default=DEFAULT_LANGUAGE,
        objects=list(LANGUAGES),
        constant=True,
        doc="Language of the whole session (changing it reloads the page).",
    )
    client_id = param.Integer(
        default=None, allow_None=True, doc="Client shown; written to ?client= in the URL."
    )
    snapshot = param.ClassSelector(
        class_=ClientSnapshot,
        default=None,
        allow_None=True,
        doc="What the server computed for the client shown.",
    )
    error = param.String(default="", doc="Message for the last refused input; empty when the input was fine.")
    recent = param.List(default=[], item_type=int, doc="Recently viewed client ids, most recent first.")
    announcement = param.String(default="", doc="Text for the aria-live region (score updates).")
    view = param.String(default="decision", doc="Key of the view shown; written to ?view= in the URL.")

    def __init__(self, cockpit: Cockpit, **params: Any) -> None:
        self.cockpit = cockpit
        super().__init__(**params)

    def show_text(self, text: str | None) -> bool:
        """Show the client typed by the user; on bad or unknown input set :attr:`error` and keep the current client."""
        sk_id, error_key = parse_client_id(text)
        if error_key is not None:
            shown = (text or "").strip()[:40]
            self.error = tr(error_key, self.lang, text=shown)
            self.announcement = self.error
            return False
        return self.show(sk_id)

    def show(self, sk_id: int) -> bool:
        """Load and show client ``sk_id``; returns False (and sets :attr:`error`) if no such client exists."""
        snapshot = self.cockpit.snapshot(sk_id, self.lang)
        if snapshot is None:
            self.error = tr("error.unknown", self.lang, id=sk_id)
            self.announcement = self.error
            return False
        explanation = snapshot.explanation
        self.param.update(
            error="",
            snapshot=snapshot,
            client_id=sk_id,
            recent=[sk_id, *[r for r in self.recent if r != sk_id]][:RECENT_LIMIT],
            announcement=tr(
                "status.loaded",
                self.lang,
                id=sk_id,
                probability=format_percent(explanation.probability, self.lang),
                decision=decision_text(explanation.decision, self.lang),
            ),
        )
        return True

    def page_title(self) -> str:
        """ "Scoring crédit – client 100002 – Prêt à dépenser" (WCAG 2.4.2)."""
        client = (
            tr("app.client", self.lang, id=self.client_id)
            if self.client_id
            else tr("app.no_client", self.lang)
        )
        return tr("app.title", self.lang, client=client)
