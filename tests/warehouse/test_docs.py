"""The example queries of docs/warehouse.md run on a real warehouse file (so the docs cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"


def _example_statements() -> list[str]:
    section = DOC.read_text().split("## Example queries", 1)[1]
    block = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
    return [statement.strip() for statement in block.split(";") if "SELECT" in statement]


def test_example_queries_run(small_warehouse: Path) -> None:
    statements = _example_statements()
    assert len(statements) >= 6
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        con.execute("CREATE TEMP TABLE scores (SK_ID_CURR BIGINT, PROBABILITY DOUBLE, DECISION VARCHAR)")
        for statement in statements:
            assert con.sql(statement).fetchall() is not None, statement
