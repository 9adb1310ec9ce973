"""CSV ingest hardening: crafted headers, encodings, the pandas index column, and values no client can have."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from tests.warehouse.kaggle_folder import write_kaggle_folder
from warehouse import WarehouseInputError, build_warehouse

APPLICATION = "application_train.csv"


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> None:
    with path.open("w", newline="", encoding=encoding) as handle:
        csv.writer(handle).writerows(rows)


def _clients(out: Path) -> list[int]:
    with duckdb.connect(str(out), read_only=True) as con:
        return [row[0] for row in con.sql("SELECT SK_ID_CURR FROM application_train ORDER BY 1").fetchall()]


def test_a_crafted_header_cannot_make_the_build_read_outside_the_folder(tmp_path: Path) -> None:
    """A header cell written as SQL must be refused as an unknown column, never reach DuckDB's parser."""
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("SK_ID_CURR,TARGET\n999999,0\n")
    folder = write_kaggle_folder(tmp_path / "csv", tables=("application_train",))
    injected = (
        "Z': 'VARCHAR'}) UNION ALL BY NAME SELECT * FROM read_csv('"
        + str(secret)
        + "', header = true, columns = {'SK_ID_CURR"
    )
    rows = _rows(folder / APPLICATION)
    _write(folder / APPLICATION, [[*rows[0], injected]] + [[*row, ""] for row in rows[1:]])
    out = tmp_path / "w.duckdb"
    with pytest.raises(
        WarehouseInputError, match=r"application_train\.csv: unexpected column .Z': 'VARCHAR'"
    ):
        build_warehouse(out, source=folder, progress=False)
    assert not out.exists()


@pytest.mark.parametrize("name", ["AMT_CREDIT\u200b", "1; DROP TABLE x", "AMT_CREDIT "])
def test_unexpected_or_duplicated_columns_are_named(tmp_path: Path, name: str) -> None:
    folder = write_kaggle_folder(tmp_path / "csv", tables=("application_train",))
    rows = _rows(folder / APPLICATION)
    _write(folder / APPLICATION, [[*rows[0], name]] + [[*row, "1"] for row in rows[1:]])
    message = "duplicated column 'AMT_CREDIT'" if name.strip() == "AMT_CREDIT" else "unexpected column"
    with pytest.raises(WarehouseInputError, match=message):
        build_warehouse(tmp_path / "w.duckdb", source=folder, progress=False)


def test_columns_may_come_in_any_order(tmp_path: Path) -> None:
    folder = write_kaggle_folder(tmp_path / "csv", tables=("application_train",))
    rows = _rows(folder / APPLICATION)
    _write(folder / APPLICATION, [list(reversed(row)) for row in rows])
    out = build_warehouse(tmp_path / "w.duckdb", source=folder, progress=False)
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.sql("SELECT AMT_CREDIT FROM application_train WHERE SK_ID_CURR = 100002").fetchall() == [
            (406597.5,)
        ]


@pytest.mark.parametrize("index_name", ["", "Unnamed: 0"])
def test_a_leading_pandas_index_column_is_dropped_with_a_note(
    tmp_path: Path, index_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_kaggle_folder(tmp_path / "csv", tables=("application_train",))
    rows = _rows(folder / APPLICATION)
    _write(
        folder / APPLICATION, [[index_name, *rows[0]]] + [[str(i), *row] for i, row in enumerate(rows[1:])]
    )
    out = build_warehouse(tmp_path / "w.duckdb", source=folder, progress=True)
    assert _clients(out) == [100002, 100003]
    assert "application_train.csv: leading unnamed index column (as pandas.to_csv writes) dropped" in (
        capsys.readouterr().err
    )


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    folder = write_kaggle_folder(tmp_path / "csv", tables=("application_train",))
    _write(folder / APPLICATION, _rows(folder / APPLICATION), encoding="utf-8-sig")
    assert _clients(build_warehouse(tmp_path / "w.duckdb", source=folder, progress=False)) == [100002, 100003]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_files_are_refused_with_the_fix(tmp_path: Path, encoding: str) -> None:
    folder = write_kaggle_folder(tmp_path / "csv", tables=("application_train",))
    _write(folder / APPLICATION, _rows(folder / APPLICATION), encoding=encoding)
    with pytest.raises(WarehouseInputError, match=r"application_train\.csv: UTF-16 text.*save it as UTF-8"):
        build_warehouse(tmp_path / "w.duckdb", source=folder, progress=False)


def test_non_utf8_text_is_refused_with_its_line(tmp_path: Path) -> None:
    folder = write_kaggle_folder(tmp_path / "csv", tables=("application_train",))
    rows = _rows(folder / APPLICATION)
    rows[2][rows[0].index("OCCUPATION_TYPE")] = "Employé"
    _write(folder / APPLICATION, rows, encoding="latin-1")
    with pytest.raises(WarehouseInputError, match=r"application_train\.csv: .*UTF-8.*line 3"):
        build_warehouse(tmp_path / "w.duckdb", source=folder, progress=False)


@pytest.mark.parametrize(
    ("file", "column", "value", "problem"),
    [
        (APPLICATION, "AMT_CREDIT", "inf", "is not a finite number"),
        (APPLICATION, "AMT_ANNUITY", "-Infinity", "is not a finite number"),
        (APPLICATION, "EXT_SOURCE_2", "NaN", "is not a finite number"),
        (APPLICATION, "CNT_CHILDREN", "nan", "is not an integer"),
        (APPLICATION, "AMT_INCOME_TOTAL", "-202500", "cannot be negative"),
        (APPLICATION, "CNT_CHILDREN", "-1", "cannot be negative"),
        (APPLICATION, "DAYS_BIRTH", "9461", "must be zero or negative"),
        ("installments_payments.csv", "AMT_PAYMENT", "-10.5", "cannot be negative"),
    ],
)
def test_impossible_values_name_file_column_and_line(
    tmp_path: Path, file: str, column: str, value: str, problem: str
) -> None:
    folder = write_kaggle_folder(tmp_path / "csv")
    rows = _rows(folder / file)
    rows[1][rows[0].index(column)] = value
    _write(folder / file, rows)
    with pytest.raises(WarehouseInputError) as error:
        build_warehouse(tmp_path / "w.duckdb", source=folder, progress=False)
    assert f"{file}: column {column}: value '{value}' on line 2 {problem}" in str(error.value)
