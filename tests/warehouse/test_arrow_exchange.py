"""Polars frames into and out of DuckDB without pyarrow: same types both ways, and a frame DuckDB reads twice."""

from __future__ import annotations

import datetime

import duckdb
import polars as pl

from warehouse.arrow_exchange import register_frame, to_polars

TYPED = """SELECT 1::BIGINT AS id, 2::HUGEINT AS huge, 1.5::DECIMAL(10, 2) AS amount, 'x'::ENUM('x', 'y') AS kind,
    DATE '2020-01-31' AS day, [1, 2] AS list, {'a': 1} AS struct, NULL::DOUBLE AS missing"""


def test_a_result_keeps_duckdbs_types_also_without_rows() -> None:
    with duckdb.connect() as con:
        frame = to_polars(con.sql(TYPED))
        empty = to_polars(con.sql(f"SELECT * FROM ({TYPED}) WHERE id IS NULL"))
    assert frame.schema == empty.schema and empty.height == 0
    assert frame.row(0) == (1, 2, frame["amount"][0], "x", datetime.date(2020, 1, 31), [1, 2], {"a": 1}, None)
    assert frame.schema["huge"] == pl.Decimal(38, 0) and frame.schema["amount"] == pl.Decimal(10, 2)
    assert frame.schema["day"] == pl.Date and frame.schema["missing"] == pl.Float64


def test_a_registered_frame_can_be_read_twice_in_one_query() -> None:
    frame = pl.DataFrame({"id": [1, 2, 3], "label": ["a", "b", None], "value": [0.5, None, 2.0]})
    with duckdb.connect() as con:
        register_frame(con, "frame", frame)
        joined = to_polars(
            con.sql("SELECT f.id, g.label, f.value FROM frame f JOIN frame g USING (id) ORDER BY f.id")
        )
        again = to_polars(con.sql("SELECT * FROM frame ORDER BY id"))
    assert joined.equals(frame) and again.equals(frame)
