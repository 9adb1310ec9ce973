"""What every view shares: lazy refresh when shown, error containment, and HTML panes styled for tables.

Views see the data only through the session's :class:`~dashboard.cockpit.Cockpit`; this module is, with the
cockpit, ``dashboard.i18n`` and ``dashboard.charts``, all a view imports (it passes on the session and page
widgets views build on), so the import-direction test can hold views to that.
"""

from __future__ import annotations

import logging
from typing import Any

import panel as pn
import param

from dashboard.charts import TABLE_CSS
from dashboard.cockpit import Cockpit
from dashboard.i18n import tr
from dashboard.incidents import report_incident
from dashboard.session import ClientSession, parse_client_id
from dashboard.template import CheckGroup, LinkList, ToggleButton

__all__ = [
    "CheckGroup",
    "ClientSession",
    "HtmlSessionView",
    "LinkList",
    "SessionView",
    "ToggleButton",
    "html_pane",
    "parse_client_id",
    "show_while_filled",
]

log = logging.getLogger(__name__)


def html_pane(content: str = "", **params: Any) -> pn.pane.HTML:
    """An HTML pane that stretches to the page width (unless given a width) and carries the table styles."""
    stylesheets = [TABLE_CSS, *[sheet for sheet in params.pop("stylesheets", []) if sheet != TABLE_CSS]]
    if "width" not in params:
        params.setdefault("sizing_mode", "stretch_width")
    return pn.pane.HTML(content, stylesheets=stylesheets, **params)


def show_while_filled(
    column: pn.Column, pane: pn.pane.HTML, html: str, *, before: pn.viewable.Viewable | None = None
) -> None:
    """Give ``pane`` the text ``html`` and keep it in ``column`` only while that text is not empty (an empty pane
    is still a model every page pays for), placed just before ``before`` (at the end when absent)."""
    pane.object = html
    shown = pane in column.objects
    if html and not shown:
        column.insert(column.objects.index(before) if before in column.objects else len(column), pane)
    elif not html and shown:
        column.remove(pane)


class SessionView(pn.viewable.Viewer):
    """A view of one session, rebuilt only when it is shown and its inputs changed.

    Views are created when first opened and refreshed lazily: switching client costs only the visible view's
    queries, never all of them. A failing refresh shows a message in the view and leaves the session usable.
    """

    needs_client = param.Boolean(default=True, constant=True, doc="Whether the view shows one client's data.")
    with_decision_card = param.Boolean(
        default=True, constant=True, doc="Whether the client's decision card is shown above the view."
    )
    says_pick_client = param.Boolean(
        default=True,
        constant=True,
        doc="Whether the view itself asks for a client when none is shown (once per page, not per panel).",
    )

    def __init__(self, session: ClientSession, **params: Any) -> None:
        self.session = session
        self._active = False
        self._stale = True
        super().__init__(**params)
        self._error = html_pane()
        # Built by ``_build`` the first time there is something to show (a view may also build it eagerly in its
        # constructor): a page opened without a client never creates the widgets it would hide.
        self._content: pn.viewable.Viewable | None = None
        self._layout: pn.Column | None = None
        session.param.watch(self._input_changed, "snapshot")

    def __panel__(self) -> pn.Column:
        if self._layout is None:
            parts = [self._error] if self._error.object else []  # the message only while it says something
            if self._content is not None:
                parts.append(self._content)
            self._layout = pn.Column(*parts, sizing_mode="stretch_width")
        return self._layout

    def _say(self, message_html: str) -> None:
        """Show ``message_html`` above the content ("" removes the message)."""
        if self._layout is None:
            self._error.object = message_html
        else:
            show_while_filled(self._layout, self._error, message_html, before=self._content)

    @property
    def built(self) -> bool:
        """Whether the view's components exist (they are created on the first refresh that shows them)."""
        return self._content is not None

    def _build(self) -> pn.viewable.Viewable:
        """Create the view's components (called once, just before the first ``_update``)."""
        raise NotImplementedError

    def _ensure_built(self) -> None:
        if self._content is None:
            self._content = self._build()
            if self._layout is not None:
                self._layout.append(self._content)

    @property
    def lang(self) -> str:
        return self.session.lang

    @property
    def cockpit(self) -> Cockpit:
        """The façade every view reads through."""
        return self.session.cockpit

    def _input_changed(self, _event: param.parameterized.Event) -> None:
        self._stale = True
        if self._active:
            self.refresh()

    def activate(self) -> None:
        """Called when the view is shown: bring it up to date."""
        self._active = True
        if self._stale:
            self.refresh()

    def deactivate(self) -> None:
        self._active = False

    def refresh(self) -> None:
        """Recompute the view's content from the session; errors become a visible message, not a dead page."""
        self._stale = False
        if self.needs_client and self.session.snapshot is None:
            self._say(f"<p>{tr('status.pick_client', self.lang)}</p>" if self.says_pick_client else "")
            self._show_content(False)
            return
        try:
            self._ensure_built()
            self._update()
        except Exception:
            incident = report_incident(log, f"view {type(self).__name__} failed")
            self._say(f'<p role="alert">{tr("error.incident", self.lang, incident=incident)}</p>')
            self._show_content(False)
            return
        self._say("")
        self._show_content(True)

    def _show_content(self, visible: bool) -> None:
        if self._content is not None:
            self._content.visible = visible

    def _update(self) -> None:
        raise NotImplementedError


class HtmlSessionView(SessionView):
    """A view whose whole content is one HTML pane (tables and SVG charts), refreshed in place by ``_update``."""

    _body: pn.pane.HTML

    def _build(self) -> pn.pane.HTML:
        self._body = html_pane()
        return self._body
