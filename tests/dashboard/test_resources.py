"""Resources load once per process and, when data is missing, say which command builds it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dashboard.cockpit import Cockpit
from dashboard.resources import DataPaths, get_resources, load_resources
from dashboard.shell import missing_data_page

ROOT = Path(__file__).resolve().parents[2]


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
        page = missing_data_page(lang, Cockpit(resources))
        html = page._render_items["main"][0].object
        assert "build_warehouse.py" in html and "train_scorer.py" in html


def test_resources_are_shared_by_every_session(monkeypatch, dashboard_paths):
    monkeypatch.setenv("CREDIT_WAREHOUSE", str(dashboard_paths.warehouse))
    monkeypatch.setenv("CREDIT_MODEL_DIR", str(dashboard_paths.model_dir))
    first, second = get_resources(), get_resources()
    assert first is second and first.ready


def test_duckdbs_cache_is_bounded_by_default_and_set_by_the_environment(monkeypatch, dashboard_paths):
    """The bound keeps a server process's memory steady under load (docs/deployment.md, "Memory")."""

    def cache_limit() -> str:
        warehouse = load_resources(dashboard_paths).warehouse
        try:
            return warehouse._rows("SELECT current_setting('memory_limit')")[0][0]
        finally:
            warehouse.close()

    monkeypatch.delenv("CREDIT_WAREHOUSE_MEMORY", raising=False)
    assert cache_limit() == "122.0 MiB"  # 128MB
    monkeypatch.setenv("CREDIT_WAREHOUSE_MEMORY", "256MB")
    assert cache_limit() == "244.1 MiB"


def test_missing_protovit_run_names_the_training_command(resources):
    assert resources.protovit() is None
    assert "train_protovit.py" in resources.protovit_problem.command


def test_warm_up_runs_once_per_cockpit_and_fills_the_warehouse_caches(resources):
    cockpit = Cockpit(resources)
    thread = cockpit.warm_up_in_background()
    assert thread is not None and cockpit.warm_up_in_background() is None  # second call: nothing started
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert cockpit.knn_features() in resources.warehouse._indexes
    assert len(resources.warehouse._sorted) >= 3


# Shows a client, a what-if and the comparisons in a fresh process; prints which of the libraries it loaded.
SERVE_ONE_CLIENT = """
import json, sys
from pathlib import Path
import dashboard.shell
from dashboard.cockpit import DEFAULT_CRITERIA, Cockpit
from dashboard.resources import DataPaths, load_resources
paths = DataPaths(**{name: Path(path) for name, path in json.loads(sys.argv[1]).items()})
cockpit = Cockpit(load_resources(paths))
cockpit.warm_up()
snapshot = cockpit.snapshot(cockpit.search_clients("1", limit=1)[0], "fr")
field = cockpit.editable_fields("fr")[0]
cockpit.what_if(snapshot, {field.name: cockpit.field_values(snapshot)[field.name]}, "fr")
cockpit.what_it_would_take(snapshot)
feature = cockpit.numeric_features()[0]
cockpit.client_percentiles(feature, snapshot.value(feature), cockpit.comparison_groups(snapshot, DEFAULT_CRITERIA))
cockpit.histogram(feature)
print(" ".join(name for name in ("sklearn", "pandas", "pyarrow") if name in sys.modules))
"""


def test_serving_a_client_loads_neither_scikit_learn_nor_pandas_nor_pyarrow(dashboard_paths):
    """They would take a large share of every server process's memory for nothing (models/lean_lightgbm.py,
    warehouse/arrow_exchange.py)."""
    paths = json.dumps({name: str(path) for name, path in vars(dashboard_paths).items()})
    done = subprocess.run(
        [sys.executable, "-c", SERVE_ONE_CLIENT, paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == ""
