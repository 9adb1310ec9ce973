"""A throwaway PostgreSQL cluster for the audit store's PostgreSQL path (Debian's ``postgresql`` package).

``initdb``/``pg_ctl`` run as a non-root user (``postgres`` when the tests run as root) on a temporary directory
and a free loopback port. Without the binaries the tests skip with a message, except in CI (``CI=true``), where
a missing PostgreSQL is a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.local_server import free_port


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql://`` URL of a fresh database on a cluster started for this test session."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        message = "PostgreSQL tests need Debian's postgresql package (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — required in CI", pytrace=False)
        pytest.skip(message)
    # Not under pytest's private (0700, root-owned) temporary folder: the server's account must reach it.
    folder = Path(tempfile.mkdtemp(prefix="audit-postgres-"))
    run_as: dict = {}
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        account = pwd.getpwnam("postgres")
        run_as = {"user": account.pw_uid, "group": account.pw_gid}
        os.chown(folder, account.pw_uid, account.pw_gid)
    data, port = folder / "data", free_port()
    subprocess.run(
        [initdb, "-D", str(data), "-U", "audit", "--auth=trust", "--no-sync", "-E", "UTF8"],
        check=True, capture_output=True, **run_as,
    )  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "-t", "60", "start"],
        check=True, capture_output=True, **run_as,
    )  # fmt: skip
    try:
        yield f"postgresql://audit@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, **run_as)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_audit_url(postgres_url) -> str:
    """A fresh, empty database per test on the session's cluster."""
    import psycopg

    name = f"audit_{free_port()}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def audit_url(request, tmp_path) -> str:
    """The audit store on each backend: a SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "audit.sqlite")
    return request.getfixturevalue("postgres_audit_url")


@pytest.fixture(scope="session")
def cockpit(scored_warehouse, small_model_dir, tmp_path_factory):
    """The dashboard's façade on the small scored fixtures (no ProtoViT run)."""
    from dashboard.cockpit import cockpit_for
    from dashboard.resources import DataPaths, load_resources

    empty = tmp_path_factory.mktemp("no_protovit")
    loaded = load_resources(
        DataPaths(Path(scored_warehouse), Path(small_model_dir), empty / "run", empty / "images")
    )
    assert loaded.ready, loaded.problems
    return cockpit_for(loaded)


@pytest.fixture(autouse=True)
def _reset_panel_state():
    import panel as pn

    yield
    pn.state.reset()


@pytest.fixture(scope="session")
def client_ids(cockpit) -> list[int]:
    return cockpit.search_clients("1", limit=3)
