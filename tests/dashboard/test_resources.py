"""Resources load once per process and, when data is missing, say which command builds it."""

from __future__ import annotations

from dashboard.resources import DataPaths, get_resources, load_resources
from dashboard.shell import missing_data_page


def test_paths_come_from_the_environment_with_repository_defaults(tmp_path):
    paths = DataPaths.from_env({"CREDIT_WAREHOUSE": str(tmp_path / "w.duckdb")})
    assert paths.warehouse == tmp_path / "w.duckdb"
    assert paths.model_dir.parts[-2:] == ("data", "model")
    assert paths.protovit_run.parts[-2:] == ("runs", "protovit")


def test_missing_warehouse_and_model_name_the_commands_that_build_them(tmp_path):
    paths = DataPaths(tmp_path / "w.duckdb", tmp_path / "model", tmp_path / "run", tmp_path / "images")
    resources = load_resources(paths)
    assert not resources.ready
    commands = [problem.command for problem in resources.problems]
    assert any("build_warehouse.py" in command and "w.duckdb" in command for command in commands)
    assert any("train_scorer.py" in command for command in commands)
    for lang in ("fr", "en"):
        page = missing_data_page(lang, resources)
        html = page._render_items["main"][0].object
        assert "build_warehouse.py" in html and "train_scorer.py" in html


def test_resources_are_shared_by_every_session(monkeypatch, dashboard_paths):
    monkeypatch.setenv("CREDIT_WAREHOUSE", str(dashboard_paths.warehouse))
    monkeypatch.setenv("CREDIT_MODEL_DIR", str(dashboard_paths.model_dir))
    first, second = get_resources(), get_resources()
    assert first is second and first.ready


def test_missing_protovit_run_names_the_training_command(resources):
    assert resources.protovit() is None
    assert "train_protovit.py" in resources.protovit_problem.command


def test_warm_up_builds_the_shared_caches_once(resources):
    import threading

    from dashboard.shell import warm_up_once

    warm_up_once(resources)
    warm_up_once(resources)  # second call: nothing started
    warmers = [t for t in threading.enumerate() if t.name == "dashboard-warm-up"]
    assert len(warmers) <= 1
    for thread in warmers:
        thread.join(timeout=60)
