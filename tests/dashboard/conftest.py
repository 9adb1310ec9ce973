"""Fixtures for the dashboard's logic tests: resources on the small shared fixtures, and a clean Panel state.

The small warehouse and scorer come from ``tests/fixtures`` (``scored_warehouse``, ``small_model_dir``), built
once per test session; no browser is involved here.
"""

from __future__ import annotations

from pathlib import Path

import panel as pn
import pytest

from dashboard.cockpit import Cockpit, cockpit_for
from dashboard.resources import DataPaths, Resources, load_resources
from dashboard.session import ClientSession


@pytest.fixture(autouse=True)
def _reset_panel_state():
    """Panel keeps global state (caches, documents, location) between tests: start each test clean."""
    yield
    pn.state.reset()
    pn.state.clear_caches()


@pytest.fixture(scope="session")
def dashboard_paths(scored_warehouse, small_model_dir, tmp_path_factory) -> DataPaths:
    """Paths to the small scored warehouse and model; no ProtoViT run (the tab must say how to train one)."""
    empty = tmp_path_factory.mktemp("no_protovit")
    return DataPaths(
        warehouse=Path(scored_warehouse),
        model_dir=Path(small_model_dir),
        protovit_run=empty / "run",
        protovit_images=empty / "images",
    )


@pytest.fixture(scope="session")
def resources(dashboard_paths) -> Resources:
    loaded = load_resources(dashboard_paths)
    assert loaded.ready, loaded.problems
    return loaded


@pytest.fixture(scope="session")
def cockpit(resources) -> Cockpit:
    """The façade the views talk to, over the small scored warehouse and model."""
    return cockpit_for(resources)


@pytest.fixture(scope="session")
def client_ids(cockpit) -> list[int]:
    """A few real client ids of the small warehouse (labelled first)."""
    return cockpit.search_clients("1", limit=5)


@pytest.fixture(params=["fr", "en"])
def lang(request) -> str:
    return request.param


@pytest.fixture
def session(cockpit, lang) -> ClientSession:
    return ClientSession(cockpit, lang=lang)
