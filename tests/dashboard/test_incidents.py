"""Errors reach the manager as an incident reference on their page; the details only reach the log."""

from __future__ import annotations

import logging
import re

import pytest
from bokeh.document import Document
from panel.io.state import set_curdoc

from dashboard.incidents import callback_failed, register_page
from dashboard.session import ClientSession


def test_a_failing_callback_shows_an_incident_reference_and_logs_the_details(
    cockpit, caplog: pytest.LogCaptureFixture
) -> None:
    document = Document()
    session = ClientSession(cockpit, lang="fr")
    with set_curdoc(document), caplog.at_level(logging.ERROR, logger="dashboard.incidents"):
        register_page(session)
        try:
            raise KeyError("/secret/path/warehouse.duckdb")
        except KeyError as error:
            callback_failed(error)
    incident = re.search(r"référence d'incident ([0-9a-f]{8})", session.error)
    assert incident, session.error
    assert "secret" not in session.error and "KeyError" not in session.error
    assert session.announcement == session.error
    logged = [record for record in caplog.records if incident.group(1) in record.getMessage()]
    assert logged and logged[0].exc_info[0] is KeyError
