"""The artifact folder: plain files only, a faithful round trip, clear errors for wrong or partial folders."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from models import FORMAT_VERSION, Scorer, ScorerError
from models.artifact import read_artifact, write_artifact
from warehouse import Warehouse

EXPECTED_FILES = {
    "model.txt",
    "metadata.json",
    "metrics.json",
    "fairness.csv",
    "importance.csv",
    "group_importance.csv",
    "cost_curve.csv",
    "model_card.md",
}


def test_folder_holds_plain_files_only(small_model_dir: Path) -> None:
    assert {p.name for p in small_model_dir.iterdir()} == EXPECTED_FILES
    assert small_model_dir.stat().st_mode & 0o005 == 0o005, "the app may run as another user: folder readable"
    metadata = json.loads((small_model_dir / "metadata.json").read_text())
    assert metadata["format_version"] == FORMAT_VERSION
    assert len(metadata["training_fingerprint"]) == 64
    assert {"lightgbm", "numpy", "polars", "scikit-learn", "python"} <= set(metadata["library_versions"])
    assert metadata["features"]["names"] and metadata["cost_fn"] == 10 and metadata["cost_fp"] == 1
    assert "CODE_GENDER" not in metadata["features"]["names"]
    for name, levels in metadata["features"]["levels"].items():
        assert levels == sorted(levels), name


def test_round_trip_gives_the_same_predictions(
    small_model_dir: Path, small_warehouse: Path, tmp_path: Path
) -> None:
    original = Scorer.load(small_model_dir)
    rewritten = write_artifact(tmp_path / "copy", read_artifact(small_model_dir))
    again = Scorer.load(rewritten)
    with Warehouse(small_warehouse) as store:
        clients = store.model_frame(split=None)
    np.testing.assert_array_equal(original.probabilities(clients), again.probabilities(clients))
    assert again.threshold == original.threshold and again.metrics == original.metrics
    assert again.fairness.equals(original.fairness)


def test_rewriting_replaces_the_folder_whole(small_model_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "model"
    shutil.copytree(small_model_dir, target)
    (target / "stale.txt").write_text("from an older run")
    write_artifact(target, read_artifact(small_model_dir))
    assert {p.name for p in target.iterdir()} == EXPECTED_FILES
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging or retired folder left behind


def test_partial_or_foreign_folders_are_refused(small_model_dir: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(small_model_dir, partial)
    (partial / "model.txt").unlink()
    with pytest.raises(ScorerError, match=r"missing model\.txt"):
        Scorer.load(partial)
    future = tmp_path / "future"
    shutil.copytree(small_model_dir, future)
    metadata = json.loads((future / "metadata.json").read_text())
    (future / "metadata.json").write_text(json.dumps({**metadata, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(ScorerError, match="artifact format"):
        Scorer.load(future)


def test_model_id_covers_the_trees_and_the_threshold(small_model_dir: Path, tmp_path: Path) -> None:
    scorer = Scorer.load(small_model_dir)
    assert re.fullmatch(r"[0-9a-f]{16}", scorer.model_id)
    with Warehouse(scorer.metadata["warehouse"]) as store:
        build = store.build_info()
    assert scorer.warehouse_build_id == build["build_id"]
    assert scorer.warehouse_fingerprint == build["data_fingerprint"]
    rewritten = Scorer.load(write_artifact(tmp_path / "copy", read_artifact(small_model_dir)))
    assert rewritten.model_id == scorer.model_id, "the id depends on content, not on when it was written"
    edited = tmp_path / "edited"
    shutil.copytree(small_model_dir, edited)
    metadata = json.loads((edited / "metadata.json").read_text())
    (edited / "metadata.json").write_text(json.dumps({**metadata, "threshold": metadata["threshold"] / 2}))
    with pytest.raises(ScorerError, match="changed after training"):
        Scorer.load(edited)
