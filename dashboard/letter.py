"""Entry point of the client letter: ``panel serve dashboard/app.py dashboard/letter.py`` serves it at
``/letter?client=ID&lang=fr`` (a second app file of the same server, so it shares the loaded warehouse and scorer).

A plain page rather than a dashboard view: the letter has to print as one A4 page, which a page with the
dashboard's header, side bar and widgets in shadow roots cannot guarantee. The contact printed in the letter comes
from ``CREDIT_LETTER_CONTACT`` (a sentence naming the branch, phone or address); without it the letter points to
the client's adviser.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from html import escape
from pathlib import Path

import panel as pn

if __package__ in (None, ""):  # `panel serve dashboard/letter.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.access.audit import AuditUnavailable
from dashboard.access.current import session_access
from dashboard.access.guard import AccessRefused
from dashboard.access.panels import refusal_page
from dashboard.cockpit import get_cockpit
from dashboard.i18n import parse_language, tr
from dashboard.lifetime import discard_when_closed
from dashboard.session import parse_client_id
from dashboard.shell import missing_data_page
from dashboard.views.letter import (
    LETTER_CSS,
    LetterOptions,
    explanation_csv,
    letter_body,
    letter_title,
    toolbar_html,
)

TEMPLATE = """{% from macros import embed %}<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ page_title }}</title>
  <link rel="icon" href="data:,">
  <style>{{ css }}</style>
  {{ bokeh_css | indent(2) if bokeh_css }}
  {{ bokeh_js | indent(2) if bokeh_js }}
</head>
<body>
{{ body | safe }}
{{ plot_script | indent(2) }}
</body>
</html>
"""


def _query_value(name: str) -> str | None:
    values = pn.state.session_args.get(name) if pn.state.session_args else None
    return values[0].decode("utf-8", "replace") if values else None


def page_parts(client_text: str | None, lang: str, today: dt.date) -> tuple[str, str]:
    """(title, body HTML) of the letter page for the ``client`` query value, or of a page saying what is wrong."""
    cockpit = get_cockpit()
    sk_id, _ = parse_client_id(client_text)
    snapshot = None if sk_id is None else cockpit.snapshot(sk_id, lang)
    if snapshot is None:
        message = tr("letter.unknown_client", lang)
        return message, f"<main class='letter' id='main-content'><h1>{escape(message)}</h1></main>"
    counterfactual = (
        cockpit.what_it_would_take(snapshot) if snapshot.explanation.decision == "refused" else None
    )
    options = LetterOptions(today, contact=os.environ.get("CREDIT_LETTER_CONTACT") or None)
    toolbar = toolbar_html(snapshot.sk_id, lang, explanation_csv(snapshot, lang))
    return letter_title(snapshot, lang), toolbar + letter_body(snapshot, counterfactual, lang, options)


def create_page() -> pn.Template:
    """The letter for the signed-in user: refused without access, and only once the audit trail has recorded it
    (fail closed, like every export)."""
    lang = parse_language(_query_value("lang"))
    try:
        access = session_access()
    except AccessRefused as refusal:
        return refusal_page(lang, refusal.key)
    if not access.may_open("decision"):  # the letter says what the decision view says: same role rule
        return refusal_page(lang, "access.refused_view")
    cockpit = get_cockpit()
    if not cockpit.ready:
        return missing_data_page(lang, cockpit, show_paths=access.role == "admin")
    client_text = _query_value("client")
    sk_id, _ = parse_client_id(client_text)
    if sk_id is not None:
        try:
            access.record("letter", sk_id, lang)
        except AuditUnavailable:
            return refusal_page(lang, "access.audit_down")
    title, body = page_parts(client_text, lang, dt.date.today())
    page = pn.Template(TEMPLATE)
    for name, value in {"lang": lang, "page_title": title, "css": LETTER_CSS, "body": body}.items():
        page.add_variable(name, value)
    return page


pn.extension(notifications=False)

if pn.state.served:
    discard_when_closed(pn.state.curdoc)
    create_page().servable()
