"""The local user store: argon2 hashes, roles, disabled accounts, growing lock-out, and its command line."""

from __future__ import annotations

import io
import sqlite3

import pytest

from dashboard.access.users import FREE_FAILURES, UserError, UserStore, ensure_first_admin, lock_seconds, main

PASSWORD = "correct horse battery staple"


@pytest.fixture
def store(tmp_path) -> UserStore:
    created = UserStore(tmp_path / "users.sqlite")
    created.add("alice", PASSWORD, "manager")
    return created


def test_passwords_are_stored_as_salted_argon2_hashes(store, tmp_path):
    store.add("bob", PASSWORD, "lead")
    with sqlite3.connect(tmp_path / "users.sqlite") as connection:
        hashes = [row[0] for row in connection.execute("SELECT password_hash FROM users")]
    assert all(value.startswith("$argon2id$") and PASSWORD not in value for value in hashes)
    assert hashes[0] != hashes[1]  # same password, different salts


def test_right_and_wrong_passwords(store):
    assert store.authenticate("alice", PASSWORD).user.role == "manager"
    assert store.authenticate("alice", "wrong password!").reason == "wrong_password"
    assert store.authenticate("nobody", PASSWORD).reason == "unknown"


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("alice", PASSWORD, "manager", "already exists"),
        ("bad name", PASSWORD, "manager", "invalid user name"),
        ("carol", "short", "manager", "too short"),
        ("carol", PASSWORD, "root", "unknown role"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(store, name, password, role, message):
    with pytest.raises(ValueError, match=message):
        store.add(name, password, role)
    assert [user.username for user in store.list()] == ["alice"]


def test_repeated_failures_lock_the_account_for_a_growing_delay(store):
    now = 1_000_000.0
    for _ in range(FREE_FAILURES - 1):
        assert store.authenticate("alice", "wrong password!", now=now).retry_after == 0
    locked = store.authenticate("alice", "wrong password!", now=now)
    assert locked.retry_after == lock_seconds(FREE_FAILURES) > 0
    # Even the right password is refused while locked ...
    assert store.authenticate("alice", PASSWORD, now=now + 1).reason == "locked"
    # ... the next failure after the delay locks for twice as long ...
    later = now + lock_seconds(FREE_FAILURES) + 1
    assert store.authenticate("alice", "wrong password!", now=later).retry_after == 2 * lock_seconds(
        FREE_FAILURES
    )
    # ... and a success after the delay resets the counter.
    after = later + 2 * lock_seconds(FREE_FAILURES) + 1
    assert store.authenticate("alice", PASSWORD, now=after).reason == "ok"
    assert store.get("alice").failures == 0


def test_disabled_users_cannot_log_in_and_roles_change(store):
    store.set_disabled("alice", True)
    assert store.authenticate("alice", PASSWORD).reason == "disabled"
    store.set_disabled("alice", False)
    store.set_role("alice", "admin")
    assert store.authenticate("alice", PASSWORD).user.role == "admin"
    with pytest.raises(UserError, match="no user"):
        store.set_role("nobody", "lead")


def test_first_admin_is_created_once_with_a_random_password(tmp_path):
    store = UserStore(tmp_path / "users.sqlite")
    password = ensure_first_admin(store)
    assert password and len(password) >= 20
    assert store.authenticate("admin", password).user.role == "admin"
    assert ensure_first_admin(store) is None


def test_command_line_adds_disables_and_lists(tmp_path, monkeypatch, capsys):
    db = str(tmp_path / "users.sqlite")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["--db", db, "add", "carol", "--role", "lead", "--stdin"]) == 0
    assert main(["--db", db, "disable", "carol"]) == 0
    assert main(["--db", db, "set-role", "carol", "admin"]) == 0
    assert main(["--db", db, "list"]) == 0
    assert "carol\tadmin\tdisabled" in capsys.readouterr().out
    assert main(["--db", db, "enable", "nobody"]) == 2
    assert "no user 'nobody'" in capsys.readouterr().err


def test_logins_expire_when_idle_and_stay_ended_after_sign_out(store):
    store.start_login("L1", "alice", now=1000.0)
    assert store.login_active("L1", idle_seconds=60, now=1050.0)
    assert not store.login_active("L1", idle_seconds=60, now=1061.0)
    store.seen("L1", now=1055.0)
    assert store.login_active("L1", idle_seconds=60, now=1110.0)
    store.end_login("L1", now=1111.0)
    store.seen("L1", now=1112.0)  # a replayed cookie's activity does not reopen it
    assert not store.login_active("L1", idle_seconds=60, now=1113.0)
    assert not store.login_active("made-up", idle_seconds=60, now=1113.0)


def test_disabling_a_user_closes_their_open_logins(store):
    store.start_login("L2", "alice")
    store.set_disabled("alice", True)
    assert not store.login_active("L2", idle_seconds=60)
