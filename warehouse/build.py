"""Build the warehouse file atomically: write a temporary file next to the target, then ``os.replace`` it.

A failed build (bad input, full disk, Ctrl-C) removes the temporary file and leaves the previous warehouse
untouched, so the dashboard, which only ever opens the file read-only, never sees a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

from warehouse import analyst, ingest
from warehouse.errors import WarehouseBusyError, WarehouseInputError
from warehouse.features import create_features

# A build holds one table at a time in Python; DuckDB gets a bounded share of the machine next to it.
BUILD_MEMORY_LIMIT = "2GB"
T = TypeVar("T")
SCORE_COLUMNS = {
    "SK_ID_CURR": pl.Int64,
    "PROBABILITY": pl.Float64,
    "DECISION": pl.String,
    "TOP_CONTRIBUTIONS": pl.String,
}


class _Progress:
    """One line per step on stderr with the elapsed time; silent when disabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(
                f"[warehouse {time.perf_counter() - self.start:6.1f} s] {message}",
                file=sys.stderr,
                flush=True,
            )


@contextlib.contextmanager
def _atomic_target(out: Path) -> Iterator[Path]:
    """Yield a temporary path in ``out``'s folder; on success it replaces ``out``, on any error it is removed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    _remove(temporary)
    try:
        yield temporary
        os.replace(temporary, out)
    finally:
        _remove(temporary)


def _remove(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _connect_for_build(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute(f"SET memory_limit = '{BUILD_MEMORY_LIMIT}'; SET preserve_insertion_order = false")
    return con


def build_warehouse(
    out: Path,
    *,
    source: Path | None = None,
    synthetic: int | None = None,
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """Build the warehouse at ``out`` from Kaggle CSVs (``source``) or ``synthetic`` generated applicants.

    Raises :class:`WarehouseInputError` on bad input; ``out`` is only ever replaced by a complete file.
    """
    if (source is None) == (synthetic is None):
        raise ValueError("give exactly one of source= (a folder of Kaggle CSVs) or synthetic= (a number)")
    if synthetic is not None and synthetic < 10:
        raise WarehouseInputError(f"--synthetic: need at least 10 applicants, got {synthetic}")
    out = Path(out)
    say = _Progress(progress)
    source_files = ingest.locate_source(Path(source)) if source is not None else None
    with _atomic_target(out) as temporary:
        con = _connect_for_build(temporary)
        try:
            if source_files is not None:
                say(f"reading Kaggle CSV files from {source}")
                ingest.load_source(con, source_files, say)
            else:
                say(f"generating {synthetic:,} synthetic applicants (seed {seed})")
                _load_synthetic(con, synthetic, seed, say)
            say("computing features")
            create_features(con)
            say("writing the clients view and column descriptions")
            analyst.create_clients_view(con)
            analyst.comment_everything(con, synthetic=synthetic is not None)
            con.execute("CHECKPOINT")
        finally:
            con.close()
    say(f"done: {out}")
    return out


def _load_synthetic(con: duckdb.DuckDBPyConnection, n_train: int, seed: int, say: _Progress) -> None:
    # Imported here: the generator needs scipy.stats, ≈ 1–2 s to import, which every ``import warehouse`` (the
    # dashboard, the scorer) paid although only a synthetic build uses it.
    from warehouse.synthetic import generate_tables

    for table, frame in _one_ahead(generate_tables(n_train, seed)):
        con.register("generated", frame)
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM generated')
        con.unregister("generated")
        say(f"{table}: {frame.height:,} rows")
        del frame


def _one_ahead(items: Iterator[T]) -> Iterator[T]:
    """Yield ``items`` while a worker thread already produces the next one.

    Drawing a table is mostly single-threaded numpy and writing one is DuckDB's own threads (both release the
    GIL), so overlapping them keeps both cores busy during the synthetic build; at most two tables are in memory.
    On an error or an early stop the pending item is finished (one table) before the worker goes away.
    """
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending = worker.submit(next, items, None)
        while (item := pending.result()) is not None:
            pending = worker.submit(next, items, None)
            yield item


def write_scores(path: Path, scores: pl.DataFrame) -> None:
    """Add or replace the ``scores`` table through a copy of the file and an atomic replace.

    Raises :class:`WarehouseBusyError` when another process holds the file read-write (replacing it under a
    writer would lose that writer's work) and ``ValueError`` for a malformed ``scores`` frame.
    """
    path = Path(path)
    missing = set(SCORE_COLUMNS) - set(scores.columns)
    if missing:
        raise ValueError(f"scores frame lacks columns {sorted(missing)}")
    typed = scores.select(pl.col(name).cast(dtype) for name, dtype in SCORE_COLUMNS.items())
    bad = typed.filter(~pl.col("DECISION").is_in(["granted", "refused"]))
    if bad.height:
        raise ValueError(f"DECISION must be 'granted' or 'refused', got {bad['DECISION'][0]!r}")
    _check_not_locked(path)
    with _atomic_target(path) as temporary:
        shutil.copyfile(path, temporary)
        con = duckdb.connect(str(temporary))
        try:
            con.register("new_scores", typed)
            con.execute("CREATE OR REPLACE TABLE scores AS SELECT * FROM new_scores ORDER BY SK_ID_CURR")
            analyst.comment_scores(con)
            con.execute("CHECKPOINT")
        finally:
            con.close()


def _check_not_locked(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: build it first")
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error as error:
        raise WarehouseBusyError(
            f"{path} is open read-write elsewhere; close it and retry ({error})"
        ) from error
