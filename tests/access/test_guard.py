"""Per-session access: roles from the store or the identity provider's claim, refusals, idle expiry, fail closed."""

from __future__ import annotations

import pytest

from dashboard.access.audit import AuditTrail, AuditUnavailable
from dashboard.access.config import AccessConfig, ConfigError
from dashboard.access.guard import AccessRefused, SessionAccess, resolve_access, role_from_claims
from dashboard.access.roles import may_open
from dashboard.access.users import User
from dashboard.local_server import free_port


def _config(tmp_path, **env: str) -> AccessConfig:
    return AccessConfig.from_env({"CREDIT_ACCESS_DIR": str(tmp_path), **env})


def _lookup(name: str) -> User | None:
    return {"alice": User("alice", "manager", False, 0, 0), "eve": User("eve", "admin", True, 0, 0)}.get(name)


def test_roles_open_only_their_views():
    assert may_open("manager", "decision") and not may_open("manager", "portfolio")
    assert may_open("lead", "portfolio") and may_open("lead", "team") and not may_open("lead", "audit")
    assert may_open("admin", "audit") and not may_open(None, "decision") and not may_open("admin", "nowhere")


@pytest.mark.parametrize(
    ("claims", "claim", "role_map", "role"),
    [
        ({"roles": ["manager", "lead"]}, "roles", {}, "lead"),
        (
            {"realm_access": {"roles": ["cockpit-admin", "offline"]}},
            "realm_access.roles",
            {"cockpit-admin": "admin"},
            "admin",
        ),
        ({"groups": "cockpit-lead other"}, "groups", {"cockpit-lead": "lead"}, "lead"),
        ({"roles": ["admin"]}, "roles", {"cockpit-admin": "admin"}, None),  # unmapped names do not count
        ({}, "roles", {}, None),
    ],
)
def test_role_from_an_identity_providers_claim(claims, claim, role_map, role):
    assert role_from_claims(claims, claim, role_map) == role


def test_local_user_gets_the_stored_role_and_the_start_is_recorded(tmp_path):
    trail = AuditTrail(str(tmp_path / "audit.sqlite"))
    access = resolve_access(
        _config(tmp_path, CREDIT_AUTH="local"),
        session_id="s1",
        user="alice",
        user_info=None,
        lookup=_lookup,
        trail=trail,
    )
    assert (access.user, access.role) == ("alice", "manager")
    assert [row.action for row in trail.rows()] == ["session_start"]


@pytest.mark.parametrize(
    ("env", "user", "key"),
    [
        ({}, "alice", "access.not_configured"),
        ({"CREDIT_AUTH": "local"}, None, "access.not_configured"),
        ({"CREDIT_AUTH": "local"}, "eve", "access.no_role"),  # disabled
        ({"CREDIT_AUTH": "local"}, "mallory", "access.no_role"),  # unknown
        ({"CREDIT_AUTH": "oidc"}, "bob@bank.fr", "access.no_role"),  # no role claim
    ],
)
def test_sessions_without_a_valid_user_are_refused(tmp_path, env, user, key):
    trail = AuditTrail(str(tmp_path / "audit.sqlite"))
    with pytest.raises(AccessRefused) as refused:
        resolve_access(
            _config(tmp_path, **env), session_id="s", user=user, user_info={}, lookup=_lookup, trail=trail
        )
    assert refused.value.key == key


def test_oidc_and_demo_sessions(tmp_path):
    trail = AuditTrail(str(tmp_path / "audit.sqlite"))
    oidc = resolve_access(
        _config(tmp_path, CREDIT_AUTH="oidc", CREDIT_ROLE_CLAIM="groups", CREDIT_ROLE_MAP="cockpit-lead=lead"),
        session_id="s", user="bob@bank.fr", user_info={"groups": ["cockpit-lead"]}, lookup=_lookup, trail=trail,
    )  # fmt: skip
    assert oidc.role == "lead"
    demo = resolve_access(
        _config(tmp_path, CREDIT_AUTH="demo"),
        session_id="s",
        user=None,
        user_info=None,
        lookup=_lookup,
        trail=trail,
    )
    assert demo.demo and demo.role == "admin"


def test_idle_expiry_follows_activity(tmp_path):
    now = [0.0]
    access = SessionAccess(
        "alice", "manager", "s", "local", AuditTrail(str(tmp_path / "a.sqlite")), 60, clock=lambda: now[0]
    )
    now[0] = 59
    assert not access.should_end()
    access.record("view_opened", detail="decision")
    now[0] = 100
    assert not access.should_end()
    now[0] = 121
    assert access.should_end()


def test_fail_closed_actions_raise_and_the_others_do_not(tmp_path):
    trail = AuditTrail(f"postgresql://audit@127.0.0.1:{free_port()}/audit", sleep=lambda seconds: None)
    access = SessionAccess("alice", "manager", "s", "local", trail, 60)
    with pytest.raises(AuditUnavailable):
        access.record("client_opened", client_id=100002)
    access.record("view_refused", detail="portfolio")  # recorded when possible, never blocks
    assert trail.status.failed_writes == 2
    with pytest.raises(AccessRefused) as refused:
        resolve_access(_config(tmp_path, CREDIT_AUTH="demo"), session_id="s", user=None, user_info=None,
                       lookup=_lookup, trail=trail)  # fmt: skip
    assert refused.value.key == "access.audit_down"


@pytest.mark.parametrize(
    ("env", "cookie", "session", "message"),
    [
        ({}, "c" * 40, "k" * 40, "no authentication configured"),
        ({"CREDIT_AUTH": "local"}, None, "k" * 40, "cookie secret"),
        ({"CREDIT_AUTH": "local"}, "short", "k" * 40, "cookie secret"),
        ({"CREDIT_AUTH": "oidc"}, "c" * 40, None, "signed sessions"),
        ({"CREDIT_AUTH": "sometimes"}, "c" * 40, "k" * 40, "CREDIT_AUTH"),
    ],
)
def test_production_configuration_refuses_to_start_unprotected(tmp_path, env, cookie, session, message):
    with pytest.raises(ConfigError, match=message):
        _config(tmp_path, **env).check_production(cookie_secret=cookie, session_secret=session)
