"""Find a client: type-ahead on SK_ID_CURR answered by the warehouse, recent clients, clear messages.

Never a dropdown of 300,000 options: each keystroke asks the warehouse for at most a few ids starting with the
digits typed, shown as buttons (keyboard and screen-reader native). Enter or the button shows the client.
"""

from __future__ import annotations

from html import escape
from typing import Any

import panel as pn
import param

from dashboard.i18n import decision_text, tr
from dashboard.views.base import ClientSession, LinkList, html_pane, parse_client_id

SUGGESTION_LIMIT = 8
MIN_PREFIX_DIGITS = 2

SEARCH_CSS = """
p.hint { color: #4a4a4a; margin: 0.25rem 0; font-size: 0.9rem; }
p.error { color: #1a1a1a; border-left: 6px solid #D55E00; background: #fbeee6; padding: 0.4rem 0.6rem; margin: 0.25rem 0; }
h2 { font-size: 1.05rem; margin: 0.75rem 0 0.25rem; }
"""


class ClientSearch(pn.viewable.Viewer):
    """The search box, its suggestions, the error message and the recently viewed clients."""

    suggestions = param.List(default=[], item_type=int, doc="Ids matching the digits typed so far.")

    def __init__(self, session: ClientSession, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        lang = session.lang
        self._input = pn.widgets.TextInput(
            label=tr("search.label", lang),
            placeholder=tr("search.placeholder", lang),
            max_length=40,
            sizing_mode="stretch_width",
        )
        self._button = pn.widgets.Button(
            label=tr("search.button", lang), color="primary", width=180, align="end"
        )
        # The texts above each list are one pane each (hint, error and suggestions heading; recent heading and
        # "none yet"): every component is a model each page pays for, and these change together.
        self._suggestion_heading = ""
        self._status = html_pane(stylesheets=[SEARCH_CSS])
        self._suggestion_links = self._client_links(tr("search.suggestions", lang))
        self._recent_heading = html_pane(stylesheets=[SEARCH_CSS])
        self._recent_links = self._client_links(tr("search.recent", lang))
        self._input.param.watch(self._typed, "value_input")
        self._input.param.watch(self._submitted, "enter_pressed")
        self._button.on_click(self._submitted)
        session.param.watch(self._session_changed, ["error", "recent"])
        self._render_status()
        self._render_recent()

    def __panel__(self) -> pn.Column:
        return pn.Column(
            pn.Row(self._input, self._button, sizing_mode="stretch_width"),
            self._status,
            self._suggestion_links,
            self._recent_heading,
            self._recent_links,
            sizing_mode="stretch_width",
        )

    def _typed(self, event: param.parameterized.Event) -> None:
        self.update_suggestions(event.new or "")

    def update_suggestions(self, text: str) -> None:
        """Ask the warehouse for ids starting with the digits typed (nothing for non-digits or under 2 digits)."""
        sk_id, error = parse_client_id(text)
        prefix = "" if error else str(sk_id)
        ids = (
            self.session.cockpit.search_clients(prefix, limit=SUGGESTION_LIMIT)
            if len(prefix) >= MIN_PREFIX_DIGITS
            else []
        )
        self.suggestions = list(ids)
        lang = self.session.lang
        if ids:
            self._suggestion_heading = f"<h2>{escape(tr('search.suggestions', lang))}</h2>"
        elif len(prefix) >= MIN_PREFIX_DIGITS:
            self._suggestion_heading = (
                f'<p class="hint">{escape(tr("search.no_match", lang, prefix=prefix))}</p>'
            )
        else:
            self._suggestion_heading = ""
        self._render_status()
        decisions = self.session.cockpit.stored_decisions(ids) if ids else {}
        self._suggestion_links.items = _client_items(ids, lang, decisions)

    def _submitted(self, _event: object = None) -> None:
        text = self._input.value_input or self._input.value
        self.session.show_text(text)

    def _client_links(self, label: str) -> LinkList:
        """Links to clients (``?client=<id>``); choosing one shows that client."""
        links = LinkList(query_key="client", mark_current=False, list_label=label, inline=True)
        links.param.watch(self._link_chosen, "current")
        return links

    def _link_chosen(self, event: param.parameterized.Event) -> None:
        if event.new:
            self.session.show_text(event.new)  # validated: the key comes from the browser, maybe forged
            event.obj.current = ""  # so choosing the same client again is a change again

    def _session_changed(self, *_events: param.parameterized.Event) -> None:
        self._render_status()
        self._render_recent()

    def _render_status(self) -> None:
        """The hint, the message for refused input (if any) and the heading of the suggestions."""
        error = self.session.error
        message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
        hint = f'<p class="hint">{escape(tr("search.hint", self.session.lang))}</p>'
        self._status.object = hint + message + self._suggestion_heading

    def _render_recent(self) -> None:
        lang = self.session.lang
        none_yet = (
            "" if self.session.recent else f'<p class="hint">{escape(tr("search.none_recent", lang))}</p>'
        )
        self._recent_heading.object = f"<h2>{escape(tr('search.recent', lang))}</h2>{none_yet}"
        self._recent_links.items = _client_items(self.session.recent, lang)


def _client_items(ids: list[int], lang: str, decisions: dict[int, str] | None = None) -> list[list[str]]:
    """(key, label) pairs for client links: the id as key, "Afficher le client 100002" as the link text, with the
    stored decision when known ("… – crédit refusé") so a manager sees it before opening the file."""
    decisions = decisions or {}
    return [
        [
            str(sk_id),
            tr("search.show_decided", lang, id=sk_id, decision=decision_text(decisions[sk_id], lang))
            if sk_id in decisions
            else tr("search.show", lang, id=sk_id),
        ]
        for sk_id in ids
    ]
