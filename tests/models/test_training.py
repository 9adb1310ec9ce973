"""Training: honest metrics with baselines, calibration that helps, fairness and importance tables, model card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models import Scorer, train_scorer
from models.cli import SUMMARY_KEYS
from tests.fixtures.models import SMALL_TRAINING
from warehouse import build_warehouse

COMPARISON_APPLICANTS = 20_000


def test_metrics_keys_present_and_sane(small_model_dir: Path) -> None:
    metrics = json.loads((small_model_dir / "metrics.json").read_text())
    assert set(SUMMARY_KEYS) <= set(metrics)  # every figure the training command prints
    assert 0.6 < metrics["cv_auc"] < 0.95 and 0 <= metrics["cv_auc_std"] < 0.1
    assert 0.6 < metrics["oof_auc"] < 0.95
    assert 0 < metrics["threshold"] < 0.5
    for rate in ("recall_at_threshold", "precision_at_threshold", "approval_rate"):
        assert 0 < metrics[rate] < 1
    assert metrics["n_train"] == 4_000 and metrics["n_features"] > 100
    # The chosen policy beats both trivial policies: grant everyone (10 × default rate), refuse everyone.
    assert metrics["business_cost"] < min(10 * metrics["default_rate"], 1 - metrics["default_rate"])
    for name in ("dummy", "logistic"):
        assert {"cv_auc", "cv_auc_std", "oof_auc", "business_cost", "threshold"} <= set(
            metrics["baselines"][name]
        )
    assert metrics["baselines"]["dummy"]["cv_auc"] == 0.5


def test_calibration_keeps_brier_and_is_well_calibrated(
    small_model_dir: Path, comparison_metrics: dict
) -> None:
    calibration = comparison_metrics["calibration"]
    # Out-of-fold and cross-fitted: "keeps" allows 0.5 % of noise; a broken calibration is far worse than that.
    assert calibration["brier_after"] <= 1.005 * calibration["brier_before"]
    assert (
        calibration["ece_after"] < 0.01
    )  # every decile's mean probability within a point of its default rate
    assert comparison_metrics["brier"] == calibration["brier_after"]
    small = json.loads((small_model_dir / "metrics.json").read_text())["calibration"]
    assert small["slope"] > 0 and len(small["reliability_after"]) == 10


def test_fairness_importance_cost_curve_and_card(small_model_dir: Path) -> None:
    scorer = Scorer.load(small_model_dir)
    assert set(scorer.fairness.get_column("attribute")) == {"CODE_GENDER", "age_band"}
    assert {"F", "M"} <= set(scorer.fairness.filter(attribute="CODE_GENDER").get_column("group"))
    for column in ("approval_rate", "default_rate_approved", "fnr", "fpr"):
        values = scorer.fairness.get_column(column).drop_nulls()
        assert ((values >= 0) & (values <= 1)).all()
    assert scorer.fairness.filter(attribute="age_band").get_column("n").sum() == scorer.metrics["n_train"]
    importance = scorer.global_importance
    assert importance.columns == ["feature", "group", "mean_abs_shap"]
    assert set(importance.get_column("feature")) == set(scorer.feature_names)
    assert importance.get_column("group")[0] in set(scorer.group_importance.get_column("group"))
    curve = scorer.cost_curve
    assert curve.get_column("cost").min() >= scorer.metrics["business_cost"] - 1e-12
    for heading in ("## Intended use", "## Data", "## Performance", "## Fairness", "## Limits"):
        assert heading in scorer.model_card
    assert f"{scorer.metrics['cv_auc']:.4f}" in scorer.model_card


@pytest.fixture(scope="module")
def comparison_metrics(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("comparison")
    warehouse = build_warehouse(
        folder / "warehouse.duckdb", synthetic=COMPARISON_APPLICANTS, seed=1, progress=False
    )
    return train_scorer(
        warehouse,
        folder / "model",
        seed=1,
        n_folds=3,
        learning_rate=0.1,
        num_threads=1,
        progress=False,
        write_scores=False,
    )


def test_lightgbm_beats_both_baselines_on_synthetic_data(comparison_metrics: dict) -> None:
    baselines = comparison_metrics["baselines"]
    assert comparison_metrics["cv_auc"] > baselines["logistic"]["cv_auc"] > baselines["dummy"]["cv_auc"]
    assert comparison_metrics["oof_auc"] > baselines["logistic"]["oof_auc"]
    assert comparison_metrics["business_cost"] < baselines["dummy"]["business_cost"]


def test_folds_side_by_side_give_the_same_model_as_one_at_a_time(
    small_warehouse: Path, small_model_dir: Path, tmp_path: Path
) -> None:
    """Two cores train two single-threaded folds at once: fold results and the served model must not depend on it."""
    one_at_a_time = json.loads((small_model_dir / "metrics.json").read_text())
    side_by_side = train_scorer(
        small_warehouse,
        tmp_path / "model",
        seed=0,
        **{**SMALL_TRAINING, "num_threads": 2},
        write_scores=False,
    )
    for key in ("fold_aucs", "fold_best_iterations", "n_rounds", "threshold", "business_cost"):
        assert side_by_side[key] == one_at_a_time[key]
    assert side_by_side["baselines"] == one_at_a_time["baselines"]
    assert (tmp_path / "model" / "model.txt").read_text() == (small_model_dir / "model.txt").read_text()
