"""Append-only, tamper-evident audit trail: who did what, when, to which client, in which session.

Each row carries the hash of the previous row and its own hash over every field (SHA-256, a chain), so editing,
deleting or inserting a row in the middle breaks the chain at that row: ``python -m dashboard.access.audit
verify`` reports the first broken row. Rows hold the client's id only, never their personal data.

Storage is SQLite in WAL mode by default (several server processes on one machine append safely: each append
takes the write lock with ``BEGIN IMMEDIATE``, reads the last hash and inserts in one transaction), or PostgreSQL
for several replicas (``postgresql://`` URL; appends serialise on a transaction-level advisory lock). Both refuse
UPDATE and DELETE with a trigger; the chain catches whoever drops the trigger.

A write that fails is retried a few times; if it still fails :class:`AuditUnavailable` is raised so that the
caller refuses the action rather than doing it unrecorded (fail closed, see ``FAIL_CLOSED``), and the failure is
counted for the admins' audit view.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ACTIONS: frozenset[str] = frozenset(
    {
        "login",
        "login_failed",
        "logout",
        "session_expired",
        "session_start",
        "client_opened",
        "view_opened",
        "view_refused",
        "whatif_run",
        "letter",
        "export",
        "decision",
    }
)
# Actions refused when they cannot be recorded. The others (a failed login, a logout, an expiry, a refusal) are
# recorded when possible: refusing them would protect nothing.
FAIL_CLOSED: frozenset[str] = frozenset(
    {"login", "session_start", "client_opened", "view_opened", "whatif_run", "letter", "export", "decision"}
)
GENESIS = "0" * 64
RETRIES = 3
MAX_DETAIL = 2000
COLUMNS = (
    "seq",
    "ts_utc",
    "username",
    "role",
    "session",
    "action",
    "client_id",
    "detail",
    "prev_hash",
    "row_hash",
)
_LOCK_KEY = 727_431  # PostgreSQL advisory lock id of the audit chain


class AuditUnavailable(RuntimeError):
    """The audit store could not record an action after retries; the action must not be done."""


@dataclass(frozen=True)
class AuditRow:
    seq: int
    ts_utc: str
    username: str
    role: str
    session: str
    action: str
    client_id: int | None
    detail: str
    prev_hash: str
    row_hash: str

    @property
    def data(self) -> dict[str, Any]:
        """The detail parsed as JSON when it is JSON (decision records), else ``{}``."""
        try:
            parsed = json.loads(self.detail)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}


@dataclass(frozen=True)
class ChainReport:
    """The result of a chain verification: rows checked and the first broken row (None if intact)."""

    rows: int
    first_broken: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def row_hash(seq: int, ts_utc: str, username: str, role: str, session: str, action: str,
             client_id: int | None, detail: str, prev_hash: str) -> str:  # fmt: skip
    """SHA-256 over a canonical JSON of every field and the previous hash."""
    canonical = json.dumps(
        [seq, ts_utc, username, role, session, action, client_id, detail, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verify_rows(rows: Iterator[AuditRow]) -> ChainReport:
    """Walk the chain in order and stop at the first row whose link or hash does not match."""
    previous, expected_seq, count = GENESIS, 1, 0
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            return ChainReport(count, row.seq, f"row {expected_seq} is missing (next row is {row.seq})")
        if row.prev_hash != previous:
            return ChainReport(count, row.seq, "its link to the previous row does not match")
        fields = [getattr(row, name) for name in COLUMNS[:-1]]
        if row_hash(*fields) != row.row_hash:
            return ChainReport(count, row.seq, "its content does not match its hash (edited)")
        previous, expected_seq = row.row_hash, expected_seq + 1
    return ChainReport(count)


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Backend:
    """What differs between SQLite and PostgreSQL: connecting, the placeholder, locking the chain for an append."""

    placeholder = "?"
    transient: tuple[type[BaseException], ...] = ()

    def connect(self) -> Any:
        raise NotImplementedError

    def begin_append(self, connection: Any) -> None:
        raise NotImplementedError

    def create(self, connection: Any) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class _SQLite(_Backend):
    transient = (sqlite3.OperationalError, sqlite3.DatabaseError)

    def __init__(self, path: Path) -> None:
        self.path = path

    def connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        return connection

    def begin_append(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")

    def create(self, connection: sqlite3.Connection) -> None:
        connection.executescript(
            """
            CREATE TABLE IF NOT EXISTS audit (
                seq INTEGER PRIMARY KEY, ts_utc TEXT NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL,
                session TEXT NOT NULL, action TEXT NOT NULL, client_id INTEGER, detail TEXT NOT NULL,
                prev_hash TEXT NOT NULL, row_hash TEXT NOT NULL UNIQUE);
            CREATE INDEX IF NOT EXISTS audit_client ON audit (client_id, action);
            CREATE INDEX IF NOT EXISTS audit_action ON audit (action);
            CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
                BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
            CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
                BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
            """
        )

    def describe(self) -> str:
        return f"SQLite file {self.path}"


class _Postgres(_Backend):
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.transient = (psycopg.OperationalError, psycopg.InterfaceError)

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, connect_timeout=3, autocommit=True)

    def begin_append(self, connection: Any) -> None:
        connection.execute("BEGIN")
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))

    def create(self, connection: Any) -> None:
        # The append lock: two processes creating the table at once do not collide.
        self.begin_append(connection)
        connection.execute(
            """
            CREATE TABLE IF NOT EXISTS audit (
                seq BIGINT PRIMARY KEY, ts_utc TEXT NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL,
                session TEXT NOT NULL, action TEXT NOT NULL, client_id BIGINT, detail TEXT NOT NULL,
                prev_hash TEXT NOT NULL, row_hash TEXT NOT NULL UNIQUE);
            CREATE INDEX IF NOT EXISTS audit_client ON audit (client_id, action);
            CREATE INDEX IF NOT EXISTS audit_action ON audit (action);
            CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN RAISE EXCEPTION 'audit rows are append-only'; END $$;
            CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
                FOR EACH ROW EXECUTE FUNCTION audit_append_only();
            """
        )
        connection.execute("COMMIT")

    def describe(self) -> str:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(self.url)
        return f"PostgreSQL {info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def _backend(url: str) -> _Backend:
    if url.startswith(("postgresql://", "postgres://")):
        return _Postgres(url)
    return _SQLite(Path(url.removeprefix("sqlite:///")))


@dataclass
class AuditStatus:
    """What admins see about the store's health: failed writes since start and the last error."""

    failed_writes: int = 0
    last_error: str = ""
    last_error_utc: str = ""


@dataclass
class AuditTrail:
    """The audit store of one process; thread-safe, one connection per thread, reconnecting after errors."""

    url: str
    backend: _Backend = field(init=False)
    status: AuditStatus = field(default_factory=AuditStatus)
    sleep: Callable[[float], None] = time.sleep
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _created: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self.backend = _backend(self.url)

    def describe(self) -> str:
        return self.backend.describe()

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.backend.connect()
            if not self._created:
                self.backend.create(connection)
                self._created = True
            self._local.connection = connection
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # a broken connection may fail to close; it is dropped either way
                log.debug("closing a broken audit connection failed", exc_info=True)

    def _sql(self, text: str) -> str:
        return text.replace("?", self.backend.placeholder)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        connection = self._connection()
        self.backend.begin_append(connection)
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            try:
                connection.execute("ROLLBACK")
            except Exception:
                self._drop_connection()
            raise

    def record(self, *, user: str, role: str, session: str, action: str,
               client_id: int | None = None, detail: str = "") -> AuditRow:  # fmt: skip
        """Append one row; retried, then :class:`AuditUnavailable` (the caller must refuse the action)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        if len(detail) > MAX_DETAIL:
            raise ValueError(f"audit detail longer than {MAX_DETAIL} characters")
        last_error: BaseException | None = None
        for attempt in range(RETRIES):
            try:
                return self._append(user, role, session, action, client_id, detail)
            except self.backend.transient as error:
                last_error = error
                self._drop_connection()
                if attempt + 1 < RETRIES:
                    self.sleep(0.05 * 4**attempt)
        message = f"audit store unavailable ({self.describe()}): {type(last_error).__name__}: {last_error}"
        self.status.failed_writes += 1
        self.status.last_error, self.status.last_error_utc = message, _utc_now()
        log.error("audit write failed for action %s: %s", action, message)
        raise AuditUnavailable(message) from last_error

    def _append(self, user: str, role: str, session: str, action: str, client_id: int | None,
                detail: str) -> AuditRow:  # fmt: skip
        with self._transaction() as connection:
            last = connection.execute("SELECT seq, row_hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
            ts_utc = _utc_now()
            digest = row_hash(seq, ts_utc, user, role, session, action, client_id, detail, prev_hash)
            connection.execute(
                self._sql(
                    f"INSERT INTO audit ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
                ),
                (seq, ts_utc, user, role, session, action, client_id, detail, prev_hash, digest),
            )
        return AuditRow(seq, ts_utc, user, role, session, action, client_id, detail, prev_hash, digest)

    def _select(self, where: str = "", values: tuple = (), *, order: str = "seq", limit: int | None = None) -> list[AuditRow]:  # fmt: skip
        text = f"SELECT {', '.join(COLUMNS)} FROM audit {where} ORDER BY {order}"
        if limit is not None:
            text += f" LIMIT {int(limit)}"
        try:
            rows = self._connection().execute(self._sql(text), values).fetchall()
        except self.backend.transient:
            self._drop_connection()
            raise
        return [AuditRow(*row) for row in rows]

    def rows(self) -> list[AuditRow]:
        return self._select()

    def recent(self, limit: int = 50) -> list[AuditRow]:
        """The latest rows, newest first (the admins' audit view)."""
        return self._select(order="seq DESC", limit=limit)

    def client_decisions(self, client_id: int) -> list[AuditRow]:
        """The decision records of one client, oldest first (the client's history)."""
        return self._select("WHERE client_id = ? AND action = 'decision'", (client_id,))

    def decisions(self, limit: int = 10_000) -> list[AuditRow]:
        """Every decision record, newest first (the team lead's view)."""
        return self._select("WHERE action = 'decision'", order="seq DESC", limit=limit)

    def count(self) -> int:
        return self._connection().execute("SELECT count(*) FROM audit").fetchone()[0]

    def verify(self) -> ChainReport:
        return verify_rows(iter(self.rows()))

    def close(self) -> None:
        self._drop_connection()


@dataclass(frozen=True)
class DecisionRecord:
    """A manager's final decision on a file: follow the score or override it, with a justification."""

    score_decision: str  # "granted" | "refused"
    outcome: str  # "follow" | "override"
    justification: str = ""
    notes: str = ""

    MAX_TEXT = 600

    def __post_init__(self) -> None:
        if self.score_decision not in ("granted", "refused"):
            raise ValueError(f"unknown score decision {self.score_decision!r}")
        if self.outcome not in ("follow", "override"):
            raise ValueError(f"unknown outcome {self.outcome!r}")
        if self.outcome == "override" and not self.justification.strip():
            raise ValueError("a justification is required to override the score")
        if len(self.justification) > self.MAX_TEXT or len(self.notes) > self.MAX_TEXT:
            raise ValueError(f"justification and notes are limited to {self.MAX_TEXT} characters")

    @property
    def final_decision(self) -> str:
        if self.outcome == "follow":
            return self.score_decision
        return "refused" if self.score_decision == "granted" else "granted"

    def detail(self) -> str:
        return json.dumps(
            {
                "score": self.score_decision,
                "outcome": self.outcome,
                "final": self.final_decision,
                "justification": self.justification.strip(),
                "notes": self.notes.strip(),
            },
            ensure_ascii=False,
        )


def override_rates(rows: list[AuditRow]) -> list[tuple[str, int, int]]:
    """(manager, decisions recorded, overrides) per manager, most decisions first."""
    counts: dict[str, list[int]] = {}
    for row in rows:
        entry = counts.setdefault(row.username, [0, 0])
        entry[0] += 1
        entry[1] += row.data.get("outcome") == "override"
    return sorted(((name, n, o) for name, (n, o) in counts.items()), key=lambda item: (-item[1], item[0]))


def main(argv: list[str] | None = None) -> int:
    from dashboard.access.config import AccessConfig

    parser = argparse.ArgumentParser(
        prog="python -m dashboard.access.audit", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--url", help="postgresql:// URL or SQLite file (default: CREDIT_AUDIT_URL or data/access/)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("verify", help="check the hash chain; exit 1 at the first broken row")
    tail = commands.add_parser("tail", help="print the latest rows")
    tail.add_argument("-n", type=int, default=20)
    args = parser.parse_args(argv)
    trail = AuditTrail(args.url or AccessConfig.from_env().audit_url)
    try:
        if args.command == "tail":
            for row in reversed(trail.recent(args.n)):
                print("\t".join(str(getattr(row, name)) for name in COLUMNS[:-2]))
            return 0
        report = trail.verify()
    except Exception as error:
        print(f"error: cannot read the audit store ({trail.describe()}): {error}", file=sys.stderr)
        return 2
    if report.intact:
        print(f"audit chain intact: {report.rows} rows ({trail.describe()})")
        return 0
    print(f"audit chain BROKEN at row {report.first_broken}: {report.reason}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
