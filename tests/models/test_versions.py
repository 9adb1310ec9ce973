"""The warehouse, the served model and the stored decisions are checked to belong together."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from models import Scorer, ScorerError, cli, train_scorer
from models.versions import Mismatch, check_versions
from tests.fixtures.models import SMALL_TRAINING
from warehouse import Warehouse, build_warehouse


def test_the_trained_model_and_its_scores_are_consistent(
    small_model_dir: Path, scored_warehouse: Path
) -> None:
    scorer = Scorer.load(small_model_dir)
    with Warehouse(scored_warehouse) as store:
        versions = check_versions(store, scorer)
        assert store.scores_model_id() == scorer.model_id
    assert versions.consistent and versions.model_version == scorer.model_id
    assert versions.data_version == scorer.warehouse_build_id


def test_a_rebuild_of_the_same_data_keeps_the_model_valid(small_model_dir: Path, tmp_path: Path) -> None:
    scorer = Scorer.load(small_model_dir)
    rebuilt = build_warehouse(tmp_path / "same.duckdb", synthetic=4_000, seed=0, progress=False)
    with Warehouse(rebuilt) as store:
        assert store.build_info()["build_id"] != scorer.warehouse_build_id
        assert not store.has_scores()
        assert check_versions(store, scorer).consistent


@pytest.fixture(scope="module")
def other_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(
        tmp_path_factory.mktemp("other") / "other.duckdb", synthetic=1_500, seed=7, progress=False
    )


def test_new_data_or_foreign_scores_are_mismatches(
    small_model_dir: Path, other_data: Path, tmp_path: Path
) -> None:
    scorer = Scorer.load(small_model_dir)
    with Warehouse(other_data) as store:
        assert check_versions(store, scorer).mismatches == (Mismatch.MODEL_FOR_OTHER_DATA,)
    # A model trained on the other data writes its scores there: the first model now disagrees on both counts.
    scored = tmp_path / "scored.duckdb"
    shutil.copyfile(other_data, scored)
    other_model = tmp_path / "other_model"
    train_scorer(scored, other_model, **SMALL_TRAINING)
    with Warehouse(scored) as store:
        assert check_versions(store, Scorer.load(other_model)).consistent
        assert check_versions(store, scorer).mismatches == (
            Mismatch.MODEL_FOR_OTHER_DATA,
            Mismatch.SCORES_FROM_OTHER_MODEL,
        )


def test_a_warehouse_without_build_record_is_refused(small_model_dir: Path, tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.duckdb"
    shutil.copyfile(Path(Scorer.load(small_model_dir).metadata["warehouse"]), legacy)
    with duckdb.connect(str(legacy)) as con:
        con.execute("DROP TABLE build_info")
    with Warehouse(legacy) as store:
        assert store.build_info() is None
        assert Mismatch.WAREHOUSE_UNRECORDED in check_versions(store, Scorer.load(small_model_dir)).mismatches
    with pytest.raises(ScorerError, match="does not record its build"):
        train_scorer(legacy, tmp_path / "model", **SMALL_TRAINING)


def test_score_only_rescores_a_rebuild_and_refuses_other_data(
    small_model_dir: Path, other_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scorer = Scorer.load(small_model_dir)
    rebuilt = build_warehouse(tmp_path / "same.duckdb", synthetic=4_000, seed=0, progress=False)
    assert (
        cli.main(["--warehouse", str(rebuilt), "--out", str(small_model_dir), "--score-only", "--quiet"]) == 0
    )
    with Warehouse(rebuilt) as store:
        assert store.scores_model_id() == scorer.model_id and check_versions(store, scorer).consistent
    other = tmp_path / "other.duckdb"
    shutil.copyfile(other_data, other)
    assert cli.main(["--warehouse", str(other), "--out", str(small_model_dir), "--score-only"]) == 1
    assert "was not trained on this data (model_other_data)" in capsys.readouterr().err
    with Warehouse(other) as store:
        assert not store.has_scores()
