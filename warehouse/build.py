"""Build the warehouse file atomically: write a temporary file next to the target, then ``os.replace`` it.

A failed build (bad input, full disk, Ctrl-C, SIGTERM) removes the temporary file and leaves the previous
warehouse untouched, so the dashboard, which only ever opens the file read-only, never sees a half-written file.
Replacing (not rewriting) the file also lets a running dashboard keep reading the old version through its open
handle while new sessions open the new one. A lock file next to the target refuses a second concurrent build of
the same file, and the next build removes the temporary files of a build that was killed outright.

Every build records who it is in a one-row ``build_info`` table (build id, data fingerprint); the scorer stores
that build id in its artifact and ``write_scores`` records the writing model's id in ``scores_info``, so readers
can tell whether the data, the model and the stored decisions belong together.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, TypeVar

import duckdb
import polars as pl

from warehouse import analyst, ingest, schema
from warehouse.arrow_exchange import register_frame
from warehouse.errors import BuildInterrupted, WarehouseBusyError, WarehouseInputError
from warehouse.features import create_features

# A build holds one table at a time in Python; DuckDB gets a bounded share of the machine next to it.
BUILD_MEMORY_LIMIT = "2GB"
# Files are written in the storage format of DuckDB 1.0 so that analysts' DuckDB 1.x tools (CLI, ODBC, older
# Python clients) open them too; see docs/warehouse.md for what this costs.
STORAGE_VERSION = "v1.0.0"
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
def _atomic_target(out: Path, say: _Progress | None = None) -> Iterator[Path]:
    """Yield a temporary path in ``out``'s folder; on success it replaces ``out``, on any error it is removed.

    Holds ``out``'s build lock throughout, so the stale temporary files found on entry can only come from a
    killed build and are removed; SIGINT and SIGTERM become :class:`BuildInterrupted` so the clean-up runs.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with _build_lock(out), _signals_interrupt():
        stale = sorted(out.parent.glob(f".{glob.escape(out.name)}.*.tmp*"))
        for leftover in stale:
            leftover.unlink(missing_ok=True)
        if stale and say is not None:
            say(f"removed {len(stale)} temporary file(s) left by an interrupted build")
        try:
            yield temporary
            os.replace(temporary, out)
        finally:
            _remove(temporary)


def lock_path(out: Path) -> Path:
    """The lock file guarding builds of ``out`` (next to it, so every process building it sees the same one)."""
    return out.with_name(f".{out.name}.lock")


@contextlib.contextmanager
def _build_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive OS lock on ``out``'s lock file, or raise :class:`WarehouseBusyError` at once.

    An OS lock (not the file's mere existence) is released by the kernel when its holder dies, so a killed build
    never blocks the next one. The file keeps the holder's pid and start time for the error message.
    """
    path = lock_path(out)
    while True:
        handle = path.open("a+", encoding="utf-8")
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise WarehouseBusyError(
                f"another build of {out} is running ({holder}); wait for it to finish or stop it, then retry"
            )
        if _is_current(handle, path):
            break
        handle.close()  # the previous holder removed that lock file after we opened it: lock the new one
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
        handle.flush()
        yield
    finally:
        if sys.platform != "win32":  # removed while still held, so no one can lock a file about to vanish
            path.unlink(missing_ok=True)
        handle.close()  # closing the descriptor releases the lock


def _is_current(handle: IO[str], path: Path) -> bool:
    """True when ``handle`` is still the file at ``path`` (not one a finished build unlinked meanwhile)."""
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(handle.fileno())
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`BuildInterrupted` while a build runs (main thread only: Python
    delivers signals there), restoring the previous handlers afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _frame: object) -> None:
        raise BuildInterrupted(signum)

    previous = {number: signal.signal(number, interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _remove(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _connect_for_build(path: Path, storage_version: str) -> duckdb.DuckDBPyConnection:
    try:
        con = duckdb.connect(str(path), config={"storage_compatibility_version": storage_version})
    except duckdb.InvalidInputException as error:
        raise WarehouseInputError(
            f"storage version {storage_version!r} is not one DuckDB {duckdb.__version__} knows: use 'latest' or"
            " a release such as 'v1.0.0'"
        ) from error
    con.execute(f"SET memory_limit = '{BUILD_MEMORY_LIMIT}'; SET preserve_insertion_order = false")
    return con


def build_warehouse(
    out: Path,
    *,
    source: Path | None = None,
    synthetic: int | None = None,
    seed: int = 0,
    progress: bool = True,
    storage_version: str = STORAGE_VERSION,
) -> Path:
    """Build the warehouse at ``out`` from Kaggle CSVs (``source``) or ``synthetic`` generated applicants.

    ``storage_version`` is the oldest DuckDB release that must read the file ('latest': only this one).
    Raises :class:`WarehouseInputError` on bad input; ``out`` is only ever replaced by a complete file.
    """
    if (source is None) == (synthetic is None):
        raise ValueError("give exactly one of source= (a folder of Kaggle CSVs) or synthetic= (a number)")
    if synthetic is not None and synthetic < 10:
        raise WarehouseInputError(f"--synthetic: need at least 10 applicants, got {synthetic}")
    out = Path(out)
    say = _Progress(progress)
    source_files = ingest.locate_source(Path(source)) if source is not None else None
    # The generator's modules are imported before a signal can interrupt the build: an interruption raised while
    # an extension module initialises surfaces as that module's ImportError, not as the interruption.
    generated = _synthetic_tables(synthetic, seed) if synthetic is not None else None
    with _atomic_target(out, say) as temporary:
        con = _connect_for_build(temporary, storage_version)
        try:
            if source_files is not None:
                say(f"reading Kaggle CSV files from {source}")
                ingest.load_source(con, source_files, say)
                origin = f"Kaggle CSV files from {Path(source).resolve()}"
            else:
                say(f"generating {synthetic:,} synthetic applicants (seed {seed})")
                _load_synthetic(con, generated, say)
                origin = f"synthetic: {synthetic} applicants, seed {seed}"
            say("computing features")
            create_features(con)
            say("writing the clients view and column descriptions")
            analyst.create_clients_view(con)
            analyst.comment_everything(con, synthetic=synthetic is not None)
            build_id = _record_build(con, origin, storage_version)
            con.execute("CHECKPOINT")
        finally:
            con.close()
    say(f"done: {out} (build {build_id})")
    return out


def data_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 over every raw table's and the features' row count and order-independent row-hash sum.

    Two builds of the same data give the same fingerprint whatever the row order or build time (with the same
    DuckDB version: its hash function is not a stable format), so it tells "same data, rebuilt" from "new data".
    """
    digest = hashlib.sha256()
    for table in [*schema.TABLES, "features"]:
        count, total = con.execute(
            f'SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM "{table}" AS t'
        ).fetchone()
        digest.update(f"{table}:{count}:{total};".encode())
    return digest.hexdigest()


def _record_build(con: duckdb.DuckDBPyConnection, origin: str, storage_version: str) -> str:
    """Write the ``build_info`` row; the id is unique per build (time and a random part), readable by people."""
    build_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{secrets.token_hex(4)}"
    con.execute(
        "CREATE TABLE build_info AS SELECT ?::VARCHAR AS build_id, now()::TIMESTAMP AS built_at, "
        "?::VARCHAR AS data_fingerprint, ?::VARCHAR AS origin, ?::VARCHAR AS duckdb_version, "
        "?::VARCHAR AS storage_version",
        [build_id, data_fingerprint(con), origin, duckdb.__version__, storage_version],
    )
    analyst.comment_build_info(con)
    return build_id


def _synthetic_tables(n_train: int, seed: int) -> Iterator[tuple[str, pl.DataFrame]]:
    """The generator's tables, drawn lazily as they are iterated."""
    # Imported here: the generator needs scipy.stats, ≈ 1–2 s to import, which every ``import warehouse`` (the
    # dashboard, the scorer) paid although only a synthetic build uses it.
    from warehouse.synthetic import generate_tables

    return generate_tables(n_train, seed)


def _load_synthetic(
    con: duckdb.DuckDBPyConnection, tables: Iterator[tuple[str, pl.DataFrame]], say: _Progress
) -> None:
    for table, frame in _one_ahead(tables):
        register_frame(con, "generated", frame)
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


def write_scores(path: Path, scores: pl.DataFrame, *, model_id: str) -> None:
    """Add or replace the ``scores`` table through a copy of the file and an atomic replace.

    ``model_id`` (the scorer's fingerprint) goes into ``scores_info`` so a reader can check that the stored
    decisions come from the model it serves. Raises :class:`WarehouseBusyError` when another process holds the
    file read-write or builds it (replacing it under a writer would lose that writer's work) and ``ValueError``
    for a malformed ``scores`` frame.
    """
    path = Path(path)
    if not model_id:
        raise ValueError("model_id is required: the scores table must say which model wrote it")
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
            register_frame(con, "new_scores", typed)
            con.execute("CREATE OR REPLACE TABLE scores AS SELECT * FROM new_scores ORDER BY SK_ID_CURR")
            con.execute(
                "CREATE OR REPLACE TABLE scores_info AS SELECT ?::VARCHAR AS model_id, "
                "now()::TIMESTAMP AS written_at, ?::BIGINT AS n_clients",
                [model_id, typed.height],
            )
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
