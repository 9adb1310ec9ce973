"""The served scorer on the small synthetic warehouse: exact contributions, decisions, reasons, schema checks."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from models import Scorer, ScorerError
from models.artifact import model_fingerprint
from warehouse import Warehouse


@pytest.fixture(scope="module")
def scorer(small_model_dir: Path) -> Scorer:
    return Scorer.load(small_model_dir)


@pytest.fixture(scope="module")
def clients(small_warehouse: Path) -> pl.DataFrame:
    with Warehouse(small_warehouse) as store:
        return store.model_frame(split=None)


def test_contributions_sum_with_the_base_value_to_the_raw_score(
    scorer: Scorer, clients: pl.DataFrame
) -> None:
    for row in range(0, clients.height, clients.height // 25):
        explanation = scorer.explain(clients.slice(row, 1), lang="en")
        total = explanation.base_value + explanation.contributions.get_column("contribution").sum()
        assert total == pytest.approx(explanation.raw_score, abs=1e-9)
        assert explanation.raw_score == pytest.approx(scorer.raw_scores(clients.slice(row, 1))[0], abs=1e-9)
        grouped_total = explanation.grouped.get_column("contribution").sum()
        assert grouped_total == pytest.approx(explanation.raw_score - explanation.base_value, abs=1e-9)


def test_decision_margin_and_grey_zone_follow_the_calibrated_probability(scorer: Scorer, clients) -> None:
    scores = scorer.score_frame(clients)
    probability = scores.get_column("PROBABILITY").to_numpy()
    assert ((probability > 0) & (probability < 1)).all()
    refused = scores.get_column("DECISION").to_numpy() == "refused"
    assert (refused == (probability >= scorer.threshold)).all()
    assert 0 < refused.mean() < 1
    explanation = scorer.explain(clients.slice(0, 1))
    assert explanation.probability == pytest.approx(probability[0])
    assert explanation.margin_points == pytest.approx(100 * (probability[0] - scorer.threshold))
    assert explanation.in_grey_zone == (abs(probability[0] - scorer.threshold) <= scorer.grey_zone)
    raw_threshold = scorer.metadata["raw_threshold"]
    raw = scorer.raw_scores(clients)
    clear = ~np.isclose(raw, raw_threshold, rtol=0, atol=1e-9)  # float rounding decides the exact ties
    assert ((raw >= raw_threshold) == refused)[clear].all()


def test_single_row_fast_path_matches_the_batch_encoding(scorer: Scorer, clients: pl.DataFrame) -> None:
    batch = scorer.schema.encode(clients.head(50))
    rows = np.vstack([scorer.schema.encode_values(clients.row(i, named=True)) for i in range(50)])
    np.testing.assert_array_equal(np.isnan(batch), np.isnan(rows))
    np.testing.assert_allclose(np.nan_to_num(batch), np.nan_to_num(rows))


def test_points_add_up_to_the_probability_minus_the_base_probability(scorer: Scorer, clients) -> None:
    for row in range(0, clients.height, clients.height // 25):
        explanation = scorer.explain(clients.slice(row, 1))
        expected = 100 * (explanation.probability - explanation.base_probability)
        assert explanation.contributions.get_column("points").sum() == pytest.approx(expected, abs=1e-9)
        assert explanation.grouped.get_column("points").sum() == pytest.approx(expected, abs=1e-9)


CODE = re.compile(r"[A-Z0-9]+(_[A-Z0-9]+)+")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_reasons_are_few_plain_and_never_a_gap_or_the_calendar(scorer: Scorer, clients, lang: str) -> None:
    probabilities = scorer.probabilities(clients)
    for row in np.argsort(probabilities)[:: clients.height // 20]:
        explanation = scorer.explain(clients.slice(int(row), 1), lang=lang)
        assert len(explanation.reasons_against) <= 4 and len(explanation.reasons_for) <= 4
        assert all(r.points > 0 for r in explanation.reasons_against)
        assert all(r.points < 0 for r in explanation.reasons_for)
        for reason in (*explanation.reasons_against, *explanation.reasons_for):
            assert reason.group not in ("calendar", "gender")
            assert not CODE.search(reason.text(lang)), reason.text(lang)
            assert all(not effect.missing for effect in reason.features)
        assert not CODE.search(explanation.sentence)
        main = explanation.reasons_against if explanation.decision == "refused" else explanation.reasons_for
        if main:
            assert main[0].headline in explanation.sentence


def test_unseen_level_is_missing_not_an_error(scorer: Scorer, clients: pl.DataFrame) -> None:
    categorical = next(
        n for n, k in zip(scorer.schema.names, scorer.schema.kinds, strict=True) if k == "categorical"
    )
    row = clients.slice(0, 1).with_columns(pl.lit("a level never seen").alias(categorical))
    assert np.isnan(scorer.schema.encode(row)[0, scorer.feature_names.index(categorical)])
    scorer.explain(row)


def test_missing_or_mistyped_features_raise_a_clear_error(scorer: Scorer, clients: pl.DataFrame) -> None:
    row = clients.slice(0, 1)
    with pytest.raises(ScorerError, match="missing feature 'EXT_SOURCE_3'"):
        scorer.explain(row.drop("EXT_SOURCE_3"))
    with pytest.raises(ScorerError, match="'AMT_CREDIT' is categorical here, the model expects numeric"):
        scorer.score_frame(clients.with_columns(pl.col("AMT_CREDIT").cast(pl.String)))
    with pytest.raises(ScorerError, match="exactly one client"):
        scorer.explain(clients.head(2))


def _edited_artifact(
    source: Path, target: Path, rename: tuple[str, str] | None = None, flip_kind_of: str | None = None
) -> Path:
    """A copy of an artifact expecting a feature the warehouse lacks, or the wrong kind for one it has."""
    shutil.copytree(source, target)
    metadata = json.loads((target / "metadata.json").read_text())
    names = metadata["features"]["names"]
    if rename:
        old, new = rename
        names[names.index(old)] = new
        model = (target / "model.txt").read_text()
        (target / "model.txt").write_text(model.replace(f" {old} ", f" {new} ", 1))
    if flip_kind_of:
        metadata["features"]["kinds"][names.index(flip_kind_of)] = "categorical"
        metadata["features"]["levels"][flip_kind_of] = ["1", "2"]
    # A deliberate edit, so it gets a new model id (an edit without one is refused: see test_artifact).
    metadata["model_id"] = model_fingerprint((target / "model.txt").read_text(), metadata)
    (target / "metadata.json").write_text(json.dumps(metadata))
    return target


def test_check_against_names_missing_and_mistyped_features(
    small_model_dir: Path, small_warehouse: Path, tmp_path: Path
) -> None:
    renamed = Scorer.load(
        _edited_artifact(small_model_dir, tmp_path / "renamed", rename=("AMT_ANNUITY", "AMT_ANNUITY_V2"))
    )
    flipped = Scorer.load(_edited_artifact(small_model_dir, tmp_path / "flipped", flip_kind_of="AMT_CREDIT"))
    with Warehouse(small_warehouse) as store:
        Scorer.load(small_model_dir).check_against(store)
        with pytest.raises(ScorerError, match="missing feature 'AMT_ANNUITY_V2'"):
            renamed.check_against(store)
        with pytest.raises(
            ScorerError, match="'AMT_CREDIT' is numeric in the warehouse, the model expects categ"
        ):
            flipped.check_against(store)


def test_scores_table_written_for_every_client(scorer: Scorer, scored_warehouse: Path, clients) -> None:
    with Warehouse(scored_warehouse) as store:
        assert store.has_scores()
        histogram = store.score_histogram(bins=10)
    assert histogram.get_column("count").sum() == clients.height


def test_no_job_is_a_fact_not_missing_information(scorer: Scorer, clients: pl.DataFrame) -> None:
    retired = clients.filter(pl.col("DAYS_EMPLOYED_ANOM") == 1).head(20)
    assert retired.height
    for row in range(retired.height):
        explanation = scorer.explain(retired.slice(row, 1), lang="fr")
        assert "Ancienneté dans l'emploi" not in explanation.not_provided
        for reason in (*explanation.reasons_against, *explanation.reasons_for):
            for effect in reason.features:
                if effect.feature == "DAYS_EMPLOYED":
                    assert effect.display_value.startswith("sans emploi salarié")
