"""Load the Kaggle Home Credit CSV files into DuckDB with the known schema, never with inferred types.

Each file is read as text first (quoted fields with commas, empty values and mostly-empty columns are all fine),
checked column by column against the expected type and sign, then cast. Any problem raises
:class:`~warehouse.errors.WarehouseInputError` naming the file and, where it applies, the column and the line.
Header cells are validated against the schema and never reach SQL (a crafted header once made the build read
files outside the folder); the query only holds the schema's own names.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from warehouse import schema
from warehouse.errors import WarehouseInputError

_OTHER_DELIMITERS = (";", "\t", "|")


def locate_source(folder: Path) -> dict[str, Path]:
    """Map each Kaggle table present in ``folder`` to its CSV; application_train.csv is required."""
    if not folder.is_dir():
        raise WarehouseInputError(f"source folder {folder} does not exist or is not a folder")
    files = {table: folder / f"{table}.csv" for table in schema.TABLES if (folder / f"{table}.csv").is_file()}
    if schema.REQUIRED_TABLE not in files:
        raise WarehouseInputError(f"{folder / (schema.REQUIRED_TABLE + '.csv')}: required file is missing")
    return files


def load_source(con: duckdb.DuckDBPyConnection, files: dict[str, Path], say: Callable[[str], None]) -> None:
    """Create the seven raw tables; a table whose file is absent is created empty (its features are NULL)."""
    for table, columns in schema.TABLES.items():
        path = files.get(table)
        if path is None:
            con.execute(f'CREATE TABLE "{table}" ({_column_list(columns)})')
            say(f"{table}: no {table}.csv, table left empty")
            continue
        rows = load_csv(con, table, path, say)
        say(f"{table}: {rows:,} rows from {path.name}")
    _check_keys(con, files)


def _column_list(columns: dict[str, str]) -> str:
    return ", ".join(f'"{name}" {dtype}' for name, dtype in columns.items())


def _check_encoding(path: Path) -> None:
    """Refuse UTF-16 (what Excel's "Unicode text" writes) with the fix; a UTF-8 byte-order mark is fine."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise WarehouseInputError(
            f"{path.name}: UTF-16 text (or binary data); save it as UTF-8, for example with "
            f"`iconv -f UTF-16 -t UTF-8 {path.name} > {path.stem}.utf8.csv`"
        )


def read_header(path: Path) -> list[str]:
    """Column names of ``path``; rejects empty files and files split on another delimiter than a comma."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        first_line = handle.readline()
    if not first_line.strip():
        raise WarehouseInputError(f"{path.name}: file is empty (no header line)")
    header = next(csv.reader([first_line]))
    if len(header) == 1:
        found = [d for d in _OTHER_DELIMITERS if d in first_line]
        if found:
            raise WarehouseInputError(
                f"{path.name}: wrong delimiter {found[0]!r} in the header; Kaggle files are comma-separated"
            )
    return [name.strip() for name in header]


def _shown(name: str) -> str:
    """A header cell for an error message: quoted, control characters visible, long ones cut."""
    text = repr(name)
    return text if len(text) <= 60 else text[:57] + "..."


def _positions(
    path: Path, header: list[str], expected: dict[str, str], say: Callable[[str], None]
) -> dict[str, int]:
    """Map each expected column to its position in the file, after validating every header cell.

    Header cells are only ever compared with the schema's names, never put into SQL: the query reads positional
    columns and renames them with the schema's own names. A leading unnamed column is the index pandas.to_csv
    writes by default: it is dropped with a note.
    """
    start = 0
    if header and header[0] in ("", "Unnamed: 0"):
        say(f"{path.name}: leading unnamed index column (as pandas.to_csv writes) dropped")
        start = 1
    positions: dict[str, int] = {}
    for position, name in enumerate(header[start:], start):
        if name not in expected:
            raise WarehouseInputError(
                f"{path.name}: unexpected column {_shown(name)} (position {position + 1}); the file must hold "
                "exactly the Kaggle columns of this table"
            )
        if name in positions:
            raise WarehouseInputError(f"{path.name}: duplicated column {_shown(name)}")
        positions[name] = position
    missing = [name for name in expected if name not in positions]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise WarehouseInputError(f"{path.name}: required column {missing[0]} is missing{more}")
    return positions


def load_csv(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, say: Callable[[str], None] = lambda _: None
) -> int:
    """Read ``path`` as text, validate every expected column, and create ``table`` with Kaggle types."""
    expected = schema.TABLES[table]
    _check_encoding(path)
    header = read_header(path)
    positions = _positions(path, header, expected, say)
    text_columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    renamed = ", ".join(f'c{positions[name]} AS "{name}"' for name in expected)
    try:
        # File order is kept for this one statement so that the line numbers in error messages are right.
        con.execute("SET preserve_insertion_order = true")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE staging AS SELECT row_number() OVER () + 1 AS line, {renamed}
                FROM read_csv(?, header = true, delim = ',', quote = '"', escape = '"', columns = {text_columns},
                auto_detect = false, strict_mode = true, null_padding = false)""",
            [str(path)],
        )
    except duckdb.Error as error:
        raise WarehouseInputError(_describe_csv_error(path, header, error)) from error
    finally:
        con.execute("SET preserve_insertion_order = false")
    rows = con.execute("SELECT count(*) FROM staging").fetchone()[0]
    if rows == 0:
        raise WarehouseInputError(f"{path.name}: header only, no data rows")
    _check_values(con, path, expected)
    casts = ", ".join(f'{_cast(name, dtype)} AS "{name}"' for name, dtype in expected.items())
    con.execute(f'CREATE TABLE "{table}" AS SELECT {casts} FROM staging ORDER BY line')
    con.execute("DROP TABLE staging")
    return rows


def _text(name: str) -> str:
    return f"NULLIF(trim(\"{name}\"), '')"


def _cast(name: str, dtype: str) -> str:
    if dtype == schema.INT:  # integers may be written "3" or "3.0"
        return f"CAST(CAST({_text(name)} AS DOUBLE) AS BIGINT)"
    if dtype == schema.FLOAT:
        return f"CAST({_text(name)} AS DOUBLE)"
    return f"NULLIF(\"{name}\", '')"


def _rules(name: str, dtype: str) -> list[tuple[str, str]]:
    """(SQL condition true on a bad cell, what is wrong) for column ``name``, type check first.

    "inf" and "NaN" parse as numbers in DuckDB, so finiteness is checked explicitly: a missing value is an empty
    cell. Signs are checked where the Kaggle data never has the other sign (see ``schema.NON_NEGATIVE``).
    """
    text, number = _text(name), f"TRY_CAST({_text(name)} AS DOUBLE)"
    unusable = f"({text} IS NOT NULL AND ({number} IS NULL OR NOT isfinite({number})"
    if dtype == schema.INT:
        rules = [(f"{unusable} OR {number} <> round({number})))", "is not an integer")]
    else:
        rules = [(f"{unusable}))", "is not a finite number (leave the cell empty for a missing value)")]
    if name in schema.NON_NEGATIVE:
        rules.append((f"{number} < 0", "cannot be negative"))
    if name in schema.NON_POSITIVE:
        rules.append((f"{number} > 0", "must be zero or negative (days before the application)"))
    return rules


def _check_values(con: duckdb.DuckDBPyConnection, path: Path, expected: dict[str, str]) -> None:
    checks = [
        (name, condition, problem)
        for name, dtype in expected.items()
        if dtype != schema.TEXT
        for condition, problem in _rules(name, dtype)
    ]
    if not checks:
        return
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c})" for _, c, _ in checks) + " FROM staging"
    ).fetchone()
    for (name, condition, problem), count in zip(checks, counts, strict=True):
        if count:
            line, value = con.execute(
                f'SELECT line, "{name}" FROM staging WHERE {condition} ORDER BY line LIMIT 1'
            ).fetchone()
            raise WarehouseInputError(
                f"{path.name}: column {name}: value {value!r} on line {line} {problem} ({count:,} bad values)"
            )


def _describe_csv_error(path: Path, header: list[str], error: duckdb.Error) -> str:
    """Turn DuckDB's CSV error into one line naming the file, the line and the first column concerned."""
    message = str(error)
    line = re.search(r"[Ll]ine:? (\d+)", message)
    where = f" on line {line.group(1)}" if line else ""
    found = re.search(r"Found:? (\d+)", message)
    if found and int(found.group(1)) < len(header):
        column = header[int(found.group(1))]
        return (
            f"{path.name}: truncated or short row{where}: column {column} and the following ones are missing "
            f"(expected {len(header)} fields, found {found.group(1)})"
        )
    if "unicode" in message.lower():
        return (
            f"{path.name}: not UTF-8 text{where}; save it as UTF-8, for example with "
            f"`iconv -f LATIN1 -t UTF-8 {path.name} > {path.stem}.utf8.csv`"
        )
    first_line = message.strip().splitlines()[0]
    return f"{path.name}: unreadable CSV{where}: {first_line}"


def _check_keys(con: duckdb.DuckDBPyConnection, files: dict[str, Path]) -> None:
    for table in ("application_train", "application_test"):
        if table not in files:
            continue
        nulls, duplicates = con.execute(
            f"SELECT count(*) FILTER (WHERE SK_ID_CURR IS NULL), count(SK_ID_CURR) - count(DISTINCT SK_ID_CURR) "
            f"FROM {table}"
        ).fetchone()
        if nulls or duplicates:
            raise WarehouseInputError(
                f"{files[table].name}: column SK_ID_CURR has {nulls} empty and {duplicates} duplicated ids"
            )
    bad_target = con.execute(
        "SELECT count(*) FROM application_train WHERE TARGET IS NULL OR TARGET NOT IN (0, 1)"
    ).fetchone()[0]
    if bad_target:
        raise WarehouseInputError(
            f"{files['application_train'].name}: column TARGET must be 0 or 1 ({bad_target} other values)"
        )
    overlap = con.execute(
        "SELECT count(*) FROM application_train JOIN application_test USING (SK_ID_CURR)"
    ).fetchone()[0]
    if overlap:
        raise WarehouseInputError(f"application_test.csv: column SK_ID_CURR repeats {overlap} training ids")
