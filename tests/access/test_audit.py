"""The audit trail on SQLite and on a real PostgreSQL: chained rows, append-only, tamper detection, concurrent
writers, and faults (unreachable server, full disk) that refuse the action with nothing half-written."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from dashboard.access.audit import (
    FAIL_CLOSED,
    GENESIS,
    AuditTrail,
    AuditUnavailable,
    DecisionRecord,
    main,
    override_rates,
)
from dashboard.local_server import free_port


def _fill(trail: AuditTrail, n: int = 5) -> None:
    for index in range(n):
        trail.record(
            user="alice", role="manager", session="s1", action="client_opened", client_id=100_000 + index
        )


def _execute_raw(url: str, statements: list[str]) -> None:
    """Edit the store behind the trail's back, as an intruder with file or database access would."""
    if url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)
    else:
        with sqlite3.connect(url) as connection:
            for statement in statements:
                connection.execute(statement)


def test_rows_are_chained_and_verify(audit_url):
    trail = AuditTrail(audit_url)
    _fill(trail, 3)
    rows = trail.rows()
    assert [row.seq for row in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS and rows[1].prev_hash == rows[0].row_hash
    assert rows[2].client_id == 100_002 and rows[2].ts_utc.endswith("Z")
    report = trail.verify()
    assert report.intact and report.rows == 3


def test_unknown_action_or_long_detail_writes_nothing(audit_url):
    trail = AuditTrail(audit_url)
    with pytest.raises(ValueError, match="unknown audit action"):
        trail.record(user="a", role="manager", session="s", action="opened_everything")
    with pytest.raises(ValueError, match="longer than"):
        trail.record(user="a", role="manager", session="s", action="export", detail="x" * 5000)
    assert trail.count() == 0


@pytest.mark.parametrize(
    "statement", ["UPDATE audit SET detail = 'x' WHERE seq = 2", "DELETE FROM audit WHERE seq = 2"]
)
def test_rows_cannot_be_updated_or_deleted(audit_url, statement):
    trail = AuditTrail(audit_url)
    _fill(trail, 3)
    with pytest.raises(Exception, match="append-only"):
        _execute_raw(audit_url, [statement])
    assert trail.verify().intact and trail.count() == 3


def _drop_triggers(url: str) -> list[str]:
    if url.startswith("postgresql://"):
        return ["DROP TRIGGER audit_append_only ON audit"]
    return ["DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete"]


def test_an_edited_row_breaks_the_chain_at_that_row(audit_url, capsys):
    trail = AuditTrail(audit_url)
    _fill(trail, 5)
    _execute_raw(audit_url, [*_drop_triggers(audit_url), "UPDATE audit SET client_id = 999 WHERE seq = 3"])
    report = trail.verify()
    assert report.first_broken == 3 and "edited" in report.reason
    assert main(["--url", audit_url, "verify"]) == 1
    assert "BROKEN at row 3" in capsys.readouterr().err


def test_a_deleted_row_breaks_the_chain(audit_url):
    trail = AuditTrail(audit_url)
    _fill(trail, 5)
    _execute_raw(audit_url, [*_drop_triggers(audit_url), "DELETE FROM audit WHERE seq = 2"])
    report = trail.verify()
    assert report.first_broken == 3 and "missing" in report.reason


def test_a_rewritten_chain_tail_is_caught_by_the_link(audit_url):
    """Re-hashing an edited row is not enough: the next row still points at the old hash."""
    from dashboard.access.audit import row_hash

    trail = AuditTrail(audit_url)
    _fill(trail, 4)
    row = trail.rows()[1]
    forged = row_hash(row.seq, row.ts_utc, "mallory", row.role, row.session, row.action, row.client_id,
                      row.detail, row.prev_hash)  # fmt: skip
    _execute_raw(
        audit_url,
        [
            *_drop_triggers(audit_url),
            f"UPDATE audit SET username = 'mallory', row_hash = '{forged}' WHERE seq = 2",
        ],
    )
    assert trail.verify().first_broken == 3


def test_verify_command_reports_an_intact_chain(audit_url, capsys):
    _fill(AuditTrail(audit_url), 2)
    assert main(["--url", audit_url, "verify"]) == 0
    assert "intact: 2 rows" in capsys.readouterr().out


def _writer(url: str, name: str, count: int) -> None:
    trail = AuditTrail(url)
    for index in range(count):
        trail.record(user=name, role="manager", session=name, action="view_opened", detail=str(index))


def test_two_processes_writing_at_once_lose_no_row(audit_url):
    AuditTrail(audit_url).count()  # create the table before the race
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(audit_url, name, 60)) for name in ("p1", "p2")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    trail = AuditTrail(audit_url)
    rows = trail.rows()
    assert len(rows) == 120 and trail.verify().intact
    for name in ("p1", "p2"):
        assert sorted(int(row.detail) for row in rows if row.username == name) == list(range(60))


def test_unreachable_postgresql_is_retried_then_refused_with_a_clear_message():
    waits: list[float] = []
    trail = AuditTrail(f"postgresql://audit@127.0.0.1:{free_port()}/audit", sleep=waits.append)
    with pytest.raises(AuditUnavailable, match=r"audit store unavailable \(PostgreSQL 127\.0\.0\.1"):
        trail.record(user="alice", role="manager", session="s", action="client_opened", client_id=1)
    assert len(waits) == 2  # three attempts
    assert trail.status.failed_writes == 1 and "PostgreSQL" in trail.status.last_error


FULL_DISK_CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys
    from dashboard.access.audit import AuditTrail, AuditUnavailable
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing us
    trail = AuditTrail(sys.argv[1], sleep=lambda seconds: None)
    trail.record(user="a", role="manager", session="s", action="login")
    resource.setrlimit(resource.RLIMIT_FSIZE, (96 * 1024, 96 * 1024))
    written, error = 1, ""
    for index in range(500):
        try:
            trail.record(user="a", role="manager", session="s", action="export", client_id=index, detail="x" * 1900)
            written += 1
        except AuditUnavailable as refused:
            error = str(refused)
            break
    print(json.dumps({"written": written, "error": error}))
    """
)


def test_a_full_disk_refuses_the_action_and_keeps_the_chain_whole(tmp_path):
    path = tmp_path / "audit.sqlite"
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK_CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["error"].startswith("audit store unavailable (SQLite file"), outcome
    assert 1 < outcome["written"] < 500
    trail = AuditTrail(str(path))
    assert trail.count() == outcome["written"] and trail.verify().intact


def test_decision_records_need_a_justification_to_override():
    with pytest.raises(ValueError, match="justification is required"):
        DecisionRecord("granted", "override", justification="  ")
    record = DecisionRecord("granted", "override", justification="Revenus stables confirmés")
    assert record.final_decision == "refused"
    assert json.loads(record.detail())["final"] == "refused"
    assert DecisionRecord("refused", "follow").final_decision == "refused"
    with pytest.raises(ValueError):
        DecisionRecord("granted", "maybe")


def test_client_history_and_override_rates(audit_url):
    trail = AuditTrail(audit_url)
    for user, client, outcome in [("alice", 1, "follow"), ("alice", 2, "override"), ("bob", 1, "follow")]:
        record = DecisionRecord("granted", outcome, justification="motif" if outcome == "override" else "")
        trail.record(
            user=user,
            role="manager",
            session="s",
            action="decision",
            client_id=client,
            detail=record.detail(),
        )
    trail.record(user="alice", role="manager", session="s", action="client_opened", client_id=1)
    history = trail.client_decisions(1)
    assert [(row.username, row.data["outcome"]) for row in history] == [
        ("alice", "follow"),
        ("bob", "follow"),
    ]
    assert override_rates(trail.decisions()) == [("alice", 2, 1), ("bob", 1, 0)]


def test_fail_closed_actions_are_the_documented_ones():
    assert {
        "client_opened",
        "view_opened",
        "whatif_run",
        "letter",
        "export",
        "decision",
        "login",
    } <= FAIL_CLOSED
    assert not {"login_failed", "logout", "session_expired", "view_refused"} & FAIL_CLOSED
