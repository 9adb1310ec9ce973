"""Analysts' tools: the warehouse file opens read-only in the oldest DuckDB we support (a real 1.0.0 install).

DuckDB 1.0.0 is installed once into a cache folder (``pip install --target``, its own copy next to, not over,
the project's DuckDB) and run in a subprocess. Without network the test is skipped, except in CI where it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse.build import STORAGE_VERSION

OLDEST_DUCKDB = "1.0.0"
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    / "pret-a-depenser"
    / f"duckdb-{OLDEST_DUCKDB}"
)

READ_WITH_OLD_DUCKDB = """
import json, sys
sys.path.insert(0, sys.argv[1])
import duckdb
con = duckdb.connect(sys.argv[2], read_only=True)
one = lambda sql: con.execute(sql).fetchone()
print(json.dumps({
    "version": duckdb.__version__,
    "clients": one("SELECT count(*), count(age_years) FROM clients"),
    "features": one("SELECT count(*) FROM features"),
    "scores": one("SELECT count(*), count(DISTINCT DECISION) FROM scores"),
    "build": one("SELECT build_id, storage_version FROM build_info"),
    "model": one("SELECT model_id FROM scores_info"),
    "comment": one("SELECT comment FROM duckdb_tables() WHERE table_name = 'features'"),
}))
"""


@pytest.fixture(scope="module")
def old_duckdb() -> Path:
    if not (CACHE / "duckdb").is_dir():
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(CACHE)]
        install = subprocess.run(
            [*command, f"duckdb=={OLDEST_DUCKDB}"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if install.returncode != 0:
            message = f"cannot install duckdb {OLDEST_DUCKDB} to check compatibility: {install.stderr[-500:]}"
            if os.environ.get("CI") == "true":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
    return CACHE


def test_the_warehouse_opens_in_duckdb_1_0(old_duckdb: Path, scored_warehouse: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", READ_WITH_OLD_DUCKDB, str(old_duckdb), str(scored_warehouse)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["version"] == OLDEST_DUCKDB, "the subprocess must run the old DuckDB, not the project's"
    clients, with_age = seen["clients"]
    assert clients == with_age == seen["features"][0] == seen["scores"][0] > 0
    assert seen["scores"][1] == 2 and seen["build"][1] == STORAGE_VERSION
    assert seen["model"][0] and "Model-ready features" in seen["comment"][0]
