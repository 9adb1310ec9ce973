"""Entry point: ``panel serve dashboard/app.py``.

Reads the data paths from ``CREDIT_WAREHOUSE``, ``CREDIT_MODEL_DIR``, ``PROTOVIT_RUN`` and ``PROTOVIT_IMAGES``
(see ``dashboard/resources.py``) into the process's one :class:`dashboard.cockpit.Cockpit`; the language, client
and view from the URL (``?lang=en&client=100002&view=why``).
Shared resources load once per process; this script runs once per session and only builds that session's page.
"""

from __future__ import annotations

import sys
from pathlib import Path

import panel as pn

if __package__ in (None, ""):  # `panel serve dashboard/app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.cockpit import get_cockpit
from dashboard.i18n import parse_language
from dashboard.shell import Dashboard, missing_data_page


def _query_value(name: str) -> str | None:
    values = pn.state.session_args.get(name) if pn.state.session_args else None
    return values[0].decode("utf-8", "replace") if values else None


def create_page() -> pn.Template:
    """This session's page: the dashboard, or the "data missing" page naming the commands to run."""
    lang = parse_language(_query_value("lang"))
    cockpit = get_cockpit()
    if not cockpit.ready:
        return missing_data_page(lang, cockpit)
    cockpit.warm_up_in_background()
    dashboard = Dashboard(cockpit, lang, view=_query_value("view") or "", client_text=_query_value("client"))
    return dashboard.page()


pn.extension(notifications=False)

if pn.state.served:
    create_page().servable()
