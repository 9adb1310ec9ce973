"""Atomic rebuilds and every bad-input case: clear error naming file and column, nothing half-written."""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.warehouse.kaggle_folder import write_kaggle_folder
from warehouse import WarehouseInputError, build_warehouse

ROOT = Path(__file__).resolve().parents[2]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rewrite(path: Path, change: Callable[[list[list[str]]], list[list[str]]]) -> None:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(change(rows))


def _set_cell(path: Path, column: str, value: str) -> None:
    def change(rows: list[list[str]]) -> list[list[str]]:
        rows[1][rows[0].index(column)] = value
        return rows

    _rewrite(path, change)


def _drop_column(path: Path, column: str) -> None:
    def change(rows: list[list[str]]) -> list[list[str]]:
        index = rows[0].index(column)
        return [row[:index] + row[index + 1 :] for row in rows]

    _rewrite(path, change)


def _truncate(path: Path) -> None:
    text = path.read_text()
    path.write_text(text[: len(text) - len(text.splitlines()[-1]) // 2 - 1])


def _semicolons(path: Path) -> None:
    text = path.read_text()
    path.write_text(text.replace(",", ";"))


BAD_INPUTS: dict[str, tuple[Callable[[Path], None], str, str | None]] = {
    # case: (how to spoil the folder, file named in the error, column named in the error)
    "missing required file": (
        lambda f: (f / "application_train.csv").unlink(),
        "application_train.csv",
        None,
    ),
    "missing required column": (
        lambda f: _drop_column(f / "application_train.csv", "AMT_CREDIT"),
        "application_train.csv",
        "AMT_CREDIT",
    ),
    "missing side-table column": (
        lambda f: _drop_column(f / "bureau.csv", "DAYS_CREDIT"),
        "bureau.csv",
        "DAYS_CREDIT",
    ),
    "wrong delimiter": (
        lambda f: _semicolons(f / "previous_application.csv"),
        "previous_application.csv",
        None,
    ),
    "empty file": (
        lambda f: (f / "installments_payments.csv").write_text(""),
        "installments_payments.csv",
        None,
    ),
    "header only": (
        lambda f: _rewrite(f / "bureau_balance.csv", lambda rows: rows[:1]),
        "bureau_balance.csv",
        None,
    ),
    "truncated file": (lambda f: _truncate(f / "application_train.csv"), "application_train.csv", "line"),
    "unparseable number": (
        lambda f: _set_cell(f / "application_train.csv", "AMT_CREDIT", "12O00"),
        "application_train.csv",
        "AMT_CREDIT",
    ),
    "unparseable integer": (
        lambda f: _set_cell(f / "POS_CASH_balance.csv", "SK_DPD", "2.5"),
        "POS_CASH_balance.csv",
        "SK_DPD",
    ),
    "bad target": (
        lambda f: _set_cell(f / "application_train.csv", "TARGET", "2"),
        "application_train.csv",
        "TARGET",
    ),
}


@pytest.fixture()
def existing(tmp_path: Path) -> Path:
    """A good warehouse already at the output path, which a failed build must leave untouched."""
    out = tmp_path / "out" / "warehouse.duckdb"
    return build_warehouse(out, synthetic=50, seed=1, progress=False)


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_names_file_and_column_and_keeps_old_file(
    case: str, tmp_path: Path, existing: Path
) -> None:
    spoil, file_name, detail = BAD_INPUTS[case]
    folder = write_kaggle_folder(tmp_path / "csv")
    spoil(folder)
    before = _digest(existing)
    with pytest.raises(WarehouseInputError) as error:
        build_warehouse(existing, source=folder, progress=False)
    assert file_name in str(error.value)
    if detail is not None:
        assert detail in str(error.value)
    assert _digest(existing) == before
    assert sorted(p.name for p in existing.parent.iterdir()) == [existing.name]


def test_truncated_row_names_the_first_missing_column(tmp_path: Path) -> None:
    folder = write_kaggle_folder(tmp_path / "csv", tables=("application_train",))
    path = folder / "application_train.csv"
    lines = path.read_text().splitlines()
    lines[-1] = ",".join(lines[-1].split(",")[:10])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(WarehouseInputError, match=r"application_train\.csv.*line 3.*column AMT_GOODS_PRICE"):
        build_warehouse(tmp_path / "w.duckdb", source=folder, progress=False)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(WarehouseInputError, match="does not exist"):
        build_warehouse(tmp_path / "w.duckdb", source=tmp_path / "nowhere", progress=False)


def test_optional_tables_may_be_absent(tmp_path: Path) -> None:
    folder = write_kaggle_folder(tmp_path / "csv", tables=("application_train",))
    out = build_warehouse(tmp_path / "w.duckdb", source=folder, progress=False)
    import duckdb

    with duckdb.connect(str(out), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM bureau").fetchall() == [(0,)]
        assert con.sql("SELECT count(*), count(BURO_COUNT) FROM features").fetchall() == [(2, 0)]


def test_rebuild_replaces_the_file_atomically(existing: Path) -> None:
    before = _digest(existing)
    build_warehouse(existing, synthetic=50, seed=2, progress=False)
    assert _digest(existing) != before
    assert sorted(p.name for p in existing.parent.iterdir()) == [existing.name]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_warehouse.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_reports_bad_input_with_non_zero_exit(tmp_path: Path, existing: Path) -> None:
    folder = write_kaggle_folder(tmp_path / "csv", tables=("application_train",))
    _drop_column(folder / "application_train.csv", "DAYS_BIRTH")
    result = _cli("--out", str(existing), "--source", str(folder))
    assert result.returncode != 0
    assert "application_train.csv" in result.stderr and "DAYS_BIRTH" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["--synthetic", "5"], ["--synthetic", "lots"], []])
def test_cli_rejects_bad_arguments(tmp_path: Path, args: list[str]) -> None:
    result = _cli("--out", str(tmp_path / "w.duckdb"), *args)
    assert result.returncode != 0 and "usage" in result.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_cli_builds_with_progress(tmp_path: Path) -> None:
    result = _cli("--out", str(tmp_path / "w.duckdb"), "--synthetic", "30", "--seed", "4")
    assert result.returncode == 0, result.stderr
    assert "done" in result.stderr and (tmp_path / "w.duckdb").is_file()
