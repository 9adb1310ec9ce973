"""Polars frames into and out of DuckDB through the Arrow PyCapsule interface, without pyarrow.

DuckDB's ``relation.pl()`` and its ``register`` of a Polars frame both convert through pyarrow, which would then
be loaded (tens of MB) in every process, the dashboard's included. Both libraries speak the Arrow C stream
interface natively, so the exchange needs neither pyarrow nor a copy through Python objects.
"""

from __future__ import annotations

import duckdb
import polars as pl


class _ArrowStream:
    """Shows DuckDB a Polars frame as a plain Arrow C stream (a fresh stream each time DuckDB scans it)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self.frame.__arrow_c_stream__(requested_schema)


def to_polars(relation: duckdb.DuckDBPyRelation) -> pl.DataFrame:
    """Run ``relation`` and return its rows with DuckDB's column types (also when there is no row)."""
    return pl.DataFrame(relation)


def register_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Make ``frame`` readable as the view ``name`` on ``con`` (until ``con.unregister(name)``)."""
    con.register(name, _ArrowStream(frame))
