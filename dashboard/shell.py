"""One session's page: search, view menu, decision card and the current view, wired to the URL.

The URL carries ``lang``, ``client`` and ``view`` so a view can be bookmarked and shared. Changing language
reloads the page (the ``<html lang>`` and every label change); changing client or view does not.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import panel as pn
import param

from dashboard.access.panels import (
    AuditView,
    DecisionRecordPanel,
    TeamView,
    access_notice,
    expire_page,
    refused_view_pane,
)
from dashboard.cockpit import Cockpit
from dashboard.i18n import tr
from dashboard.session import ClientSession
from dashboard.template import ViewMenu, build_page
from dashboard.views.base import SessionView, html_pane
from dashboard.views.compare import CompareView
from dashboard.views.decision import DecisionCard
from dashboard.views.images import ImagesView
from dashboard.views.portfolio import ImportanceView, PortfolioView
from dashboard.views.profile import ProfileView
from dashboard.views.search import ClientSearch
from dashboard.views.whatif import WhatIfView
from dashboard.views.why import WhyView

ViewFactory = Callable[[ClientSession], SessionView]

# Menu order: the client-centric views first, then the team lead's and the image tab.
VIEWS: dict[str, tuple[str, ViewFactory]] = {
    "decision": ("nav.decision", WhyView),
    "profile": ("nav.profile", ProfileView),
    "compare": ("nav.compare", CompareView),
    "whatif": ("nav.whatif", WhatIfView),
    "importance": ("nav.importance", ImportanceView),
    "portfolio": ("nav.portfolio", PortfolioView),
    "images": ("nav.images", ImagesView),
    "team": ("nav.team", TeamView),
    "audit": ("nav.audit", AuditView),
}
DEFAULT_VIEW = "decision"
AUDIT_VIEWS = ("team", "audit")  # read the audit trail: only in a served page, for the roles allowed


def parse_view(raw: str | None) -> str:
    """A view key from the URL; anything unknown means the default view."""
    value = (raw or "").strip().lower()[:20]
    return value if value in VIEWS else DEFAULT_VIEW


class Dashboard(pn.viewable.Viewer):
    """The page of one session. Views are built the first time they are opened."""

    def __init__(
        self,
        cockpit: Cockpit,
        lang: str,
        *,
        view: str = DEFAULT_VIEW,
        client_text: str | None = None,
        access: Any = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        # The signed-in user (dashboard.access.guard.SessionAccess); None only outside a served page.
        self.access = access
        self.session = ClientSession(cockpit, access=access, lang=lang, view=parse_view(view))
        self.search = ClientSearch(self.session)
        self.nav = ViewMenu(
            items=[[key, tr(label_key, lang)] for key, (label_key, _) in VIEWS.items() if self.may_open(key)],
            current=self.session.view,
            query_key="view",
            inline=True,  # one row of the top bar, wrapping on narrow screens
            title=self.session.page_title(),
        )
        self.card = DecisionCard(self.session)
        self.record = DecisionRecordPanel(self.session) if access is not None else None
        self.views: dict[str, SessionView] = {}
        self._shown: SessionView | None = None  # the view in the main area (None: a refusal or an error)
        self.main = pn.Column(sizing_mode="stretch_width")
        self.nav.param.watch(self._navigated, "current")
        self.session.param.watch(self._client_changed, ["client_id", "announcement"])
        if client_text:
            self.session.show_text(client_text)
        self.open_view(self.session.view)

    def __panel__(self) -> pn.Column:
        return self.main

    def may_open(self, key: str) -> bool:
        """Whether this session's role may have view ``key`` built (outside a served page: all but the audit's)."""
        return key not in AUDIT_VIEWS if self.access is None else self.access.may_open(key)

    def open_view(self, key: str) -> SessionView | None:
        """Show view ``key`` (building it on first use) and bring it up to date; a view the role may not open,
        or whose opening cannot be recorded, is replaced by a message and never built."""
        key = parse_view(key)
        for other_key, other in self.views.items():
            if other_key != key:
                other.deactivate()
        self._shown = None
        if not self.may_open(key):
            self.session.trace("view_refused", self.session.client_id, key)
            label = tr(VIEWS[key][0], self.session.lang)
            role = self.access.role if self.access else None
            self.main.objects = [refused_view_pane(self.session.lang, role, label)]
            self._show_key(key)
            return None
        if not self.session.trace("view_opened", self.session.client_id, key):
            self.main.objects = [html_pane(f'<p role="alert">{escape(self.session.error)}</p>')]
            self._show_key(key)
            return None
        if key not in self.views:
            self.views[key] = VIEWS[key][1](self.session)
        view = self.views[key]
        if view.with_decision_card:
            self.card.activate()
        if key == DEFAULT_VIEW and self.record is not None:
            self.record.activate()
        elif self.record is not None:
            self.record.deactivate()
        if key == "portfolio" and self.may_open("team"):
            # A team lead reads the managers' decision records and override rates with the portfolio.
            if "team" not in self.views:
                self.views["team"] = VIEWS["team"][1](self.session)
            self.views["team"].activate()
        view.activate()
        self._shown = view
        self._lay_out()
        self._show_key(key)
        return view

    def _lay_out(self) -> None:
        """The main area of the view shown: the decision card above it and, on the decision view, the decision
        record below it, once a client is shown (before, they would be empty components the page pays for)."""
        view = self._shown
        if view is None:
            return
        client = self.session.snapshot is not None
        objects = [*([self.card] if view.with_decision_card and client else []), view]
        if view is self.views.get(DEFAULT_VIEW) and self.record is not None and client:
            objects.append(self.record)
        if view is self.views.get("portfolio") and "team" in self.views:
            objects.append(self.views["team"])
        if [pn.panel(obj) for obj in objects] != self.main.objects:  # the main area holds the views' layouts
            self.main.objects = objects

    def expire(self) -> None:
        """Replace the main area by the expiry notice for good: a later client change does not bring views back."""
        self._shown = None
        expire_page(self.main, self.session.lang)

    def _show_key(self, key: str) -> None:
        self.session.view = key
        self.nav.current = key
        self._write_url()

    def page(self) -> pn.Template:
        """The accessible template holding this session's search, menu and main area."""
        versions = self.session.cockpit.versions
        note = (
            ""
            if versions is None
            else tr(
                "app.versions", self.session.lang, data=versions.data_version, model=versions.model_version
            )
        )
        return build_page(
            self.session.lang,
            self.session.page_title(),
            search=self.search,
            nav=self.nav,
            main=self.main,
            footer_note=note,
            notice_html="" if self.access is None else access_notice(self.access, self.session.lang),
        )

    def _navigated(self, event: param.parameterized.Event) -> None:
        if event.new != self.session.view:
            self.open_view(event.new)

    def _client_changed(self, *events: param.parameterized.Event) -> None:
        for event in events:
            if event.name == "announcement":
                self.nav.announcement = event.new
        if any(event.name == "client_id" for event in events):
            self.nav.title = self.session.page_title()
            self._lay_out()
            self._write_url()

    def _write_url(self) -> None:
        """Keep ?lang=&client=&view= in the address bar (bookmarkable) without reloading."""
        location = pn.state.location
        if location is None:
            return
        query = {"lang": self.session.lang, "view": self.session.view}
        if self.session.client_id is not None:
            query["client"] = str(self.session.client_id)
        location.search = "?" + "&".join(f"{name}={value}" for name, value in query.items())


def missing_data_page(lang: str, cockpit: Cockpit, *, show_paths: bool = True) -> pn.Template:
    """The page shown when the warehouse or the model is missing: what is missing and which command builds it
    (paths and commands for admins only; others are asked to tell one)."""
    title = tr("app.title", lang, client=tr("app.missing_title", lang))
    if not show_paths:
        body = (
            f"<h2>{escape(tr('app.missing_title', lang))}</h2><p>{escape(tr('app.missing_intro', lang))}</p>"
            f"<p>{escape(tr('access.missing_ask_admin', lang))}</p>"
        )
        return build_page(lang, title, main=html_pane(body))
    items = []
    for problem in cockpit.problems:
        what = tr(
            "app.missing_warehouse" if problem.path == cockpit.warehouse_path else "app.missing_model",
            lang,
            path=problem.path,
        )
        message = (
            tr(problem.message_key, lang, path=problem.path)
            if problem.message_key != "app.broken_resource"
            else tr("app.broken_resource", lang, what=what, path=problem.path, error=problem.error)
        )
        items.append(
            f"<li><p>{escape(message)}</p><p>{escape(tr('app.build_with', lang))}</p>"
            f"<pre><code>{escape(problem.command)}</code></pre></li>"
        )
    body = (
        f"<h2>{escape(tr('app.missing_title', lang))}</h2><p>{escape(tr('app.missing_intro', lang))}</p>"
        f"<ul>{''.join(items)}</ul>"
    )
    return build_page(lang, title, main=html_pane(body))
