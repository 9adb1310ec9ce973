"""What access adds to the page: the signed-in bar, refusals, the decision record, the team lead's decision
records and the admins' audit view, and the idle watch that ends a forgotten session."""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape
from typing import Any

import panel as pn

from dashboard import charts
from dashboard.access.audit import AuditRow, DecisionRecord, override_rates
from dashboard.access.guard import SessionAccess
from dashboard.access.web import LOGOUT_URL
from dashboard.i18n import format_percent, tr
from dashboard.session import decision_text
from dashboard.template import build_page
from dashboard.views.base import HtmlSessionView, SessionView, html_pane

log = logging.getLogger(__name__)
IDLE_CHECK_MS = 5_000
RECENT_ROWS = 50


def role_name(role: str, lang: str) -> str:
    return tr(f"role.{role}", lang)


def access_notice(access: SessionAccess, lang: str) -> str:
    """Who is signed in, with the sign-out link; in demo mode, the visible warning that nothing is protected
    (escaped HTML for the page template)."""
    if access.demo:
        return f'<p class="demo-banner" role="note"><strong>{escape(tr("access.demo", lang))}</strong></p>'
    who = tr("access.signed_in", lang, user=access.user, role=role_name(access.role, lang))
    return (
        f'<p class="access-bar">{escape(who)} – <a href="{LOGOUT_URL}?lang={lang}">'
        f"{escape(tr('access.logout', lang))}</a></p>"
    )


def refusal_page(lang: str, key: str) -> pn.Template:
    """The whole page of a session that may see nothing (no role, no authentication, audit down)."""
    message = tr(key, lang)
    body = f'<h2>{escape(message)}</h2><p><a href="{LOGOUT_URL}?lang={lang}">{escape(tr("access.logout", lang))}</a></p>'
    return build_page(lang, tr("app.title", lang, client=message), main=html_pane(body))


def refused_view_pane(lang: str, role: str | None, view_label: str) -> pn.pane.HTML:
    """Shown instead of a view the role may not open (the view itself is never built)."""
    role_text = role_name(role, lang) if role else "–"
    message = tr("access.refused_view", lang, role=role_text, view=view_label)
    return html_pane(f"<h2>{escape(message)}</h2>")


def watch_idle(access: SessionAccess, on_expired: Callable[[], None]) -> Any:
    """Check the session's idle clock every few seconds; once expired, record it and call ``on_expired``."""

    def check() -> None:
        if access.ended or not access.should_end():
            return
        access.ended = True
        idle = access.clock() - access.last_activity > access.idle_seconds
        access.record("session_expired", detail="idle" if idle else "login_closed")
        on_expired()

    period = int(min(IDLE_CHECK_MS, max(access.idle_seconds * 250, 500)))
    return pn.state.add_periodic_callback(check, period=period)


def expire_page(main: pn.Column, lang: str) -> None:
    """Replace the page's content by the expiry notice and send the browser to the sign-out page."""
    main.objects = [
        html_pane(
            f'<p role="alert">{escape(tr("access.expired", lang))}</p>'
            f'<p><a href="{LOGOUT_URL}?reason=idle&lang={lang}">{escape(tr("access.login_again", lang))}</a></p>'
        )
    ]
    location = pn.state.location
    if location is not None:
        location.param.update(pathname=LOGOUT_URL, search=f"?reason=idle&lang={lang}", reload=True)


def _when(row: AuditRow) -> str:
    return row.ts_utc[:16].replace("T", " ")


def history_html(rows: list[AuditRow], lang: str) -> str:
    """The client's decision history: who decided what, when, and why."""
    heading = f"<h3>{escape(tr('record.history', lang))}</h3>"
    if not rows:
        return heading + f"<p>{escape(tr('record.none', lang))}</p>"
    items = []
    for row in reversed(rows):
        data = row.data
        outcome = tr("record.overridden" if data.get("outcome") == "override" else "record.followed", lang)
        entry = tr("record.entry", lang, when=_when(row), user=row.username,
                   final=decision_text(data.get("final", ""), lang), outcome=outcome)  # fmt: skip
        extra = "".join(
            f"<br>{escape(tr(key, lang, text=data[name]))}"
            for key, name in (("record.because", "justification"), ("record.note", "notes"))
            if data.get(name)
        )
        items.append(f"<li>{escape(entry)}{extra}</li>")
    return heading + f"<ul>{''.join(items)}</ul>"


class DecisionRecordPanel(SessionView):
    """The manager's final decision on the file shown (follow or override the score), and the file's history."""

    with_decision_card = False
    says_pick_client = False  # nothing to show before a client is chosen: the view above asks for one

    def _build(self) -> pn.Column:
        lang = self.lang
        self._heading = html_pane(
            f"<h3>{escape(tr('record.heading', lang))}</h3><p>{escape(tr('record.intro', lang))}</p>"
        )
        self._outcome = pn.widgets.Select(label=tr("record.outcome", lang), width=380)
        self._justification = pn.widgets.TextAreaInput(
            label=tr("record.justification", lang), max_length=DecisionRecord.MAX_TEXT, height=90, width=520
        )
        self._notes = pn.widgets.TextAreaInput(
            label=tr("record.notes", lang), max_length=DecisionRecord.MAX_TEXT, height=70, width=520
        )
        self._save = pn.widgets.Button(label=tr("record.save", lang), color="primary", width=260)
        self._save.on_click(lambda _event: self.save())
        self._outcome.param.watch(self._allow_save, "value")
        self._justification.param.watch(self._allow_save, "value_input")
        self._status = html_pane()
        self._history = html_pane()
        return pn.Column(
            self._heading, self._outcome, self._justification, self._notes, self._save, self._status,
            self._history, sizing_mode="stretch_width",
        )  # fmt: skip

    def _update(self) -> None:
        decision = self.session.snapshot.explanation.decision
        other = "refused" if decision == "granted" else "granted"
        self._outcome.options = {
            tr("record.follow", self.lang, decision=decision_text(decision, self.lang)): "follow",
            tr("record.override", self.lang, decision=decision_text(other, self.lang)): "override",
        }
        self._outcome.value = "follow"
        self._justification.value = self._justification.value_input = self._notes.value = ""
        self._status.object = ""
        self._show_history()

    def _allow_save(self, *_events: Any) -> None:
        """Overriding needs a justification: say so on its label and keep the button off until one is typed."""
        override = self._outcome.value == "override"
        required = f" ({tr('record.required', self.lang)})" if override else ""
        self._justification.label = tr("record.justification", self.lang) + required
        self._save.disabled = override and not (self._justification.value_input or "").strip()

    def _show_history(self) -> None:
        self._history.object = history_html(
            self.session.access.trail.client_decisions(self.session.client_id), self.lang
        )

    def save(self) -> bool:
        """Record the decision (fail closed: nothing is said to be recorded unless the audit wrote it)."""
        snapshot = self.session.snapshot
        if snapshot is None:
            return False
        try:
            # value_input is what was typed so far: the text is there even if the box has not lost focus yet.
            record = DecisionRecord(
                snapshot.explanation.decision, self._outcome.value, self._justification.value_input or "",
                self._notes.value_input or "",
            )  # fmt: skip
        except ValueError:
            message = tr("record.need_justification", self.lang)
            self._status.object = f'<p role="alert">{escape(message)}</p>'
            return False
        if not self.session.trace("decision", snapshot.sk_id, record.detail()):
            self._status.object = f'<p role="alert">{escape(tr("access.audit_down", self.lang))}</p>'
            return False
        message = tr("record.saved", self.lang)
        self._status.object = f"<p>{escape(message)}</p>"
        self.session.announcement = message  # read out through the page's live region
        self._justification.value = self._justification.value_input = ""
        self._notes.value = self._notes.value_input = ""
        self._show_history()
        return True


class TeamView(HtmlSessionView):
    """Team lead: decisions recorded and override rates per manager, then the latest records."""

    needs_client = False
    with_decision_card = False

    def _update(self) -> None:
        lang = self.lang
        rows = self.session.access.trail.decisions()
        body = f"<h2>{escape(tr('team.heading', lang))}</h2>"
        if not rows:
            self._body.object = body + f"<p>{escape(tr('team.none', lang))}</p>"
            return
        rates = [
            [name, str(count), str(overrides), format_percent(overrides / count, lang)]
            for name, count, overrides in override_rates(rows)
        ]
        body += charts.table(
            tr("team.rates_caption", lang),
            [tr(key, lang) for key in ("team.manager", "team.count", "team.overrides", "team.rate")],
            rates,
            numeric_columns=(1, 2, 3),
        )
        latest = [
            [
                _when(row), row.username, str(row.client_id), decision_text(row.data.get("final", ""), lang),
                tr("record.overridden" if row.data.get("outcome") == "override" else "record.followed", lang),
                row.data.get("justification", ""),
            ]
            for row in rows[:RECENT_ROWS]
        ]  # fmt: skip
        headers = [
            "team.when",
            "team.manager",
            "team.client",
            "team.final",
            "record.outcome",
            "record.justification",
        ]
        body += charts.table(tr("team.records_caption", lang), [tr(key, lang) for key in headers], latest)
        self._body.object = body


class AuditView(HtmlSessionView):
    """Admins: the chain's integrity, failed audit writes, where data and model come from, the latest actions."""

    needs_client = False
    with_decision_card = False

    def _update(self) -> None:
        lang, trail, paths = self.lang, self.session.access.trail, self.cockpit.resources.paths
        parts = [f"<h2>{escape(tr('audit.heading', lang))}</h2>"]
        try:
            report = trail.verify()
            recent = trail.recent(RECENT_ROWS)
        except Exception as error:  # an unreadable store is exactly what this view must say
            log.error("audit view: store unreadable: %s", type(error).__name__)
            parts.append(
                f'<p role="alert">{escape(tr("audit.unavailable", lang, error=str(error)[:300]))}</p>'
            )
            report, recent = None, []
        if report is not None and report.intact:
            parts.append(f"<p>{escape(tr('audit.chain_ok', lang, rows=report.rows))}</p>")
        elif report is not None:
            message = tr("audit.chain_broken", lang, row=report.first_broken, reason=report.reason)
            parts.append(f'<p role="alert"><strong>{escape(message)}</strong></p>')
        status = trail.status
        if status.failed_writes:
            failures = tr("audit.failures", lang, count=status.failed_writes, when=status.last_error_utc,
                          error=status.last_error)  # fmt: skip
            parts.append(f'<p role="alert">{escape(failures)}</p>')
        parts.append(
            "<ul>"
            + "".join(
                f"<li>{escape(text)}</li>"
                for text in (
                    tr("audit.store", lang, store=trail.describe()),
                    tr("audit.data", lang, path=str(paths.warehouse)),
                    tr("audit.model", lang, path=str(paths.model_dir)),
                )
            )
            + "</ul>"
        )
        rows = [
            [_when(row), row.username, role_name(row.role, lang) if row.role in ("manager", "lead", "admin") else row.role,
             tr(f"action.{row.action}", lang), "" if row.client_id is None else str(row.client_id), row.detail[:80]]
            for row in recent
        ]  # fmt: skip
        headers = ["team.when", "audit.user", "audit.role", "audit.action", "team.client", "audit.detail"]
        parts.append(charts.table(tr("audit.recent_caption", lang), [tr(key, lang) for key in headers], rows))
        self._body.object = "".join(parts)
