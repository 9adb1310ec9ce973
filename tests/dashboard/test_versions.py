"""Data and model versions in the dashboard: checked at load, shown in the footer, swapped without restart.

Real rebuilds (``build_warehouse``, the build command) replace the files the dashboard serves; new sessions get
the new version while a session opened before keeps reading the version it started with.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.cockpit import get_cockpit
from dashboard.shell import missing_data_page
from warehouse import build_warehouse
from warehouse.source import Warehouse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served_copy(
    scored_warehouse: Path, small_model_dir: Path, tmp_path: Path, monkeypatch
) -> tuple[Path, Path]:
    """A private copy of the scored warehouse and its model, named by the environment as in production."""
    warehouse, model_dir = tmp_path / "warehouse.duckdb", tmp_path / "model"
    shutil.copyfile(scored_warehouse, warehouse)
    shutil.copytree(small_model_dir, model_dir)
    monkeypatch.setenv("CREDIT_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("CREDIT_MODEL_DIR", str(model_dir))
    # Served as the explicit local demo (loopback only) with a private access folder: the test is about versions.
    monkeypatch.setenv("CREDIT_AUTH", "demo")
    monkeypatch.setenv("CREDIT_ACCESS_DIR", str(tmp_path / "access"))
    return warehouse, model_dir


def _build_id(path: Path) -> str:
    with Warehouse(path) as store:
        return store.build_info()["build_id"]


def test_a_rebuild_reaches_new_sessions_while_open_ones_keep_theirs(served_copy: tuple[Path, Path]) -> None:
    warehouse, _ = served_copy
    old = get_cockpit()
    assert old.ready and old.versions.data_version == _build_id(warehouse)
    assert get_cockpit() is old, "no change on disk: every session shares one cockpit"
    client = old.search_clients("1", limit=1)[0]
    before = old.warehouse.client_profile(client)

    build_warehouse(warehouse, synthetic=4_000, seed=0, progress=False)  # same data, new build, no scores yet
    new = get_cockpit()
    assert new is not old and new.ready
    assert new.versions.data_version == _build_id(warehouse) != old.versions.data_version
    assert not new.warehouse.has_scores()
    # The open session still reads its own (now replaced) file: same answers, scores included.
    assert old.warehouse.client_profile(client) == before and old.warehouse.has_scores()


def test_new_data_under_an_old_model_shows_a_clear_page_instead_of_figures(
    served_copy: tuple[Path, Path],
) -> None:
    warehouse, model_dir = served_copy
    build_warehouse(warehouse, synthetic=1_500, seed=7, progress=False)
    cockpit = get_cockpit()
    assert not cockpit.ready
    assert [problem.message_key for problem in cockpit.problems] == ["app.version_model_other_data"]
    for lang, words in (("fr", "autres données que l"), ("en", "trained on other data")):
        html = missing_data_page(lang, cockpit)._render_items["main"][0].object
        assert words in html and f"train_scorer.py --warehouse {warehouse} --out {model_dir}" in html


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _page(url: str, deadline: float, server: subprocess.Popen[str]) -> str:
    while True:
        assert server.poll() is None, server.communicate()[0]
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.read().decode("utf-8")
        except OSError:
            assert time.monotonic() < deadline, f"no answer from {url}"
            time.sleep(0.5)


def test_the_served_footer_follows_a_rebuild_without_restart(served_copy: tuple[Path, Path]) -> None:
    warehouse, _ = served_copy
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "serve.py"), "--port", str(port)],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/app?lang=en"
        first_build = _build_id(warehouse)
        assert f"Data {first_build}, model" in _page(url, time.monotonic() + 120, server)
        script = ROOT / "scripts" / "build_warehouse.py"
        rebuild = subprocess.run(
            [sys.executable, str(script), "--out", str(warehouse), "--synthetic", "4000", "--quiet"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
        assert rebuild.returncode == 0, rebuild.stderr
        second_build = _build_id(warehouse)
        page = _page(url, time.monotonic() + 60, server)
        assert second_build != first_build and f"Data {second_build}, model" in page
    finally:
        server.terminate()
        server.communicate(timeout=30)
