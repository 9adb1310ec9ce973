"""Roles and the audit trail inside the dashboard's logic (no browser): refused views are never built, every
traced action is recorded, an audit that cannot write refuses the action, and the decision record."""

from __future__ import annotations

import pytest

from dashboard.access.audit import AuditTrail
from dashboard.access.guard import SessionAccess
from dashboard.access.panels import DecisionRecordPanel
from dashboard.local_server import free_port
from dashboard.shell import VIEWS, Dashboard, missing_data_page


@pytest.fixture
def trail(tmp_path) -> AuditTrail:
    return AuditTrail(str(tmp_path / "audit.sqlite"))


def _dashboard(cockpit, trail, role: str, user: str = "alice", **kwargs) -> Dashboard:
    access = SessionAccess(user, role, f"session-{user}", "local", trail, 900)
    return Dashboard(cockpit, "fr", access=access, **kwargs)


def _actions(trail: AuditTrail) -> list[tuple[str, int | None, str]]:
    return [(row.action, row.client_id, row.detail) for row in trail.rows()]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("manager", {"decision", "profile", "compare", "whatif", "images"}),
        ("lead", {"decision", "profile", "compare", "whatif", "images", "importance", "portfolio", "team"}),
        ("admin", set(VIEWS)),
    ],
)
def test_each_role_sees_only_its_views_in_the_menu(cockpit, trail, role, allowed):
    dashboard = _dashboard(cockpit, trail, role)
    assert {key for key, _label in dashboard.nav.items} == allowed


def test_a_manager_typing_a_lead_view_gets_a_refusal_and_the_view_is_never_built(cockpit, trail, client_ids):
    dashboard = _dashboard(cockpit, trail, "manager", view="portfolio", client_text=str(client_ids[0]))
    assert "portfolio" not in dashboard.views
    assert dashboard.open_view("audit") is None and "audit" not in dashboard.views
    text = dashboard.main.objects[-1].object
    assert "Accès refusé" in text and "chargé de clientèle" in text and "Journal d&#x27;audit" in text
    assert ("view_refused", client_ids[0], "portfolio") in _actions(trail)
    assert ("view_refused", client_ids[0], "audit") in _actions(trail)


def test_client_view_whatif_and_export_are_recorded_with_the_id_only(cockpit, trail, client_ids):
    dashboard = _dashboard(cockpit, trail, "manager", client_text=str(client_ids[0]))
    whatif = dashboard.open_view("whatif")
    whatif.rescore()
    dashboard.open_view("decision")._csv_file()
    actions = _actions(trail)
    assert ("client_opened", client_ids[0], "") in actions
    assert ("view_opened", client_ids[0], "whatif") in actions
    assert ("whatif_run", client_ids[0], "edit") in actions
    assert ("export", client_ids[0], "explanation_csv") in actions
    profile = cockpit.warehouse.client_profile(client_ids[0])
    stored = " ".join(f"{row.detail} {row.session}" for row in trail.rows())
    assert not [
        value for value in profile.values() if isinstance(value, str) and len(value) > 3 and value in stored
    ]


def test_an_audit_that_cannot_write_refuses_the_actions(cockpit, client_ids):
    down = AuditTrail(f"postgresql://audit@127.0.0.1:{free_port()}/audit", sleep=lambda seconds: None)
    dashboard = Dashboard(cockpit, "en", access=SessionAccess("alice", "manager", "s", "local", down, 900))
    assert dashboard.session.show(client_ids[0]) is False
    assert dashboard.session.client_id is None and "audit trail is unavailable" in dashboard.session.error
    assert dashboard.open_view("profile") is None and "profile" not in dashboard.views


def test_decision_record_needs_a_justification_to_override_and_shows_in_the_history(
    cockpit, trail, client_ids
):
    dashboard = _dashboard(cockpit, trail, "manager", client_text=str(client_ids[0]))
    panel: DecisionRecordPanel = dashboard.record
    assert any(shown is panel.__panel__() for shown in dashboard.main.objects)
    panel._outcome.value = "override"
    assert panel._save.disabled and "obligatoire" in panel._justification.label
    assert panel.save() is False and "justification" in panel._status.object  # the server checks too
    panel._justification.value_input = "Revenus confirmés par les trois derniers bulletins"
    assert not panel._save.disabled
    assert panel.save() is True
    history = panel._history.object
    assert "alice" in history and "score non suivi" in history and "bulletins" in history
    row = trail.client_decisions(client_ids[0])[0]
    assert row.data["outcome"] == "override" and row.username == "alice"

    lead = _dashboard(cockpit, trail, "lead", user="lena")
    team = lead.open_view("team")
    assert "alice" in team._body.object and "100" in team._body.object  # one decision, 100 % overridden
    lead.open_view("portfolio")  # the portfolio shows the same team records below its charts
    assert any(shown is team.__panel__() for shown in lead.main.objects)
    assert "Décisions de l&#x27;équipe" in team._body.object or "Décisions de l'équipe" in team._body.object
    manager = _dashboard(cockpit, trail, "manager", user="marc")
    manager.open_view("portfolio")
    assert "team" not in manager.views


def test_admins_audit_view_reports_the_chain(cockpit, trail, client_ids):
    _dashboard(cockpit, trail, "manager", client_text=str(client_ids[0]))
    view = _dashboard(cockpit, trail, "admin", user="root").open_view("audit")
    assert "intégrité vérifiée : 4 lignes" in view._body.object and "client consulté" in view._body.object


def test_missing_data_page_shows_commands_to_admins_only(tmp_path):
    from dashboard.cockpit import cockpit_for
    from dashboard.resources import DataPaths, load_resources

    missing = cockpit_for(
        load_resources(DataPaths(tmp_path / "w.duckdb", tmp_path / "m", tmp_path / "r", tmp_path / "i"))
    )
    hidden = missing_data_page("fr", missing, show_paths=False)
    shown = missing_data_page("fr", missing, show_paths=True)

    def text(page) -> str:
        return " ".join(
            str(getattr(item, "object", "")) for item in page._render_items.get("main", ([], ""))[0]
        )

    assert str(tmp_path) not in text(hidden) and "administrateur" in text(hidden)
    assert str(tmp_path) in text(shown) and "build_warehouse.py" in text(shown)
