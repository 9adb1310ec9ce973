"""Local user store for small deployments: argon2 hashes, roles, disabled flag, lock-out after failures.

A SQLite file (WAL mode, so several server processes can check passwords while an admin edits users). Passwords
are hashed with argon2id through ``argon2-cffi`` (salted, slow, parameters stored in the hash and upgraded on the
next successful login). After ``FREE_FAILURES`` wrong passwords in a row the account is locked for a delay that
doubles with each further failure, so guessing stays slow while a typo costs nothing.

Command line (``python -m dashboard.access.users``)::

    add NAME --role manager|lead|admin   (asks for the password twice, or reads it from stdin with --stdin)
    disable NAME | enable NAME | set-role NAME ROLE | set-password NAME | list
"""

from __future__ import annotations

import argparse
import getpass
import re
import secrets
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dashboard.access.config import AccessConfig
from dashboard.access.roles import ROLES, parse_role

FREE_FAILURES = 5
BASE_LOCK_SECONDS = 30.0
MAX_LOCK_SECONDS = 15 * 60.0
MIN_PASSWORD_LENGTH = 12
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_HASHER = PasswordHasher()
# Verified against when the user is unknown, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('manager', 'lead', 'admin')),
    disabled INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    created_utc TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS logins (
    login_id TEXT PRIMARY KEY, username TEXT NOT NULL, started REAL NOT NULL, last_seen REAL NOT NULL,
    ended REAL
);
"""


class UserError(ValueError):
    """Bad input to the user store (unknown or duplicate user, weak password, bad name); nothing was changed."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    disabled: bool
    failures: int
    locked_until: float


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a password check: the user when accepted, otherwise why not (for the audit, not the page)."""

    user: User | None
    reason: str  # "ok" | "unknown" | "wrong_password" | "disabled" | "locked"
    retry_after: float = 0.0


def check_username(name: str) -> str:
    """A user name: letters, digits and ``._@-``, at most 64 characters."""
    if not _NAME.fullmatch(name or ""):
        raise UserError(f"invalid user name {name!r}: letters, digits and . _ @ - only (at most 64)")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    return password


def lock_seconds(failures: int) -> float:
    """How long an account stays locked after ``failures`` wrong passwords in a row (0 while under the limit)."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(BASE_LOCK_SECONDS * 2 ** (failures - FREE_FAILURES), MAX_LOCK_SECONDS)


class UserStore:
    """The users of one deployment, in a SQLite file created on first use."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
        finally:
            connection.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One short transaction: committed on success, rolled back on any error."""
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    def add(self, username: str, password: str, role: str) -> User:
        """Create a user; refuses an existing name."""
        username, role = check_username(username), parse_role(role)
        password_hash = _HASHER.hash(check_password(password))
        with self._connect() as connection:
            try:
                connection.execute(
                    "INSERT INTO users (username, password_hash, role) VALUES (?, ?, ?)",
                    (username, password_hash, role),
                )
            except sqlite3.IntegrityError:
                raise UserError(f"user {username!r} already exists") from None
        return self.get(username)

    def get(self, username: str) -> User | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT username, role, disabled, failures, locked_until FROM users WHERE username = ?",
                (username,),
            ).fetchone()
        return None if row is None else User(row[0], row[1], bool(row[2]), row[3], row[4])

    def list(self) -> list[User]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT username, role, disabled, failures, locked_until FROM users ORDER BY username"
            ).fetchall()
        return [User(row[0], row[1], bool(row[2]), row[3], row[4]) for row in rows]

    def count(self) -> int:
        with self._connect() as connection:
            return connection.execute("SELECT count(*) FROM users").fetchone()[0]

    def _update(self, username: str, assignments: str, values: tuple) -> User:
        with self._connect() as connection:
            changed = connection.execute(
                f"UPDATE users SET {assignments} WHERE username = ?", (*values, username)
            ).rowcount
        if not changed:
            raise UserError(f"no user {username!r}")
        return self.get(username)

    def set_disabled(self, username: str, disabled: bool) -> User:
        """Disable (no login, live sessions refused at their next check) or re-enable, clearing any lock."""
        return self._update(username, "disabled = ?, failures = 0, locked_until = 0", (int(disabled),))

    def set_role(self, username: str, role: str) -> User:
        return self._update(username, "role = ?", (parse_role(role),))

    def set_password(self, username: str, password: str) -> User:
        password_hash = _HASHER.hash(check_password(password))
        return self._update(username, "password_hash = ?, failures = 0, locked_until = 0", (password_hash,))

    def authenticate(self, username: str, password: str, *, now: float | None = None) -> LoginResult:
        """Check a password, counting failures and locking the account after too many in a row.

        The hash is verified even for unknown, disabled or locked users so the answer time does not tell them
        apart; a locked account is refused even with the right password until the delay has passed.
        """
        now = time.time() if now is None else now
        with self._connect() as connection:
            row = connection.execute(
                "SELECT username, password_hash, role, disabled, failures, locked_until FROM users "
                "WHERE username = ?",
                (username,),
            ).fetchone()
            if row is None:
                _verify(_DUMMY_HASH, password)
                return LoginResult(None, "unknown")
            name, password_hash, role, disabled, failures, locked_until = row
            correct = _verify(password_hash, password)
            if disabled:
                return LoginResult(None, "disabled")
            if locked_until > now:
                return LoginResult(None, "locked", locked_until - now)
            if not correct:
                failures += 1
                locked_until = now + lock_seconds(failures) if lock_seconds(failures) else 0.0
                connection.execute(
                    "UPDATE users SET failures = ?, locked_until = ? WHERE username = ?",
                    (failures, locked_until, name),
                )
                return LoginResult(None, "wrong_password", max(locked_until - now, 0.0))
            updates, values = "failures = 0, locked_until = 0", ()
            if _HASHER.check_needs_rehash(password_hash):
                updates, values = updates + ", password_hash = ?", (_HASHER.hash(password),)
            connection.execute(f"UPDATE users SET {updates} WHERE username = ?", (*values, name))
        return LoginResult(User(name, role, False, 0, 0.0), "ok")

    # Logins: what makes idle expiry and sign-out hold for every server process, whatever the cookie says.

    def start_login(self, login_id: str, username: str, *, now: float | None = None) -> None:
        """Open a login (after a correct password); logins over two days old are dropped on the way."""
        now = time.time() if now is None else now
        with self._connect() as connection:
            connection.execute("DELETE FROM logins WHERE last_seen < ?", (now - 2 * 86400,))
            connection.execute("INSERT INTO logins VALUES (?, ?, ?, ?, NULL)", (login_id, username, now, now))

    def login_active(self, login_id: str, idle_seconds: float, *, now: float | None = None) -> bool:
        """Whether a login is open, of an enabled user, and was seen within the idle time."""
        now = time.time() if now is None else now
        with self._connect() as connection:
            row = connection.execute(
                "SELECT l.last_seen, l.ended, u.disabled FROM logins l JOIN users u USING (username) "
                "WHERE l.login_id = ?",
                (login_id,),
            ).fetchone()
        return row is not None and row[1] is None and not row[2] and now - row[0] <= idle_seconds

    def seen(self, login_id: str, *, now: float | None = None) -> None:
        """The user of this login did something: restart its idle time (an ended login stays ended)."""
        now = time.time() if now is None else now
        with self._connect() as connection:
            connection.execute(
                "UPDATE logins SET last_seen = ? WHERE login_id = ? AND ended IS NULL", (now, login_id)
            )

    def end_login(self, login_id: str, *, now: float | None = None) -> None:
        """Sign-out or expiry: the login's cookies, even replayed, are refused from now on."""
        now = time.time() if now is None else now
        with self._connect() as connection:
            connection.execute("UPDATE logins SET ended = ? WHERE login_id = ?", (now, login_id))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def ensure_first_admin(store: UserStore, username: str = "admin") -> str | None:
    """On an empty store, create an admin with a random password and return it (to print once); else None."""
    if store.count():
        return None
    password = secrets.token_urlsafe(18)
    store.add(username, password, "admin")
    return password


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.access.users", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--db", type=Path, help="user store file (default: CREDIT_USERS_DB or data/access/)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--stdin", action="store_true", help="read the password from the first line of stdin")
    for name in ("disable", "enable"):
        commands.add_parser(name).add_argument("username")
    set_role = commands.add_parser("set-role")
    set_role.add_argument("username")
    set_role.add_argument("role", choices=ROLES)
    set_password = commands.add_parser("set-password")
    set_password.add_argument("username")
    set_password.add_argument("--stdin", action="store_true")
    commands.add_parser("list")
    args = parser.parse_args(argv)
    store = UserStore(args.db or AccessConfig.from_env().users_db)
    try:
        if args.command == "add":
            user = store.add(args.username, _read_password(args.stdin), args.role)
        elif args.command in ("disable", "enable"):
            user = store.set_disabled(args.username, args.command == "disable")
        elif args.command == "set-role":
            user = store.set_role(args.username, args.role)
        elif args.command == "set-password":
            user = store.set_password(args.username, _read_password(args.stdin))
        else:
            for user in store.list():
                state = (
                    "disabled"
                    if user.disabled
                    else ("locked" if user.locked_until > time.time() else "active")
                )
                print(f"{user.username}\t{user.role}\t{state}")
            return 0
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{user.username}: role {user.role}, {'disabled' if user.disabled else 'enabled'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
