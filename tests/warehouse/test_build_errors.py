"""Atomic rebuilds and every bad-input case: clear error naming file and column, nothing half-written."""

from __future__ import annotations

import csv
import hashlib
import signal
import subprocess
import sys
import time
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


def _start_build(out: Path, applicants: int = 60_000) -> subprocess.Popen[str]:
    """A real build in a subprocess, returned once its temporary file exists (the build is under way)."""
    script = ROOT / "scripts" / "build_warehouse.py"
    build = subprocess.Popen(
        [sys.executable, str(script), "--out", str(out), "--synthetic", str(applicants), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while not list(out.parent.glob(f".{out.name}.*.tmp")):
        assert build.poll() is None, build.communicate()
        assert time.monotonic() < deadline, "the build never started writing"
        time.sleep(0.02)
    return build


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_removes_the_temporary_file_and_exits_non_zero(existing: Path, signum: int) -> None:
    before = _digest(existing)
    build = _start_build(existing)
    time.sleep(0.3)
    build.send_signal(signum)
    _, stderr = build.communicate(timeout=60)
    assert build.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr and f"interrupted by {signal.Signals(signum).name}" in stderr
    assert _digest(existing) == before
    assert sorted(p.name for p in existing.parent.iterdir()) == [existing.name]


def test_a_second_build_of_the_same_file_is_refused_while_the_first_runs(existing: Path) -> None:
    first = _start_build(
        existing
    )  # large enough to still run while the second starts and imports its generator
    second = _cli("--out", str(existing), "--synthetic", "30")
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert f"another build of {existing} is running (pid {first.pid}" in second.stderr
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert sorted(p.name for p in existing.parent.iterdir()) == [existing.name]
    assert _cli("--out", str(existing), "--synthetic", "30").returncode == 0, "the lock goes with the build"


def test_the_next_build_removes_what_a_killed_build_left(existing: Path) -> None:
    build = _start_build(existing)
    build.kill()  # SIGKILL: no clean-up can run
    build.communicate(timeout=30)
    leftovers = list(existing.parent.glob(f".{existing.name}.*.tmp*"))
    assert leftovers, "a killed build leaves its temporary file"
    result = _cli("--out", str(existing), "--synthetic", "30")
    assert result.returncode == 0, result.stderr
    assert "removed 1 temporary file(s) left by an interrupted build" in result.stderr
    assert sorted(p.name for p in existing.parent.iterdir()) == [existing.name]


def test_the_generator_is_imported_before_a_signal_can_interrupt_the_build(
    tmp_path: Path, monkeypatch
) -> None:
    """A signal landing while an extension module (scipy's) initialises would surface as an ImportError with a
    traceback instead of the clean interruption above, so nothing is imported once signals interrupt."""
    import warehouse.build as build

    monkeypatch.delitem(sys.modules, "warehouse.synthetic")  # imported afresh by this build
    imported_when_interruptible = []
    interruptible = build._signals_interrupt

    def recording() -> object:
        imported_when_interruptible.append("warehouse.synthetic" in sys.modules)
        return interruptible()

    monkeypatch.setattr(build, "_signals_interrupt", recording)
    build_warehouse(tmp_path / "w.duckdb", synthetic=10, progress=False)
    assert imported_when_interruptible == [True]
